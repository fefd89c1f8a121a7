import { z } from 'zod';
import { parseAddress } from '../net/host-port.js';
import { parseDuration } from './duration.js';

/** Reusable schema pieces so every component validates addresses and durations alike. */
export const zAddress = z.string().superRefine((s, ctx) => {
  const a = parseAddress(s);
  if (typeof a === 'string') ctx.addIssue({ code: 'custom', message: `invalid address: ${a}` });
});

/** `off` or an address. */
export const zAddressOrOff = z.union([z.literal('off'), zAddress]);

/** Milliseconds; accepts `10s`, `500ms`, `2m` or a number of milliseconds. */
export const zDuration = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const ms = parseDuration(v);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: 'expected a duration like 500ms, 10s or 2m' });
    return z.NEVER;
  }
  return ms;
});

export const zLogLevel = z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']);

/** Upstream URL: http://host:port, https://host:port or unix:/path/to.sock */
export const zUpstreamUrl = z.string().refine((s) => /^(https?:\/\/[^/\s]+\/?|unix:\/.+)$/.test(s), {
  message: 'expected http://host:port, https://host:port or unix:/path.sock',
});

/** The settings every component shares (admin server, logging, lifecycle). */
export const commonSchema = {
  admin: zAddressOrOff,
  logLevel: zLogLevel,
  shutdownDelay: zDuration,
  drainTimeout: zDuration,
  reloadInterval: zDuration,
  workers: z.number().int().min(1).max(64).default(1),
};

export type CommonConfig = {
  admin: string;
  logLevel: z.infer<typeof zLogLevel>;
  shutdownDelay: number;
  drainTimeout: number;
  reloadInterval: number;
  /** processes serving traffic (components that support it); 1 = no cluster */
  workers: number;
};
