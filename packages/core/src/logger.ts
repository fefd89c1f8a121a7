import { destination, type Logger, pino } from 'pino';

export type { Logger };

/**
 * JSON logs to stdout, one object per line. Synchronous writes keep lines whole when the process
 * exits right after logging (config errors, drain); nothing is logged per request on hot paths.
 */
export function createLogger(component: string, level: string, fd: 1 | 2 = 1): Logger {
  const options = {
    level,
    base: { component, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  // fd 2 for components whose stdout carries data (the log adapter writes records there)
  return fd === 1 ? pino(options) : pino(options, destination({ fd, sync: true }));
}
