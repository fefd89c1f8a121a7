import childProcess from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';
import { basename } from 'node:path';
import { afterAll } from 'vitest';

/**
 * The naming rule for tests, enforced (a vitest setup file, vitest.config.ts): a test file that
 * starts any process (a dds component, a real server, a peer, openssl, podman, helm ...) is named
 * `*.integration.test.ts`; every other test runs inside the vitest process only and is fast
 * (`npm run test:unit` runs those). Every way node:child_process starts a process is wrapped
 * here, before the test file loads, and the first one a file starts is remembered.
 */
const START = ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork'] as const;
const WRAPPED = Symbol.for('dds.process-rule');

/** Kept on globalThis: node:child_process is wrapped once per worker, and this file loads per test file. */
const global = globalThis as Record<symbol, { first?: string } | undefined>;
global[WRAPPED] ??= {};
const state = global[WRAPPED];
state.first = undefined; // a new test file: it is imported next, and may start processes at import
const cp = childProcess as unknown as Record<
  string,
  ((...args: unknown[]) => unknown) & { [WRAPPED]?: true }
>;
for (const name of START) {
  const original = cp[name]!;
  if (original[WRAPPED]) continue;
  const wrapped = Object.assign(
    function (this: unknown, ...args: unknown[]) {
      state.first ??= `${name}(${String(args[0])})`;
      return original.apply(this, args);
    },
    { [WRAPPED]: true as const },
  );
  cp[name] = wrapped;
}
syncBuiltinESMExports();

afterAll((suite) => {
  const file = 'filepath' in suite ? String(suite.filepath) : suite.name;
  if (state.first !== undefined && !file.endsWith('.integration.test.ts'))
    throw new Error(
      `${basename(file)} starts processes (first: ${state.first}): name it *.integration.test.ts (README, "Tests")`,
    );
});
