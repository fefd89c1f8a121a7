import { type AccessLogConfig, accessLogSettings } from '@dds/core/access-log/access-log-config';
import { type CommonConfig, configSchema } from '@dds/core/config/common-flags';
import { zAddressOrOff, zToken } from '@dds/core/config/schemas';
import { flagsOf, setting } from '@dds/core/config/settings';
import * as z from '@dds/core/config/zod';
import { type HttpProxyConfig, httpProxySettings, upstreamSetting } from '@dds/core/http/proxy-config';
import { checkRedisSettings, redisConfigured, redisSettings } from '@dds/core/redis/redis-settings';
import { jwtConfigured, jwtSourceError, MIN_SECRET_LENGTH } from './policy/jwt-verifier.js';
import { parseEntry } from './policy/key-entries.js';
import { type KeyPart, parseKeyPart, partName } from './policy/key-spec.js';
import { forEachEntry, zAlgorithm, zKey, zPolicies, zRate } from './policy/schema.js';

const L = 'Rate limiting';
const J = 'JWT keys (without a key source, jwt: claims are decoded unverified and cannot be allow-listed)';
const R = 'Distributed mode (Redis)';
const G = "Envoy's global rate-limit service (RLS, gRPC)";

export const settings = {
  listen: setting.address({
    help: 'HTTP listen address; off in dds-pod for a component reached only through internal: upstreams',
    schema: zAddressOrOff,
    default: '0.0.0.0:8084',
  }),
  upstream: upstreamSetting(),
  rate: setting.string({
    help: 'flags-only policy: rate like 100/s, 10/m, 1000/h (empty: only YAML policies)',
    metavar: 'N/PERIOD',
    default: '',
    group: L,
    schema: z.union([z.literal(''), zRate]),
  }),
  burst: setting.number({
    help: 'flags-only policy: extra requests admitted at once above the rate (as nginx burst)',
    default: 0,
    group: L,
    schema: z.number().check(z.int(), z.minimum(0)),
  }),
  key: setting.list({
    help: 'flags-only policy: ip, header:NAME, cookie:NAME, jwt:CLAIM[@HEADER]; several are combined',
    metavar: 'KEY,...',
    default: ['ip'],
    group: L,
    schema: zKey,
  }),
  algorithm: setting.string({
    help: 'flags-only policy: gcra (token bucket) or sliding-window',
    default: 'gcra',
    group: L,
    schema: zAlgorithm,
  }),
  policyName: setting.string({
    help: 'flags-only policy: name in headers and metrics (default per-<key>)',
    default: '',
    group: L,
    schema: z.string().check(z.regex(/^[A-Za-z0-9._:/-]*$/, 'letters, digits and . _ : / - only')),
  }),
  headers: setting.string({
    help: 'RateLimit-Policy/RateLimit headers on: denied responses, all responses, or off',
    metavar: 'denied|all|off',
    default: 'denied',
    group: L,
    schema: z.enum(['denied', 'all', 'off']),
  }),
  dryRun: setting.boolean({
    help: 'shadow mode: count and label requests that would be limited, deny none',
    default: false,
    group: L,
  }),
  shadowHeader: setting.string({
    help: 'request header naming the limits a dry-run request exceeded (sent upstream)',
    default: 'x-ratelimit-shadow',
    group: L,
    schema: zToken('a header name'),
  }),
  maxKeys: setting.number({
    help: 'most keys held per limit in local mode; the least recently used go first',
    default: 100_000,
    group: L,
    schema: z.number().check(z.int(), z.minimum(1), z.maximum(100_000_000)),
  }),
  ...redisSettings({
    group: R,
    urlHelp:
      'share limits across replicas through this Redis (redis://[[user]:password@]host:port[/db], rediss:// for TLS)',
  }),
  redisPrefix: setting.string({
    help: 'prefix of every Redis key',
    default: 'dds:rl:',
    group: R,
    schema: z.string().check(z.regex(/^[^{}]*$/, 'no braces: the limiter adds its own hash tag')),
  }),
  redisTimeout: setting.duration({
    help: 'time for one Redis decision before it counts as a failure',
    default: 200,
    group: R,
  }),
  failMode: setting.string({
    help: 'when Redis is unreachable: open (admit) or closed (answer 503)',
    metavar: 'open|closed',
    default: 'open',
    group: R,
    schema: z.enum(['open', 'closed']),
  }),
  denyCache: setting.duration({
    help: 'answer keys already over their limit locally for up to this long (0: off)',
    default: 1000,
    group: R,
  }),
  rlsConfig: setting.string({
    help: 'envoyproxy/ratelimit descriptor YAML (a file or a directory of them; watched): serves RLS on --rls-listen',
    metavar: 'PATH',
    default: '',
    group: G,
  }),
  rlsListen: setting.address({
    help: 'gRPC listener of envoy.service.ratelimit.v3.RateLimitService and grpc.health.v1 (with --rls-config)',
    default: '0.0.0.0:8081',
    group: G,
  }),
  rlsAlgorithm: setting.string({
    help: "fixed-window (envoyproxy/ratelimit's decisions), gcra (bucket of N per unit) or sliding-window",
    metavar: 'NAME',
    default: 'fixed-window',
    group: G,
    schema: z.enum(['fixed-window', 'gcra', 'sliding-window']),
  }),
  rlsRedisPrefix: setting.string({
    help: "prefix of fixed-window keys (envoyproxy/ratelimit's CACHE_KEY_PREFIX; '' = its keys)",
    default: '',
    group: G,
  }),
  rlsHeaders: setting.boolean({
    help: 'ask Envoy to add RateLimit-Policy and RateLimit (IETF draft) to responses',
    default: false,
    group: G,
  }),
  rlsShadowMode: setting.boolean({
    help: 'answer OK to every call, counting what would be limited (envoyproxy/ratelimit SHADOW_MODE)',
    default: false,
    group: G,
  }),
  jwt: {
    secretFile: setting.string({
      help: `verify jwt: keys with this HMAC key (HS256/384/512, at least ${MIN_SECRET_LENGTH} characters)`,
      metavar: 'FILE',
      default: '',
      group: J,
    }),
    jwksFile: setting.string({
      help: 'verify jwt: keys with the public keys of this JWKS file (re-read when it changes)',
      metavar: 'FILE',
      default: '',
      group: J,
    }),
    jwksUrl: setting.string({
      help: 'verify jwt: keys with the public keys of this JWKS endpoint (https; cached, refetched for unknown kids)',
      metavar: 'URL',
      default: '',
      group: J,
    }),
    issuer: setting.list({
      help: 'accepted iss values (default: not checked)',
      metavar: 'ISS,...',
      default: [],
      group: J,
      schema: z.array(z.string().check(z.minLength(1))),
    }),
    audience: setting.list({
      help: 'accepted aud values (default: not checked)',
      metavar: 'AUD,...',
      default: [],
      group: J,
      schema: z.array(z.string().check(z.minLength(1))),
    }),
    algorithms: setting.list({
      help: 'accepted alg values (default: HS* with a secret; RS*, PS*, ES*, EdDSA with a JWKS)',
      metavar: 'ALG,...',
      default: [],
      group: J,
      schema: z.array(z.string().check(z.minLength(1))),
    }),
    clockTolerance: setting.duration({
      help: 'leeway for exp and nbf',
      default: 30_000,
      group: J,
    }),
    cacheSize: setting.number({
      flag: 'jwt-cache',
      help: 'verified tokens remembered (each at most 1m and never past its exp; 0: verify every request)',
      metavar: 'N',
      default: 4096,
      group: J,
      schema: z.number().check(z.int(), z.minimum(0), z.maximum(1_000_000)),
    }),
  },
  ...httpProxySettings,
  ...accessLogSettings,
};

