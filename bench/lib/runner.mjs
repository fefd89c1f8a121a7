// The shared benchmark runner: starts the peer and ours on the same upstreams, drives both with
// the real load tool in alternating rounds (peer, ours, ours, peer, ...) after a warm-up, and
// reports medians and ratios ours/peer. Results go to docs/benchmarks.md and an SVG chart.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { barChart } from './svg.mjs';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

// BENCH_BEFORE=DIR, a built checkout of an older commit (`git worktree add --detach DIR REV`, npm ci,
// npm run build): in a spec with before: true, every 'ours' target runs a second time from DIR's build as "<name> (before)", in the
// same alternating rounds, so before and after are measured on the same machine in the same run.
const BEFORE = process.env.BENCH_BEFORE ? resolve(process.env.BENCH_BEFORE) : undefined;
let activeRoot = ROOT;

/** The built entry of a component: this tree's, or BENCH_BEFORE's while a "before" target starts. */
export const entry = (component) => join(activeRoot, 'packages', component, 'dist/main.js');

function withBefore(spec) {
  if (!BEFORE || !spec.before) return spec;
  const rev = execFileSync('git', ['-C', BEFORE, 'log', '-1', '--format=%h %cs'], {
    encoding: 'utf8',
  }).trim();
  const before = (name) => `${name} (before)`;
  const extra = spec.targets
    .filter((t) => t.role === 'ours' && t.before !== false)
    .map((t) => ({
      ...t,
      name: before(t.name),
      role: 'baseline',
      start: async () => {
        activeRoot = BEFORE; // targets start one at a time: entry() sees BEFORE for all of start()
        try {
          return await t.start();
        } finally {
          activeRoot = ROOT;
        }
      },
    }));
  const ours = new Set(extra.map((t) => t.name.replace(/ \(before\)$/, '')));
  return {
    ...spec,
    targets: [...spec.targets, ...extra],
    scenarios: spec.scenarios.map((sc) =>
      sc.targets ? { ...sc, targets: sc.targets.flatMap((n) => (ours.has(n) ? [n, before(n)] : [n])) } : sc,
    ),
    notes: `${spec.notes ?? ''}\n\n"(before)": the same target built from commit ${rev} (BENCH_BEFORE), run in the same rounds on the same Node.`,
  };
}

export const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return Number.NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * @param {object} spec
 * @param {string} spec.component   e.g. 'tls-sidecar' (section key in docs/benchmarks.md)
 * @param {string} spec.title
 * @param {string} [spec.notes]     markdown shown under the table (setup, what is compared)
 * @param {Array<{name: string, role: 'peer'|'ours'|'baseline'|'reference', start: () => Promise<any>}>} spec.targets
 *        start() returns a handle passed to each scenario's run(); it must have stop().
 * @param {Array<{name: string, run: (handle: any, target: object) => Promise<{rps: number, p50ms?: number, p99ms?: number}>, targets?: string[]}>} spec.scenarios
 * @param {boolean} [spec.before] its 'ours' targets start through entry(), so BENCH_BEFORE can run them
 *        (a target with before: false, e.g. one using a flag the older build lacks, is not run twice)
 * @param {number} [spec.rounds]    rounds per target (default 5; BENCH_ROUNDS overrides)
 */
export async function runBenchmark(input) {
  const spec = withBefore(input);
  const rounds = Number(process.env.BENCH_ROUNDS ?? spec.rounds ?? 5);
  const handles = new Map();
  const results = [];
  try {
    for (const t of spec.targets) handles.set(t.name, await t.start());
    for (const sc of spec.scenarios) {
      const targets = spec.targets.filter((t) => !sc.targets || sc.targets.includes(t.name));
      const samples = new Map(targets.map((t) => [t.name, []]));
      for (const t of targets) await sc.run(handles.get(t.name), t); // warm-up, discarded
      for (let r = 0; r < rounds; r++) {
        const order = r % 2 === 0 ? targets : [...targets].reverse();
        for (const t of order) samples.get(t.name).push(await sc.run(handles.get(t.name), t));
      }
      const peer = targets.find((t) => t.role === 'peer');
      const peerRps = peer ? median(samples.get(peer.name).map((s) => s.rps)) : Number.NaN;
      const peerP99 = peer ? median(samples.get(peer.name).map((s) => s.p99ms)) : Number.NaN;
      for (const t of targets) {
        const s = samples.get(t.name);
        const rps = median(s.map((x) => x.rps));
        const p50ms = median(s.map((x) => x.p50ms));
        const p99ms = median(s.map((x) => x.p99ms));
        results.push({
          scenario: sc.name,
          target: t.name,
          role: t.role,
          rps,
          p50ms,
          p99ms,
          ratio: rps / peerRps,
          p99ratio: p99ms / peerP99,
          samples: s.map((x) => Math.round(x.rps)),
        });
      }
      printScenario(
        sc.name,
        results.filter((x) => x.scenario === sc.name),
      );
    }
  } finally {
    for (const h of handles.values()) await h?.stop?.().catch(() => {});
  }
  record(spec, results, rounds);
  return results;
}

const fmt = (x, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : '-');

function printScenario(name, rows) {
  console.log(`\n${name}`);
  for (const r of rows) {
    console.log(
      `  ${r.target.padEnd(28)} ${fmt(r.rps).padStart(9)} req/s  p50 ${fmt(r.p50ms, 2).padStart(7)} ms  p99 ${fmt(r.p99ms, 2).padStart(7)} ms  x${fmt(r.ratio, 2)} of peer  (rounds: ${r.samples.join(', ')})`,
    );
  }
}

function record(spec, results, rounds) {
  const file = resolve(ROOT, 'docs/benchmarks.md');
  const svgName = `bench/${spec.component}.svg`;
  writeFileSync(resolve(ROOT, 'docs', svgName), barChart(spec.title, results));
  const lines = [
    `## ${spec.title}`,
    '',
    `Measured ${new Date().toISOString().slice(0, 10)} on ${process.env.BENCH_MACHINE ?? 'the 2-core development machine'}; ${rounds} alternating rounds per target after a warm-up; medians. Ratio = ours / peer in the same run.`,
    '',
    `![${spec.title}](${svgName})`,
    '',
    '| scenario | target | req/s (median) | p50 ms | p99 ms | throughput vs peer | p99 vs peer |',
    '|---|---|---:|---:|---:|---:|---:|',
    ...results.map(
      (r) =>
        `| ${r.scenario} | ${r.target}${r.role === 'peer' ? ' (peer)' : ''} | ${fmt(r.rps)} | ${fmt(r.p50ms, 2)} | ${fmt(r.p99ms, 2)} | ${fmt(r.ratio, 2)}x | ${fmt(r.p99ratio, 2)}x |`,
    ),
    '',
    spec.notes ?? '',
  ];
  const begin = `<!-- bench:${spec.component}:begin -->`;
  const end = `<!-- bench:${spec.component}:end -->`;
  const block = `${begin}\n${lines.join('\n').trim()}\n${end}`;
  let doc = existsSync(file)
    ? readFileSync(file, 'utf8')
    : '# Benchmarks\n\nRun with `npm run bench` (all) or `npm run bench -- <component>`.\n';
  const re = new RegExp(`${begin}[\\s\\S]*?${end}`);
  doc = re.test(doc) ? doc.replace(re, block) : `${doc.trimEnd()}\n\n${block}\n`;
  writeFileSync(file, doc);
  console.log(`\nrecorded in docs/benchmarks.md and docs/${svgName}`);
}
