// Client-controlled keys through real limiter processes: allow-lists and overrides on composite
// keys, JWT claims verified with a shared secret, a JWKS file and a JWKS endpoint (tokens signed
// here with node:crypto, independently of the jose library the limiter verifies with), entries on
// unverified claims refused, and secrets kept out of /config, /ratelimit and --print-config (with
// a real password-protected redis-server behind the limiter).
import { createHmac, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  bin,
  freePort,
  type Proc,
  run,
  type Service,
  startComponent,
  startRedis,
  tempDir,
} from '@dds/test-support';
import { type RecordingUpstream, startUpstream } from '@dds/test-support/recording-upstream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

let upstream: RecordingUpstream;
const procs: Proc[] = [];
const dir = tempDir('rl-keys');

beforeAll(async () => {
  upstream = await startUpstream();
});
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.kill('SIGKILL')));
});
afterAll(async () => {
  await upstream?.close();
});

async function limiter(args: string[], env: Record<string, string> = {}) {
  const [port, admin] = [await freePort(), await freePort()];
  const p = startComponent(
    'rate-limiter',
    ['--listen', `127.0.0.1:${port}`, '--upstream', upstream.url, '--admin', `127.0.0.1:${admin}`, ...args],
    { env },
  );
  procs.push(p);
  await p.waitFor('started');
  const base = `http://127.0.0.1:${port}`;
  return {
    p,
    admin: `http://127.0.0.1:${admin}`,
    status: async (headers: Record<string, string> = {}, path = '/') =>
      (await fetch(`${base}${path}`, { headers })).status,
    get: (headers: Record<string, string> = {}) => fetch(`${base}/`, { headers }),
  };
}

