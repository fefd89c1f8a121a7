import { parserBinding } from '../../internals/http-parser.js';
import type { Transport } from '../transport.js';
import { Http1Pool, type Http1PoolOptions, type PoolTarget } from './pool.js';
import { UndiciTransport } from './undici-transport.js';

/**
 * The HTTP/1.1 Transport of an upstream: core's pool (raw sockets, Node's llhttp binding) when
 * the llhttp fast path is live, else undici's Pool through its public API.
 */
export function http1Transport(target: PoolTarget, opts: Http1PoolOptions): Transport {
  return parserBinding() !== undefined ? new Http1Pool(target, opts) : new UndiciTransport(target, opts);
}
