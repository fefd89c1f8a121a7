// Memory of the local limiter's key store under a flood of distinct keys (issue 19: a measurement,
// so it lives here, not in the test suite). Offers 1M distinct client keys to a LocalLimiter from
// the build, in a process of its own (RSS is only meaningful there), once with --max-keys 50000
// and once unbounded, and prints RSS after 500k and 1M keys. The tests keep the behaviour part:
// the store never holds more than --max-keys and every key over it is an eviction.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './lib/runner.mjs';

const DIST = join(ROOT, 'packages/rate-limiter/dist/');
const FLOOD = `
const { LocalLimiter } = await import('${DIST}limiter/local-limiter.js');
const { compilePolicy } = await import('${DIST}policy/compile.js');
const { zPolicy } = await import('${DIST}policy/schema.js');
let now = 0;
const lim = new LocalLimiter(Number(process.argv[1]), () => now, 0);
const p = compilePolicy(zPolicy.parse({ name: 'p', limits: [{ rate: '10/m', burst: 5 }] }));
const limit = p.limits[0];
const out = [];
for (let i = 0; i < 1000000; i++) {
  now += 0.001;
  lim.decide([{ policy: p, limit, key: '10.' + ((i >> 16) & 255) + '.' + ((i >> 8) & 255) + '.' + (i & 255), enforced: true }]);
  if ((i + 1) % 250000 === 0) gc();
  if (i + 1 === 500000 || i + 1 === 1000000) out.push((process.memoryUsage().rss / 1048576).toFixed(1));
}
console.log(out.join(' '));
`;

const rows = [];
for (const [label, maxKeys] of [
  ['--max-keys 50000', 50_000],
  ['unbounded', 100_000_000],
]) {
  const out = execFileSync(
    process.execPath,
    ['--expose-gc', '--input-type=module', '-e', FLOOD, String(maxKeys)],
    {
      encoding: 'utf8',
    },
  );
  const [at500k, at1m] = out.trim().split(' ').map(Number);
  rows.push({
    store: label,
    'RSS MiB at 500k keys': at500k,
    'RSS MiB at 1M keys': at1m,
    growth: +(at1m - at500k).toFixed(1),
  });
}
console.table(rows);
