import type { SeenRequest } from '../recording-upstream.js';

/** A request a correct HTTP/1.1 parser finds in a probe, in order. */
export interface Legit {
  method: string;
  url: string;
  body?: string;
  /** forwarded as an upgrade: Connection: upgrade and Upgrade may go with it */
  upgrade?: boolean;
}

export interface Probe {
  name: string;
  class: string;
  bytes: string;
  /** what a correct parser reads from `bytes`: the upstream may see a prefix of these, nothing else */
  legit: Legit[];
  /** how many of `legit` dds forwards (the rest are refused, or the connection is closed) */
  ours: number;
  /** responses a proxy that accepts everything would send (the client stops reading then) */
  responses: number;
  /** shard-ambassador's HTTP mode, where it differs from `ours` (it serves no upgrades: 501) */
  shard?: number;
}

/** A complete request with a forged client address: what smuggling tries to slip past the proxy. */
export const SMUGGLED =
  'GET /smuggled HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 6.6.6.6\r\nContent-Length: 0\r\n\r\n';
const chunk = (s: string) => `${s.length.toString(16)}\r\n${s}\r\n0\r\n\r\n`;
const NEXT = 'GET /next HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 6.6.6.6\r\n\r\n';

/** Headers the proxy writes itself: a Connection token must never remove them. */
export const NOMINATED = [
  'content-length',
  'transfer-encoding',
  'host',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'forwarded',
];

function nominated(name: string, twoLines: boolean): Probe {
  const conn = twoLines
    ? `Connection: keep-alive\r\nConnection: ${name}\r\n`
    : `Connection: keep-alive, ${name}\r\n`;
  const te = name === 'transfer-encoding';
  const body = te ? chunk(SMUGGLED) : SMUGGLED;
  const framing = te ? 'Transfer-Encoding: chunked\r\n' : `Content-Length: ${SMUGGLED.length}\r\n`;
  return {
    name: `Connection nominates ${name} (${twoLines ? 'second line' : 'one line'})`,
    class: 'connection-nominated',
    bytes: `POST /a HTTP/1.1\r\nHost: h\r\n${conn}${framing}\r\n${body}`,
    legit: [{ method: 'POST', url: '/a', body: SMUGGLED }],
    ours: 1,
    responses: 1,
  };
}

const teObfuscations: [string, string][] = [
  ['two Transfer-Encoding lines', 'Transfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n'],
  ['xchunked', 'Transfer-Encoding: xchunked\r\n'],
  ['space before colon', 'Transfer-Encoding : chunked\r\n'],
  ['chunked, identity', 'Transfer-Encoding: chunked, identity\r\n'],
  ['tab before value', 'Transfer-Encoding:\tchunked\r\n'],
  ['vertical tab before value', 'Transfer-Encoding:\x0bchunked\r\n'],
  ['bare LF before it', 'X-A: b\nTransfer-Encoding: chunked\r\n'],
  ['obs-fold', 'Transfer-Encoding:\r\n chunked\r\n'],
  ['quoted', 'Transfer-Encoding: "chunked"\r\n'],
];

