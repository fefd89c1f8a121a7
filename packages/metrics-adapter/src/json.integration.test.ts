import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { join } from 'node:path';
import { packageVersion } from '@dds/core/version';
import { freePort, run, sleep, startComponent, tempDir } from '@dds/test-support';
import { type Adapter, get, promtool, startAdapter } from '@dds/test-support/metrics-adapter/harness';
import { bin } from '@dds/test-support/process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CONFIG = `
modules:
  default:
    metrics:
      - name: app_queue_size
        help: Jobs waiting per queue
        path: '{.queues.*.size}'
        valuetype: gauge
        labels:
          queue: '{@key}'
      - name: app_requests_total
        help: Requests served
        path: '{.requests}'
        valuetype: counter
  other:
    metrics:
      - name: app_version_info
        path: '{.build}'
        type: object
        valuetype: gauge
        labels:
          version: '{.version}'
        values:
          present: 1
`;

describe('JSON source against a real HTTP endpoint', () => {
  let app: Server;
  let appUrl: string;
  let adapter: Adapter;
  let dir: string;
  let body = JSON.stringify({
    requests: 42,
    queues: { emails: { size: 3 }, sms: { size: 0 } },
    build: { version: '1.2.3' },
  });

  beforeAll(async () => {
    const port = await freePort();
    app = createServer((req, res) => {
      if (req.url === '/huge') {
        res.writeHead(200, { 'content-type': 'application/json' });
        const chunk = Buffer.alloc(1024 * 1024, ' ');
        const pump = () => {
          while (!res.destroyed && res.write(chunk));
        };
        res.on('drain', pump);
        res.on('error', () => {});
        pump();
        return;
      }
      if (req.url === '/slow') return;
      res.writeHead(req.url === '/500' ? 500 : 200, { 'content-type': 'application/json' });
      res.end(req.url === '/bad' ? '{"requests": 4' : body);
    });
    await new Promise<void>((r) => app.listen(port, '127.0.0.1', r));
    appUrl = `http://127.0.0.1:${port}`;
    dir = tempDir('json-config');
    writeFileSync(join(dir, 'json.yml'), CONFIG);
    adapter = await startAdapter('json', [
      '--json',
      `${appUrl}/stats`,
      '--json-config',
      join(dir, 'json.yml'),
      '--scrape-timeout',
      '2s',
      '--max-reply-size',
      '1048576',
    ]);
  });

  afterAll(async () => {
    await adapter?.stop();
    app?.closeAllConnections();
    app?.close();
  });

  it('maps the document with object keys as labels; the output is promtool-clean', async () => {
    const r = await get(`${adapter.url}/metrics`);
    expect(r.type).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(r.body).toContain(
      '# TYPE app_queue_size gauge\napp_queue_size{queue="emails"} 3\napp_queue_size{queue="sms"} 0\n',
    );
    expect(r.body).toContain('# TYPE app_requests_total counter\napp_requests_total 42\n');
    expect(r.body).toMatch(/^json_up 1$/m);
    expect(await promtool(r.body)).toEqual({ code: 0, findings: '' });
  });

  it('probes other URLs and modules on /probe?target=&module=', async () => {
    const r = await get(`${adapter.url}/probe?module=other&target=${encodeURIComponent(`${appUrl}/x`)}`);
    expect(r.body).toMatch(/^app_version_info_present\{version="1.2.3"\} 1$/m);
    const unknown = await get(`${adapter.url}/probe?module=nope&target=${encodeURIComponent(appUrl)}`);
    expect(unknown.body).toMatch(/^json_up 0$/m);
  });

  it('non-JSON, HTTP errors, slow and huge bodies and a dead endpoint give json_up 0', async () => {
    for (const path of ['/bad', '/500', '/huge', '/slow']) {
      const r = await get(`${adapter.url}/probe?target=${encodeURIComponent(appUrl + path)}`, {
        'x-prometheus-scrape-timeout-seconds': '1.5',
      });
      expect(r.status, path).toBe(200);
      expect(r.body, path).toMatch(/^json_up 0$/m);
    }
    await adapter.proc.waitFor(/not JSON/);
    await adapter.proc.waitFor(/HTTP 500/);
    await adapter.proc.waitFor(/body larger than 1048576 bytes/);
    await adapter.proc.waitFor(/"reason":"timeout"/);
    const dead = await get(
      `${adapter.url}/probe?target=${encodeURIComponent(`http://127.0.0.1:${await freePort()}/`)}`,
    );
    expect(dead.body).toMatch(/^json_up 0$/m);
  });

  it('hot-reloads the mapping; an invalid one is rejected and the old one keeps serving', async () => {
    writeFileSync(join(dir, 'json.yml'), CONFIG.replace('app_queue_size', 'app_queue_length'));
    await adapter.proc.waitFor('configuration reloaded');
    for (let i = 0; i < 50 && !(await get(`${adapter.url}/metrics`)).body.includes('app_queue_length'); i++)
      await sleep(50);
    expect((await get(`${adapter.url}/metrics`)).body).toMatch(/^app_queue_length\{queue="emails"\} 3$/m);
    writeFileSync(join(dir, 'json.yml'), CONFIG.replace("'{.requests}'", "'{.requests['"));
    await adapter.proc.waitFor(/modules\.default\.metrics\.1: expected.*configuration rejected/);
    body = JSON.stringify({ requests: 43, queues: {} });
    expect((await get(`${adapter.url}/metrics`)).body).toMatch(/^app_requests_total 43$/m);
  });
});

