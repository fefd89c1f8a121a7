import {
  completeHeaders,
  dropTrailers,
  type HeaderCollector,
  type NativeParser,
  strictParser,
} from '../llhttp.js';

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

type SinkParser = NativeParser & HeaderCollector & { sink: ResponseSink };

function onMessageBegin(this: SinkParser): void {
  this.sink.onResponseBegin();
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
  return this.sink.onResponseHead(status, completeHeaders(this, headers), keepAlive, upgrade);
}

function onBody(this: SinkParser, chunk: Buffer): void {
  this.sink.onResponseBody(chunk);
}

function onMessageComplete(this: SinkParser): void {
  dropTrailers(this);
  this.sink.onResponseEnd();
}

/** A strict HTTP/1.x response parser for one upstream connection, reused across responses. */
export function createResponseParser(sink: ResponseSink, maxHeaderSize: number): NativeParser {
  return strictParser(
    'response',
    maxHeaderSize,
    { sink },
    {
      begin: onMessageBegin,
      headersComplete: onHeadersComplete,
      body: onBody,
      complete: onMessageComplete,
    },
  );
}
