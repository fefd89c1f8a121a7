/**
 * nutcracker spellings our CLI parser does not take as is: `-t`/`--test-conf` is our
 * --check-config, and nutcracker's long options take `=` (`--verbose=7`) which we accept too.
 * `-D`/`--describe-stats` prints nothing useful for us and is refused by the parser as unknown.
 */
export function nutcrackerArgv(argv: readonly string[]): string[] {
  return argv.flatMap((a) => (a === '-t' || a === '--test-conf' ? ['--check-config'] : [a]));
}
