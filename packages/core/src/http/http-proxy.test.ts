import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { accessLogSchema, accessLogSettings } from '../access-log/access-log-config.js';
import { loadConfig } from '../config/load.js';
import { flagsOf } from '../config/settings.js';
import * as z from '../config/zod.js';
import { Lifecycle } from '../lifecycle/lifecycle.js';
import { refuseRestartOnly } from '../lifecycle/restart-only.js';
import { createLogger } from '../logger.js';
import { createRegistry } from '../metrics.js';
import {
  createHttpProxy,
  type Decision,
  type HttpProxy,
  type HttpProxyPolicy,
  type PolicyBuild,
  socketReply,
} from './http-proxy.js';
import { httpProxySchema, httpProxySettings } from './proxy-config.js';
import type { ProxyRequest, ProxyResponse } from './proxy-contract.js';
import { UpstreamSet } from './upstream-set.js';

// The proxy skeleton with a small policy of its own, against real upstreams on loopback: what
// every component built on it gets (routing, local replies, upgrades, reload and its refusals,
// upstream reuse, drain) without writing it again.

const schema = z.strictObject({ listen: z.string(), ...httpProxySchema, ...accessLogSchema });
type Config = z.infer<typeof schema>;

async function config(args: string[] = []): Promise<Config> {
  const listenFlag = { name: 'listen', type: 'string' as const, help: '', default: '127.0.0.1:0' };
  const loaded = await loadConfig<Config>({
    flags: [listenFlag, ...flagsOf({ ...httpProxySettings, ...accessLogSettings })],
    schema: schema as never,
    argv: args,
    env: {},
  });
  return loaded.config as Config;
}

