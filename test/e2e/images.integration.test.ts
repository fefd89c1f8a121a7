// Every image built by scripts/images.sh: OCI metadata, non-root, --help, read-only root filesystem,
// and a clean exit 0 on SIGTERM well within the drain timeout (exec-form ENTRYPOINT: node is PID 1
// and gets the signal itself).
import { execFileSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { freePort, tempDir } from '@dds/test-support';
import {
  COMPONENTS,
  type ComponentName,
  ensureImages,
  eventually,
  httpStatus,
  imageRef,
  podman,
  podmanOk,
} from '@dds/test-support/podman';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// pods and podman on a busy shared machine: generous per-test time (every wait inside is bounded)
vi.setConfig({ testTimeout: 90_000 });

const ADMIN: Record<ComponentName, number> = {
  'demo-app': 9900,
  'tls-sidecar': 9901,
  'shard-ambassador': 9902,
  'experiment-splitter': 9903,
  'rate-limiter': 9904,
  'metrics-adapter': 9905,
  'log-adapter': 9906,
  'health-adapter': 9907,
  pod: 9910,
};
const DATA_PORTS: Record<ComponentName, number[]> = {
  'demo-app': [8080],
  'tls-sidecar': [8443],
  'shard-ambassador': [6379, 11211, 8082, 22222],
  'experiment-splitter': [8083],
  'rate-limiter': [8084],
  'metrics-adapter': [9121, 9104, 9150, 7979],
  'log-adapter': [],
  'health-adapter': [8086],
  pod: [],
};

const certDir = tempDir('e2e-img-tls');
/** The least each component needs to start and serve (its upstreams may be absent). */
function startArgs(c: ComponentName): { volumes: string[]; args: string[] } {
  switch (c) {
    case 'demo-app':
      return { volumes: [], args: ['--listen=0.0.0.0:8080'] };
    case 'tls-sidecar':
      return { volumes: [`${certDir}:/etc/dds/tls:ro`], args: ['--tls-dir=/etc/dds/tls'] };
    case 'shard-ambassador':
      return { volumes: [], args: ['--redis-servers=127.0.0.1:6390:1'] };
    case 'experiment-splitter':
      return {
        volumes: [],
        args: ['--control=http://127.0.0.1:18080', '--experiment=http://127.0.0.1:18081'],
      };
    case 'rate-limiter':
      return { volumes: [], args: ['--rate=10/s'] };
    case 'metrics-adapter':
      return { volumes: [], args: ['--redis=redis://127.0.0.1:6390'] };
    case 'log-adapter':
      return { volumes: [], args: ['--input=/tmp/*.log'] };
    case 'health-adapter':
      return { volumes: [], args: ['--tcp=127.0.0.1:6390'] };
    case 'pod':
      // a TLS sidecar in front of a rate limiter, from a pod file beside the certificate
      return { volumes: [`${certDir}:/etc/dds/tls:ro`], args: ['--config=/etc/dds/tls/pod.yaml'] };
  }
}

const started: string[] = [];

beforeAll(async () => {
  await ensureImages(COMPONENTS);
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-keyout',
      `${certDir}/tls.key`,
      '-out',
      `${certDir}/tls.crt`,
    ],
    { stdio: 'ignore' },
  );
  // the container runs as uid 65532: the bind-mounted directory must be readable by it
  chmodSync(certDir, 0o755);
  chmodSync(`${certDir}/tls.key`, 0o644);
  writeFileSync(
    `${certDir}/pod.yaml`,
    [
      'components:',
      '  tls-sidecar: { tlsDir: /etc/dds/tls, upstream: "http://127.0.0.1:8084" }',
      '  rate-limiter: { listen: "127.0.0.1:8084", upstream: "http://127.0.0.1:8080", rate: 10/s }',
    ].join('\n'),
  );
  chmodSync(`${certDir}/pod.yaml`, 0o644);
}, 600_000);

afterAll(async () => {
  for (const name of started) await podman(['rm', '-f', '-t', '0', name]);
});

