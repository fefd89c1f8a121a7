/**
 * The kubelet's probe thresholds: a check starts failing (nothing proven yet), turns passing after
 * successThreshold consecutive successes and failing again after failureThreshold consecutive
 * failures, so one slow query does not flap the pod out of its Service.
 */
export class Thresholds {
  passing = false;
  consecutiveSuccesses = 0;
  consecutiveFailures = 0;

  constructor(
    private readonly successThreshold: number,
    private readonly failureThreshold: number,
  ) {}

  /** Records one run; returns true when the passing state changed. */
  record(ok: boolean): boolean {
    if (ok) {
      this.consecutiveSuccesses++;
      this.consecutiveFailures = 0;
      if (!this.passing && this.consecutiveSuccesses >= this.successThreshold) {
        this.passing = true;
        return true;
      }
    } else {
      this.consecutiveFailures++;
      this.consecutiveSuccesses = 0;
      if (this.passing && this.consecutiveFailures >= this.failureThreshold) {
        this.passing = false;
        return true;
      }
    }
    return false;
  }
}
