import { freePorts, type Proc, startComponent, waitForHttp } from '@dds/test-support';
import { type Ambassador, startAmbassador } from '@dds/test-support/shard-ambassador/ambassador';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { poolSchema } from '../config/pool-schema.js';
import { parseServer, type ServerSpec } from '../config/server-spec.js';
import { Placement } from '../pool/placement.js';

describe('HTTP consistent-hash sharding (demo-app shards)', () => {
  const apps: Proc[] = [];
  let appPorts: number[];
  let amb: Ambassador;
  let byUri: number;
  let byHeader: number;
  let byCookie: number;
  const servers = () => appPorts.map((p, i) => `127.0.0.1:${p}:1 app${i}`);

  beforeAll(async () => {
    appPorts = await freePorts(3);
    for (const [i, p] of appPorts.entries()) {
      apps.push(
        startComponent('demo-app', ['--listen', `127.0.0.1:${p}`, '--admin', 'off', '--name', `app${i}`]),
      );
    }
    await Promise.all(appPorts.map((p) => waitForHttp(`http://127.0.0.1:${p}/`, 200, 30_000)));
    [byUri, byHeader, byCookie] = await freePorts(3);
    amb = await startAmbassador({
      uri: { listen: `127.0.0.1:${byUri}`, http: true, hash: 'md5', servers: servers() },
      header: {
        listen: `127.0.0.1:${byHeader}`,
        http: true,
        shard_key: 'header:x-user',
        hash: 'md5',
        servers: servers(),
      },
      cookie: {
        listen: `127.0.0.1:${byCookie}`,
        http: true,
        shard_key: 'cookie:session',
        hash: 'murmur',
        servers: servers(),
      },
    });
  });
  afterAll(async () => {
    await amb?.stop();
    await Promise.all(apps.map((a) => a.kill()));
  });

  const servedBy = async (port: number, path: string, headers: Record<string, string> = {}) => {
    const r = await fetch(`http://127.0.0.1:${port}${path}`, { headers });
    await r.arrayBuffer();
    expect(r.status).toBe(200);
    return r.headers.get('x-served-by');
  };

  it('the same URI always reaches the same shard, the one the ring says; URIs spread over all shards', async () => {
    const specs = servers().map((s) => parseServer(s) as ServerSpec);
    const placement = new Placement(
      poolSchema.parse({ listen: '127.0.0.1:1', hash: 'md5', servers: servers() }),
      specs,
    );
    const seen = new Set<string>();
    for (let i = 0; i < 60; i++) {
      const path = `/echo?item=${i}`;
      const a = await servedBy(byUri, path);
      expect(await servedBy(byUri, path)).toBe(a);
      const key = Buffer.from(path);
      expect(a).toBe(`app${placement.index(key, 0, key.length)}`);
      seen.add(a!);
    }
    expect(seen.size).toBe(3);
  });

  it('shard key from a header or a cookie', async () => {
    const seen = new Set<string>();
    for (let u = 0; u < 30; u++) {
      const a = await servedBy(byHeader, `/echo?x=${u}`, { 'x-user': `user-${u}` });
      expect(await servedBy(byHeader, `/echo?other=${u * 7}`, { 'x-user': `user-${u}` })).toBe(a);
      const c = await servedBy(byCookie, '/echo', { cookie: `theme=dark; session=s${u}` });
      expect(await servedBy(byCookie, `/echo?p=${u}`, { cookie: `session=s${u}` })).toBe(c);
      seen.add(a!);
    }
    expect(seen.size).toBe(3);
  });

  it('streams request and response bodies', async () => {
    const r = await fetch(`http://127.0.0.1:${byUri}/bytes/3000000`);
    expect((await r.arrayBuffer()).byteLength).toBe(3_000_000);
    const body = 'y'.repeat(500_000);
    const s = await fetch(`http://127.0.0.1:${byUri}/sink`, { method: 'POST', body });
    expect(s.status).toBe(200);
    expect(await s.text()).toMatch(/500000/);
  });

  it('a dead shard: 502 for exactly the URIs the placement puts on it; the others served where it says', async () => {
    const specs = servers().map((s) => parseServer(s) as ServerSpec);
    const placement = new Placement(
      poolSchema.parse({ listen: '127.0.0.1:1', hash: 'md5', servers: servers() }),
      specs,
    );
    await apps[1]!.kill();
    const where: number[] = [];
    for (let i = 0; i < 30; i++) {
      const path = `/echo?item=${i}`;
      const key = Buffer.from(path);
      const shard = placement.index(key, 0, key.length);
      where.push(shard);
      const r = await fetch(`http://127.0.0.1:${byUri}${path}`);
      await r.arrayBuffer();
      if (shard === 1) expect(r.status, path).toBe(502);
      else {
        expect(r.status, path).toBe(200);
        expect(r.headers.get('x-served-by'), path).toBe(`app${shard}`);
      }
    }
    expect(where.filter((s) => s === 1).length).toBeGreaterThan(0);
  });
});
