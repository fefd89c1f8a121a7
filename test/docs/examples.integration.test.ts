// Every copy-paste example of the READMEs and docs/*.md runs here exactly as printed: each fenced
// `sh` and `yaml` block, found by reading the Markdown, so a new example is covered as soon as it
// is written. A block runs in a sandbox (test/docs/sandbox.sh: its own network, a throw-away
// overlay of the machine's files) holding what the example expects: the app on 127.0.0.1:8080,
// Redis, memcached, MariaDB, certificates in /etc/tls, log files, host names such as `redis` or
// `web`. test/docs/run-block.mjs runs the commands and reports.
//
// - sh: every command runs; one that starts a component must log that it started and exit 0 on
//   SIGTERM (it is stopped before the next one starts); any other must exit 0, and each HTTP
//   transfer of curl must answer below 400 unless the line names the status it shows;
//   `docker run` runs with podman, which takes the same arguments, where the image was built
//   (scripts/images.sh; test-all.sh builds them first), else the component's built binary with the
//   same arguments (its -v mounts bound in the sandbox, its -e variables set).
// - yaml: a block whose first line names its file and the command that uses it, e.g.
//   `# splitter.yaml (dds-experiment-splitter --config splitter.yaml)`, is written there and
//   checked with that command (`--check-config` added for a dds component); a Kubernetes manifest
//   or pod-spec fragment has each dds container's args checked by the component with
//   `--check-config`; a Prometheus config is checked by `promtool check config`.
// - a block whose first line is `# not run: REASON` is only listed; there are few, each says why.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, ROOT, run, tempDir } from '@dds/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { type Block, documentedFiles, extractBlocks, shellCommands } from './markdown.js';

const COMPONENTS = [
  'tls-sidecar',
  'shard-ambassador',
  'experiment-splitter',
  'rate-limiter',
  'metrics-adapter',
  'log-adapter',
  'health-adapter',
  'demo-app',
  'pod',
] as const;
type Component = (typeof COMPONENTS)[number];

/** Host names the examples use, as the sandbox resolves them. */
const HOSTS: [string, string][] = [
  ...[
    'web',
    'web-next',
    'web-v1',
    'web-v2',
    'redis',
    'redis.default.svc',
    'db',
    'db-2',
    'cache-1',
    'cache-2',
    'app-2',
    'kafka',
    'kafka-0.kafka',
    'kafka-1.kafka',
    'otel-collector',
    'otel-collector.observability',
    'mysql.orders',
    'metrics-adapter',
    'shop.example.com',
    'api.example.com',
  ].map((h): [string, string] => [h, '127.0.0.1']),
  ...[0, 1, 2].flatMap((i): [string, string][] => [
    [`redis-${i}`, `10.0.0.${i + 1}`],
    [`sentinel-${i}`, `10.0.0.${i + 1}`],
    [`redis-${i}.example.com`, `10.0.0.${i + 1}`],
    [`redis-${i}.redis`, `10.0.0.${i + 1}`],
    [`memcached-${i}.memcached`, `10.0.0.${i + 1}`],
    [`web-${i}.web`, `10.0.0.${i + 1}`],
  ]),
];

interface Fixtures {
  apps?: string[];
  redis?: { host: string; port: number; password?: string }[];
  memcached?: { host: string; port: number }[];
  tcp?: number[];
  mariadb?: boolean;
  /** Redis over TLS with an ACL user, on this port of 127.0.0.1 */
  redisTls?: number;
  /** a Redis Cluster over these addresses (port 6379) */
  redisCluster?: string[];
  /** sentinels (port 26379) watching `mymaster` on 127.0.0.1:6379 */
  sentinels?: string[];
}

