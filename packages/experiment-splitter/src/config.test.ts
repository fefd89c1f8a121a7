import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { allFlags, ConfigError, loadConfig } from '@dds/core';
import { tempDir } from '@dds/test-support';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BUCKETS, bucketTable, laneSize, weightToBuckets } from './bucketing.js';
import { experimentsOf, flags, type SplitterConfig, schema } from './config.js';

const component = {
  name: 'experiment-splitter',
  defaultAdmin: '0.0.0.0:9903',
  adminActions: true,
  flags,
} as never;
const load = async (argv: string[]) =>
  (await loadConfig<SplitterConfig>({ flags: allFlags(component), schema: schema as never, argv, env: {} }))
    .config;

const dir = tempDir('splitter-config');
let n = 0;
const yaml = (text: string) => {
  const f = join(dir, `c${n++}.yaml`);
  writeFileSync(f, text);
  return load(['--config', f]);
};
const experiment = (variants: string, extra = '') => `
experiments:
  - name: checkout
    ${extra}
    variants:
${variants}
`;
const errorOf = async (fn: () => Promise<unknown>): Promise<string> => {
  try {
    await fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('expected a config error');
};

describe('config', () => {
  it('turns quick-mode flags into one experiment', async () => {
    const c = await load([
      '--control',
      'http://127.0.0.1:1',
      '--experiment',
      'http://127.0.0.1:2',
      '--percent',
      '12.5',
    ]);
    expect(experimentsOf(c)).toEqual([
      expect.objectContaining({
        name: 'experiment',
        variants: [
          { name: 'control', backend: 'http://127.0.0.1:1' },
          { name: 'experiment', backend: 'http://127.0.0.1:2', weight: 12.5 },
        ],
      }),
    ]);
    expect(c.listen).toBe('0.0.0.0:8083');
    expect(c.key).toBe('cookie:dds_uid');
  });

  it('rejects bad quick-mode values naming the flag', async () => {
    expect(await errorOf(() => load(['--control', 'http://127.0.0.1:1']))).toMatch(
      /experiment: required with --control/,
    );
    expect(await errorOf(() => load([]))).toMatch(/control: give --control and --experiment/);
    expect(
      await errorOf(() =>
        load(['--control', 'http://127.0.0.1:1', '--experiment', 'http://127.0.0.1:2', '--percent', '-1']),
      ),
    ).toMatch(/percent: must not be negative.*--percent/);
    expect(
      await errorOf(() =>
        load(['--control', 'http://127.0.0.1:1', '--experiment', 'http://127.0.0.1:2', '--percent', '101']),
      ),
    ).toMatch(/percent: must be at most 100/);
    expect(
      await errorOf(() =>
        load(['--control', 'http://127.0.0.1:1', '--experiment', 'http://127.0.0.1:2', '--key', 'query:x']),
      ),
    ).toMatch(/key: unknown key "query:x": expected ip, header:NAME or cookie:NAME/);
  });

  it('accepts several experiments with weights, hosts, prefixes and salts', async () => {
    const c = await yaml(`
experiments:
  - name: checkout
    hosts: [shop.example.com]
    pathPrefix: /checkout
    salt: checkout-2026
    key: header:x-user-id
    variants:
      - { name: control, backend: "http://127.0.0.1:1" }
      - { name: blue, backend: "http://127.0.0.1:2", weight: 10 }
      - { name: green, backend: "http://127.0.0.1:3", weight: 5.25 }
  - name: search
    variants:
      - { name: control, backend: "http://127.0.0.1:1", weight: 80 }
      - { name: new, backend: "http://127.0.0.1:4", weight: 20 }
`);
    expect(c.experiments).toHaveLength(2);
    expect(c.experiments![0]!.pathPrefix).toBe('/checkout');
    expect(c.experiments![1]!.control).toBe('control');
  });

  it('names the field of every invalid weight', async () => {
    const v = (w: string) => `      - { name: control, backend: "http://127.0.0.1:1" }
      - { name: exp, backend: "http://127.0.0.1:2", weight: ${w} }`;
    expect(await errorOf(() => yaml(experiment(v('-5'))))).toMatch(
      /experiments\.0\.variants\.1\.weight: must not be negative/,
    );
    expect(
      await errorOf(() =>
        yaml(
          experiment(`      - { name: control, backend: "http://127.0.0.1:1", weight: 0 }
      - { name: exp, backend: "http://127.0.0.1:2", weight: 0 }`),
        ),
      ),
    ).toMatch(/experiments\.0\.variants: all weights are zero/);
    expect(
      await errorOf(() =>
        yaml(
          experiment(`      - { name: control, backend: "http://127.0.0.1:1" }
      - { name: a, backend: "http://127.0.0.1:2", weight: 50 }
      - { name: b, backend: "http://127.0.0.1:3", weight: 50 }
      - { name: c, backend: "http://127.0.0.1:4", weight: 30 }`),
        ),
      ),
    ).toMatch(/experiments\.0\.variants: weights sum to 130%, over 100%/);
    expect(await errorOf(() => yaml(experiment(v('10'), 'control: baseline')))).toMatch(
      /experiments\.0\.control: unknown variant "baseline"/,
    );
    expect(await errorOf(() => yaml(experiment(v('0.001'))))).toMatch(/weight: use steps of 0.01/);
    expect(
      await errorOf(() =>
        yaml(
          experiment(`      - { name: control, backend: "http://127.0.0.1:1", weight: 50 }
      - { name: exp, backend: "http://127.0.0.1:2", weight: 10 }`),
        ),
      ),
    ).toMatch(/weights sum to 60%; with control's weight given they must sum to 100%/);
    expect(
      await errorOf(() =>
        yaml(
          experiment(`      - { name: control, backend: "http://127.0.0.1:1" }
      - { name: a, backend: "http://127.0.0.1:2", weight: 60 }
      - { name: b, backend: "http://127.0.0.1:3", weight: 10 }`),
        ),
      ),
    ).toMatch(/variants\.1\.weight: at most 50% per variant with 2 non-control variants/);
  });

  it('rejects duplicates, mixed modes and unknown keys', async () => {
    const v = `      - { name: control, backend: "http://127.0.0.1:1" }
      - { name: control, backend: "http://127.0.0.1:2", weight: 10 }`;
    expect(await errorOf(() => yaml(experiment(v)))).toMatch(
      /variants\.1\.name: duplicate variant "control"/,
    );
    expect(
      await errorOf(() =>
        yaml(`control: http://127.0.0.1:1
experiment: http://127.0.0.1:2
${experiment(`      - { name: control, backend: "http://127.0.0.1:1" }
      - { name: exp, backend: "http://127.0.0.1:2", weight: 10 }`)}`),
      ),
    ).toMatch(/experiments: use either --control\/--experiment or experiments:, not both/);
    expect(
      await errorOf(() =>
        yaml(
          experiment(`      - { name: control, backend: "http://127.0.0.1:1", wieght: 3 }
      - { name: exp, backend: "http://127.0.0.1:2", weight: 10 }`),
        ),
      ),
    ).toMatch(/experiments\.0\.variants\.0.*wieght/);
    expect(
      await errorOf(() =>
        yaml(`${experiment(`      - { name: control, backend: "http://127.0.0.1:1" }
      - { name: exp, backend: "http://127.0.0.1:2", weight: 10 }`)}
  - name: checkout
    variants:
      - { name: control, backend: "http://127.0.0.1:1" }
      - { name: exp, backend: "http://127.0.0.1:2", weight: 10 }`),
      ),
    ).toMatch(/experiments\.1\.name: duplicate experiment "checkout"/);
  });

  it('accepts exactly the weight sets the bucket layout can honour (property)', async () => {
    const base = {
      ...(await load(['--control', 'http://127.0.0.1:1', '--experiment', 'http://127.0.0.1:2'])),
      control: '',
      experiment: '',
    };
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -500, max: 10_500 }), { minLength: 1, maxLength: 4 }),
        (hundredths) => {
          const weights = hundredths.map((h) => h / 100);
          const variants = [
            { name: 'control', backend: 'http://127.0.0.1:1' },
            ...weights.map((w, i) => ({ name: `v${i}`, backend: 'http://127.0.0.1:2', weight: w })),
          ];
          const parsed = schema.safeParse({ ...base, experiments: [{ name: 'e', variants }] });
          const lane = laneSize(weights.length);
          const valid =
            weights.every((w) => w >= 0 && weightToBuckets(w) <= lane) &&
            weights.reduce((a, b) => a + b, 0) <= 100 + 1e-9;
          if (parsed.success !== valid) return false;
          if (!valid) return true;
          // what validation accepts, the layout gives exactly: each variant its buckets, control the rest
          const table = bucketTable([0, ...weights.map(weightToBuckets)], 0);
          const counts = new Array(weights.length + 1).fill(0);
          for (const v of table) counts[v]++;
          return (
            weights.every((w, i) => counts[i + 1] === weightToBuckets(w)) &&
            counts[0] === BUCKETS - weights.reduce((n, w) => n + weightToBuckets(w), 0)
          );
        },
      ),
      { numRuns: 200 },
    );
  });
});
