import { connect } from 'node:net';
import {
  adminJson,
  demoApp,
  expectedVariant,
  get,
  metric,
  pool,
  quickSplitter,
  type Running,
  stopAll,
} from '@dds/test-support/experiment-splitter/harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

afterAll(stopAll);

describe('quick mode: --control --experiment --percent 10 --key cookie:uid', () => {
  let control: Running;
  let exp: Running;
  let s: Running & { admin: string };

  beforeAll(async () => {
    [control, exp] = await Promise.all([demoApp('control'), demoApp('experiment')]);
    s = await quickSplitter(control, exp, [
      '--percent',
      '10',
      '--key',
      'cookie:uid',
      '--salt',
      'checkout-2026',
      '--response-header',
      '--override-header',
      'x-dds-force-variant',
      '--override-cookie',
      'dds_force_variant',
    ]);
  });

  it('sends 10% +/- 1% of 20,000 distinct users to the experiment, each where the hash says', async () => {
    const ids = Array.from({ length: 20_000 }, (_, i) => `u${i}`);
    const served = await pool(
      ids,
      32,
      async (id) => (await get(`${s.url}/`, { cookie: `uid=${id}` })).servedBy,
    );
    const share = served.filter((v) => v === 'experiment').length / ids.length;
    expect(share).toBeGreaterThan(0.09);
    expect(share).toBeLessThan(0.11);
    const mismatches = ids.filter((id, i) => served[i] !== expectedVariant(id, 'checkout-2026', 10));
    expect(mismatches).toEqual([]);
  }, 90_000);

  it('keeps each user on the same variant over repeated requests', async () => {
    const ids = Array.from({ length: 60 }, (_, i) => `sticky-${i}`);
    for (let round = 0; round < 3; round++) {
      const served = await pool(
        ids,
        8,
        async (id) => (await get(`${s.url}/`, { cookie: `a=1; uid=${id}; b=2` })).servedBy,
      );
      expect(served).toEqual(ids.map((id) => expectedVariant(id, 'checkout-2026', 10)));
    }
  });

  it('tells the backend (and, with --response-header, the client) the variant; client copies are stripped', async () => {
    const id = Array.from({ length: 500 }, (_, i) => `h${i}`).find(
      (x) => expectedVariant(x, 'checkout-2026', 10) === 'experiment',
    )!;
    const r = await get(`${s.url}/echo`, {
      cookie: `uid=${id}`,
      'x-dds-variant': 'spoofed',
      'x-dds-experiment': 'x',
    });
    const echoed = JSON.parse(r.body).headers;
    expect(echoed['x-dds-variant']).toBe('experiment');
    expect(echoed['x-dds-experiment']).toBe('experiment');
    expect(echoed['x-forwarded-for']).toBe('127.0.0.1');
    expect(r.headers['x-dds-variant']).toBe('experiment');
  });

  it('issues a generated id cookie to a request without one, and the next request is sticky', async () => {
    const first = await get(`${s.url}/echo`);
    const setCookie = String(first.headers['set-cookie']);
    expect(setCookie).toMatch(/^uid=[0-9a-f-]{36}; Path=\/; Max-Age=31536000; SameSite=Lax; HttpOnly$/);
    const id = setCookie.slice(4, 40);
    expect(first.servedBy).toBe(expectedVariant(id, 'checkout-2026', 10));
    for (let i = 0; i < 3; i++) {
      const again = await get(`${s.url}/`, { cookie: `uid=${id}` });
      expect(again.servedBy).toBe(first.servedBy);
      expect(again.headers['set-cookie']).toBeUndefined();
    }
    expect(await metric(s.admin, /^dds_experiment_id_cookies_issued_total /)).toBeGreaterThanOrEqual(1);
  });

  it('forces a variant by override header or cookie once they are named; unknown names are ignored', async () => {
    await s.proc.waitFor('variant overrides are not signed: any client can choose its variant');
    const controlUser = Array.from({ length: 100 }, (_, i) => `o${i}`).find(
      (x) => expectedVariant(x, 'checkout-2026', 10) === 'control',
    )!;
    const cookie = `uid=${controlUser}`;
    expect((await get(`${s.url}/`, { cookie, 'x-dds-force-variant': 'experiment' })).servedBy).toBe(
      'experiment',
    );
    expect((await get(`${s.url}/`, { cookie: `${cookie}; dds_force_variant=experiment` })).servedBy).toBe(
      'experiment',
    );
    expect((await get(`${s.url}/`, { cookie, 'x-dds-force-variant': 'nope' })).servedBy).toBe('control');
    expect(await metric(s.admin, /^dds_experiment_overrides_total /)).toBe(2);
    expect(await metric(s.admin, /^dds_experiment_overrides_refused_total /)).toBe(1);
  });

  it('answers malformed and smuggling requests with 400 and never forwards them', async () => {
    const before = await metric(
      s.admin,
      /^dds_experiment_requests_total\{experiment="experiment",variant="control"\}/,
    );
    const raw = (text: string) =>
      new Promise<string>((resolve) => {
        const c = connect(s.port, '127.0.0.1');
        let out = '';
        c.on('data', (d) => (out += d));
        c.on('close', () => resolve(out));
        c.on('error', () => resolve(out));
        c.end(text);
      });
    const attacks = [
      'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n',
      'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nabcde',
      'GET /echo HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n',
      'GET /echo HTTP/1.1\r\nHost: x\r\nX-Fold: a\r\n b\r\n\r\n',
      'NOT A REQUEST\r\n\r\n',
    ];
    for (const a of attacks) expect(await raw(a)).toMatch(/^HTTP\/1\.1 400 /);
    const after = await metric(
      s.admin,
      /^dds_experiment_requests_total\{experiment="experiment",variant="control"\}/,
    );
    expect(after).toBe(before);
    expect(
      await metric(s.admin, /^dds_experiment_client_errors_total\{kind="bad_request"\}/),
    ).toBeGreaterThanOrEqual(attacks.length);
  });

  it('passes WebSocket upgrades through to the chosen variant', async () => {
    const ws = new WebSocket(`${s.url.replace('http', 'ws')}/ws`, { headers: { cookie: 'uid=ws-user' } });
    const echoed = await new Promise<string>((resolve, reject) => {
      ws.on('open', () => ws.send('ping through the splitter'));
      ws.on('message', (d) => resolve(String(d)));
      ws.on('error', reject);
    });
    ws.close();
    expect(echoed).toBe('ping through the splitter');

    // a keyless upgrade cannot be given a cookie, so it goes to control
    const count = (v: string) =>
      metric(
        s.admin,
        new RegExp(`^dds_experiment_requests_total\\{experiment="experiment",variant="${v}"\\}`),
      );
    const [c0, x0] = [await count('control'), await count('experiment')];
    const keyless = new WebSocket(`${s.url.replace('http', 'ws')}/ws`);
    await new Promise((resolve, reject) => {
      keyless.on('open', resolve);
      keyless.on('error', reject);
    });
    keyless.close();
    expect([await count('control'), await count('experiment')]).toEqual([c0 + 1, x0]);
  });

  it('shows each variant side by side on GET /experiments and in Prometheus metrics', async () => {
    const view = await adminJson(s.admin);
    const [e] = view.experiments;
    expect(e!.name).toBe('experiment');
    const [c, x] = e!.variants;
    expect(c).toMatchObject({ name: 'control', assignedPercent: 90, tripped: false });
    expect(x).toMatchObject({ name: 'experiment', assignedPercent: 10, tripped: false });
    expect(c!.window.requests).toBeGreaterThan(x!.window.requests);
    expect(x!.window.requests).toBeGreaterThan(1500);
    expect(x!.window.p99ms).toBeGreaterThan(0);
    const twoXX = await metric(
      s.admin,
      /^dds_experiment_responses_total\{experiment="experiment",variant="experiment",class="2xx"\}/,
    );
    expect(twoXX).toBeGreaterThan(1500);
    const count = await metric(
      s.admin,
      /^dds_experiment_request_duration_seconds_count\{experiment="experiment",variant="experiment"\}/,
    );
    expect(count).toBeGreaterThanOrEqual(twoXX);
  });
});

