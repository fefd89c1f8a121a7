import { createRequire } from 'node:module';
import { FAST_PATHS, probe } from './fast-paths.js';

/**
 * Node's own llhttp binding, the parser behind node:http, from the private `_http_common`
 * module. It parses only what framing needs in C++ and hands JS one flat [name, value, ...]
 * string array per head and body slices already de-chunked. Its callbacks are indexed slots
 * with positional arguments: internals Node may change, so the probe parses a request and a
 * response with it before any server relies on it.
 */
export interface NativeParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  /** bytes consumed, or the parse error */
  execute(data: Buffer): number | (Error & { code?: string });
  /** end of input: completes a close-delimited body, or the error if a message is cut short */
  finish(): undefined | (Error & { code?: string });
  close(): void;
  [k: number]: unknown;
}

export interface ParserClass {
  new (): NativeParser;
  REQUEST: number;
  RESPONSE: number;
  kOnMessageBegin: number;
  kOnHeaders: number;
  kOnHeadersComplete: number;
  kOnBody: number;
  kOnMessageComplete: number;
  kLenientNone: number;
}

export interface ParserBinding {
  readonly HTTPParser: ParserClass;
  /** method names by llhttp's method index */
  readonly methods: readonly string[];
  /**
   * Body chunks are copies the parser made (Node's binding copies each out of the input), so
   * they may be kept whatever happens to the buffer that was parsed; false: they are views of it
   * and are copied where kept.
   */
  readonly bodyCopied: boolean;
}

let binding: ParserBinding | undefined;

/** The llhttp binding, or undefined when it is switched off or not as this code expects. */
export function parserBinding(): ParserBinding | undefined {
  if (probe(FAST_PATHS.llhttp, check)) return binding;
  return undefined;
}

function check(): true | string {
  const common = createRequire(import.meta.url)('_http_common') as Partial<ParserBinding> | undefined;
  const P = common?.HTTPParser;
  if (typeof P !== 'function' || !Array.isArray(common?.methods)) return '_http_common has no HTTPParser';
  for (const k of [
    'REQUEST',
    'RESPONSE',
    'kOnMessageBegin',
    'kOnHeaders',
    'kOnHeadersComplete',
    'kOnBody',
    'kOnMessageComplete',
    'kLenientNone',
  ] as const)
    if (typeof P[k] !== 'number') return `HTTPParser.${k} is missing`;
  const input = Buffer.from('POST /p?q HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nok', 'latin1');
  const req = selfTest(P, P.REQUEST, input);
  const method = typeof req.method === 'number' ? common!.methods![req.method] : undefined;
  if (
    method !== 'POST' ||
    req.url !== '/p?q' ||
    req.headers !== 'Host,a,Content-Length,2' ||
    req.body !== 'ok'
  )
    return 'HTTPParser callbacks do not report a request as expected';
  const res = selfTest(P, P.RESPONSE, Buffer.from('HTTP/1.1 204 No Content\r\nX-A: b\r\n\r\n', 'latin1'));
  if (res.status !== 204 || res.headers !== 'X-A,b' || !res.complete)
    return 'HTTPParser callbacks do not report a response as expected';
  binding = { HTTPParser: P, methods: common!.methods!, bodyCopied: req.chunk?.buffer !== input.buffer };
  return true;
}

interface Seen {
  method?: unknown;
  url?: unknown;
  status?: unknown;
  headers?: string;
  body: string;
  chunk?: Buffer;
  complete: boolean;
}

/** Parses one message with the callbacks the proxy installs, and reports what they saw. */
function selfTest(P: ParserClass, type: number, input: Buffer): Seen {
  const seen: Seen = { body: '', complete: false };
  const p = new P();
  p[P.kOnMessageBegin] = () => {};
  p[P.kOnHeaders] = () => {};
  p[P.kOnHeadersComplete] = (
    _major: number,
    _minor: number,
    headers: string[] | undefined,
    method: unknown,
    url: unknown,
    status: unknown,
  ) => {
    seen.headers = headers?.join(',');
    seen.method = method;
    seen.url = url;
    seen.status = status;
    return 0;
  };
  p[P.kOnBody] = (chunk: Buffer) => {
    seen.chunk = chunk;
    seen.body += chunk.toString('latin1');
  };
  p[P.kOnMessageComplete] = () => {
    seen.complete = true;
  };
  p.initialize(type, {}, 8192, P.kLenientNone);
  const r = p.execute(input);
  p.close();
  if (typeof r !== 'number') throw new Error(`HTTPParser refused a valid message: ${r.message}`);
  return seen;
}