/** What each component's examples expect to find running. */
const FIXTURES: Record<Component, (b: Block) => Fixtures> = {
  'tls-sidecar': () => ({ apps: ['127.0.0.1:8080', '/run/app/http.sock'] }),
  'shard-ambassador': () => ({
    redis: [1, 2, 3].map((i) => ({ host: `10.0.0.${i}`, port: 6379 })),
    memcached: [1, 2].map((i) => ({ host: `10.0.0.${i}`, port: 11211 })),
    apps: ['10.0.0.1:8080', '10.0.0.2:8080'],
  }),
  'experiment-splitter': () => ({
    apps: ['127.0.0.1:8080', '127.0.0.1:8081', '127.0.0.1:8082', '127.0.0.1:8090', '127.0.0.1:80'],
  }),
  'rate-limiter': (b) => ({
    apps: ['127.0.0.1:8080'],
    redis: [{ host: '127.0.0.1', port: 6379 }],
    ...(/rediss:\/\//.test(b.text) ? { redisTls: 6380 } : {}),
    ...(/--redis-cluster\b/.test(b.text) ? { redisCluster: ['10.0.0.1', '10.0.0.2', '10.0.0.3'] } : {}),
    ...(/--redis-sentinel\b/.test(b.text) ? { sentinels: ['10.0.0.1', '10.0.0.2'] } : {}),
  }),
  'metrics-adapter': (b) => ({
    apps: ['127.0.0.1:8080'],
    redis: [{ host: '127.0.0.1', port: 6379 }],
    memcached: [{ host: '127.0.0.1', port: 11211 }],
    mariadb: /mysql:\/\//.test(b.text),
  }),
  'log-adapter': () => ({ apps: ['127.0.0.1:8080'] }),
  'health-adapter': (b) => ({
    apps: ['127.0.0.1:8080'],
    redis: [{ host: '127.0.0.1', port: 6379, password: 'secret' }],
    memcached: [{ host: '127.0.0.1', port: 11211 }],
    tcp: [5672],
    mariadb: /mysql:\/\//.test(b.text),
  }),
  'demo-app': () => ({}),
  // dds-pod hosts the others: its example fronts the app and reads Redis
  pod: () => ({ apps: ['127.0.0.1:8080'], redis: [{ host: '127.0.0.1', port: 6379 }] }),
};

/** The components a block uses: those it names, else its package's. */
function componentsOf(b: Block): Component[] {
  const named = COMPONENTS.filter((c) => new RegExp(`\\bdds[-/]${c}\\b`).test(b.text));
  if (named.length > 0) return named;
  const pkg = /^packages\/([\w-]+)\//.exec(b.file)?.[1];
  return COMPONENTS.filter((c) => c === pkg);
}

function fixturesOf(b: Block): Fixtures {
  const all: Fixtures = {};
  for (const c of componentsOf(b)) {
    const f = FIXTURES[c](b);
    all.apps = [...new Set([...(all.apps ?? []), ...(f.apps ?? [])])];
    all.redis = [...(all.redis ?? []), ...(f.redis ?? [])].filter(
      (r, i, list) => list.findIndex((x) => x.host === r.host && x.port === r.port) === i,
    );
    all.memcached = [...(all.memcached ?? []), ...(f.memcached ?? [])].filter(
      (m, i, list) => list.findIndex((x) => x.host === m.host && x.port === m.port) === i,
    );
    all.tcp = [...new Set([...(all.tcp ?? []), ...(f.tcp ?? [])])];
    all.mariadb = all.mariadb || f.mariadb;
    all.redisTls ??= f.redisTls;
    all.redisCluster ??= f.redisCluster;
    all.sentinels ??= f.sentinels;
  }
  return all;
}

type Step = { cmd: string } | { write: { path: string; content: string } };

const quote = (s: string): string => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** A yaml block's first line naming its file and the command that uses it. */
const HEADER = /^#\s*(\S+\.ya?ml)\b[^\n]*?\(([^)\n]+)\)/;

/** Writes the file a header-named yaml block holds, where a reader following the page put it. */
function fileOf(b: Block): Step | undefined {
  const header = HEADER.exec(b.text);
  if (!header || b.notRun !== undefined) return undefined;
  const file = header[1]!;
  return { write: { path: file.startsWith('/') ? file : join(ROOT, file), content: b.text } };
}

/**
 * The steps that run a block, or why it cannot be planned (a new kind of block). The files the
 * page's header-named yaml blocks hold are written first, in page order: a reader who follows the
 * page has made them (a command may come before the file it reads, as `dds-pod --config pod.yaml`).
 */
function planOf(b: Block, page: readonly Block[]): Step[] {
  const files = page
    .filter((x) => x.lang === 'yaml' && x !== b)
    .map(fileOf)
    .filter((s): s is Step => s !== undefined);
  return [...files, ...stepsOf(b)];
}

function stepsOf(b: Block): Step[] {
  if (b.lang === 'sh') return shellCommands(b.text).map((cmd) => ({ cmd }));
  const header = HEADER.exec(b.text);
  if (header) {
    const cmd = header[2]!.split(';')[0]!.trim();
    return [fileOf(b)!, { cmd: /^dds-/.test(cmd) ? `${cmd} --check-config` : cmd }];
  }
  const docs = parseAllDocuments(b.text).map((d) => d.toJS() as unknown);
  if (docs.length === 1 && isObject(docs[0]) && 'scrape_configs' in docs[0]) {
    const path = join(ROOT, '.dds-docs-prometheus.yml');
    return [{ write: { path, content: b.text } }, { cmd: `promtool check config ${path}` }];
  }
  const containers = docs.flatMap(containersIn);
  const dds = containers.filter((c) => /^(?:[\w.-]+\/)*dds\/[a-z-]+(?::[\w.-]+)?$/.test(String(c.image)));
  if (dds.length > 0) {
    return dds.map((c) => {
      const component = /dds\/([a-z-]+)/.exec(String(c.image))![1]!;
      const command = (c.command as string[] | undefined) ?? [];
      const args = [
        ...command.slice(command[0]?.startsWith('dds-') ? 1 : command.length),
        ...((c.args as string[] | undefined) ?? []),
      ];
      // a value from a Secret or the Downward API: any value will do for a check
      const env = ((c.env as { name: string; value?: string }[] | undefined) ?? []).map(
        (e) => `${e.name}=${quote(e.value ?? 'from-a-secret')}`,
      );
      return { cmd: `env ${env.join(' ')} dds-${component} ${args.map(quote).join(' ')} --check-config` };
    });
  }
  throw new Error(
    'a yaml block of an unknown kind: give its first line as `# FILE (COMMAND that uses FILE)`, or `# not run: REASON`',
  );
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Containers of a manifest, a pod spec, a `containers:` fragment or a list of containers. */
function containersIn(doc: unknown): Record<string, unknown>[] {
  if (Array.isArray(doc)) return doc.filter((c) => isObject(c) && 'image' in c) as Record<string, unknown>[];
  if (!isObject(doc)) return [];
  const out: Record<string, unknown>[] = [];
  for (const key of ['containers', 'initContainers'])
    if (Array.isArray(doc[key])) out.push(...containersIn(doc[key]));
  for (const v of Object.values(doc)) if (isObject(v)) out.push(...containersIn(v));
  return out;
}

// ---------------------------------------------------------------------------------------------

interface StepReport {
  cmd: string;
  serves: boolean;
  code?: number | string;
  stopCode?: number | string;
  stdout?: string;
  stderr?: string;
}
interface Report {
  fixtures: string[];
  steps: StepReport[];
  error?: string;
}

const root = tempDir('docs-examples');
let mariadbTemplate = '';

/** A MariaDB datadir with the examples' users (app, exporter, dds; password "secret"). */
async function prepareMariadb(): Promise<string> {
  const dir = join(root, 'mariadb');
  const datadir = join(dir, 'data');
  mkdirSync(dir, { recursive: true });
  const init = await run(
    'mariadb-install-db',
    [
      '--no-defaults',
      `--datadir=${datadir}`,
      '--user=root',
      '--auth-root-authentication-method=normal',
      '--skip-test-db',
    ],
    { timeoutMs: 180_000 },
  );
  if (init.code !== 0) throw new Error(`mariadb-install-db: ${init.stderr}`);
  const socket = join(dir, 'init.sock');
  const port = await freePort();
  const server = execFileSync('bash', [
    '-c',
    `mariadbd --no-defaults --datadir=${datadir} --socket=${socket} --port=${port} --bind-address=127.0.0.1 --user=root --skip-log-bin --innodb-buffer-pool-size=16M --pid-file=${dir}/init.pid >${dir}/init.log 2>&1 & echo $!`,
  ])
    .toString()
    .trim();
  const sql = [
    'CREATE DATABASE IF NOT EXISTS app',
    ...['app', 'exporter', 'dds'].flatMap((u) => [
      `CREATE USER IF NOT EXISTS '${u}'@'%' IDENTIFIED BY 'secret'`,
      `CREATE USER IF NOT EXISTS '${u}'@'localhost' IDENTIFIED BY 'secret'`,
      `GRANT ALL ON *.* TO '${u}'@'%'`,
      `GRANT ALL ON *.* TO '${u}'@'localhost'`,
    ]),
    'FLUSH PRIVILEGES',
  ].join('; ');
  for (let i = 0; ; i++) {
    const r = await run('mariadb', ['--no-defaults', `--socket=${socket}`, '-uroot', '-e', sql]);
    if (r.code === 0) break;
    if (i > 600) throw new Error(`mariadb setup: ${r.stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  await run('mariadb-admin', ['--no-defaults', `--socket=${socket}`, '-uroot', 'shutdown']);
  await run('bash', ['-c', `while kill -0 ${server} 2>/dev/null; do sleep 0.1; done`]);
  return datadir;
}

async function runBlock(b: Block): Promise<Report> {
  const fixtures = fixturesOf(b);
  if (fixtures.mariadb && !mariadbTemplate) mariadbTemplate = await prepareMariadb();
  const work = join(root, `${b.file.replace(/\W+/g, '-')}-${b.line}`);
  mkdirSync(work, { recursive: true });
  const env: Record<string, string> = {
    PATH: `${join(work, 'bin')}:${join(ROOT, 'node_modules/.bin')}:${process.env.PATH}`,
    HOME: process.env.HOME ?? '/root',
    LANG: 'C.UTF-8',
  };
  const plan = {
    id: `${process.pid}-${blocks.indexOf(b)}`,
    repo: ROOT,
    work,
    hosts: HOSTS,
    env,
    fixtures: { ...fixtures, mariadb: fixtures.mariadb ? mariadbTemplate : undefined },
    steps: planOf(
      b,
      blocks.filter((x) => x.file === b.file),
    ),
  };
  writeFileSync(join(work, 'plan.json'), JSON.stringify(plan));
  const r = await run(
    'unshare',
    [
      '--mount',
      '--net',
      '--pid',
      '--fork',
      '--mount-proc',
      '--kill-child',
      'bash',
      join(ROOT, 'test/docs/sandbox.sh'),
      work,
      process.execPath,
      join(ROOT, 'test/docs/run-block.mjs'),
      join(work, 'plan.json'),
    ],
    { timeoutMs: 600_000 },
  );
  try {
    return JSON.parse(readFileSync(join(work, 'report.json'), 'utf8')) as Report;
  } catch {
    throw new Error(`the sandbox failed (${r.code}): ${r.stdout}\n${r.stderr}`);
  }
}

/** Explains a failed step with what it printed. */
const show = (s: StepReport): string =>
  `${s.cmd}\n--- stdout\n${s.stdout ?? ''}\n--- stderr\n${s.stderr ?? ''}`;

function expectRan(report: Report): void {
  expect(report.fixtures.filter((f) => f.includes(' exited:'))).toEqual([]);
  expect(report.error, report.error).toBeUndefined();
  expect(report.steps.length).toBeGreaterThan(0);
  for (const s of report.steps) {
    if (s.serves) expect(s.stopCode, `stopped with SIGTERM: ${show(s)}`).toBe(0);
    else expect(s.code, show(s)).toBe(0);
    // curl: every transfer below 400, unless the line says which status it shows
    for (const m of (s.stderr ?? '').matchAll(/HTTP_STATUS=(\d{3})/g)) {
      if (!s.cmd.includes(m[1]!)) expect(Number(m[1]), `HTTP ${m[1]}: ${show(s)}`).toBeLessThan(400);
    }
  }
}

afterAll(async () => {
  // containers of `docker run` examples are named dds-docs-*; none may outlive the test
  const left = await run('bash', [
    '-c',
    'source scripts/podman-env.sh && podman ps -a --filter name=dds-docs- --format "{{.Names}}"',
  ]);
  for (const name of left.stdout.split('\n').filter(Boolean))
    await run('bash', ['-c', `source scripts/podman-env.sh && podman rm -f -t 0 ${name}`]);
});

beforeAll(() => {
  // the examples use the built components (`npm run build`)
  expect(readFileSync(join(ROOT, 'packages/tls-sidecar/dist/main.js'), 'utf8')).toContain('runComponent');
});

const blocks = documentedFiles().flatMap((f) => extractBlocks(f, ['sh', 'yaml']));

describe('documentation examples run as printed', () => {
  for (const b of blocks) {
    const name = `${b.file}:${b.line} (${b.lang}${b.heading ? `, ${b.heading.replace(/\[|\]\([^)]*\)/g, '')}` : ''})`;
    if (b.notRun !== undefined) {
      it(`${name}: not run, says why`, () => {
        expect(b.notRun!.length, 'the reason after `# not run:`').toBeGreaterThan(10);
      });
      continue;
    }
    it(name, async () => expectRan(await runBlock(b)), 600_000);
  }

  it('few examples are marked not run', () => {
    const notRun = blocks.filter((b) => b.notRun !== undefined);
    expect(notRun.length).toBeLessThanOrEqual(Math.ceil(blocks.length / 8));
  });

  it('no command example hides in an indented (unfenced) code block', () => {
    const hidden: string[] = [];
    for (const f of documentedFiles()) {
      let fenced = false;
      for (const [i, line] of readFileSync(join(ROOT, f), 'utf8').split('\n').entries()) {
        if (/^\s*```/.test(line)) fenced = !fenced;
        else if (
          !fenced &&
          /^ {4}\s*(dds-|docker |podman |curl |bash |npm |npx |redis-cli|kubectl|\.cache\/bin\/helm|source )/.test(
            line,
          )
        )
          hidden.push(`${f}:${i + 1}: ${line.trim()}`);
      }
    }
    expect(hidden).toEqual([]);
  });

  it('no example publishes a port on every interface by accident', () => {
    const open = blocks
      .filter((b) => b.lang === 'sh')
      .flatMap((b) => shellCommands(b.text).map((c) => ({ b, c })))
      .filter(({ c }) => /(docker|podman) run/.test(c))
      .flatMap(({ b, c }) =>
        [...c.matchAll(/(?:-p|--publish)[ =](\S+)/g)].map((m) => `${b.file}:${b.line}: -p ${m[1]}`),
      )
      .filter((p) => !/-p 127\.0\.0\.1:/.test(p));
    expect(open).toEqual([]);
  });
});
