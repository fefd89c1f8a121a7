import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bin, freePorts, type Proc, ROOT, start, tempDir } from '@dds/test-support';
import { selfSignedCert } from '@dds/test-support/self-signed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * What each component loads before it serves: every npm package and every Node built-in module
 * it resolves by the time it is serving (core's dds:started channel), with flags only (no config file), recorded through
 * module.registerHooks. It must equal the component's entry in startup-modules.json: a heavy import
 * on the always-loaded path (a client library, a framework, the YAML parser) fails this test,
 * and so does a module that stopped loading (update the list: DDS_UPDATE_ALLOWLIST=1).
 * docs/benchmarks.md (Footprint) has what each package costs in RSS.
 */

const ALLOWLIST = join(ROOT, 'test/footprint/startup-modules.json');
const RECORDER = join(ROOT, 'packages/test-support/src/module-recorder.mjs');
const update = process.env.DDS_UPDATE_ALLOWLIST === '1';

interface Loaded {
  packages: string[];
  builtins: string[];
}

const dir = tempDir('startup-modules');
const tls = selfSignedCert();
let ports: number[];
beforeAll(async () => {
  ports = await freePorts(4);
  writeFileSync(join(dir, 'app.log'), '');
});

/** Flags-only command lines, as a user would start each component (nothing needs to answer). */
function argsOf(component: string): string[] {
  const [listen, admin, up1, up2] = ports.map((p) => `127.0.0.1:${p}`);
  const common = ['--admin', admin!, '--log-level', 'info'];
  switch (component) {
    case 'tls-sidecar':
      return [
        '--cert',
        tls.cert,
        '--key',
        tls.key,
        '--listen',
        listen!,
        '--upstream',
        `http://${up1}`,
        ...common,
      ];
    case 'rate-limiter':
      return ['--listen', listen!, '--upstream', `http://${up1}`, '--rate', '100/s', ...common];
    case 'experiment-splitter':
      return ['--listen', listen!, '--control', `http://${up1}`, '--experiment', `http://${up2}`, ...common];
    case 'shard-ambassador':
      return ['--redis-servers', `${up1}:1`, '--redis-listen', listen!, ...common];
    case 'metrics-adapter':
      return ['--redis', `redis://${up1}`, '--redis-listen', listen!, ...common];
    case 'health-adapter':
      return ['--tcp', up1!, '--listen', listen!, ...common];
    case 'log-adapter':
      return ['--input', join(dir, '*.log'), '--output', 'stdout', ...common];
    case 'demo-app':
      return ['--listen', listen!, ...common];
    case 'pod': {
      // the four-component pod of the footprint benchmark (TLS -> rate limit, metrics, logs)
      const file = join(dir, 'pod.yaml');
      writeFileSync(
        file,
        [
          `admin: ${admin}`,
          'components:',
          `  tls-sidecar: { listen: "${listen}", cert: "${tls.cert}", key: "${tls.key}", upstream: "http://${up1}" }`,
          `  rate-limiter: { listen: "${up1}", upstream: "http://${up2}", rate: 100/s }`,
          `  metrics-adapter: { redis: "redis://${up2}", redisListen: "127.0.0.1:0" }`,
          `  log-adapter: { input: ["${join(dir, '*.log')}"], output: stdout }`,
        ].join('\n'),
      );
      return ['--config', file];
    }
    default:
      throw new Error(`no command line for ${component}`);
  }
}

const COMPONENTS = [
  'tls-sidecar',
  'rate-limiter',
  'experiment-splitter',
  'shard-ambassador',
  'metrics-adapter',
  'health-adapter',
  'log-adapter',
  'demo-app',
  'pod',
];

async function loadedAtStart(component: string): Promise<Loaded> {
  const out = join(dir, `${component}.json`);
  const p: Proc = start(process.execPath, ['--import', RECORDER, bin(component), ...argsOf(component)], {
    env: { DDS_MODULES_OUT: out },
  });
  try {
    await p.waitFor('dds-module-recorder: wrote', 20_000);
  } finally {
    await p.kill('SIGKILL');
  }
  return classify(JSON.parse(readFileSync(out, 'utf8')) as string[]);
}

/** npm packages by name (scoped ones whole), Node built-ins by their node: name. */
function classify(urls: string[]): Loaded {
  const packages = new Set<string>();
  const builtins = new Set<string>();
  for (const url of urls) {
    if (url.startsWith('node:')) {
      builtins.add(url);
      continue;
    }
    const i = url.lastIndexOf('/node_modules/');
    if (i < 0) continue; // dds's own modules (packages/*/dist)
    const parts = url.slice(i + '/node_modules/'.length).split('/');
    packages.add(parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!);
  }
  return { packages: [...packages].sort(), builtins: [...builtins].sort() };
}

const found: Record<string, Loaded> = {};

describe('modules loaded at start', () => {
  const allowed = JSON.parse(readFileSync(ALLOWLIST, 'utf8')) as Record<string, Loaded>;

  for (const component of COMPONENTS) {
    it(`${component} loads only its allow-listed packages and built-ins`, async () => {
      const loaded = await loadedAtStart(component);
      found[component] = loaded;
      if (update) return;
      const want = allowed[component];
      expect(want, `${component} has no entry in startup-modules.json`).toBeDefined();
      expect({ component, packages: loaded.packages }).toEqual({ component, packages: want!.packages });
      expect({ component, builtins: loaded.builtins }).toEqual({ component, builtins: want!.builtins });
    }, 40_000);
  }

  afterAll(() => {
    if (update) writeFileSync(ALLOWLIST, `${JSON.stringify({ ...allowed, ...found }, null, 2)}\n`);
  });
});
