import { TOKEN } from '../http/field-syntax.js';
import { parseAddress } from '../net/host-port.js';
import { parseDuration } from './duration.js';
import * as z from './zod.js';

/** Reusable schema pieces so every component validates addresses and durations alike. */
export const zAddress = z.string().check(
  z.superRefine((s, ctx) => {
    const a = parseAddress(s);
    if (typeof a === 'string') ctx.addIssue({ code: 'custom', message: `invalid address: ${a}` });
  }),
);

/** `off` or an address. */
export const zAddressOrOff = z.union([z.literal('off'), zAddress]);

/**
 * Reports a problem from inside `z.transform` (zod/mini hands a transform the bare parse payload,
 * without classic zod's `ctx.addIssue`); the path is relative to the transformed value.
 */
export function addIssue(
  ctx: z.core.ParsePayload,
  issue: { path?: (string | number)[]; message: string },
): void {
  ctx.issues.push({ code: 'custom', input: ctx.value, ...issue });
}

/** Milliseconds; accepts `10s`, `500ms`, `2m` or a number of milliseconds. */
export const zDuration = z.pipe(
  z.union([z.number(), z.string()]),
  z.transform((v: number | string, ctx) => {
    const ms = parseDuration(v);
    if (ms === undefined) {
      addIssue(ctx, { message: 'expected a duration like 500ms, 10s or 2m' });
      return z.NEVER;
    }
    return ms;
  }),
);

/** An HTTP token (a header or cookie name): `message` says what was expected. */
export const zToken = (message: string) => z.string().check(z.regex(TOKEN, message));

export const zLogLevel = z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']);

/**
 * Upstream URL: http://host:port, https://host:port, unix:/path/to.sock, or internal:<component>
 * (in dds-pod: that component of the same process, no socket; the pod file checks the name)
 */
export const zUpstreamUrl = z.string().check(
  z.refine((s) => /^(https?:\/\/[^/\s]+\/?|unix:\/.+|internal:[a-z][a-z0-9-]*)$/.test(s), {
    message:
      'expected http://host:port, https://host:port, unix:/path.sock or internal:<component> (dds-pod)',
  }),
);

/** (declared with the other common settings; exported here too for older imports) */
export type { CommonConfig } from './common-flags.js';