/** An upstream that names itself in its answers and counts the connections it accepted. */
async function upstream(name: string): Promise<{ url: string; server: Server; connections: () => number }> {
  let connections = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on('end', () => res.end(`${name} ${req.url} ${req.headers['x-policy'] ?? '-'}\n`));
  });
  server.on('connection', () => connections++);
  server.on('upgrade', (req, socket: Duplex) => {
    socket.end(
      `HTTP/1.1 101 Switching Protocols\r\nupgrade: ${req.headers.upgrade}\r\nconnection: upgrade\r\n\r\n${name}`,
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    server,
    connections: () => connections,
  };
}

/** Routes /a to `a`, /b to `b` (after a tick: a decision made elsewhere), refuses /no itself. */
class TestPolicy implements HttpProxyPolicy {
  static made: TestPolicy[] = [];
  closed = false;
  private readonly a: Decision;
  private readonly b: Decision;

  constructor(
    readonly cfg: Config & { a: string; b: string },
    build: PolicyBuild,
    private readonly proxy: () => HttpProxy<Config, TestPolicy>,
  ) {
    if (cfg.a === 'refuse') throw new Error('policy refuses this config');
    this.a = {
      upstream: build.upstream(cfg.a),
      hooks: build.hooks({ requestHeaders: () => ['x-policy', 'a'] }),
    };
    this.b = { upstream: build.upstream(cfg.b), hooks: build.hooks() };
    TestPolicy.made.push(this);
  }

  route(req: ProxyRequest, res: ProxyResponse): Decision | Promise<Decision> {
    if (req.url.startsWith('/no')) {
      this.proxy().reply(req, res, 403, ['content-type', 'text/plain'], 'refused by policy\n', ',"x":1');
      return undefined;
    }
    if (req.url.startsWith('/b')) return new Promise((r) => setImmediate(() => r(this.b)));
    return this.a;
  }

  routeUpgrade(req: ProxyRequest, socket: Duplex): Decision {
    if (req.url.startsWith('/no')) {
      socketReply(socket, 403, ['content-type', 'text/plain'], 'no tunnel\n');
      return undefined;
    }
    return this.a;
  }

  close(): void {
    this.closed = true;
  }
}

let A: Awaited<ReturnType<typeof upstream>>;
let B: Awaited<ReturnType<typeof upstream>>;
let C: Awaited<ReturnType<typeof upstream>>;
const proxies: HttpProxy<Config, TestPolicy>[] = [];
const dir = mkdtempSync(join(tmpdir(), 'dds-http-proxy-'));

beforeAll(async () => {
  [A, B, C] = await Promise.all([upstream('A'), upstream('B'), upstream('C')]);
});
afterAll(() => {
  for (const u of [A, B, C]) u.server.close();
});
afterEach(async () => {
  await Promise.all(proxies.splice(0).map((p) => p.drain(Date.now() + 1000)));
  TestPolicy.made.length = 0;
});

type Cfg = Config & { a: string; b: string };

async function start(c: Cfg): Promise<{ proxy: HttpProxy<Config, TestPolicy>; base: string; port: number }> {
  let proxy!: HttpProxy<Config, TestPolicy>;
  proxy = await createHttpProxy<Config, TestPolicy>({
    ctx: {
      config: c,
      logger: createLogger('test', 'silent'),
      registry: createRegistry('test', '0'),
      lifecycle: new Lifecycle(),
    },
    component: 'test',
    restartOnly: ['upstreamQueue'],
    policy: (cfg, build) => new TestPolicy(cfg as Cfg, build, () => proxy),
  });
  proxies.push(proxy);
  await proxy.listen();
  const port = (proxy.server.address() as AddressInfo).port;
  return { proxy, base: `http://127.0.0.1:${port}`, port };
}

const text = async (url: string) => (await fetch(url)).text();

describe('the HTTP proxy skeleton', () => {
  it('routes by its policy (sync and async decisions) and answers local replies with an access record', async () => {
    const log = join(dir, 'access-1.log');
    const c = { ...(await config(['--access-log', `file:${log}`])), a: A.url, b: B.url };
    const { proxy, base } = await start(c);
    expect(await text(`${base}/a1`)).toBe('A /a1 a\n');
    expect(await text(`${base}/b1`)).toBe('B /b1 -\n');
    const no = await fetch(`${base}/no`);
    expect(no.status).toBe(403);
    expect(await no.text()).toBe('refused by policy\n');
    await proxy.drain(Date.now() + 1000); // flushes the access log
    const records = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(records.map((r) => r.attributes['http.response.status_code'])).toEqual([200, 200, 403]);
    expect(records[2].attributes.x).toBe(1);
  });

  it('tunnels upgrades the policy routes, and lets it refuse others on the socket', async () => {
    const { port } = await start({ ...(await config()), a: A.url, b: B.url });
    const up = (path: string) =>
      new Promise<string>((resolve) => {
        const s = connect(port, '127.0.0.1');
        let out = '';
        s.on('data', (d) => (out += d));
        s.on('close', () => resolve(out));
        s.write(`GET ${path} HTTP/1.1\r\nhost: x\r\nconnection: upgrade\r\nupgrade: test\r\n\r\n`);
      });
    expect(await up('/ws')).toMatch(/^HTTP\/1\.1 101 [\s\S]*\r\n\r\nA$/);
    expect(await up('/no')).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n[\s\S]*no tunnel\n$/);
  });

  it('reload: a new policy serves, the old one is closed, unchanged upstreams keep their connections', async () => {
    const first = { ...(await config()), a: A.url, b: B.url };
    const { proxy, base } = await start(first);
    await text(`${base}/a`);
    const before = A.connections();
    const next = { ...first, b: C.url };
    await proxy.reload(next, first);
    expect(TestPolicy.made).toHaveLength(2);
    expect(TestPolicy.made[0]!.closed).toBe(true);
    expect(await text(`${base}/b`)).toBe('C /b -\n');
    expect(await text(`${base}/a`)).toBe('A /a a\n');
    expect(A.connections()).toBe(before); // the pool to A was kept, with its keep-alive connection
  });

  it('a refused reload changes nothing: restart-only settings, a policy that throws', async () => {
    const first = { ...(await config()), a: A.url, b: B.url };
    const { proxy, base } = await start(first);
    await expect(proxy.reload({ ...first, upstreamQueue: 7 }, first)).rejects.toThrow(
      'upstreamQueue cannot change on reload (restart to apply it)',
    );
    await expect(proxy.reload({ ...first, listen: '127.0.0.1:1' }, first)).rejects.toThrow(/^listen cannot/);
    await expect(proxy.reload({ ...first, a: 'refuse', b: C.url } as Cfg, first)).rejects.toThrow('refuses');
    expect(proxy.policy).toBe(TestPolicy.made[0]);
    expect(await text(`${base}/b`)).toBe('B /b -\n');
  });

  it('drain closes the policy and stops listening', async () => {
    const { proxy, base } = await start({ ...(await config()), a: A.url, b: B.url });
    expect(await text(`${base}/a`)).toBe('A /a a\n');
    await proxy.drain(Date.now() + 1000);
    expect(proxy.draining).toBe(true);
    expect(TestPolicy.made[0]!.closed).toBe(true);
    expect(proxy.server.listening).toBe(false);
  });
});

describe('UpstreamSet', () => {
  it('reuses an upstream whose URL and options are unchanged, and closes the ones a build drops', async () => {
    const set = new UpstreamSet();
    set.begin();
    const a = set.get(A.url, { connections: 2 });
    const b = set.get(B.url, { connections: 2 });
    set.commit();
    set.begin();
    expect(set.get(A.url, { connections: 2 })).toBe(a);
    expect(set.get(B.url, { connections: 3 })).not.toBe(b);
    set.commit();
    expect([...set.values()]).toHaveLength(2);
    expect([...set.values()]).not.toContain(b);
    set.begin();
    const dropped = set.get(C.url);
    set.abort();
    expect([...set.values()]).not.toContain(dropped);
    expect(set.get(A.url, { connections: 2 }, 'other tls')).not.toBe(a);
    await set.close();
  });
});

describe('refuseRestartOnly', () => {
  it('names every changed field, compared by value', () => {
    const prev = { a: 1, list: ['x'], b: 'y' };
    expect(() => refuseRestartOnly({ ...prev, list: ['x'] }, prev, ['a', 'list'])).not.toThrow();
    expect(() => refuseRestartOnly({ ...prev, a: 2, list: ['z'] }, prev, ['a', 'list', 'b'])).toThrow(
      'a, list cannot change on reload (restart to apply them)',
    );
  });
});