export const PROBES: Probe[] = [
  {
    name: 'CL.TE: Content-Length and Transfer-Encoding',
    class: 'CL.TE',
    bytes: `POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: ${5 + SMUGGLED.length}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`,
    legit: [],
    ours: 0,
    responses: 2,
  },
  {
    name: 'TE.CL: Transfer-Encoding and a short Content-Length',
    class: 'TE.CL',
    bytes: `POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n${chunk(SMUGGLED)}`,
    legit: [],
    ours: 0,
    responses: 2,
  },
  ...teObfuscations.map(
    ([what, te]): Probe => ({
      name: `TE.TE: ${what}`,
      class: 'TE.TE',
      bytes: `POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n${te}\r\n${chunk(SMUGGLED)}`,
      legit: [],
      ours: 0,
      responses: 2,
    }),
  ),
  {
    name: 'TE: gzip, chunked (a coding the proxy would not re-encode)',
    class: 'TE.TE',
    bytes: `POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n${chunk('hello')}`,
    legit: [],
    ours: 0,
    responses: 1,
  },
  {
    name: 'Transfer-Encoding in HTTP/1.0',
    class: 'TE.TE',
    bytes: `POST /a HTTP/1.0\r\nHost: h\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n${chunk(SMUGGLED)}`,
    legit: [],
    ours: 0,
    responses: 2,
  },
  {
    name: 'CL.CL: two different Content-Lengths',
    class: 'CL.TE',
    bytes: `POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\nContent-Length: ${SMUGGLED.length}\r\n\r\n${SMUGGLED}`,
    legit: [],
    ours: 0,
    responses: 2,
  },
  ...NOMINATED.flatMap((n) => [nominated(n, false), nominated(n, true)]),
  {
    name: 'Connection: close, content-length',
    class: 'connection-nominated',
    bytes: `POST /a HTTP/1.1\r\nHost: h\r\nConnection: close, content-length\r\nContent-Length: ${SMUGGLED.length}\r\n\r\n${SMUGGLED}`,
    legit: [{ method: 'POST', url: '/a', body: SMUGGLED }],
    ours: 1,
    responses: 1,
  },
  {
    name: 'Upgrade: websocket answered 200, then a pipelined request',
    class: 'upgrade',
    bytes: `GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n${NEXT}`,
    legit: [
      { method: 'GET', url: '/ws', upgrade: true },
      { method: 'GET', url: '/next' },
    ],
    ours: 1,
    shard: 0,
    responses: 2,
  },
  {
    name: 'Upgrade: h2c without 101, then a pipelined request',
    class: 'upgrade',
    bytes: `GET /h2c HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n${NEXT}`,
    legit: [
      { method: 'GET', url: '/h2c' },
      { method: 'GET', url: '/next' },
    ],
    ours: 1,
    responses: 2,
  },
  {
    name: 'Upgrade: h2c on a POST with a body',
    class: 'upgrade',
    bytes: `POST /h2c HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\nContent-Length: 5\r\n\r\nhello${NEXT}`,
    legit: [
      { method: 'POST', url: '/h2c', body: 'hello' },
      { method: 'GET', url: '/next' },
    ],
    ours: 1,
    responses: 2,
  },
  {
    name: 'two Host headers',
    class: 'host',
    bytes: 'GET /a HTTP/1.1\r\nHost: h\r\nHost: evil\r\n\r\n',
    legit: [],
    ours: 0,
    responses: 1,
  },
  {
    name: 'two Authorization headers (policy and app could read different ones)',
    class: 'host',
    bytes: 'GET /a HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer a\r\nAuthorization: Bearer b\r\n\r\n',
    legit: [],
    ours: 0,
    responses: 1,
  },
  {
    name: 'no Host in HTTP/1.1',
    class: 'host',
    bytes: 'GET /a HTTP/1.1\r\nX-A: b\r\n\r\n',
    legit: [],
    ours: 0,
    responses: 1,
  },
  {
    name: 'no Host in HTTP/1.0 (allowed: the proxy writes one)',
    class: 'host',
    bytes: 'GET /ten HTTP/1.0\r\n\r\n',
    legit: [{ method: 'GET', url: '/ten' }],
    ours: 1,
    responses: 1,
  },
  {
    name: 'Host with a path in it',
    class: 'host',
    bytes: 'GET /a HTTP/1.1\r\nHost: h/../admin\r\n\r\n',
    legit: [],
    ours: 0,
    responses: 1,
  },
  {
    name: 'absolute-form target naming another host',
    class: 'host',
    bytes: 'GET http://evil/abs HTTP/1.1\r\nHost: h\r\n\r\n',
    legit: [{ method: 'GET', url: '/abs' }],
    ours: 0,
    responses: 1,
  },
  {
    name: 'absolute-form target naming its Host',
    class: 'host',
    bytes: 'GET http://h/abs?q=1 HTTP/1.1\r\nHost: h\r\n\r\n',
    legit: [{ method: 'GET', url: '/abs?q=1' }],
    ours: 1,
    responses: 1,
  },
  {
    name: 'pipelined: GET, POST with a body, GET in one write',
    class: 'pipelined',
    bytes:
      'GET /1 HTTP/1.1\r\nHost: h\r\n\r\nPOST /2 HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhelloGET /3 HTTP/1.1\r\nHost: h\r\n\r\n',
    legit: [
      { method: 'GET', url: '/1' },
      { method: 'POST', url: '/2', body: 'hello' },
      { method: 'GET', url: '/3' },
    ],
    ours: 3,
    responses: 3,
  },
  {
    name: 'pipelined: a chunked body whose terminator hides a request',
    class: 'pipelined',
    bytes: `POST /1 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n${SMUGGLED}`,
    legit: [
      { method: 'POST', url: '/1', body: 'hello' },
      { method: 'GET', url: '/smuggled' },
    ],
    ours: 2,
    responses: 2,
  },
  {
    name: 'pipelined: a refused request between two good ones',
    class: 'pipelined',
    bytes:
      'GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\nHost: evil\r\n\r\nGET /3 HTTP/1.1\r\nHost: h\r\n\r\n',
    legit: [
      { method: 'GET', url: '/1' },
      { method: 'GET', url: '/2' },
      { method: 'GET', url: '/3' },
    ],
    ours: 1,
    responses: 3,
  },
  {
    name: 'oversized head',
    class: 'oversized',
    bytes: `GET /big HTTP/1.1\r\nHost: h\r\nX-Big: ${'a'.repeat(40_000)}\r\n\r\n`,
    legit: [],
    ours: 0,
    responses: 1,
  },
];

