import { type NativeParser, type ParserBinding, parserBinding } from '../internals/http-parser.js';

export type { NativeParser } from '../internals/http-parser.js';

/**
 * Node's own llhttp (internals/http-parser.ts) in strict mode, on both sides of the proxy.
 * Strict llhttp rejects what could smuggle a second message: Content-Length together with
 * Transfer-Encoding, differing duplicate Content-Lengths, invalid chunk sizes, obs-fold, bare
 * CR/LF.
 */
function llhttp(): ParserBinding {
  if (cached !== undefined) return cached;
  const b = parserBinding();
  if (b === undefined) throw new Error("Node's llhttp binding is not available (see dds_fast_path_info)");
  cached = b;
  return b;
}
let cached: ParserBinding | undefined;

/**
 * Body chunks the parsers hand over are the receiver's to keep (Node's binding copies them out
 * of what was parsed, probed at start); false: they are views, copied where kept.
 */
export function bodyChunksOwned(): boolean {
  return llhttp().bodyCopied;
}

/** The method name of llhttp's method index. */
export function methodName(index: number): string | undefined {
  return llhttp().methods[index];
}

/** an empty async resource for parsers (no async_hooks tracking per connection) */
export const PARSER_RESOURCE = {};

/** A parser that gathers a head's headers when llhttp hands them over in pieces. */
export interface HeaderCollector {
  pending: string[];
}

/**
 * kOnHeaders: heads with many headers arrive in pieces (32 pairs each) before the final
 * callback; so do chunked trailers, which are dropped at the end of the message.
 */
export function collectHeaders(this: HeaderCollector, headers: string[]): void {
  for (let i = 0; i < headers.length; i++) this.pending.push(headers[i]!);
}

/** The complete header list at kOnHeadersComplete: the pieces gathered so far, then the rest. */
export function completeHeaders(p: HeaderCollector, headers: string[] | undefined): string[] {
  if (headers === undefined) {
    const all = p.pending;
    p.pending = [];
    return all;
  }
  if (p.pending.length === 0) return headers;
  const all = p.pending.concat(headers);
  p.pending = [];
  return all;
}

/** At the end of a message: trailers gathered by collectHeaders are not forwarded. */
export function dropTrailers(p: HeaderCollector): void {
  if (p.pending.length) p.pending = [];
}

/** The first value of a header in a flat [name, value, ...] list, by its lower-case name. */
export function rawHeader(raw: readonly string[], lower: string): string | undefined {
  const n = lower.length;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === n && name.toLowerCase() === lower) return raw[i + 1];
  }
  return undefined;
}

/** The callbacks of one parser kind; `this` in each is the parser. */
export interface ParserCallbacks<P> {
  begin(this: P): void;
  headersComplete(this: P, ...args: never[]): number;
  body(this: P, chunk: Buffer): void;
  complete(this: P): void;
}

/**
 * A strict llhttp parser (no lenient flags) of requests or responses whose callbacks receive it
 * as `this`; `fields` (e.g. its owner) are set on it first.
 */
export function strictParser<F extends object>(
  type: 'request' | 'response',
  maxHeaderSize: number,
  fields: F,
  cb: ParserCallbacks<NativeParser & HeaderCollector & F>,
): NativeParser & HeaderCollector & F {
  const { HTTPParser } = llhttp();
  const p = Object.assign(new HTTPParser(), fields, { pending: [] as string[] });
  p[HTTPParser.kOnMessageBegin] = cb.begin;
  p[HTTPParser.kOnHeaders] = collectHeaders;
  p[HTTPParser.kOnHeadersComplete] = cb.headersComplete;
  p[HTTPParser.kOnBody] = cb.body;
  p[HTTPParser.kOnMessageComplete] = cb.complete;
  const kind = type === 'request' ? HTTPParser.REQUEST : HTTPParser.RESPONSE;
  p.initialize(kind, PARSER_RESOURCE, maxHeaderSize, HTTPParser.kLenientNone);
  return p;
}
