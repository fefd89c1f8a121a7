// The proxies the shard-ambassador benchmarks start on a nutcracker.yaml: nutcracker 0.5 (the
// peer) and ours, each with its stats on a port of its own. Shared by shard-ambassador.bench.mjs
// and shard-ambassador-hostile.bench.mjs (not a benchmark itself).
import { join } from 'node:path';
import { ROOT } from './lib/runner.mjs';

/** The entry point of ours: SHARD_OURS (e.g. an esbuild bundle), else the built dist/main.js. */
export const OURS_ENTRY = process.env.SHARD_OURS ?? join(ROOT, 'packages/shard-ambassador/dist/main.js');

/** [command, args] that runs `kind` ('nutcracker', or ours from `entry`) on `file`. */
export function proxyCommand(
  kind,
  { file, statsPort, dir, entry = OURS_ENTRY, logLevel = 'warn', args = [] },
) {
  if (kind === 'nutcracker')
    return [
      'nutcracker',
      ['-c', file, '-s', String(statsPort), '-a', '127.0.0.1', '-o', join(dir, 'nc.log'), '-v', '4'],
    ];
  return [
    process.execPath,
    [
      entry,
      '-c',
      file,
      '-s',
      String(statsPort),
      '-a',
      '127.0.0.1',
      '--admin',
      'off',
      '--log-level',
      logLevel,
      ...args,
    ],
  ];
}
