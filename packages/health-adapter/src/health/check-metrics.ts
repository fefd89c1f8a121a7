import { Counter, Gauge, Histogram, LATENCY_BUCKETS, METRIC_PREFIX, type Registry } from '@dds/core/metrics';
import type { ResolvedCheck } from '../checks/check-spec.js';
import { FAILURE_REASONS, type FailureReason } from '../checks/probe.js';

const p = `${METRIC_PREFIX}health_`;

/** The per-check metric families; one instance per process, series removed with their check. */
export class CheckMetrics {
  readonly up: Gauge<'check' | 'type' | 'critical'>;
  readonly duration: Histogram<'check' | 'type'>;
  readonly runs: Counter<'check' | 'type'>;
  readonly failures: Counter<'check' | 'type' | 'reason'>;
  readonly consecutiveFailures: Gauge<'check'>;
  readonly lastRun: Gauge<'check'>;
  readonly lastSuccess: Gauge<'check'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.up = new Gauge({
      name: `${p}check_up`,
      help: 'Whether the check passes after its success/failure thresholds (1) or not (0).',
      labelNames: ['check', 'type', 'critical'],
      registers,
    });
    this.duration = new Histogram({
      name: `${p}check_duration_seconds`,
      help: 'Time of one check run, failed runs included.',
      labelNames: ['check', 'type'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.runs = new Counter({
      name: `${p}check_runs_total`,
      help: 'Check runs.',
      labelNames: ['check', 'type'],
      registers,
    });
    this.failures = new Counter({
      name: `${p}check_failures_total`,
      help: 'Failed check runs by reason (timeout, connect, auth, protocol, unhealthy, error).',
      labelNames: ['check', 'type', 'reason'],
      registers,
    });
    this.consecutiveFailures = new Gauge({
      name: `${p}check_consecutive_failures`,
      help: 'Failed runs in a row (0 after a success).',
      labelNames: ['check'],
      registers,
    });
    this.lastRun = new Gauge({
      name: `${p}check_last_run_timestamp_seconds`,
      help: 'End of the last run of the check.',
      labelNames: ['check'],
      registers,
    });
    this.lastSuccess = new Gauge({
      name: `${p}check_last_success_timestamp_seconds`,
      help: 'End of the last successful run of the check.',
      labelNames: ['check'],
      registers,
    });
  }

  /** Creates the series of a new check at zero so dashboards see it before its first failure. */
  add(c: ResolvedCheck): void {
    this.up.set(this.upLabels(c), 0);
    this.runs.inc({ check: c.name, type: c.type }, 0);
    this.consecutiveFailures.set({ check: c.name }, 0);
  }

  record(
    c: ResolvedCheck,
    seconds: number,
    passing: boolean,
    consecutiveFailures: number,
    reason?: FailureReason,
  ): void {
    const labels = { check: c.name, type: c.type };
    this.duration.observe(labels, seconds);
    this.runs.inc(labels);
    if (reason) this.failures.inc({ ...labels, reason });
    else this.lastSuccess.setToCurrentTime({ check: c.name });
    this.up.set(this.upLabels(c), passing ? 1 : 0);
    this.consecutiveFailures.set({ check: c.name }, consecutiveFailures);
    this.lastRun.setToCurrentTime({ check: c.name });
  }

  /** Drops every series of a removed check (reload). */
  remove(c: ResolvedCheck): void {
    const labels = { check: c.name, type: c.type };
    this.up.remove(this.upLabels(c));
    this.duration.remove(labels);
    this.runs.remove(labels);
    for (const reason of FAILURE_REASONS) this.failures.remove({ ...labels, reason });
    for (const g of [this.consecutiveFailures, this.lastRun, this.lastSuccess]) g.remove({ check: c.name });
  }

  private upLabels(c: ResolvedCheck) {
    return { check: c.name, type: c.type, critical: String(c.critical) };
  }
}
