import { performance } from 'node:perf_hooks';
import type { Logger } from '@dds/core/logger';
import type { ResolvedCheck } from '../checks/check-spec.js';
import { createProbe } from '../checks/create-probe.js';
import { CheckFailure, type Probe, toFailure } from '../checks/probe.js';
import type { CheckMetrics } from './check-metrics.js';
import { Thresholds } from './thresholds.js';

export type HealthStatus = 'pass' | 'warn' | 'fail';

/** What the probe server reports about a check: the result of its last run, never a live call. */
export interface CheckState {
  readonly check: ResolvedCheck;
  readonly componentType: Probe['componentType'];
  /** fail until thresholds say pass; warn = passing but the last run failed */
  status: HealthStatus;
  /** what the last run saw, or why it failed */
  output: string;
  latencyMs: number | undefined;
  /** ISO time of the end of the last run */
  time: string | undefined;
  consecutiveFailures: number;
}

/**
 * Runs one check on its interval, never two runs at once, each bounded by the check's timeout
 * (the run is aborted and counted as failed even if the client library ignores the abort). The
 * result is kept in memory for the probe server, which therefore never touches the dependency.
 */
/** The longest wait before the run that may confirm a check turning passing (successThreshold > 1). */
const CONFIRM_INTERVAL_MS = 1000;

export class CheckRunner {
  readonly state: CheckState;
  private readonly probe: Probe;
  private readonly thresholds: Thresholds;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private lastError = '';

  constructor(
    readonly check: ResolvedCheck,
    private readonly metrics: CheckMetrics,
    private readonly logger: Logger,
    private readonly onChange: () => void,
    probe: Probe = createProbe(check),
  ) {
    this.probe = probe;
    this.thresholds = new Thresholds(check.successThreshold, check.failureThreshold);
    this.state = {
      check,
      componentType: this.probe.componentType,
      status: 'fail',
      output: 'not run yet',
      latencyMs: undefined,
      time: undefined,
      consecutiveFailures: 0,
    };
    metrics.add(check);
  }

  /**
   * Takes over the verdict of the runner this one replaces (its check's settings changed on
   * reload), so editing a passing check does not flap readiness until the first new run.
   */
  carryOver(previous: CheckRunner): void {
    if (!previous.thresholds.passing) return;
    this.thresholds.passing = true;
    Object.assign(this.state, {
      status: previous.state.status,
      output: previous.state.output,
      latencyMs: previous.state.latencyMs,
      time: previous.state.time,
    });
    this.metrics.up.set(
      { check: this.check.name, type: this.check.type, critical: String(this.check.critical) },
      1,
    );
  }

  start(): void {
    this.stopped = false;
    this.timer = setTimeout(() => void this.loop(), 0);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.probe.close?.();
    this.metrics.remove(this.check);
  }

  private async loop(): Promise<void> {
    const began = performance.now();
    await this.runOnce();
    if (this.stopped) return;
    // A check that has started passing but has not yet reached successThreshold confirms at once
    // (within a second), so a successThreshold of 2 on a 30 s check is not 30 s of 503 at start.
    const confirming = !this.thresholds.passing && this.thresholds.consecutiveSuccesses > 0;
    const interval = confirming ? Math.min(this.check.interval, CONFIRM_INTERVAL_MS) : this.check.interval;
    const wait = Math.max(0, interval - (performance.now() - began));
    this.timer = setTimeout(() => void this.loop(), wait);
  }

  /** One run: probe under the timeout, thresholds, state, metrics, logs. Never throws. */
  async runOnce(): Promise<void> {
    const c = this.check;
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new CheckFailure('timeout', `timed out after ${c.timeout}ms`));
      }, c.timeout);
    });
    const t0 = performance.now();
    let output: string;
    let failure: CheckFailure | undefined;
    try {
      output = await Promise.race([this.probe.run(controller.signal), timedOut]);
    } catch (err) {
      failure = toFailure(err, controller.signal);
      if (failure.reason === 'timeout')
        failure = new CheckFailure('timeout', `timed out after ${c.timeout}ms`);
      output = failure.message;
    } finally {
      clearTimeout(timer);
      controller.abort();
    }
    if (this.stopped) return;
    const ms = performance.now() - t0;
    const wasPassing = this.thresholds.passing;
    const changed = this.thresholds.record(!failure);
    const s = this.state;
    const shown = output.length > 1024 ? `${output.slice(0, 1024)}...` : output;
    // a success that does not yet make the check pass is not reported as a failure
    s.output =
      !failure && !this.thresholds.passing
        ? `${this.thresholds.consecutiveSuccesses} of ${c.successThreshold} consecutive successes needed: ${shown}`
        : shown;
    s.latencyMs = Math.round(ms * 1000) / 1000;
    s.time = new Date().toISOString();
    s.consecutiveFailures = this.thresholds.consecutiveFailures;
    s.status = !this.thresholds.passing ? 'fail' : failure ? 'warn' : 'pass';
    this.metrics.record(c, ms / 1000, this.thresholds.passing, s.consecutiveFailures, failure?.reason);
    this.log(failure, changed, wasPassing);
    this.onChange();
  }

  private log(failure: CheckFailure | undefined, changed: boolean, wasPassing: boolean): void {
    const c = this.check;
    const ctx = { type: c.type, critical: c.critical, latencyMs: this.state.latencyMs };
    if (changed && this.thresholds.passing) this.logger.info(ctx, `check ${c.name} passes`);
    if (failure) {
      const f = {
        ...ctx,
        reason: failure.reason,
        error: failure.message,
        consecutiveFailures: this.state.consecutiveFailures,
      };
      if (changed && wasPassing) this.logger.error(f, `check ${c.name} fails: ${failure.message}`);
      // a dependency that stays down logs once per distinct error, not once per interval
      else if (failure.message !== this.lastError)
        this.logger.warn(f, `check ${c.name} run failed: ${failure.message}`);
      else this.logger.debug(f, `check ${c.name} run failed: ${failure.message}`);
      this.lastError = failure.message;
    } else this.lastError = '';
  }
}