describe('key ip: X-Forwarded-For only from trusted proxies', () => {
  const ips = Array.from({ length: 40 }, (_, i) => `203.0.113.${i + 1}`);
  let control: Running;
  let exp: Running;

  beforeAll(async () => {
    [control, exp] = await Promise.all([demoApp('control'), demoApp('experiment')]);
  });

  it('buckets by the forwarded client address when the peer is a trusted proxy', async () => {
    const s = await quickSplitter(control, exp, [
      '--percent',
      '50',
      '--key',
      'ip',
      '--trusted-proxies',
      '127.0.0.0/8',
    ]);
    const served = await pool(
      ips,
      8,
      async (ip) => (await get(`${s.url}/`, { 'x-forwarded-for': ip })).servedBy,
    );
    expect(served).toEqual(ips.map((ip) => expectedVariant(ip, 'experiment', 50)));
    expect(new Set(served).size).toBe(2);
    await s.proc.kill();
  });

  it('ignores X-Forwarded-For from an untrusted peer and uses the peer address', async () => {
    const s = await quickSplitter(control, exp, ['--percent', '50', '--key', 'ip']);
    const served = await pool(
      ips,
      8,
      async (ip) => (await get(`${s.url}/echo`, { 'x-forwarded-for': ip })).servedBy,
    );
    expect(new Set(served)).toEqual(new Set([expectedVariant('127.0.0.1', 'experiment', 50)]));
    const echoed = JSON.parse((await get(`${s.url}/echo`, { 'x-forwarded-for': '6.6.6.6' })).body).headers;
    expect(echoed['x-forwarded-for']).toBe('127.0.0.1');
    await s.proc.kill();
  });
});

