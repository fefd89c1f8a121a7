// `--check-config` is as strict as start: for each component, configurations that start refuses
// (exit 2) are refused by --check-config with the same reason, and configurations --check-config
// accepts do start. Each case runs both, as real processes: `--check-config`, then the same
// command line without it (on free loopback ports), which must start or fail alike.
import { chmodSync, chownSync, copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, type Proc, run, selfSignedCert, startComponent, tempDir } from '@dds/test-support';
import { afterAll, describe, expect, it } from 'vitest';

const dir = tempDir('check-config');
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const a = selfSignedCert('a.example');
const b = selfSignedCert('b.example');

/** `listen` placeholders in the arguments become free loopback ports, one each. */
const PORT = '<port>';
type Case = { name: string; args: string[]; error?: RegExp };

const procs: Proc[] = [];
afterAll(async () => {
  await Promise.all(procs.map((p) => p.kill('SIGKILL')));
});

async function withPorts(args: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const arg of args) out.push(arg.includes(PORT) ? arg.replace(PORT, String(await freePort())) : arg);
  return out;
}

const STARTED = /"msg":"dds-[a-z-]+ [\d.]+ started"/;

/** Starts the component: 'started' once it logs so, else its exit code and output. */
async function startOutcome(
  pkg: string,
  args: string[],
): Promise<{ started: boolean; code?: number | string; out: string }> {
  const p = startComponent(pkg, args);
  procs.push(p);
  try {
    await p.waitFor(STARTED, 30_000);
    await p.kill('SIGKILL');
    return { started: true, out: p.stdout() + p.stderr() };
  } catch {
    const code = await Promise.race([p.exited, p.kill('SIGKILL').then(() => 'no start, no exit')]);
    return { started: false, code, out: p.stdout() + p.stderr() };
  }
}

async function expectParity(pkg: string, c: Case): Promise<void> {
  const args = await withPorts([...c.args, '--admin', `127.0.0.1:${PORT}`]);
  const check = await run(process.execPath, [`packages/${pkg}/dist/main.js`, ...args, '--check-config']);
  const started = await startOutcome(pkg, args);
  if (c.error) {
    expect(check.code, `--check-config accepted: ${check.stdout}`).toBe(2);
    expect(check.stderr).toMatch(c.error);
    expect(started.started, `started: ${started.out}`).toBe(false);
    expect(started.code, started.out).toBe(2);
    expect(started.out).toMatch(c.error);
  } else {
    expect(check.code, check.stderr).toBe(0);
    expect(check.stdout).toMatch(/configuration .*is valid/);
    expect(started.started, `did not start: ${started.out}`).toBe(true);
  }
}

// a certificate whose key no one but its owner (not us) may read: root without CAP_DAC_OVERRIDE
// is refused like uid 65532 in a container is refused a 0600 key written by openssl as root
const unreadable = join(dir, 'unreadable.key');
copyFileSync(a.key, unreadable);
chownSync(unreadable, 65532, 65532);
chmodSync(unreadable, 0o600);