describe.each(COMPONENTS)('image dds/%s', (c) => {
  it('has OCI labels, exec-form entrypoint, uid 65532 and the default ports exposed', async () => {
    const [info] = JSON.parse(await podmanOk(['image', 'inspect', imageRef(c)])) as {
      Config: {
        User: string;
        Entrypoint: string[];
        ExposedPorts: Record<string, unknown>;
        Labels: Record<string, string>;
      };
    }[];
    expect(info?.Config.User).toBe('65532:65532');
    // the health adapter starts processes (exec checks): an init reaps their orphans
    expect(info?.Config.Entrypoint).toEqual(
      c === 'health-adapter'
        ? ['/usr/bin/catatonit', '--', 'node', '/app/main.mjs']
        : ['node', '/app/main.mjs'],
    );
    const exposed = Object.keys(info?.Config.ExposedPorts ?? {}).sort();
    expect(exposed).toEqual([ADMIN[c], ...DATA_PORTS[c]].map((p) => `${p}/tcp`).sort());
    const labels = info?.Config.Labels ?? {};
    expect(labels['org.opencontainers.image.title']).toBe(`dds-${c}`);
    expect(labels['org.opencontainers.image.version']).toBe('0.1.0');
    expect(labels['org.opencontainers.image.licenses']).toBe('Apache-2.0');
    expect(labels['org.opencontainers.image.revision']).toMatch(/^[0-9a-f]{12}$/);
    // the layers on top of the base image stay small: one bundle (+ native addons)
    const base = JSON.parse(await podmanOk(['image', 'inspect', 'localhost/dds/node-base:24'])) as {
      Size: number;
    }[];
    const added = (info as unknown as { Size: number }).Size - (base[0]?.Size ?? 0);
    expect(added).toBeGreaterThan(0);
    expect(added).toBeLessThan(20 * 1024 * 1024);
  });

  it('answers --help on a read-only root filesystem', async () => {
    const r = await podman(['run', '--rm', '--read-only', imageRef(c), '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`dds-${c}`);
    expect(r.stdout).toMatch(/--admin HOST:PORT/);
  });

  it('serves as uid 65532 and exits 0 on SIGTERM within the drain timeout', async () => {
    const name = `dds-e2e-img-${c}-${process.pid}`;
    const port = await freePort();
    const { volumes, args } = startArgs(c);
    started.push(name);
    await podmanOk([
      'run',
      '-d',
      '--read-only',
      '--name',
      name,
      '-p',
      `127.0.0.1:${port}:${ADMIN[c]}`,
      ...volumes.flatMap((v) => ['-v', v]),
      imageRef(c),
      ...args,
      `--admin=0.0.0.0:${ADMIN[c]}`,
      '--drain-timeout=5s',
    ]);
    await eventually(`${c} /healthz`, async () =>
      (await httpStatus(`http://127.0.0.1:${port}/healthz`)) === 200 ? true : undefined,
    );
    const top = await podmanOk(['top', name, 'user', 'huser', 'args']);
    expect(top).toMatch(/65532/);
    expect(top).not.toMatch(/^root\s/m);
    const t0 = Date.now();
    await podmanOk(['stop', '-t', '15', name], 60_000);
    const seconds = (Date.now() - t0) / 1000;
    const code = (await podmanOk(['inspect', name, '--format', '{{.State.ExitCode}}'])).trim();
    expect(code, (await podman(['logs', '--tail', '20', name])).stderr).toBe('0');
    // drain timeout (5 s) plus podman's own stop and clean-up, which takes seconds on a busy machine;
    // a process that ignored SIGTERM would be killed at 15 s with exit code 137 instead of 0.
    expect(seconds).toBeLessThan(5 + 6);
  }, 60_000);
});

describe('image dds/health-adapter: catatonit as PID 1', () => {
  it('exec checks that leave a process behind leave no zombie in the container', async () => {
    const name = `dds-e2e-img-zombies-${process.pid}`;
    const port = await freePort();
    const dir = tempDir('e2e-img-exec');
    // each run starts a node that outlives the check's own process: an orphan for PID 1 to reap
    writeFileSync(
      `${dir}/checks.yaml`,
      `interval: 200ms
checks:
  - name: orphans
    type: exec
    command: [node, -e, "require('node:child_process').spawn(process.execPath, ['-e', 'setTimeout(() => {}, 20)'], { detached: true, stdio: 'ignore' }).unref()"]
`,
    );
    chmodSync(dir, 0o755);
    chmodSync(`${dir}/checks.yaml`, 0o644);
    started.push(name);
    await podmanOk([
      'run',
      '-d',
      '--read-only',
      '--name',
      name,
      '-p',
      `127.0.0.1:${port}:9907`,
      '-v',
      `${dir}:/etc/dds:ro`,
      imageRef('health-adapter'),
      '--config=/etc/dds/checks.yaml',
      '--admin=0.0.0.0:9907',
    ]);
    const runs = async () => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith('dds_health_check_runs_total{check="orphans"'));
      return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
    };
    await eventually('20 exec check runs', async () => ((await runs()) >= 20 ? true : undefined));
    const inside = await podmanOk([
      'exec',
      name,
      'node',
      '-e',
      `const fs = require('node:fs');
const states = fs.readdirSync('/proc').filter((d) => /^\\d+$/.test(d)).map((d) => {
  try { const s = fs.readFileSync('/proc/' + d + '/stat', 'utf8'); return s.slice(s.lastIndexOf(')') + 2, s.lastIndexOf(')') + 3); } catch { return ''; }
});
console.log(JSON.stringify({ pid1: fs.readFileSync('/proc/1/comm', 'utf8').trim(), zombies: states.filter((s) => s === 'Z').length }));`,
    ]);
    const { pid1, zombies } = JSON.parse(inside) as { pid1: string; zombies: number };
    expect(pid1).toBe('catatonit');
    // an orphan that just exited may be seen for an instant before catatonit reaps it
    expect(zombies).toBeLessThanOrEqual(1);
  }, 90_000);
});
