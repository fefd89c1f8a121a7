import { type Logger, pino } from 'pino';

export type { Logger };

/**
 * JSON logs to stdout, one object per line. Synchronous writes keep lines whole when the process
 * exits right after logging (config errors, drain); nothing is logged per request on hot paths.
 */
export function createLogger(component: string, level: string): Logger {
  return pino({
    level,
    base: { component, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
}
