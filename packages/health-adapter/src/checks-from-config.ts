import { checkSchema, type ResolvedCheck } from './checks/check-spec.js';
import type { HealthConfig } from './config.js';
import { quickChecks } from './quick-checks.js';

/** The checks of a validated config: quick-flag checks first, then the file's, with global timing filled in. */
export function checksFromConfig(c: HealthConfig): ResolvedCheck[] {
  const specs = [...quickChecks(c).map((q) => checkSchema.parse(q)), ...c.checks];
  return specs.map((s) => ({
    ...s,
    interval: s.interval ?? c.interval,
    timeout: s.timeout ?? c.timeout,
    successThreshold: s.successThreshold ?? c.successThreshold,
    failureThreshold: s.failureThreshold ?? c.failureThreshold,
  }));
}
