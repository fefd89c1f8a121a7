import { createRequire } from 'node:module';

/**
 * Node's own llhttp binding (the parser behind node:http), used in strict mode on both sides of
 * the proxy. It parses only what framing needs in C++ and hands JS one flat [name, value, ...]
 * string array per head and body slices already de-chunked. Strict llhttp rejects what could
 * smuggle a second message: Content-Length together with Transfer-Encoding, differing duplicate
 * Content-Lengths, invalid chunk sizes, obs-fold, bare CR/LF.
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

const common = createRequire(import.meta.url)('_http_common') as {
  HTTPParser: ParserClass;
  methods: string[];
};

export const HTTPParser = common.HTTPParser;
/** method names by llhttp's method index */
export const METHODS: readonly string[] = common.methods;
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
 * A strict llhttp parser (no lenient flags) of `type` (HTTPParser.REQUEST / RESPONSE) whose
 * callbacks receive it as `this`; `fields` (e.g. its owner) are set on it first.
 */
export function strictParser<F extends object>(
  type: number,
  maxHeaderSize: number,
  fields: F,
  cb: ParserCallbacks<NativeParser & HeaderCollector & F>,
): NativeParser & HeaderCollector & F {
  const p = Object.assign(new HTTPParser(), fields, { pending: [] as string[] });
  p[HTTPParser.kOnMessageBegin] = cb.begin;
  p[HTTPParser.kOnHeaders] = collectHeaders;
  p[HTTPParser.kOnHeadersComplete] = cb.headersComplete;
  p[HTTPParser.kOnBody] = cb.body;
  p[HTTPParser.kOnMessageComplete] = cb.complete;
  p.initialize(type, PARSER_RESOURCE, maxHeaderSize, HTTPParser.kLenientNone);
  return p;
}
