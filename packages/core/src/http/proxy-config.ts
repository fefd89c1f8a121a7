import { zUpstreamUrl } from '../config/schemas.js';
import { setting, shapeOf } from '../config/settings.js';
import * as z from '../config/zod.js';
import type { HttpLimits } from './http-server.js';
import { TrustedProxies } from './trusted-proxies.js';
import type { UpstreamOptions } from './upstream.js';

/** `--upstream`: the app a sidecar proxy stands in front of (same pod, so loopback by default). */
export const upstreamSetting = () =>
  setting.string({
    help: 'the app: http://host:port, unix:/path.sock, or internal:COMPONENT in dds-pod (the next component, in-process)',
    metavar: 'URL',
    default: 'http://127.0.0.1:8080',
    schema: zUpstreamUrl,
  });

export const zTrustedProxies = z.array(z.string()).check(
  z.superRefine((list, ctx) => {
    const err = TrustedProxies.validate(list);
    if (err) ctx.addIssue({ code: 'custom', message: err });
  }),
);

const g = 'HTTP proxying';
const intIn = (min: number, max: number) => z.number().check(z.int(), z.minimum(min), z.maximum(max));

/** Settings shared by every HTTP proxying component, so limits and timeouts read the same everywhere. */
export const httpProxySettings = {
  trustedProxies: setting.list({
    help: 'CIDRs whose X-Forwarded-For/Forwarded are believed (none by default)',
    metavar: 'CIDR,...',
    default: [],
    group: g,
    schema: zTrustedProxies,
  }),
  forwarded: setting.boolean({
    help: 'also send the RFC 7239 Forwarded header upstream',
    default: false,
    group: g,
  }),
  maxHeaderSize: setting.number({
    help: 'largest request head in bytes (larger -> 431; HTTP/2: SETTINGS_MAX_HEADER_LIST_SIZE)',
    metavar: 'BYTES',
    default: 16384,
    group: g,
    schema: intIn(1024, 1 << 20),
  }),
  headerTimeout: setting.duration({
    help: 'time to receive a request head (slowloris guard)',
    default: 10_000,
    group: g,
  }),
  requestTimeout: setting.duration({ help: 'time to receive a whole request', default: 300_000, group: g }),
  idleTimeout: setting.duration({
    help: 'client keep-alive idle timeout (HTTP/2: GOAWAY)',
    default: 60_000,
    group: g,
  }),
  upstreamTimeout: setting.duration({
    help: 'time for the upstream to send response headers (-> 504)',
    default: 60_000,
    group: g,
  }),
  connectTimeout: setting.duration({
    help: 'time to connect to the upstream (-> 504)',
    default: 5000,
    group: g,
  }),
  upstreamConnections: setting.number({
    help: 'max keep-alive connections per upstream',
    default: 128,
    group: g,
    schema: intIn(1, 10_000),
  }),
  upstreamQueue: setting.number({
    help: 'requests that may wait for an upstream connection (more -> 503 with Retry-After: 1)',
    default: 1024,
    group: g,
    schema: intIn(0, 1_000_000),
  }),
  upstreamQueueTimeout: setting.duration({
    help: 'time a request may wait for an upstream connection (-> 503 with Retry-After: 1); 0 none',
    default: 10_000,
    group: g,
  }),
  bodyHighWater: setting.number({
    help: 'request body bytes held per request (waiting for the upstream) before the client is paused',
    metavar: 'BYTES',
    default: 65_536,
    group: g,
    schema: intIn(1024, 64 << 20),
  }),
  minBodyRate: setting.number({
    help: 'bytes/s a request body must average over each --header-timeout window (-> 408); 0 off',
    metavar: 'BYTES',
    default: 512,
    group: g,
    schema: z.number().check(z.int(), z.minimum(0)),
  }),
  bufferBudget: setting.number({
    help: 'request body bytes the whole process holds for clients; beyond it every client waits',
    metavar: 'BYTES',
    default: 67_108_864,
    group: g,
    schema: intIn(1 << 20, 2 ** 40),
  }),
  tunnelIdleTimeout: setting.duration({
    help: 'close an upgraded connection (WebSocket) after this long without a byte either way; 0 none',
    default: 600_000,
    group: g,
  }),
};

export const httpProxySchema = shapeOf(httpProxySettings);
export type HttpProxyConfig = z.infer<z.ZodMiniObject<typeof httpProxySchema>>;

/** The front end's limits from the shared proxy flags. */
export function httpLimitsOf(c: HttpProxyConfig): HttpLimits {
  return {
    maxHeaderSize: c.maxHeaderSize,
    headerTimeout: c.headerTimeout,
    requestTimeout: c.requestTimeout,
    idleTimeout: c.idleTimeout,
    bodyHighWater: c.bodyHighWater,
    minBodyRate: c.minBodyRate,
    bufferBudget: c.bufferBudget,
  };
}

/** createUpstream's options from the shared proxy flags. */
export function upstreamOptionsOf(c: HttpProxyConfig): UpstreamOptions {
  return {
    connections: c.upstreamConnections,
    connectTimeout: c.connectTimeout,
    headersTimeout: c.upstreamTimeout,
    queueLimit: c.upstreamQueue,
    queueTimeout: c.upstreamQueueTimeout,
    tunnelIdleTimeout: c.tunnelIdleTimeout,
  };
}
