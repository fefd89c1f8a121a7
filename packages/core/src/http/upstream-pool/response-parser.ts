import { HTTPParser, type NativeParser, PARSER_RESOURCE } from '../llhttp.js';

export type { NativeParser } from '../llhttp.js';

/** What a parser reports to; `this` in the callbacks is the parser, whose `sink` receives them. */
export interface ResponseSink {
  /** a response starts: the sink must know whether one is expected at all */
  onResponseBegin(): void;
  /** complete list of headers in their original case; return 1 to read no body (HEAD, 1xx) */
  onResponseHead(status: number, headers: string[], keepAlive: boolean, upgrade: boolean): number;
  onResponseBody(chunk: Buffer): void;
  onResponseEnd(): void;
}

type SinkParser = NativeParser & { sink: ResponseSink; pending: string[] };

function onMessageBegin(this: SinkParser): void {
  this.sink.onResponseBegin();
}

// Heads with many headers arrive in pieces (32 pairs each) before the final callback; so do
// chunked trailers, which are dropped at the end of the message.
function onHeaders(this: SinkParser, headers: string[]): void {
  for (let i = 0; i < headers.length; i++) this.pending.push(headers[i]!);
}

function onHeadersComplete(
  this: SinkParser,
  _major: number,
  _minor: number,
  headers: string[] | undefined,
  _method: unknown,
  _url: unknown,
  status: number,
  _statusMessage: string,
  upgrade: boolean,
  keepAlive: boolean,
): number {
  let all = headers;
  if (all === undefined) {
    all = this.pending;
    this.pending = [];
  } else if (this.pending.length) {
    all = this.pending.concat(headers!);
    this.pending = [];
  }
  return this.sink.onResponseHead(status, all, keepAlive, upgrade);
}

function onBody(this: SinkParser, chunk: Buffer): void {
  this.sink.onResponseBody(chunk);
}

function onMessageComplete(this: SinkParser): void {
  if (this.pending.length) this.pending = [];
  this.sink.onResponseEnd();
}

/** A strict HTTP/1.x response parser for one upstream connection, reused across responses. */
export function createResponseParser(sink: ResponseSink, maxHeaderSize: number): NativeParser {
  const p = new HTTPParser() as SinkParser;
  p.sink = sink;
  p.pending = [];
  p[HTTPParser.kOnMessageBegin] = onMessageBegin;
  p[HTTPParser.kOnHeaders] = onHeaders;
  p[HTTPParser.kOnHeadersComplete] = onHeadersComplete;
  p[HTTPParser.kOnBody] = onBody;
  p[HTTPParser.kOnMessageComplete] = onMessageComplete;
  p.initialize(HTTPParser.RESPONSE, PARSER_RESOURCE, maxHeaderSize, HTTPParser.kLenientNone);
  return p;
}
