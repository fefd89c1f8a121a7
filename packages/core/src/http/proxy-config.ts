import type { FlagSpec } from '../config/flags.js';
import { zDuration } from '../config/schemas.js';
import * as z from '../config/zod.js';
import type { HttpLimits } from './http-server.js';
import { TrustedProxies } from './trusted-proxies.js';
import type { UpstreamOptions } from './upstream.js';

/** `--upstream`: the app a sidecar proxy stands in front of (same pod, so loopback by default). */
export const upstreamFlag = (): FlagSpec => ({
  name: 'upstream',
  type: 'string',
  help: 'the app: http://host:port or unix:/path.sock',
  metavar: 'URL',
  default: 'http://127.0.0.1:8080',
});

/** Flags shared by every HTTP proxying component, so limits and timeouts read the same everywhere. */
export function httpProxyFlags(): FlagSpec[] {
  const g = 'HTTP proxying';
  return [
    {
      name: 'trusted-proxies',
      type: 'list',
      help: 'CIDRs whose X-Forwarded-For/Forwarded are believed (none by default)',
      metavar: 'CIDR,...',
      default: [],
      group: g,
    },
    {
      name: 'forwarded',
      type: 'boolean',
      help: 'also send the RFC 7239 Forwarded header upstream',
      default: false,
      group: g,
    },
    {
      name: 'max-header-size',
      type: 'number',
      help: 'largest request head in bytes (larger -> 431)',
      metavar: 'BYTES',
      default: 16384,
      group: g,
    },
    {
      name: 'header-timeout',
      type: 'duration',
      help: 'time to receive a request head (slowloris guard)',
      default: 10_000,
      group: g,
    },
    {
      name: 'request-timeout',
      type: 'duration',
      help: 'time to receive a whole request',
      default: 300_000,
      group: g,
    },
    {
      name: 'idle-timeout',
      type: 'duration',
      help: 'client keep-alive idle timeout',
      default: 60_000,
      group: g,
    },
    {
      name: 'upstream-timeout',
      type: 'duration',
      help: 'time for the upstream to send response headers (-> 504)',
      default: 60_000,
      group: g,
    },
    {
      name: 'connect-timeout',
      type: 'duration',
      help: 'time to connect to the upstream (-> 504)',
      default: 5000,
      group: g,
    },
    {
      name: 'upstream-connections',
      type: 'number',
      help: 'max keep-alive connections per upstream',
      default: 128,
      group: g,
    },
    {
      name: 'upstream-queue',
      type: 'number',
      help: 'requests that may wait for an upstream connection (more -> 503 with Retry-After)',
      default: 1024,
      group: g,
    },
    {
      name: 'upstream-queue-timeout',
      type: 'duration',
      help: 'time a request may wait for an upstream connection (-> 503 with Retry-After); 0 none',
      default: 10_000,
      group: g,
    },
    {
      name: 'body-high-water',
      type: 'number',
      help: 'request body bytes held per request (waiting for the upstream) before the client is paused',
      metavar: 'BYTES',
      default: 65_536,
      group: g,
    },
    {
      name: 'min-body-rate',
      type: 'number',
      help: 'bytes/s a request body must average over each --header-timeout window (-> 408); 0 off',
      metavar: 'BYTES',
      default: 512,
      group: g,
    },
    {
      name: 'buffer-budget',
      type: 'number',
      help: 'request body bytes the whole process holds for clients; beyond it every client waits',
      metavar: 'BYTES',
      default: 67_108_864,
      group: g,
    },
    {
      name: 'tunnel-idle-timeout',
      type: 'duration',
      help: 'close an upgraded connection (WebSocket) after this long without a byte either way; 0 none',
      default: 600_000,
      group: g,
    },
  ];
}

export const zTrustedProxies = z.array(z.string()).check(
  z.superRefine((list, ctx) => {
    const err = TrustedProxies.validate(list);
    if (err) ctx.addIssue({ code: 'custom', message: err });
  }),
);

/** Schema fields matching httpProxyFlags(). */
export const httpProxySchema = {
  trustedProxies: zTrustedProxies,
  forwarded: z.boolean(),
  maxHeaderSize: z.number().check(z.int(), z.minimum(1024), z.maximum(1 << 20)),
  headerTimeout: zDuration,
  requestTimeout: zDuration,
  idleTimeout: zDuration,
  upstreamTimeout: zDuration,
  connectTimeout: zDuration,
  upstreamConnections: z.number().check(z.int(), z.minimum(1), z.maximum(10_000)),
  upstreamQueue: z.number().check(z.int(), z.minimum(0), z.maximum(1_000_000)),
  upstreamQueueTimeout: zDuration,
  bodyHighWater: z.number().check(z.int(), z.minimum(1024), z.maximum(64 << 20)),
  minBodyRate: z.number().check(z.int(), z.minimum(0)),
  bufferBudget: z.number().check(z.int(), z.minimum(1 << 20), z.maximum(2 ** 40)),
  tunnelIdleTimeout: zDuration,
};

export interface HttpProxyConfig {
  trustedProxies: readonly string[];
  forwarded: boolean;
  maxHeaderSize: number;
  headerTimeout: number;
  requestTimeout: number;
  idleTimeout: number;
  upstreamTimeout: number;
  connectTimeout: number;
  upstreamConnections: number;
  upstreamQueue: number;
  upstreamQueueTimeout: number;
  bodyHighWater: number;
  minBodyRate: number;
  bufferBudget: number;
  tunnelIdleTimeout: number;
}

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
