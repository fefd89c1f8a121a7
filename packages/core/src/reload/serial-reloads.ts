import type { Logger } from '../logger.js';
import type { ReloadMetrics } from './reload-metrics.js';

/**
 * The reload trigger of a process (a component's runner, dds-pod): each call (a watched file
 * changed, SIGHUP) runs `apply` after the ones before it have finished, never two at once. An
 * apply that throws is a refused reload: counted, logged with its cause, and the previous config
 * keeps serving; one that returns is counted and logged as applied.
 */
export function serialReloads(
  logger: Logger,
  counts: ReloadMetrics,
  apply: () => Promise<void>,
): (why: string[]) => void {
  let reloading = Promise.resolve();
  return (why) => {
    reloading = reloading.then(async () => {
      try {
        await apply();
        counts.applied();
        logger.info({ changed: why }, 'configuration reloaded');
      } catch (err) {
        counts.rejected();
        const e = err as Error & { code?: string };
        logger.error(
          { changed: why, error: e.message, code: e.code },
          'configuration rejected; the previous one keeps serving',
        );
      }
    });
  };
}