export const flags = flagsOf(settings);

export const schema = configSchema(settings, {
  /** YAML only: the policies (see README) */
  policies: z._default(zPolicies, []),
}).check(
  z.superRefine((c, ctx) => {
    checkRedisSettings(c, ctx);
    if (c.workers > 1 && !redisConfigured(c))
      ctx.addIssue({
        code: 'custom',
        path: ['workers'],
        message:
          'more than one worker needs --redis (or --redis-cluster, --redis-sentinel): local limits are kept per process',
      });
    if (c.workers > 1 && c.rlsConfig !== '')
      ctx.addIssue({
        code: 'custom',
        path: ['workers'],
        message: 'the RLS listener runs in one process: no --workers',
      });
    if (c.rate === '' && c.policies.length === 0 && c.rlsConfig === '')
      ctx.addIssue({
        code: 'custom',
        path: ['rate'],
        message: 'set --rate, define policies in YAML, or serve Envoy with --rls-config',
      });
    if (c.rate !== '' && c.policies.some((p) => p.name === flagPolicyName(c)))
      ctx.addIssue({
        code: 'custom',
        path: ['policyName'],
        message: `"${flagPolicyName(c)}" is also a YAML policy name`,
      });
    const jwtProblem = jwtSourceError(c.jwt);
    if (jwtProblem)
      ctx.addIssue({ code: 'custom', path: ['jwt', jwtProblem.field], message: jwtProblem.message });
    if (!jwtConfigured(c.jwt)) {
      refuseUnverifiedEntries(c.policies, ctx);
      for (const f of ['issuer', 'audience', 'algorithms'] as const)
        if (c.jwt[f].length)
          ctx.addIssue({
            code: 'custom',
            path: ['jwt', f],
            message:
              'applies to verified tokens only: set --jwt-secret-file, --jwt-jwks-file or --jwt-jwks-url',
          });
    }
  }),
);

/**
 * Without a JWT key source a claim is whatever the client wrote into its token: an allow-list or
 * override entry on it would let anyone in. Such entries are refused, naming the entry.
 */
function refuseUnverifiedEntries(policies: z.output<typeof zPolicies>, ctx: z.core.$RefinementCtx): void {
  policies.forEach((p, i) => {
    const parts = p.key.map(parseKeyPart);
    if (parts.some((k) => typeof k === 'string') || !parts.some((k) => (k as KeyPart).kind === 'jwt')) return;
    forEachEntry(p, (entry, path) => {
      const conditions = parseEntry(entry, parts as KeyPart[]);
      if (typeof conditions === 'string') return; // reported by the policy schema
      const claim = conditions.find((x) => x.part !== 'ip' && (parts[x.part] as KeyPart).kind === 'jwt');
      if (claim === undefined || claim.part === 'ip') return;
      ctx.addIssue({
        code: 'custom',
        path: ['policies', i, ...path],
        message: `${partName(parts[claim.part] as KeyPart)} comes from a token nobody verified (anyone can write any claim): set --jwt-secret-file, --jwt-jwks-file or --jwt-jwks-url, or name another part of the key`,
      });
    });
  });
}

export type RateLimiterConfig = z.output<typeof schema> & CommonConfig & HttpProxyConfig & AccessLogConfig;

/** Name of the policy the flags describe. */
export function flagPolicyName(c: { policyName: string; key: string[] }): string {
  return c.policyName || `per-${c.key.map((k) => k.replace(/[^A-Za-z0-9._-]+/g, '-')).join('-')}`;
}
