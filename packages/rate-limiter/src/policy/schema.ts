import * as z from '@dds/core/config/zod';
import { type KeyEntry, parseEntry } from './key-entries.js';
import { type KeyPart, parseKeyPart } from './key-spec.js';
import { parseRate, RATE_HINT } from './rate.js';

export const zRate = z.string().check(z.refine((s) => parseRate(s) !== undefined, { message: RATE_HINT }));

export const zAlgorithm = z.enum(['gcra', 'sliding-window']);

/** `ip`, or a list whose parts are joined into one key (e.g. [header:x-api-key, ip]). */
export const zKey = z
  .pipe(
    z.union([z.string(), z.array(z.string()).check(z.minLength(1))]),
    z.transform((v) => (Array.isArray(v) ? v : v.split(','))),
  )
  .check(
    z.superRefine((parts, ctx) => {
      for (const p of parts) {
        const r = parseKeyPart(p);
        if (typeof r === 'string') ctx.addIssue({ code: 'custom', message: r });
      }
    }),
  );

export const zLimit = z
  .strictObject({
    /** name in the RateLimit headers; default: the policy name (plus -N after the first limit) */
    name: z.optional(z.string().check(z.regex(/^[A-Za-z0-9._:/-]+$/, 'letters, digits and . _ : / - only'))),
    rate: zRate,
    /** extra requests admitted at once above the steady rate (GCRA; as nginx limit_req burst) */
    burst: z._default(z.number().check(z.int(), z.minimum(0)), 0),
    algorithm: z._default(zAlgorithm, 'gcra'),
  })
  .check(
    z.superRefine((l, ctx) => {
      const r = parseRate(l.rate);
      if (r && l.algorithm === 'sliding-window' && r.count < 1)
        ctx.addIssue({
          code: 'custom',
          path: ['rate'],
          message: 'a sliding window needs at least 1 request per window',
        });
    }),
  );

const zHeaderMatch = z.record(z.string(), z.string());

export const zMatch = z._default(
  z.strictObject({
    methods: z.optional(z.array(z.string().check(z.regex(/^[A-Za-z]+$/, 'an HTTP method')))),
    /** exact host names, or *.example.com; the port is ignored */
    hosts: z.optional(z.array(z.string().check(z.minLength(1)))),
    pathPrefix: z.optional(z.string().check(z.startsWith('/'))),
    /** header name -> exact value, or "*" for present */
    headers: z.optional(zHeaderMatch),
  }),
  {},
);

/**
 * An allow-list or override entry: an IP/CIDR (the client), `PART=VALUE` (one part of the key),
 * a bare value (a key of one part), or {PART: VALUE, ...} (all of them). See key-entries.ts.
 */
const zEntry = z.union([z.string(), z.record(z.string(), z.string())]);

export const zPolicy = z.strictObject({
  name: z.string().check(z.regex(/^[A-Za-z0-9._:/-]+$/, 'letters, digits and . _ : / - only')),
  match: zMatch,
  key: z._default(zKey, ['ip']),
  limits: z.array(zLimit).check(z.minLength(1)),
  /** per-key limits replacing `limits` for the listed key values (e.g. a paid tier) */
  overrides: z._default(
    z.array(
      z.strictObject({
        keys: z.array(zEntry).check(z.minLength(1)),
        limits: z.array(zLimit).check(z.minLength(1)),
      }),
    ),
    [],
  ),
  allow: z._default(z.array(zEntry), []),
  /** a request lacking a key part: `skip` the policy, or count them all under one `shared` key */
  missingKey: z._default(z.enum(['skip', 'shared']), 'skip'),
  /** count and label what would be limited, never deny */
  dryRun: z._default(z.boolean(), false),
});

export type PolicyConfig = z.output<typeof zPolicy>;
export type LimitConfig = z.output<typeof zLimit>;

export const zPolicies = z.array(zPolicy).check(
  z.superRefine((list, ctx) => {
    const seen = new Set<string>();
    list.forEach((p, i) => {
      if (seen.has(p.name))
        ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate policy name "${p.name}"` });
      seen.add(p.name);
      const parts = p.key.map(parseKeyPart);
      if (parts.some((k) => typeof k === 'string')) return; // reported on `key`
      forEachEntry(p, (entry, path) => {
        const r = parseEntry(entry, parts as KeyPart[]);
        if (typeof r === 'string') ctx.addIssue({ code: 'custom', path: [i, ...path], message: r });
      });
    });
  }),
);

/** Every allow-list and override entry of a policy with its path (`allow.0`, `overrides.1.keys.0`). */
export function forEachEntry(
  p: PolicyConfig,
  fn: (entry: KeyEntry, path: (string | number)[]) => void,
): void {
  p.allow.forEach((e, k) => {
    fn(e, ['allow', k]);
  });
  p.overrides.forEach((o, j) => {
    o.keys.forEach((e, k) => {
      fn(e, ['overrides', j, 'keys', k]);
    });
  });
}