function yaml(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

const metric = async (admin: string, line: RegExp): Promise<number> => {
  const text = await (await fetch(`${admin}/metrics`)).text();
  const m = text.split('\n').find((l) => line.test(l));
  return m ? Number(m.slice(m.lastIndexOf(' ') + 1)) : Number.NaN; // a missing series never reads as 0
};

// --- tokens, made without jose --------------------------------------------------------------
const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

function hs256(payload: object, secret: string, header: object = { alg: 'HS256', typ: 'JWT' }): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

function signed(payload: object, key: KeyObject, alg: 'RS256' | 'ES256', kid: string): string {
  const input = `${b64({ alg, typ: 'JWT', kid })}.${b64(payload)}`;
  const sig = sign('sha256', Buffer.from(input), alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key);
  return `${input}.${sig.toString('base64url')}`;
}

const unsigned = (payload: object) => `${b64({ alg: 'none', typ: 'JWT' })}.${b64(payload)}.`;
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

function jwks(...keys: { pub: KeyObject; kid: string; alg: string }[]): string {
  return JSON.stringify({
    keys: keys.map((k) => ({ ...k.pub.export({ format: 'jwk' }), kid: k.kid, alg: k.alg, use: 'sig' })),
  });
}

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ec2 = generateKeyPairSync('ec', { namedCurve: 'P-256' });

describe('allow-lists and overrides on a composite key', () => {
  it('an entry names one part: the allow-listed API key passes from any address, others are limited', async () => {
    const file = yaml(
      'composite.yaml',
      `
trustedProxies: [127.0.0.1/32]
headers: all
policies:
  - name: api
    key: [header:x-api-key, ip]
    limits: [{ rate: 1/m }]
    allow: [header:x-api-key=internal-batch-key]
    overrides:
      - keys: [{ "header:x-api-key": paid-key-1, ip: 203.0.113.0/24 }]
        limits: [{ name: paid, rate: 100/m }]
`,
    );
    const l = await limiter(['--config', file]);
    const from = (key: string, ip: string) => ({ 'x-api-key': key, 'x-forwarded-for': ip });
    for (const ip of ['192.0.2.1', '192.0.2.2', '198.51.100.3'])
      for (let i = 0; i < 3; i++) expect(await l.status(from('internal-batch-key', ip))).toBe(200);
    expect([await l.status(from('other', '192.0.2.1')), await l.status(from('other', '192.0.2.1'))]).toEqual([
      200, 429,
    ]);
    // the same key from another address is another bucket
    expect(await l.status(from('other', '192.0.2.2'))).toBe(200);
    // the override needs both parts: paid-key-1 from its range gets the paid limits
    const paid = await l.get(from('paid-key-1', '203.0.113.9'));
    expect(paid.headers.get('ratelimit-policy')).toBe('"paid";q=100;w=60');
    const elsewhere = await l.get(from('paid-key-1', '192.0.2.9'));
    expect(elsewhere.headers.get('ratelimit-policy')).toBe('"api";q=1;w=60');
    expect(
      await metric(
        l.admin,
        /^dds_ratelimit_decisions_total\{policy="api",limit="\*",outcome="allowlisted"\}/,
      ),
    ).toBe(9);
  });

  it('a bare value on a composite key is a config error naming the entry', async () => {
    const file = yaml(
      'bare.yaml',
      'policies:\n  - name: api\n    key: [header:x-api-key, ip]\n    limits: [{ rate: 10/s }]\n    allow: [internal-batch-key]\n',
    );
    const r = await run(process.execPath, [bin('rate-limiter'), '--config', file, '--check-config']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'policies.0.allow.0: the key has 2 parts (header:x-api-key, ip): name the one this value is, as header:x-api-key=internal-batch-key',
    );
  });
});

describe('JWT keys', () => {
  const SECRET = 'rate-limiter-hmac-secret-0123456789abcdef';
  const OTHER = 'someone-elses-hmac-secret-0123456789abcdef';

  it('--help lists the key sources', async () => {
    const help = await run(process.execPath, [bin('rate-limiter'), '--help']);
    for (const flag of [
      /--jwt-secret-file FILE +verify jwt: keys with this HMAC key/,
      /--jwt-jwks-file FILE/,
      /--jwt-jwks-url URL/,
      /--jwt-issuer ISS,\.\.\./,
      /--jwt-audience AUD,\.\.\./,
      /--jwt-algorithms ALG,\.\.\./,
      /--jwt-clock-tolerance DURATION .*\(default 30s\)/,
      /--jwt-cache N .*\(default 4096\)/,
    ])
      expect(help.stdout).toMatch(flag);
  });

  it('without a key source, an allow-list entry on a claim is refused (exit 2) and so is an override', async () => {
    const file = yaml(
      'unverified.yaml',
      'policies:\n  - name: users\n    key: [jwt:sub, ip]\n    limits: [{ rate: 10/s }]\n    allow: [10.0.0.0/8, jwt:sub=batch-job]\n    overrides: [{ keys: [{ "jwt:sub": vip }], limits: [{ rate: 100/s }] }]\n',
    );
    const r = await run(process.execPath, [bin('rate-limiter'), '--config', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'policies.0.allow.1: jwt:sub comes from a token nobody verified (anyone can write any claim): set --jwt-secret-file, --jwt-jwks-file or --jwt-jwks-url',
    );
    expect(r.stderr).toContain('policies.0.overrides.0.keys.0: jwt:sub comes from a token nobody verified');
    // the same file with a key source is valid
    const secret = join(dir, 'hmac.secret');
    writeFileSync(secret, `${SECRET}\n`);
    const ok = await run(process.execPath, [
      bin('rate-limiter'),
      '--config',
      file,
      '--jwt-secret-file',
      secret,
      '--check-config',
    ]);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
  });

  it('verified with a shared secret: forged, unsigned and expired tokens are a missing key, never allow-listed', async () => {
    const secret = join(dir, 'hs.secret');
    writeFileSync(secret, `${SECRET}\n`);
    const file = yaml(
      'hs.yaml',
      `
headers: all
policies:
  - name: users
    key: jwt:sub
    missingKey: shared
    limits: [{ rate: 1/m }]
    allow: [jwt:sub=batch-job]
    overrides: [{ keys: [jwt:sub=vip], limits: [{ name: vip, rate: 100/m }] }]
`,
    );
    const l = await limiter([
      '--config',
      file,
      '--jwt-secret-file',
      secret,
      '--jwt-issuer',
      'https://issuer.test',
    ]);
    const tok = (sub: string, extra: object = {}) =>
      hs256({ sub, iss: 'https://issuer.test', exp: now() + 600, ...extra }, SECRET);
    expect(await l.status(bearer(tok('alice')))).toBe(200);
    expect(await l.status(bearer(tok('alice')))).toBe(429);
    expect(await l.status(bearer(tok('bob')))).toBe(200);
    for (let i = 0; i < 3; i++) expect(await l.status(bearer(tok('batch-job')))).toBe(200);
    const vip = await l.get(bearer(tok('vip')));
    expect(vip.headers.get('ratelimit-policy')).toBe('"vip";q=100;w=60');
    // none of these is batch-job: each lands in the one shared bucket of keyless requests
    const refused = [
      hs256({ sub: 'batch-job', iss: 'https://issuer.test', exp: now() + 600 }, OTHER), // signature
      unsigned({ sub: 'batch-job', iss: 'https://issuer.test' }), // algorithm
      tok('batch-job', { exp: now() - 3600 }), // expired
      tok('batch-job', { iss: 'https://evil.test' }), // claims
      tok('batch-job', { nbf: now() + 3600 }), // not yet valid
      hs256({ sub: 'batch-job' }, SECRET, { alg: 'HS512', typ: 'JWT' }).replace(/\.[^.]*$/, '.AAAA'), // signature
      'not-a-token', // malformed
    ];
    const statuses = [];
    for (const t of refused) statuses.push(await l.status(bearer(t)));
    expect(statuses).toEqual([200, ...Array(refused.length - 1).fill(429)]);
    const reasons = ['signature', 'algorithm', 'expired', 'claims', 'not_yet_valid', 'malformed'];
    const counts = await Promise.all(
      reasons.map((r) => metric(l.admin, new RegExp(`^dds_ratelimit_jwt_rejected_total\\{reason="${r}"\\}`))),
    );
    expect(Object.fromEntries(reasons.map((r, i) => [r, counts[i]]))).toEqual({
      signature: 2,
      algorithm: 1,
      expired: 1,
      claims: 1,
      not_yet_valid: 1,
      malformed: 1,
    });
    const view = (await (await fetch(`${l.admin}/ratelimit`)).json()) as { jwt: string };
    expect(view.jwt).toBe('verified');
  });

  it('verified with a JWKS file: RS256 and ES256 by kid; a rotated file applies without a restart', async () => {
    const file = join(dir, 'jwks.json');
    writeFileSync(
      file,
      jwks({ pub: rsa.publicKey, kid: 'r1', alg: 'RS256' }, { pub: ec.publicKey, kid: 'e1', alg: 'ES256' }),
    );
    const policy = yaml(
      'jwks.yaml',
      'policies:\n  - name: users\n    key: jwt:sub\n    limits: [{ rate: 1/m }]\n    allow: [jwt:sub=batch-job]\n',
    );
    const l = await limiter(['--config', policy, '--jwt-jwks-file', file, '--reload-interval', '100ms']);
    const exp = now() + 600;
    for (let i = 0; i < 3; i++) {
      expect(await l.status(bearer(signed({ sub: 'batch-job', exp }, rsa.privateKey, 'RS256', 'r1')))).toBe(
        200,
      );
      expect(await l.status(bearer(signed({ sub: 'batch-job', exp }, ec.privateKey, 'ES256', 'e1')))).toBe(
        200,
      );
    }
    // a key the JWKS does not hold: no key part, the policy is skipped (missingKey: skip), counted
    const stranger = signed({ sub: 'batch-job', exp }, ec2.privateKey, 'ES256', 'e2');
    expect(await l.status(bearer(stranger))).toBe(200);
    expect(await metric(l.admin, /^dds_ratelimit_jwt_rejected_total\{reason="unknown_key"\}/)).toBe(1);
    expect(
      await metric(l.admin, /^dds_ratelimit_decisions_total\{policy="users",limit="\*",outcome="no_key"\}/),
    ).toBe(1);
    // HS256 signed with the public key as the HMAC secret (algorithm confusion) is refused
    const pem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(await l.status(bearer(hs256({ sub: 'x', exp }, pem)))).toBe(200);
    expect(await metric(l.admin, /^dds_ratelimit_jwt_rejected_total\{reason="algorithm"\}/)).toBe(1);
    // the issuer rotates to e2: the file changes, e2 tokens verify, r1 ones no longer do
    writeFileSync(file, jwks({ pub: ec2.publicKey, kid: 'e2', alg: 'ES256' }));
    await l.p.waitFor('policies reloaded');
    for (let i = 0; i < 2; i++) expect(await l.status(bearer(stranger))).toBe(200);
    expect(await l.status(bearer(signed({ sub: 'alice', exp }, rsa.privateKey, 'RS256', 'r1')))).toBe(200);
    expect(await metric(l.admin, /^dds_ratelimit_jwt_rejected_total\{reason="unknown_key"\}/)).toBe(2);
    // a broken JWKS is rejected on reload; the keys in effect keep verifying
    writeFileSync(file, '{"keys": []}');
    await l.p.waitFor(/jwksFile: .* is not a JWKS.*configuration rejected/);
    expect(await l.status(bearer(stranger))).toBe(200);
  });

  it('verified with a JWKS endpoint (fetched once, cached); plain http only on loopback', async () => {
    let fetches = 0;
    const server: Server = createServer((_req, res) => {
      fetches++;
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(jwks({ pub: ec.publicKey, kid: 'e1', alg: 'ES256' }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
    try {
      const policy = yaml(
        'url.yaml',
        'policies:\n  - name: users\n    key: jwt:sub\n    limits: [{ rate: 1/m }]\n',
      );
      const l = await limiter(['--config', policy, '--jwt-jwks-url', url, '--jwt-audience', 'api']);
      const t = (sub: string) =>
        bearer(signed({ sub, aud: 'api', exp: now() + 600 }, ec.privateKey, 'ES256', 'e1'));
      expect([await l.status(t('alice')), await l.status(t('alice')), await l.status(t('bob'))]).toEqual([
        200, 429, 200,
      ]);
      expect(fetches).toBe(1);
      const wrongAudience = bearer(
        signed({ sub: 'carol', aud: 'web', exp: now() + 600 }, ec.privateKey, 'ES256', 'e1'),
      );
      expect(await l.status(wrongAudience)).toBe(200); // no key: skipped
      expect(await metric(l.admin, /^dds_ratelimit_jwt_rejected_total\{reason="claims"\}/)).toBe(1);
    } finally {
      server.close();
    }
    const remote = await run(process.execPath, [
      bin('rate-limiter'),
      '--rate',
      '1/s',
      '--key',
      'jwt:sub',
      '--jwt-jwks-url',
      'http://issuer.example.com/jwks.json',
      '--check-config',
    ]);
    expect(remote.code).toBe(2);
    expect(remote.stderr).toMatch(/jwt\.jwksUrl: expected https:\/\/ \(plain http only on loopback/);
  });

  it('key source errors exit 2 naming the field', async () => {
    const weak = join(dir, 'weak.secret');
    writeFileSync(weak, 'short-secret');
    const good = join(dir, 'good.secret');
    writeFileSync(good, SECRET);
    const priv = join(dir, 'private.jwks');
    writeFileSync(priv, JSON.stringify({ keys: [ec.privateKey.export({ format: 'jwk' })] }));
    const cases: [string[], RegExp][] = [
      [['--jwt-secret-file', weak], /jwt\.secretFile: .*holds 12 characters; at least 32 are needed/],
      [['--jwt-jwks-file', join(dir, 'absent.json')], /jwt\.jwksFile: cannot read .*absent\.json: ENOENT/],
      [['--jwt-jwks-file', priv], /jwt\.jwksFile: .*holds private or symmetric keys/],
      [
        ['--jwt-secret-file', weak, '--jwt-jwks-file', priv],
        /jwt\.secretFile: give one JWT key source, not jwksFile and secretFile/,
      ],
      [
        ['--jwt-issuer', 'https://issuer.test'],
        /jwt\.issuer: applies to verified tokens only: set --jwt-secret-file/,
      ],
      [
        ['--jwt-secret-file', good, '--jwt-algorithms', 'RS256'],
        /jwt\.algorithms: RS256 cannot be verified with a shared secret/,
      ],
    ];
    for (const [args, want] of cases) {
      const r = await run(process.execPath, [
        bin('rate-limiter'),
        '--rate',
        '1/s',
        '--key',
        'jwt:sub',
        ...args,
      ]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(want);
    }
  });

  it('jose is loaded only when a key source is configured', async () => {
    // a preload that reports every resolution of the jose package
    const hook = join(dir, 'watch-jose.mjs');
    writeFileSync(
      hook,
      `import { registerHooks } from 'node:module';
registerHooks({ resolve(specifier, context, next) {
  if (specifier === 'jose') process.stderr.write('LOADED jose\\n');
  return next(specifier, context);
} });
`,
    );
    const env = { NODE_OPTIONS: `--import=${hook}` };
    const plain = await limiter(['--rate', '10/s', '--key', 'jwt:sub'], env);
    expect(await plain.status(bearer(hs256({ sub: 'x' }, SECRET)))).toBe(200);
    expect(plain.p.stderr()).not.toContain('LOADED jose');
    const secret = join(dir, 'lazy.secret');
    writeFileSync(secret, SECRET);
    const verified = await limiter(['--rate', '10/s', '--key', 'jwt:sub', '--jwt-secret-file', secret], env);
    expect(verified.p.stderr()).toContain('LOADED jose');
  });
});

describe('secrets in admin views', () => {
  let redis: Service;
  const PASSWORD = 'redis-password-4f1c2b';
  beforeAll(async () => {
    redis = await startRedis(['--requirepass', PASSWORD]);
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('/config, /ratelimit and --print-config hide passwords and allow-listed keys, and show the rest', async () => {
    const file = yaml(
      'secrets.yaml',
      `
policies:
  - name: api
    match: { headers: { x-api-key: "*", x-tier: free } }
    key: [header:x-api-key, ip]
    limits: [{ rate: 10/s }]
    allow: [10.0.0.0/8, header:x-api-key=sk_live_allowed_1]
    overrides:
      - keys: [header:x-api-key=sk_live_paid_2, { "header:x-api-key": sk_live_paid_3, ip: 203.0.113.0/24 }]
        limits: [{ rate: 100/s }]
  - name: admin
    match: { headers: { authorization: "Bearer sk_admin_4" } }
    key: ip
    limits: [{ rate: 1/s }]
`,
    );
    const redisUrl = `redis://:${PASSWORD}@127.0.0.1:${redis.port}`;
    const secrets = [PASSWORD, 'sk_live_allowed_1', 'sk_live_paid_2', 'sk_live_paid_3', 'sk_admin_4'];
    const l = await limiter(['--config', file, '--redis', redisUrl, '--redis-timeout', '2s']);
    // it really talks to the password-protected Redis
    expect(await l.status({ 'x-api-key': 'k', 'x-tier': 'free' })).toBe(200);
    expect(await metric(l.admin, /^dds_ratelimit_redis_up /)).toBe(1);
    const config = await (await fetch(`${l.admin}/config`)).text();
    const view = await (await fetch(`${l.admin}/ratelimit`)).text();
    const printed = await run(process.execPath, [
      bin('rate-limiter'),
      '--config',
      file,
      '--redis',
      redisUrl,
      '--print-config',
    ]);
    for (const [where, text] of [
      ['/config', config],
      ['/ratelimit', view],
      ['--print-config', printed.stdout],
    ] as const) {
      for (const s of secrets) expect(text, `${where} shows ${s}`).not.toContain(s);
      expect(text, where).toContain('10.0.0.0/8');
      expect(text, where).toContain('header:x-api-key=<redacted>');
      expect(text, where).toContain('203.0.113.0/24');
      expect(text, where).toContain('free'); // a match value that is no secret
    }
    const c = JSON.parse(config) as { redis: string; policies: { allow: string[] }[] };
    expect(c.redis).toBe(`redis://:<redacted>@127.0.0.1:${redis.port}`);
    expect(c.policies[0]!.allow).toEqual(['10.0.0.0/8', 'header:x-api-key=<redacted>']);
    expect(printed.stdout).toContain(`redis: redis://:<redacted>@127.0.0.1:${redis.port}`);
  });
});
