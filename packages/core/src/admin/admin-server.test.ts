import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lifecycle } from '../lifecycle/lifecycle.js';
import { AdminRouter } from './admin-router.js';
import { type AdminServer, startAdminServer } from './admin-server.js';

// The admin server on a real socket: the fixed routes, component routes, and what a client that
// asks for something else gets.
let admin: AdminServer;
let base: string;
let port: number;
const lifecycle = new Lifecycle();
let ready: true | string = 'warming up';
lifecycle.addReadiness('test', () => ready);
// admin actions (the POST route) need this token; the file can be switched off mid-test
const TOKEN = 'admin-server-test-token-0123456789';
const tokenFile = join(mkdtempSync(join(tmpdir(), 'dds-admin-')), 'token');
writeFileSync(tokenFile, TOKEN);
let actionTokenFile: string | undefined = tokenFile;
const auth = { authorization: `Bearer ${TOKEN}` };

beforeAll(async () => {
  admin = await startAdminServer({
    address: { kind: 'tcp', host: '127.0.0.1', port: 0 },
    lifecycle,
    registry: { contentType: 'text/plain; version=0.0.4; charset=utf-8', metrics: async () => 'm_total 1\n' },
    config: () => ({ listen: ':8080', secret: '<redacted>' }),
    component: 'test-component',
    version: '1.2.3',
    actionTokenFile: () => actionTokenFile,
    routes: (app) => {
      app.get('/things', (req) => ({ query: req.query }));
      app.post<{ name: string }>('/things/:name/reset', (req, reply) => {
        if (req.params.name === 'missing') return reply.code(404).send({ error: 'no such thing' });
        return { reset: req.params.name };
      });
      app.get('/raw', (_req, reply) => reply.type('application/json').send('{"pre":"rendered"}'));
      app.get('/boom', () => {
        throw new Error('it broke');
      });
      app.get('/slow', async () => {
        await new Promise((r) => setTimeout(r, 20));
        return { slow: true };
      });
    },
  });
  port = (admin.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
});

afterAll(() => admin.close());

describe('admin server', () => {
  it('serves liveness, version and the redacted config as JSON', async () => {
    const h = await fetch(`${base}/healthz`);
    expect(h.status).toBe(200);
    expect(h.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const body = (await h.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status: 'ok', component: 'test-component' });
    expect(typeof body.uptime_seconds).toBe('number');
    expect(await (await fetch(`${base}/livez`)).json()).toEqual({ status: 'ok' });
    expect(await (await fetch(`${base}/version`)).json()).toEqual({
      component: 'test-component',
      version: '1.2.3',
      node: process.version,
    });
    expect(await (await fetch(`${base}/config`)).json()).toEqual({ listen: ':8080', secret: '<redacted>' });
  });

  it('answers /readyz 503 with the reason until every check passes, then 200', async () => {
    const r1 = await fetch(`${base}/readyz`);
    expect(r1.status).toBe(503);
    expect(await r1.json()).toMatchObject({
      status: 'not ready',
      checks: { test: { ready: false, reason: 'warming up' } },
    });
    ready = true;
    const r2 = await fetch(`${base}/readyz`);
    expect(r2.status).toBe(200);
    expect(await r2.json()).toMatchObject({ status: 'ready', ready: true });
  });

  it('serves metrics with the registry content type', async () => {
    const m = await fetch(`${base}/metrics`);
    expect(m.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(await m.text()).toBe('m_total 1\n');
  });

  it('passes route params (decoded) and the query to component routes', async () => {
    const r = await fetch(`${base}/things/caf%C3%A9/reset`, { method: 'POST', headers: auth });
    expect(await r.json()).toEqual({ reset: 'café' });
    const missing = await fetch(`${base}/things/missing/reset`, { method: 'POST', headers: auth });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: 'no such thing' });
    const q = await fetch(`${base}/things?limit=5&limit=7&__proto__=x&pool=a%20b`);
    // the first of repeated keys; `__proto__` is a key like any other
    expect(await q.text()).toBe('{"query":{"limit":"5","__proto__":"x","pool":"a b"}}');
    expect(await (await fetch(`${base}/slow`)).json()).toEqual({ slow: true });
  });

  it('admin actions need the Bearer token from the token file; without a file they are off', async () => {
    const reset = (headers: Record<string, string> = {}) =>
      fetch(`${base}/things/x/reset`, { method: 'POST', headers });
    const none = await reset();
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="dds-admin"');
    expect((await reset({ authorization: 'Bearer wrong-token-0123456789' })).status).toBe(401);
    expect((await reset(auth)).status).toBe(200);
    actionTokenFile = undefined;
    const off = await reset(auth);
    expect(off.status).toBe(403);
    expect(await off.json()).toEqual({ error: 'admin actions are off: start with --admin-token-file FILE' });
    actionTokenFile = tokenFile;
    // unknown paths and wrong methods answer as before, token or not
    expect((await fetch(`${base}/nothing`, { method: 'POST' })).status).toBe(404);
  });

  it('sends a pre-rendered string with the content type the route set', async () => {
    const r = await fetch(`${base}/raw`);
    expect(r.headers.get('content-type')).toBe('application/json');
    expect(await r.text()).toBe('{"pre":"rendered"}');
  });

  it('answers 404 for unknown paths, 405 with Allow for other methods, HEAD without a body', async () => {
    const nf = await fetch(`${base}/nope`);
    expect(nf.status).toBe(404);
    expect(await nf.json()).toEqual({ error: 'not found' });
    const post = await fetch(`${base}/readyz`, { method: 'POST', body: 'x'.repeat(5000) });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    const get = await fetch(`${base}/things/a/reset`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    const head = await new Promise<{ status: number; length: string | undefined; body: string }>(
      (resolve, reject) => {
        const req = request(`${base}/version`, { method: 'HEAD' }, (res) => {
          let body = '';
          res.on('data', (d) => (body += d));
          res.on('end', () =>
            resolve({ status: res.statusCode!, length: res.headers['content-length'], body }),
          );
        });
        req.on('error', reject);
        req.end();
      },
    );
    expect(head.status).toBe(200);
    expect(Number(head.length)).toBeGreaterThan(10);
    expect(head.body).toBe('');
  });

  it('turns a throwing route into a 500 naming the error, and keeps serving', async () => {
    const r = await fetch(`${base}/boom`);
    expect(r.status).toBe(500);
    expect(await r.json()).toEqual({ error: 'it broke' });
    expect((await fetch(`${base}/livez`)).status).toBe(200);
  });

  it('refuses a request head larger than 16 KiB with 431', async () => {
    const r = await rawRequest(
      port,
      `GET /livez HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    expect(r).toMatch(/^HTTP\/1.1 431 /);
  });
});

describe('admin server close', () => {
  it('closes keep-alive connections at once instead of waiting for them to idle out', async () => {
    const s = await startAdminServer({
      address: { kind: 'tcp', host: '127.0.0.1', port: 0 },
      lifecycle: new Lifecycle(),
      registry: { contentType: 'text/plain', metrics: () => '' },
      config: () => ({}),
      component: 'c',
      version: '0',
    });
    const sock = connect((s.address() as AddressInfo).port, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    sock.write('GET /livez HTTP/1.1\r\nhost: x\r\n\r\n');
    await new Promise((r) => sock.once('data', r));
    const ended = new Promise((r) => sock.once('close', r));
    const t0 = Date.now();
    await s.close();
    await ended;
    expect(Date.now() - t0).toBeLessThan(5000);
  });
});

describe('admin router', () => {
  it('refuses a route defined twice and paths without a leading slash', () => {
    const r = new AdminRouter();
    r.get('/a/:x', () => 1);
    expect(() => r.get('/a/:x', () => 2)).toThrow(/defined twice/);
    expect(() => r.get('a', () => 2)).toThrow(/must start with \//);
    r.post('/a/:x', () => 3);
    expect(r.match('GET', '/a/1')).toMatchObject({ params: { x: '1' } });
    expect(r.match('DELETE', '/a/1')).toEqual({ status: 405, allow: 'GET, HEAD, POST' });
    expect(r.match('GET', '/a/%E0%A4%A')).toEqual({ status: 404 });
    expect(r.match('GET', '/a/1/2')).toEqual({ status: 404 });
  });
});

function rawRequest(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let out = '';
    s.on('data', (d) => (out += d));
    s.on('close', () => resolve(out));
    s.on('error', reject);
    s.write(text);
  });
}
