import { EXIT } from '../errors.js';
import type { Logger } from '../logger.js';

/**
 * An error no handler caught leaves the process in a state nobody knows: log it and exit 1, so
 * Kubernetes (or the cluster primary, under --workers) starts a clean process. A bad connection
 * never gets here: every socket and stream has its error handler.
 */
export function installCrashGuards(logger: Logger): void {
  const die = (kind: string) => (err: unknown) => {
    logger.fatal({ err }, `${kind}: exiting, the process is in an unknown state`);
    process.exit(EXIT.FAILURE);
  };
  process.on('uncaughtException', die('uncaught exception'));
  process.on('unhandledRejection', die('unhandled rejection'));
}