/** Headers no request may carry upstream (hop-by-hop, or nominated by the client). */
const NEVER_UPSTREAM = new Set([
  'keep-alive',
  'upgrade',
  'te',
  'proxy-connection',
  'http2-settings',
  'trailer',
]);

/**
 * What must hold for every request the upstream saw: it is the next legit request of the probe
 * (nothing smuggled, in order), complete, with exactly one Host, framing that matches its body
 * (a length or chunked, never both), the proxy's own X-Forwarded-For and -Proto, and no
 * hop-by-hop header (not checked with hopByHop false: nginx forwards HTTP2-Settings). Returns
 * the problems found.
 */
export function problems(
  seen: SeenRequest[],
  legit: Legit[],
  hopByHop = true,
  client = '127.0.0.1',
): string[] {
  const out: string[] = [];
  if (seen.length > legit.length)
    out.push(`upstream saw ${seen.length} requests, the probe holds ${legit.length}`);
  seen.forEach((s, i) => {
    const want = legit[i];
    const where = `request ${i} (${s.method} ${s.url})`;
    if (want === undefined) return;
    if (s.method !== want.method || s.url !== want.url)
      out.push(`${where}: expected ${want.method} ${want.url} (smuggled or out of order)`);
    if (!s.complete) out.push(`${where}: body incomplete`);
    const body = s.body.toString('latin1');
    if ((want.body ?? '') !== body)
      out.push(`${where}: body ${JSON.stringify(body)} != ${JSON.stringify(want.body ?? '')}`);
    const values = (name: string) =>
      s.rawHeaders.flatMap((h, j) => (j % 2 === 0 && h.toLowerCase() === name ? [s.rawHeaders[j + 1]!] : []));
    if (values('host').length !== 1) out.push(`${where}: ${values('host').length} Host lines`);
    const cl = values('content-length');
    const te = values('transfer-encoding');
    if (cl.length > 1 || te.length > 1 || (cl.length && te.length))
      out.push(`${where}: framing CL=${cl} TE=${te}`);
    if (te.length && te[0]!.toLowerCase() !== 'chunked') out.push(`${where}: TE ${te[0]}`);
    if (cl.length && Number(cl[0]) !== s.body.length)
      out.push(`${where}: CL ${cl[0]} for ${s.body.length} bytes`);
    if (s.body.length > 0 && !cl.length && !te.length) out.push(`${where}: body without framing`);
    const xff = values('x-forwarded-for');
    if (xff.length !== 1 || xff[0] !== client) out.push(`${where}: X-Forwarded-For ${JSON.stringify(xff)}`);
    if (values('x-forwarded-proto').length !== 1)
      out.push(`${where}: X-Forwarded-Proto ${values('x-forwarded-proto')}`);
    if (!hopByHop) return;
    const allowed = want.upgrade ? /^\s*(keep-alive|close|upgrade)\s*$/i : /^\s*(keep-alive|close)\s*$/i;
    for (const c of values('connection')) if (!allowed.test(c)) out.push(`${where}: Connection: ${c}`);
    for (let j = 0; j < s.rawHeaders.length; j += 2) {
      const h = s.rawHeaders[j]!.toLowerCase();
      if (NEVER_UPSTREAM.has(h) && !(want.upgrade && h === 'upgrade')) out.push(`${where}: hop-by-hop ${h}`);
    }
  });
  return out;
}
