import { type StrictUpstream, startStrictUpstream } from '@dds/test-support/recording-upstream';
import { probe, startRateLimiter, type Target } from '@dds/test-support/security/targets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The rate limiter cannot be bypassed: however the requests arrive (keep-alive, pipelined in one
// write, behind an Upgrade the app answers 200, behind h2c, inside a body whose Content-Length a
// Connection header tries to remove, HTTP/1.0), the app sees exactly the admitted requests, and
// the clients get exactly that many non-429 answers. GCRA with --burst B admits B + 1 at once.

const BURST = 5;
const ADMITTED = BURST + 1;
let upstream: StrictUpstream;
let limiter: Target;

beforeAll(async () => {
  upstream = await startStrictUpstream();
  limiter = await startRateLimiter(upstream.url, [
    '--rate',
    '1/h',
    '--burst',
    String(BURST),
    '--key',
    'header:x-key',
  ]);
});
afterAll(async () => {
  await limiter?.stop();
  await upstream?.close();
});

const get = (path: string, key: string, extra = '') =>
  `GET ${path} HTTP/1.1\r\nHost: h\r\nX-Key: ${key}\r\n${extra}\r\n`;

/** The attack traffic for one key: every trick at once, N requests in the HTTP sense. */
function traffic(key: string): { bytes: string; responses: number }[] {
  const smuggled = get('/smuggled', key);
  return [
    // keep-alive, one by one is the same as pipelined for the limiter: both here
    { bytes: get('/ka1', key) + get('/ka2', key) + get('/ka3', key), responses: 3 },
    { bytes: Array.from({ length: 8 }, (_, i) => get(`/pipe${i}`, key)).join(''), responses: 8 },
    {
      bytes:
        get(
          '/ws',
          key,
          'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n',
        ) +
        smuggled +
        smuggled,
      responses: 3,
    },
    {
      bytes:
        get(
          '/h2c',
          key,
          'Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n',
        ) + smuggled,
      responses: 2,
    },
    {
      bytes: `POST /cl HTTP/1.1\r\nHost: h\r\nX-Key: ${key}\r\nConnection: keep-alive, content-length\r\nContent-Length: ${smuggled.length * 2}\r\n\r\n${smuggled}${smuggled}`,
      responses: 1, // the body is a body: one request
    },
    { bytes: `GET /ten HTTP/1.0\r\nX-Key: ${key}\r\n\r\n`, responses: 1 },
    {
      bytes: `GET /ten2 HTTP/1.0\r\nX-Key: ${key}\r\nConnection: keep-alive\r\n\r\n${get('/after10', key)}`,
      responses: 2,
    },
  ];
}

describe('rate-limiter: no bypass over pipelining, upgrades and keep-alive', () => {
  it.each([
    ['in sequence', false],
    ['all connections at once', true],
  ] as const)('exactly the admitted requests reach the app (%s)', async (_label, parallel) => {
    const key = `k-${parallel ? 'par' : 'seq'}`;
    const before = upstream.seen.length;
    const runs = traffic(key);
    // the tricks first, while the bucket still admits: a bypass shows as more than burst + 1
    runs.push(...runs.splice(0, 2));
    const results = parallel
      ? await Promise.all(runs.map((r) => probe(limiter, r.bytes, r.responses)))
      : await (async () => {
          const out = [];
          for (const r of runs) out.push(await probe(limiter, r.bytes, r.responses));
          return out;
        })();
    await probe(limiter, get('/barrier', 'other', 'Connection: close\r\n'), 1);
    await upstream.waitFor('/barrier');
    const seen = upstream.seen.slice(before).filter((s) => s.rawHeaders.includes(key));
    const statuses = results.flatMap((r) => r.statuses);
    const answered = statuses.filter((s) => s !== 429 && s < 400).length;
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
    expect(seen.map((s) => s.url)).not.toContain('/smuggled');
    expect({ seen: seen.length, answered }).toEqual({ seen: ADMITTED, answered: ADMITTED });
    upstream.seen.length = 0;
  });
});
