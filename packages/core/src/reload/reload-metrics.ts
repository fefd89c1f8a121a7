import { Counter, Gauge, type Registry } from 'prom-client';
import { METRIC_PREFIX } from '../metrics.js';

/** What a process counts of its config reloads (a component's runner, dds-pod). */
export interface ReloadMetrics {
  /** a reload was applied */
  applied(): void;
  /** a reload was refused; the old config keeps serving */
  rejected(): void;
}

/**
 * dds_config_reloads_total, dds_config_reload_failures_total and
 * dds_config_last_reload_success_timestamp_seconds (set now: the config just loaded counts).
 * `refusedBy` names who may refuse a valid file in the failures' help ("the component").
 */
export function reloadMetrics(registry: Registry, refusedBy: string): ReloadMetrics {
  const reloads = new Counter({
    name: `${METRIC_PREFIX}config_reloads_total`,
    help: 'Config reloads applied.',
    registers: [registry],
  });
  const failures = new Counter({
    name: `${METRIC_PREFIX}config_reload_failures_total`,
    help: `Config reloads rejected (invalid config or refused by ${refusedBy}); the old config keeps serving.`,
    registers: [registry],
  });
  const last = new Gauge({
    name: `${METRIC_PREFIX}config_last_reload_success_timestamp_seconds`,
    help: 'Time of the last successful config load.',
    registers: [registry],
  });
  last.setToCurrentTime();
  return {
    applied: () => {
      reloads.inc();
      last.setToCurrentTime();
    },
    rejected: () => failures.inc(),
  };
}