const cases: Record<string, Case[]> = {
  'tls-sidecar': [
    {
      name: 'a certificate and its key',
      args: ['--cert', a.cert, '--key', a.key, '--listen', `127.0.0.1:${PORT}`],
    },
    {
      name: 'a missing certificate',
      args: ['--cert', join(dir, 'none.crt'), '--key', a.key, '--listen', `127.0.0.1:${PORT}`],
      error: /cannot read certificate file .*none\.crt: ENOENT/,
    },
    {
      name: 'a key of another certificate',
      args: ['--cert', a.cert, '--key', b.key, '--listen', `127.0.0.1:${PORT}`],
      error: /does not match the certificate/,
    },
    {
      name: 'a missing client CA',
      args: [
        '--cert',
        a.cert,
        '--key',
        a.key,
        '--client-auth',
        'require',
        '--client-ca',
        join(dir, 'none-ca.pem'),
      ],
      error: /cannot read CA file .*none-ca\.pem: ENOENT/,
    },
    {
      name: 'a certificate directory without tls.crt',
      args: ['--tls-dir', dir, '--listen', `127.0.0.1:${PORT}`],
      error: /cannot read certificate file .*tls\.crt: ENOENT/,
    },
    {
      name: 'a file that is not PEM',
      args: [
        '--cert',
        file('junk.crt', 'not a certificate\n'),
        '--key',
        a.key,
        '--listen',
        `127.0.0.1:${PORT}`,
      ],
      error: /holds no PEM block/,
    },
  ],
  'rate-limiter': [
    {
      name: 'local limits',
      args: ['--upstream', 'http://127.0.0.1:9', '--rate', '10/s', '--listen', `127.0.0.1:${PORT}`],
    },
    {
      name: 'an http:// URL for --redis',
      args: [
        '--upstream',
        'http://127.0.0.1:9',
        '--rate',
        '10/s',
        '--redis',
        'http://127.0.0.1:6379',
        '--listen',
        `127.0.0.1:${PORT}`,
      ],
      error: /redis: expected redis:\/\//,
    },
    {
      name: 'a missing JWT secret file',
      args: [
        '--upstream',
        'http://127.0.0.1:9',
        '--rate',
        '10/s',
        '--key',
        'jwt:sub',
        '--jwt-secret-file',
        join(dir, 'none'),
        '--listen',
        `127.0.0.1:${PORT}`,
      ],
      error: /jwt\.secretFile: cannot read .*ENOENT/,
    },
    {
      name: 'a bare allow-list value on a composite key',
      args: [
        '--upstream',
        'http://127.0.0.1:9',
        '--listen',
        `127.0.0.1:${PORT}`,
        '--config',
        file(
          'policies.yaml',
          'policies:\n  - name: api\n    key: [header:x-api-key, ip]\n    limits: [{ rate: 10/s }]\n    allow: [internal-batch-key]\n',
        ),
      ],
      error: /allow/,
    },
    {
      name: 'a missing RLS config',
      args: [
        '--upstream',
        'http://127.0.0.1:9',
        '--rls-config',
        join(dir, 'none-rls.yaml'),
        '--rls-listen',
        `127.0.0.1:${PORT}`,
      ],
      error: /none-rls\.yaml/,
    },
  ],
  'metrics-adapter': [
    {
      name: 'a Redis that is down (up 0 is not a config error)',
      args: ['--redis', 'redis://127.0.0.1:9', '--redis-listen', `127.0.0.1:${PORT}`],
    },
    {
      name: 'an http:// URL for --redis',
      args: ['--redis', 'http://127.0.0.1:6379', '--redis-listen', `127.0.0.1:${PORT}`],
      error: /redis: unsupported scheme "http:"/,
    },
    {
      name: '--json without --json-config',
      args: ['--json', 'http://127.0.0.1:9/stats', '--json-listen', `127.0.0.1:${PORT}`],
      error: /--json needs --json-config/,
    },
    {
      name: 'a missing --json-config file',
      args: [
        '--json',
        'http://127.0.0.1:9/stats',
        '--json-config',
        join(dir, 'none.yml'),
        '--json-listen',
        `127.0.0.1:${PORT}`,
      ],
      error: /json-config .*none\.yml: ENOENT/,
    },
    {
      name: 'an invalid metric name in --json-config',
      args: [
        '--json',
        'http://127.0.0.1:9/stats',
        '--json-listen',
        `127.0.0.1:${PORT}`,
        '--json-config',
        file(
          'json.yml',
          'modules:\n  default:\n    metrics:\n      - name: "app-requests!"\n        path: "{.requests}"\n',
        ),
      ],
      error: /metrics\.0\.name: not a valid Prometheus metric name/,
    },
    {
      name: 'a --json-config with a valid module',
      args: [
        '--json',
        'http://127.0.0.1:9/stats',
        '--json-listen',
        `127.0.0.1:${PORT}`,
        '--json-config',
        file(
          'json-ok.yml',
          'modules:\n  default:\n    metrics:\n      - name: app_requests_total\n        path: "{.requests}"\n',
        ),
      ],
    },
  ],
  'log-adapter': [
    { name: 'files to stdout', args: ['--input', join(dir, '*.log')] },
    {
      name: 'a missing CA for an https:// output',
      args: [
        '--input',
        join(dir, '*.log'),
        '--output',
        'https://127.0.0.1:9/ingest',
        '--http-tls-ca',
        join(dir, 'none.pem'),
      ],
      error: /httpTlsCa: cannot read/,
    },
    {
      name: 'a missing Kafka SASL password file',
      args: [
        '--input',
        join(dir, '*.log'),
        '--output',
        'kafka://127.0.0.1:9/logs',
        '--kafka-sasl-mechanism',
        'plain',
        '--kafka-sasl-username',
        'u',
        '--kafka-sasl-password-file',
        join(dir, 'none'),
      ],
      error: /kafkaSaslPasswordFile: cannot read/,
    },
    {
      name: 'an unknown output scheme',
      args: ['--input', join(dir, '*.log'), '--output', 'ftp://x'],
      error: /output\.0: expected stdout/,
    },
  ],
  'health-adapter': [
    { name: 'a TCP check', args: ['--tcp', '127.0.0.1:9', '--listen', `127.0.0.1:${PORT}`] },
    { name: 'no check at all', args: ['--listen', `127.0.0.1:${PORT}`], error: /no checks configured/ },
    {
      name: 'an ftp:// HTTP check',
      args: ['--http', 'ftp://x', '--listen', `127.0.0.1:${PORT}`],
      error: /http\.0: expected http:\/\//,
    },
    {
      name: 'a password in the URL',
      args: ['--mysql', 'mysql://app:secret@127.0.0.1:3306/app', '--listen', `127.0.0.1:${PORT}`],
      error: /no password in the URL/,
    },
  ],
  'experiment-splitter': [
    {
      name: 'a 10% experiment',
      args: [
        '--control',
        'http://127.0.0.1:9',
        '--experiment',
        'http://127.0.0.1:10',
        '--percent',
        '10',
        '--listen',
        `127.0.0.1:${PORT}`,
      ],
    },
    {
      name: 'a missing override secret',
      args: [
        '--control',
        'http://127.0.0.1:9',
        '--experiment',
        'http://127.0.0.1:10',
        '--override-secret-file',
        join(dir, 'none'),
        '--listen',
        `127.0.0.1:${PORT}`,
      ],
      error: /overrideSecretFile: cannot read .*ENOENT/,
    },
    {
      name: 'a negative weight in the file',
      args: [
        '--listen',
        `127.0.0.1:${PORT}`,
        '--config',
        file(
          'splitter.yaml',
          'experiments:\n  - name: x\n    variants:\n      - { name: control, backend: "http://127.0.0.1:9" }\n      - { name: b, backend: "http://127.0.0.1:10", weight: -5 }\n',
        ),
      ],
      error: /experiments\.0\.variants\.1\.weight: .*\(got -5\) \[from file /,
    },
  ],
  'shard-ambassador': [
    {
      name: 'one pool from flags',
      args: ['--redis-servers', '127.0.0.1:9:1', '--redis-listen', `127.0.0.1:${PORT}`, '-s', PORT],
    },
    {
      name: 'a duplicate server',
      args: [
        '-s',
        PORT,
        '-c',
        file(
          'dup.yaml',
          `alpha:\n  listen: 127.0.0.1:0\n  redis: true\n  servers:\n    - 127.0.0.1:9:1\n    - 127.0.0.1:9:1\n`,
        ),
      ],
      error: /pools\.alpha\.servers\.1: duplicate server/,
    },
    {
      name: 'a misspelled pool key',
      args: [
        '-s',
        PORT,
        '-c',
        file(
          'typo.yaml',
          `alpha:\n  listen: 127.0.0.1:0\n  distributon: ketama\n  servers: [127.0.0.1:9:1]\n`,
        ),
      ],
      error: /pools\.alpha\.distributon: unknown key \(did you mean "distribution"\?\)/,
    },
  ],
  'demo-app': [
    { name: 'the defaults on a free port', args: ['--listen', `127.0.0.1:${PORT}`] },
    {
      name: 'a rate out of range',
      args: ['--listen', `127.0.0.1:${PORT}`, '--fail-rate', '2'],
      error: /failRate: /,
    },
  ],
};

describe('--check-config is as strict as start', () => {
  for (const [pkg, list] of Object.entries(cases)) {
    describe(pkg, () => {
      for (const c of list) {
        it(`${c.error ? 'refuses' : 'accepts'}: ${c.name}`, () => expectParity(pkg, c));
      }
    });
  }

  it('a key the process may not read: both refuse, and the message says how to mount it', async () => {
    // what uid 65532 in an image meets with a 0600 key written by openssl as root
    const args = [
      '--cert',
      a.cert,
      '--key',
      unreadable,
      '--listen',
      `127.0.0.1:${await freePort()}`,
      '--admin',
      'off',
    ];
    const noDac = (extra: string[]) =>
      run('setpriv', [
        '--bounding-set=-dac_override,-dac_read_search',
        process.execPath,
        'packages/tls-sidecar/dist/main.js',
        ...args,
        ...extra,
      ]);
    for (const r of [await noDac(['--check-config']), await noDac([])]) {
      expect(r.code, r.stdout + r.stderr).toBe(2);
      expect(r.stderr).toContain(`cannot read private key file ${unreadable}: EACCES (not readable by uid 0`);
      expect(r.stderr).toContain('defaultMode: 0440');
      expect(r.stderr).toContain('fsGroup: 65532');
      expect(r.stderr).toContain('docs/images.md');
    }
  });

  it('workers: 2 in the file of a single-process component is refused by both', () =>
    expectParity('health-adapter', {
      name: 'workers',
      args: [
        '--tcp',
        '127.0.0.1:9',
        '--listen',
        `127.0.0.1:${PORT}`,
        '--config',
        file('workers.yaml', 'workers: 2\n'),
      ],
      error: /workers: dds-health-adapter keeps per-process state and runs as one process/,
    }));
});
