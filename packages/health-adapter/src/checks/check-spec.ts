import { zAddress, zDuration } from '@dds/core/config/schemas';
import { z } from 'zod';

/** Names become URL paths (/readyz/<name>) and metric label values. */
const zName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, 'letters, digits, "_", "." and "-", at most 63 characters');

/** Where a database or Redis password comes from; never the URL (it would be logged). */
const secret = {
  /** literal password in the config file (redacted from /config) */
  password: z.string().optional(),
  /** file holding the password, read at every run so a rotated Secret is picked up */
  passwordFile: z.string().optional(),
  /** environment variable holding the password */
  passwordEnv: z.string().optional(),
};

export const urlWithoutPassword = (protocols: string[], example: string) =>
  z.string().superRefine((s, ctx) => {
    let u: URL;
    try {
      u = new URL(s);
    } catch {
      ctx.addIssue({ code: 'custom', message: `expected a URL like ${example}` });
      return;
    }
    if (!protocols.includes(u.protocol))
      ctx.addIssue({ code: 'custom', message: `expected a URL like ${example}` });
    else if (u.password)
      ctx.addIssue({
        code: 'custom',
        message: 'no password in the URL (it would be logged): use password, passwordFile or passwordEnv',
      });
  });

/** TLS to a database or Redis (rediss:// turns it on too); the CA file is re-read at every run. */
const tls = {
  tls: z.boolean().default(false),
  /** PEM file of the CA(s) to trust instead of the system store */
  tlsCa: z.string().optional(),
  /** accept any server certificate (test setups only) */
  tlsInsecure: z.boolean().default(false),
};

/** Settings every check shares; absent ones take the global --interval, --timeout, ... */
const common = {
  name: zName,
  critical: z.boolean().default(true),
  interval: zDuration.pipe(z.number().min(100, 'at least 100ms')).optional(),
  timeout: zDuration.pipe(z.number().min(1, 'at least 1ms')).optional(),
  successThreshold: z.number().int().min(1).max(1000).optional(),
  failureThreshold: z.number().int().min(1).max(1000).optional(),
};

/** "200-399", "200,204", "200-299,301" -> list of [lo, hi] */
export const zStatusRanges = z.string().transform((s, ctx) => {
  const out: Array<[number, number]> = [];
  for (const part of s.split(',')) {
    const m = /^\s*(\d{3})\s*(?:-\s*(\d{3}))?\s*$/.exec(part);
    const lo = Number(m?.[1]);
    const hi = Number(m?.[2] ?? m?.[1]);
    if (!m || lo < 100 || hi > 599 || lo > hi) {
      ctx.addIssue({ code: 'custom', message: 'expected status ranges like "200-399" or "200,204"' });
      return z.NEVER;
    }
    out.push([lo, hi]);
  }
  return out;
});

const zRegex = z.string().transform((s, ctx) => {
  try {
    return new RegExp(s);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: `invalid regular expression: ${(e as Error).message}` });
    return z.NEVER;
  }
});

export const zHttpUrl = z
  .string()
  .refine((s) => /^https?:\/\/[^/\s]+/.test(s), 'expected http://HOST:PORT/PATH or https://...');

export const zMysqlUrl = urlWithoutPassword(['mysql:', 'mariadb:'], 'mysql://USER@HOST:3306/DB');
export const zPostgresUrl = urlWithoutPassword(['postgres:', 'postgresql:'], 'postgres://USER@HOST:5432/DB');
export const zRedisUrl = urlWithoutPassword(['redis:', 'rediss:'], 'redis://[USER@]HOST:6379');

export const mysqlCheck = z.strictObject({
  ...common,
  type: z.literal('mysql'),
  url: zMysqlUrl,
  query: z.string().min(1).default('SELECT 1'),
  ...secret,
  ...tls,
});

export const postgresCheck = z.strictObject({
  ...common,
  type: z.literal('postgres'),
  url: zPostgresUrl,
  query: z.string().min(1).default('SELECT 1'),
  ...secret,
  ...tls,
});

export const redisCheck = z.strictObject({
  ...common,
  type: z.literal('redis'),
  url: zRedisUrl,
  /** a replica also needs master_link_status:up */
  replicaLink: z.boolean().default(false),
  ...secret,
  ...tls,
});

export const memcachedCheck = z.strictObject({
  ...common,
  type: z.literal('memcached'),
  address: zAddress,
});

export const httpCheck = z.strictObject({
  ...common,
  type: z.literal('http'),
  url: zHttpUrl,
  method: z.enum(['GET', 'HEAD', 'POST']).default('GET'),
  headers: z.record(z.string(), z.string()).default({}),
  expectStatus: zStatusRanges.default([[200, 399]]),
  /** the body (first maxBody bytes) must match */
  bodyRegex: zRegex.optional(),
  maxBody: z
    .number()
    .int()
    .min(1)
    .max(16 * 1024 * 1024)
    .default(64 * 1024),
  /** accept any server certificate (self-signed test endpoints only) */
  insecure: z.boolean().default(false),
});

export const tcpCheck = z.strictObject({
  ...common,
  type: z.literal('tcp'),
  address: zAddress,
});

export const grpcCheck = z.strictObject({
  ...common,
  type: z.literal('grpc'),
  address: zAddress,
  /** service name asked about; "" is the server as a whole */
  service: z.string().default(''),
  tls: z.boolean().default(false),
  tlsCa: z.string().optional(),
});

export const execCheck = z.strictObject({
  ...common,
  type: z.literal('exec'),
  /** a string runs through /bin/sh -c; a list runs without a shell */
  command: z.union([z.string().min(1), z.array(z.string()).min(1)]),
  /** stdout+stderr kept for the check's output; the rest is counted and dropped */
  maxOutput: z
    .number()
    .int()
    .min(64)
    .max(1024 * 1024)
    .default(4096),
});

export const checkSchema = z.discriminatedUnion('type', [
  mysqlCheck,
  postgresCheck,
  redisCheck,
  memcachedCheck,
  httpCheck,
  tcpCheck,
  grpcCheck,
  execCheck,
]);

export type CheckSpec = z.infer<typeof checkSchema>;
export type CheckType = CheckSpec['type'];

export interface Timing {
  interval: number;
  timeout: number;
  successThreshold: number;
  failureThreshold: number;
}

/** A check with every timing setting filled in from the global defaults. */
export type ResolvedCheck = CheckSpec & Timing & { critical: boolean };
