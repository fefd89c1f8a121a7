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
