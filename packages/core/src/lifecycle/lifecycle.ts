/** A named readiness condition: returns true when ready, or the reason it is not. */
export type ReadinessCheck = () => true | string;

export interface ReadinessReport {
  ready: boolean;
  draining: boolean;
  checks: Record<string, { ready: boolean; reason?: string }>;
}

/**
 * Process state shared by the admin server and the component: readiness conditions and the
 * draining flag that turns /readyz to 503 the moment a stop signal arrives.
 */
export class Lifecycle {
  private readonly checks = new Map<string, ReadinessCheck>();
  private drainingSince: number | undefined;
  private stopper: ((reason: string) => void) | undefined;

  addReadiness(name: string, check: ReadinessCheck): void {
    this.checks.set(name, check);
  }

  beginDrain(): void {
    this.drainingSince ??= Date.now();
  }

  /** The runner's stop: what SIGTERM does (drain, then exit 0). */
  onStopRequest(stop: (reason: string) => void): void {
    this.stopper = stop;
  }

  /**
   * Stops the process as SIGTERM does, from inside (the log adapter's stdin ended). A signal
   * sent to oneself is no substitute: the process may exit on an empty event loop before it
   * is delivered (skipping the drain), or die of it while exiting.
   */
  requestStop(reason: string): void {
    if (!this.stopper) throw new Error('requestStop before the runner started the component');
    this.stopper(reason);
  }

  get draining(): boolean {
    return this.drainingSince !== undefined;
  }

  readiness(): ReadinessReport {
    const checks: ReadinessReport['checks'] = {};
    let ready = !this.draining;
    for (const [name, check] of this.checks) {
      let r: true | string;
      try {
        r = check();
      } catch (err) {
        r = (err as Error).message;
      }
      checks[name] = r === true ? { ready: true } : { ready: false, reason: r };
      if (r !== true) ready = false;
    }
    return { ready, draining: this.draining, checks };
  }
}