describe('proxying quality and identity options', () => {
  let control: Running;
  let exp: Running;

  beforeAll(async () => {
    [control, exp] = await Promise.all([demoApp('control'), demoApp('experiment')]);
  });

  it('streams large request and response bodies and maps a slow backend to 504', async () => {
    const s = await quickSplitter(control, exp, ['--upstream-timeout', '400ms']);
    const big = await get(`${s.url}/bytes/3000000`, { cookie: 'dds_uid=streamer' });
    expect(big.status).toBe(200);
    expect(big.body.length).toBe(3_000_000);
    const { request } = await import('undici');
    const posted = await request(`${s.url}/sink`, {
      method: 'POST',
      headers: { cookie: 'dds_uid=streamer' },
      body: Buffer.alloc(4_000_000, 0x62),
    });
    expect(JSON.parse(await posted.body.text()).bodyBytes).toBe(4_000_000);
    const slow = await get(`${s.url}/slow?ms=3000`, { cookie: 'dds_uid=streamer' });
    expect(slow.status).toBe(504);
    expect(slow.body).toBe('upstream timed out\n');
    await s.proc.kill();
  });

  it('with a header key, falls back to the id cookie and issues it with the configured attributes', async () => {
    const s = await quickSplitter(control, exp, [
      '--key',
      'header:x-user-id',
      '--id-cookie-name',
      'visitor',
      '--id-cookie-max-age',
      '1h',
      '--id-cookie-same-site',
      'Strict',
      '--id-cookie-secure',
      '--id-cookie-domain',
      'example.test',
    ]);
    const byHeader = await get(`${s.url}/`, { 'x-user-id': 'alice' });
    expect(byHeader.headers['set-cookie']).toBeUndefined();
    expect(byHeader.servedBy).toBe(expectedVariant('alice', 'experiment', 10));
    const fresh = await get(`${s.url}/`);
    expect(String(fresh.headers['set-cookie'])).toMatch(
      /^visitor=[0-9a-f-]{36}; Path=\/; Domain=example\.test; Max-Age=3600; SameSite=Strict; Secure; HttpOnly$/,
    );
    const id = String(fresh.headers['set-cookie']).slice(8, 44);
    const back = await get(`${s.url}/`, { cookie: `visitor=${id}` });
    expect(back.headers['set-cookie']).toBeUndefined();
    expect(back.servedBy).toBe(expectedVariant(id, 'experiment', 10));
    await s.proc.kill();
  });

  it('without id cookies sends keyless requests to control; overrides are off by default', async () => {
    const s = await quickSplitter(control, exp, [
      '--percent',
      '100',
      '--no-id-cookie',
      '--variant-header',
      'x-ab',
      '--experiment-header',
      'off',
    ]);
    const keyless = await get(`${s.url}/echo`);
    expect(keyless.servedBy).toBe('control');
    expect(keyless.headers['set-cookie']).toBeUndefined();
    const forced = await get(`${s.url}/echo`, {
      cookie: 'dds_uid=u1; dds_force_variant=control',
      'x-dds-force-variant': 'control',
    });
    expect(forced.servedBy).toBe('experiment');
    const seen = JSON.parse(forced.body).headers;
    expect(seen['x-ab']).toBe('experiment');
    expect(seen['x-dds-experiment']).toBeUndefined();
    expect(s.proc.stdout()).not.toContain('variant overrides are not signed');
    await s.proc.kill();
  });
});
