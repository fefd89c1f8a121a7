import { isIP } from 'node:net';
import { TrustedProxies } from '@dds/core/http/trusted-proxies';
import { z } from 'zod';
import { parseKeyPart } from './key-spec.js';
import { parseRate, RATE_HINT } from './rate.js';

export const zRate = z.string().refine((s) => parseRate(s) !== undefined, { message: RATE_HINT });

export const zAlgorithm = z.enum(['gcra', 'sliding-window']);

/** `ip`, or a list whose parts are joined into one key (e.g. [header:x-api-key, ip]). */
export const zKey = z
  .union([z.string(), z.array(z.string()).min(1)])
  .transform((v) => (Array.isArray(v) ? v : v.split(',')))
  .superRefine((parts, ctx) => {
    for (const p of parts) {
      const r = parseKeyPart(p);
      if (typeof r === 'string') ctx.addIssue({ code: 'custom', message: r });
    }
  });

export const zLimit = z
  .strictObject({
    /** name in the RateLimit headers; default: the policy name (plus -N after the first limit) */
    name: z
      .string()
      .regex(/^[A-Za-z0-9._:/-]+$/, 'letters, digits and . _ : / - only')
      .optional(),
    rate: zRate,
    /** extra requests admitted at once above the steady rate (GCRA; as nginx limit_req burst) */
    burst: z.number().int().min(0).default(0),
    algorithm: zAlgorithm.default('gcra'),
  })
  .superRefine((l, ctx) => {
    const r = parseRate(l.rate);
    if (r && l.algorithm === 'sliding-window' && r.count < 1)
      ctx.addIssue({
        code: 'custom',
        path: ['rate'],
        message: 'a sliding window needs at least 1 request per window',
      });
  });

const zHeaderMatch = z.record(z.string(), z.string());

export const zMatch = z
  .strictObject({
    methods: z.array(z.string().regex(/^[A-Za-z]+$/, 'an HTTP method')).optional(),
    /** exact host names, or *.example.com; the port is ignored */
    hosts: z.array(z.string().min(1)).optional(),
    pathPrefix: z.string().startsWith('/').optional(),
    /** header name -> exact value, or "*" for present */
    headers: zHeaderMatch.optional(),
  })
  .default({});

/** Allow-list entries are IPs/CIDRs (matched against the client IP) or exact key values. */
const zAllow = z.array(z.string());

export const zPolicy = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9._:/-]+$/, 'letters, digits and . _ : / - only'),
  match: zMatch,
  key: zKey.default(['ip']),
  limits: z.array(zLimit).min(1),
  /** per-key limits replacing `limits` for the listed key values (e.g. a paid tier) */
  overrides: z
    .array(z.strictObject({ keys: z.array(z.string()).min(1), limits: z.array(zLimit).min(1) }))
    .default([]),
  allow: zAllow.default([]),
  /** a request lacking a key part: `skip` the policy, or count them all under one `shared` key */
  missingKey: z.enum(['skip', 'shared']).default('skip'),
  /** count and label what would be limited, never deny */
  dryRun: z.boolean().default(false),
});

export type PolicyConfig = z.output<typeof zPolicy>;
export type LimitConfig = z.output<typeof zLimit>;

export const zPolicies = z.array(zPolicy).superRefine((list, ctx) => {
  const seen = new Set<string>();
  list.forEach((p, i) => {
    if (seen.has(p.name))
      ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate policy name "${p.name}"` });
    seen.add(p.name);
    const cidrs = p.allow.filter(isCidr);
    const err = TrustedProxies.validate(cidrs);
    if (err) ctx.addIssue({ code: 'custom', path: [i, 'allow'], message: err });
  });
});

/** An allow-list entry that names addresses rather than a key value. */
export function isCidr(entry: string): boolean {
  const [addr, bits] = entry.split('/');
  return isIP(addr ?? '') !== 0 && (bits === undefined || /^\d+$/.test(bits));
}