describe('command line', () => {
  it('exits 2 with a message naming the field for invalid configurations', async () => {
    const cases: Array<[string[], RegExp]> = [
      [[], /redis: configure at least one source/],
      [
        ['--redis', 'redis://x:1', '--memcached', 'y:2', '--listen', '127.0.0.1:1'],
        /listen: only with a single source/,
      ],
      [['--json', 'http://x/'], /jsonConfig: --json needs --json-config FILE/],
      [['--redis', 'http://x'], /redis: unsupported scheme "http:"/],
      [['--memcached', 'x', '--naming', 'loose'], /naming/],
      [['--memcached', 'x', '--scrape-timeout', 'soon'], /--scrape-timeout: expected a duration/],
      [['--json', 'http://x/', '--json-config', '/nonexistent.yml'], /json-config \/nonexistent.yml: ENOENT/],
    ];
    for (const [args, message] of cases) {
      const r = await run(process.execPath, [bin('metrics-adapter'), ...args, '--admin', 'off']);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
  });

  it('--help lists every flag with its default and env var', async () => {
    const r = await run(process.execPath, [bin('metrics-adapter'), '--help']);
    expect(r.code).toBe(0);
    for (const f of [
      '--redis URL',
      '--redis-listen HOST:PORT',
      '(default 0.0.0.0:9121)',
      '(default 0.0.0.0:9104)',
      '(default 0.0.0.0:9150)',
      '(default 0.0.0.0:7979)',
      '[env DDS_MYSQL_PASSWORD]',
      '--naming MODE',
      '(default compat)',
      '--scrape-timeout',
      '(default 5s)',
      '--max-reply-size',
      '(default 0.0.0.0:9905)',
    ])
      expect(r.stdout).toContain(f);
  });

  it('--listen moves the only source to the given address; config keys come from a YAML file', async () => {
    const [port, other] = [await freePort(), await freePort()];
    const dir = tempDir('ma-config');
    writeFileSync(
      join(dir, 'adapter.yml'),
      `memcached: 127.0.0.1:${other}\nnaming: strict\nscrapeTimeout: 300ms\n`,
    );
    const p = startComponent('metrics-adapter', [
      '--config',
      join(dir, 'adapter.yml'),
      '--listen',
      `127.0.0.1:${port}`,
      '--admin',
      'off',
    ]);
    try {
      await p.waitFor(`dds-metrics-adapter ${packageVersion(import.meta.url)} started`);
      const r = await get(`http://127.0.0.1:${port}/metrics`);
      expect(r.body).toMatch(/^memcached_up 0$/m);
      await p.waitFor(/"listen":"127.0.0.1:\d+".*memcached exporter listening/);
    } finally {
      await p.kill('SIGKILL');
    }
  });

  it('drains on SIGTERM: a scrape in flight is answered (up 0 after its timeout), then exit 0', async () => {
    // a memcached that accepts and never answers: the scrape waits for its --scrape-timeout
    const hung = createNetServer(() => {});
    const accepted = once(hung, 'connection');
    await new Promise<void>((r) => hung.listen(0, '127.0.0.1', r));
    const target = `127.0.0.1:${(hung.address() as AddressInfo).port}`;
    const listen = await freePort();
    const p = startComponent('metrics-adapter', [
      '--memcached',
      target,
      '--memcached-listen',
      `127.0.0.1:${listen}`,
      '--scrape-timeout',
      '1500ms',
      '--admin',
      'off',
    ]);
    await p.waitFor(`dds-metrics-adapter ${packageVersion(import.meta.url)} started`);
    const scrape = fetch(`http://127.0.0.1:${listen}/metrics`).then(
      async (r) => [r.status, await r.text()] as const,
    );
    await accepted;
    p.child.kill('SIGTERM');
    const [status, body] = await scrape;
    expect(status).toBe(200);
    expect(body).toMatch(/^memcached_up 0$/m);
    expect(await p.exited).toBe(0);
    hung.close();
  });
});
