import { setting, shapeOf } from '../config/settings.js';
import * as z from '../config/zod.js';
import type { LineTarget } from './line-writer.js';

export const zAccessLogTarget = z.string().check(
  z.refine((s) => s === 'off' || s === 'stdout' || (s.startsWith('file:') && s.length > 5), {
    message: 'expected off, stdout or file:PATH',
  }),
);

const g = 'Access log';

/** `--access-log` and `--access-log-sample`: every HTTP proxy takes them. */
export const accessLogSettings = {
  accessLog: setting.string({
    help: 'one JSON line per request (OpenTelemetry log shape): off, stdout or file:PATH',
    metavar: 'WHERE',
    default: 'off',
    group: g,
    schema: zAccessLogTarget,
  }),
  accessLogSample: setting.number({
    help: 'share of requests logged, 0..1 (5xx answers and failed requests are always logged)',
    metavar: 'RATIO',
    default: 1,
    group: g,
    schema: z.number().check(z.minimum(0), z.maximum(1)),
  }),
};

export const accessLogSchema = shapeOf(accessLogSettings);
export type AccessLogConfig = z.infer<z.ZodMiniObject<typeof accessLogSchema>>;

/** The destination of a validated --access-log value; undefined for off. */
export function accessLogTarget(value: string): LineTarget | undefined {
  if (value === 'off') return undefined;
  if (value === 'stdout') return { kind: 'stdout' };
  return { kind: 'file', path: value.slice(5) };
}
