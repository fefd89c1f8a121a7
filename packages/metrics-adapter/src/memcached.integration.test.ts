import { existsSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { freePort, ROOT, type Service, start, startMemcached, waitForHttp } from '@dds/test-support';
import {
  type Adapter,
  families,
  get,
  labelNames,
  promtool,
  samples,
  startAdapter,
  typeOf,
} from '@dds/test-support/metrics-adapter/harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** runs text-protocol commands against memcached and waits for the replies */
function mc(port: number, commands: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write(`${commands}quit\r\n`));
    let out = '';
    s.on('data', (d) => (out += d));
    s.on('end', () => resolve(out));
    s.on('error', reject);
  });
}

describe('memcached source against a real memcached', () => {
  let memcached: Service;
  let compat: Adapter;
  let strict: Adapter;

  beforeAll(async () => {
    memcached = await startMemcached();
    await mc(
      memcached.port,
      'set a 0 0 1\r\nx\r\nset b 0 0 2\r\nyy\r\nget a\r\nget a\r\nget nope\r\ndelete b\r\nincr nope 1\r\n',
    );
    [compat, strict] = await Promise.all([
      startAdapter('memcached', ['--memcached', `127.0.0.1:${memcached.port}`, '--memcached-slabs']),
      startAdapter('memcached', ['--memcached', `127.0.0.1:${memcached.port}`, '--naming', 'strict']),
    ]);
  });

  afterAll(async () => {
    await Promise.all([compat?.stop(), strict?.stop(), memcached?.stop()]);
  });

  it('serves memcached_exporter names with the right types and labels', async () => {
    const r = await get(`${compat.url}/metrics`);
    expect(r.type).toBe('text/plain; version=0.0.4; charset=utf-8');
    const t = r.body;
    expect(samples(t, 'memcached_up')).toEqual(['memcached_up 1']);
    expect(typeOf(t, 'memcached_commands_total')).toBe('counter');
    expect(t).toMatch(/^memcached_commands_total\{command="get",status="hit"\} 2$/m);
    expect(t).toMatch(/^memcached_commands_total\{command="get",status="miss"\} 1$/m);
    expect(t).toMatch(/^memcached_commands_total\{command="set",status="hit"\} 2$/m);
    expect(t).toMatch(/^memcached_commands_total\{command="delete",status="hit"\} 1$/m);
    expect(t).toMatch(/^memcached_commands_total\{command="incr",status="miss"\} 1$/m);
    expect(typeOf(t, 'memcached_current_bytes')).toBe('gauge');
    expect(typeOf(t, 'memcached_current_items')).toBe('gauge');
    expect(t).toMatch(/^memcached_current_items 1$/m);
    expect(typeOf(t, 'memcached_current_connections')).toBe('gauge');
    expect(typeOf(t, 'memcached_items_total')).toBe('counter');
    expect(typeOf(t, 'memcached_read_bytes_total')).toBe('counter');
    expect(t).toMatch(/^memcached_limit_bytes 67108864$/m);
    expect(t).toMatch(/^memcached_max_connections 1024$/m);
    expect(t).toMatch(/^memcached_version\{version="1\.\d+\.\d+"\} 1$/m);
    expect(t).toMatch(/^memcached_slab_current_items\{slab="1"\} 1$/m);
    expect(t).toMatch(/^memcached_slab_chunk_size_bytes\{slab="1"\} \d+$/m);
  });

  it('matches the real memcached_exporter (prometheus/memcached_exporter) family by family', async () => {
    // built by scripts/install-memcached-exporter.sh (Debian 12 does not package it)
    const exporter = join(ROOT, '.cache/bin/memcached_exporter');
    expect(existsSync(exporter), `${exporter}: run bash scripts/install-memcached-exporter.sh`).toBe(true);
    const port = await freePort();
    const peer = start(exporter, [
      `--memcached.address=127.0.0.1:${memcached.port}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ]);
    try {
      await waitForHttp(`http://127.0.0.1:${port}/metrics`);
      const theirsText = (await get(`http://127.0.0.1:${port}/metrics`)).body;
      expect(theirsText).toMatch(/^memcached_up 1$/m);
      const oursText = (await get(`${compat.url}/metrics`)).body;
      const ours = families(oursText);
      // metrics about the exporter process itself (Go runtime, its own HTTP handler)
      const own = /^(go_|process_|promhttp_|memcached_exporter_build_info$)/;
      const mismatches: string[] = [];
      let compared = 0;
      for (const [name, type] of families(theirsText)) {
        if (own.test(name)) continue;
        compared++;
        if (ours.get(name) !== type) mismatches.push(`${name} ${type} (ours: ${ours.get(name) ?? 'absent'})`);
        else if (labelNames(oursText, name).join() !== labelNames(theirsText, name).join())
          mismatches.push(
            `${name} labels ${labelNames(theirsText, name)} (ours: ${labelNames(oursText, name)})`,
          );
      }
      expect(compared).toBeGreaterThan(30);
      expect(mismatches).toEqual([]);
    } finally {
      await peer.kill();
    }
  });

  it('strict mode passes promtool check metrics with no findings', async () => {
    const s = await get(`${strict.url}/metrics`);
    expect(s.body).toMatch(/^memcached_up 1$/m);
    expect(s.body).toMatch(/^memcached_uptime_seconds_total \d+$/m);
    expect(await promtool(s.body)).toEqual({ code: 0, findings: '' });
  });

  it('garbage and endless replies: memcached_up 0 with the reason, at once or at the size cap', async () => {
    const servers: Server[] = [];
    const fake = async (answer: (s: Socket) => void) => {
      const port = await freePort();
      const server = createServer((s) => {
        s.on('error', () => {});
        answer(s);
      });
      await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
      servers.push(server);
      return port;
    };
    try {
      const http = await fake((s) => s.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
      const endless = await fake((s) => {
        const chunk = Buffer.from('STAT x 1\r\n'.repeat(6000));
        const pump = () => {
          while (!s.destroyed && s.write(chunk));
        };
        s.on('drain', pump);
        pump();
      });
      const t0 = Date.now();
      const g = await get(`${compat.url}/scrape?target=127.0.0.1:${http}`);
      expect(g.body).toMatch(/^memcached_up 0$/m);
      expect(Date.now() - t0).toBeLessThan(2000);
      await compat.proc.waitFor(/"reason":"protocol".*not a memcached stats reply/);
      const e = await get(`${compat.url}/scrape?target=127.0.0.1:${endless}`);
      expect(e.body).toMatch(/^memcached_up 0$/m);
      await compat.proc.waitFor(/"reason":"too_large"/);
      expect((await get(`${compat.url}/metrics`)).body).toMatch(/^memcached_up 1$/m);
    } finally {
      for (const s of servers) s.close();
    }
  });

  it('multi-target /scrape?target= and memcached_up 0 when the target stops', async () => {
    const other = await startMemcached();
    const before = await get(`${compat.url}/scrape?target=127.0.0.1:${other.port}`);
    expect(before.body).toMatch(/^memcached_up 1$/m);
    expect(before.body).toMatch(/^memcached_current_items 0$/m);
    await other.stop();
    const after = await get(`${compat.url}/scrape?target=127.0.0.1:${other.port}`);
    expect(after.status).toBe(200);
    expect(after.body).toMatch(/^memcached_up 0$/m);
    await compat.proc.waitFor(/"source":"memcached".*"reason":"unreachable"/);
    expect((await get(`${compat.url}/metrics`)).body).toMatch(/^memcached_up 1$/m);
  });
});
