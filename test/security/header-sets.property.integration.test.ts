import { type StrictUpstream, startStrictUpstream } from '@dds/test-support/recording-upstream';
import { problems, SMUGGLED } from '@dds/test-support/security/probes';
import { probe, startNginxReference, startSplitter, type Target } from '@dds/test-support/security/targets';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Property: for any set of request headers built from the framing, trust and hop-by-hop fields
// (any case, any order, duplicated, nominated by one or several Connection lines), a POST whose
// body is a complete request either is refused, or reaches the upstream as exactly one POST with
// framing, Host and X-Forwarded-* written by the proxy; the body never becomes a request. And
// whatever nginx refuses, dds refuses too.

const names = [
  'Host',
  'Content-Length',
  'Transfer-Encoding',
  'Connection',
  'Keep-Alive',
  'Upgrade',
  'TE',
  'Trailer',
  'Expect',
  'Proxy-Connection',
  'X-Forwarded-For',
  'X-Forwarded-Host',
  'X-Forwarded-Proto',
  'Forwarded',
  'X-Custom',
];
const caseOf = (s: string) =>
  fc.constantFrom(
    s,
    s.toLowerCase(),
    s.toUpperCase(),
    s.replace(/-./g, (m) => m.toLowerCase()),
  );
const valueFor = (name: string): fc.Arbitrary<string> => {
  switch (name) {
    case 'Host':
      return fc.constantFrom('h', 'h:8080', 'evil', 'H', '[::1]', 'h/x', '');
    case 'Content-Length':
      return fc.constantFrom(
        String(SMUGGLED.length),
        '5',
        '0',
        `0${SMUGGLED.length}`,
        `${SMUGGLED.length}, ${SMUGGLED.length}`,
        '-1',
      );
    case 'Transfer-Encoding':
      return fc.constantFrom(
        'chunked',
        'Chunked',
        'gzip',
        'chunked, gzip',
        'gzip, chunked',
        ' chunked',
        'identity',
      );
    case 'Connection':
      return fc
        .subarray([...names.map((n) => n.toLowerCase()), 'keep-alive', 'close', 'upgrade'], {
          minLength: 1,
          maxLength: 4,
        })
        .map((t) => t.join(', '));
    case 'Upgrade':
      return fc.constantFrom('websocket', 'h2c');
    case 'Expect':
      return fc.constantFrom('100-continue', 'x');
    case 'X-Forwarded-For':
      return fc.constant('6.6.6.6');
    default:
      return fc.constantFrom('a', 'trailers', 'x=1');
  }
};
const field = fc
  .constantFrom(...names)
  .chain((n) => fc.tuple(caseOf(n), valueFor(n)))
  .map(([n, v]) => `${n}: ${v}`);
const request = fc
  .record({
    host: fc.boolean(),
    fields: fc.array(field, { maxLength: 8 }),
    chunkedBody: fc.boolean(),
  })
  .map(({ host, fields, chunkedBody }) => {
    const body = chunkedBody ? `${SMUGGLED.length.toString(16)}\r\n${SMUGGLED}\r\n0\r\n\r\n` : SMUGGLED;
    return `POST /p HTTP/1.1\r\n${host ? 'Host: h\r\n' : ''}${fields.join('\r\n')}${fields.length ? '\r\n' : ''}\r\n${body}`;
  });

interface Run {
  target: Target;
  upstream: StrictUpstream;
}
let ours: Run;
let nginx: Run;
let barrier = 0;

beforeAll(async () => {
  const u1 = await startStrictUpstream();
  ours = { target: await startSplitter(u1.url), upstream: u1 };
  const u2 = await startStrictUpstream();
  nginx = { target: await startNginxReference(u2.port), upstream: u2 };
});
afterAll(async () => {
  for (const r of [ours, nginx]) {
    await r?.target.stop();
    await r?.upstream.close();
  }
});

async function send(r: Run, bytes: string) {
  r.upstream.seen.length = 0;
  const client = await probe(r.target, bytes, 2, 3000);
  const mark = `/barrier-${++barrier}`;
  await probe(r.target, `GET ${mark} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n`, 1);
  await r.upstream.waitFor(mark);
  return { client, seen: r.upstream.seen.filter((s) => s.url !== mark) };
}

describe('property: generated header sets', () => {
  it('reach the upstream as the one request the proxy accepted, framed by the proxy, never smuggled', async () => {
    await fc.assert(
      fc.asyncProperty(request, async (raw) => {
        const [a, b] = await Promise.all([send(ours, raw), send(nginx, raw)]);
        const seen = a.seen;
        expect(seen.length).toBeLessThanOrEqual(2);
        if (seen.length >= 1) {
          const body = seen[0]!.body.toString('latin1');
          // the body is what the client framed: the request-shaped body, a shorter length, or none;
          // with none, what follows is a pipelined request, which gets the proxy's headers too
          // with Upgrade and a Connection naming it, the request may go upstream as an upgrade
          const upgrade = /\r\nupgrade:/i.test(raw) && /\r\nconnection:[^\r]*upgrade/i.test(raw);
          const legit = [
            { method: 'POST', url: '/p', body, upgrade },
            { method: 'GET', url: '/smuggled' },
          ];
          expect(problems(seen, legit)).toEqual([]);
          const sent = raw.slice(raw.indexOf('\r\n\r\n') + 4);
          // a prefix of the bytes sent (a length), or the chunked body decoded
          expect(sent.startsWith(body) || body === SMUGGLED).toBe(true);
          if (seen.length === 2) expect(body).toBe('');
          expect(a.client.statuses[0]).toBe(200);
        }
        // at least as strict as nginx (which forwards the request-shaped body as a body too)
        if (b.seen.length === 0) expect(seen.length).toBe(0);
      }),
      { numRuns: 150 },
    );
  });
});
