import type { FlagSpec } from '@dds/core/config/flags';
import { type CommonConfig, commonSchema, zAddress, zDuration, zUpstreamUrl } from '@dds/core/config/schemas';
import {
  type HttpProxyConfig,
  httpProxyFlags,
  httpProxySchema,
  upstreamFlag,
} from '@dds/core/http/proxy-config';
import { z } from 'zod';
import { zAlgorithm, zKey, zPolicies, zRate } from './policy/schema.js';

const L = 'Rate limiting';
const R = 'Distributed mode (Redis)';

export const flags: FlagSpec[] = [
  {
    name: 'listen',
    type: 'string',
    help: 'HTTP listen address',
    metavar: 'HOST:PORT',
    default: '0.0.0.0:8084',
  },
  upstreamFlag(),
  {
    name: 'rate',
    type: 'string',
    help: 'flags-only policy: rate like 100/s, 10/m, 1000/h (empty: only YAML policies)',
    metavar: 'N/PERIOD',
    default: '',
    group: L,
  },
  {
    name: 'burst',
    type: 'number',
    help: 'flags-only policy: extra requests admitted at once above the rate (as nginx burst)',
    default: 0,
    group: L,
  },
  {
    name: 'key',
    type: 'list',
    help: 'flags-only policy: ip, header:NAME, cookie:NAME, jwt:CLAIM[@HEADER]; several are combined',
    metavar: 'KEY,...',
    default: ['ip'],
    group: L,
  },
  {
    name: 'algorithm',
    type: 'string',
    help: 'flags-only policy: gcra (token bucket) or sliding-window',
    default: 'gcra',
    group: L,
  },
  {
    name: 'policy-name',
    type: 'string',
    help: 'flags-only policy: name in headers and metrics (default per-<key>)',
    default: '',
    group: L,
  },
  {
    name: 'headers',
    type: 'string',
    help: 'RateLimit-Policy/RateLimit headers on: denied responses, all responses, or off',
    metavar: 'denied|all|off',
    default: 'denied',
    group: L,
  },
  {
    name: 'dry-run',
    type: 'boolean',
    help: 'shadow mode: count and label requests that would be limited, deny none',
    default: false,
    group: L,
  },
  {
    name: 'shadow-header',
    type: 'string',
    help: 'request header naming the limits a dry-run request exceeded (sent upstream)',
    default: 'x-ratelimit-shadow',
    group: L,
  },
  {
    name: 'max-keys',
    type: 'number',
    help: 'most keys held per limit in local mode; the least recently used go first',
    default: 100_000,
    group: L,
  },
  {
    name: 'redis',
    type: 'string',
    help: 'share limits across replicas through this Redis (redis://[:pass@]host:port[/db])',
    metavar: 'URL',
    default: '',
    secret: true,
    group: R,
  },
  { name: 'redis-prefix', type: 'string', help: 'prefix of every Redis key', default: 'dds:rl:', group: R },
  {
    name: 'redis-timeout',
    type: 'duration',
    help: 'time for one Redis decision before it counts as a failure',
    default: 200,
    group: R,
  },
  {
    name: 'fail-mode',
    type: 'string',
    help: 'when Redis is unreachable: open (admit) or closed (answer 503)',
    metavar: 'open|closed',
    default: 'open',
    group: R,
  },
  {
    name: 'deny-cache',
    type: 'duration',
    help: 'answer keys already over their limit locally for up to this long (0: off)',
    default: 1000,
    group: R,
  },
  ...httpProxyFlags(),
];

export const schema = z
  .strictObject({
    ...commonSchema,
    ...httpProxySchema,
    listen: zAddress,
    upstream: zUpstreamUrl,
    rate: z.union([z.literal(''), zRate]),
    burst: z.number().int().min(0),
    key: zKey,
    algorithm: zAlgorithm,
    policyName: z.string().regex(/^[A-Za-z0-9._:/-]*$/, 'letters, digits and . _ : / - only'),
    headers: z.enum(['denied', 'all', 'off']),
    dryRun: z.boolean(),
    shadowHeader: z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'a header name'),
    maxKeys: z.number().int().min(1).max(100_000_000),
    redis: z.union([z.literal(''), z.string().regex(/^rediss?:\/\/\S+$/, 'expected redis://host:port')]),
    redisPrefix: z.string(),
    redisTimeout: zDuration,
    failMode: z.enum(['open', 'closed']),
    denyCache: zDuration,
    /** YAML only: the policies (see README) */
    policies: zPolicies.default([]),
  })
  .superRefine((c, ctx) => {
    if (c.workers > 1 && c.redis === '')
      ctx.addIssue({
        code: 'custom',
        path: ['workers'],
        message: 'more than one worker needs --redis (local limits are kept per process)',
      });
    if (c.rate === '' && c.policies.length === 0)
      ctx.addIssue({ code: 'custom', path: ['rate'], message: 'set --rate or define policies in YAML' });
    if (c.rate !== '' && c.policies.some((p) => p.name === flagPolicyName(c)))
      ctx.addIssue({
        code: 'custom',
        path: ['policyName'],
        message: `"${flagPolicyName(c)}" is also a YAML policy name`,
      });
  });

export type RateLimiterConfig = z.output<typeof schema> & CommonConfig & HttpProxyConfig;

/** Name of the policy the flags describe. */
export function flagPolicyName(c: { policyName: string; key: string[] }): string {
  return c.policyName || `per-${c.key.map((k) => k.replace(/[^A-Za-z0-9._-]+/g, '-')).join('-')}`;
}
