import type { FlagSpec } from '../config/flags.js';
import * as z from '../config/zod.js';
import type { LineTarget } from './line-writer.js';

/** `--access-log` and `--access-log-sample`: every HTTP proxy takes them. */
export function accessLogFlags(): FlagSpec[] {
  const g = 'Access log';
  return [
    {
      name: 'access-log',
      type: 'string',
      help: 'one JSON line per request (OpenTelemetry log shape): off, stdout or file:PATH',
      metavar: 'WHERE',
      default: 'off',
      group: g,
    },
    {
      name: 'access-log-sample',
      type: 'number',
      help: 'share of requests logged, 0..1 (5xx answers and failed requests are always logged)',
      metavar: 'RATIO',
      default: 1,
      group: g,
    },
  ];
}

export const zAccessLogTarget = z.string().check(
  z.refine((s) => s === 'off' || s === 'stdout' || (s.startsWith('file:') && s.length > 5), {
    message: 'expected off, stdout or file:PATH',
  }),
);

/** Schema fields matching accessLogFlags(). */
export const accessLogSchema = {
  accessLog: zAccessLogTarget,
  accessLogSample: z.number().check(z.minimum(0), z.maximum(1)),
};

export interface AccessLogConfig {
  accessLog: string;
  accessLogSample: number;
}

/** The destination of a validated --access-log value; undefined for off. */
export function accessLogTarget(value: string): LineTarget | undefined {
  if (value === 'off') return undefined;
  if (value === 'stdout') return { kind: 'stdout' };
  return { kind: 'file', path: value.slice(5) };
}
