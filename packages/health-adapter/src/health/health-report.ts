import { PreparedResponse } from '@dds/core/http/server/prepared-response';
import type { CheckState, HealthStatus } from './check-runner.js';

/** A finished probe answer, rendered once per state change and then served from memory as bytes. */
export type ProbeAnswer = PreparedResponse;

export const HEALTH_JSON = 'application/health+json';
const TEXT = 'text/plain; charset=utf-8';

export interface ReportMeta {
  version: string;
  draining: boolean;
}

/**
 * The readiness verdict: fail (503) when a critical check fails or the adapter drains; warn (200)
 * when a check is degrading (last run failed, thresholds not reached) or an informational check
 * fails; pass (200) otherwise.
 */
export function overallStatus(states: readonly CheckState[], draining: boolean): HealthStatus {
  if (draining) return 'fail';
  let warn = false;
  for (const s of states) {
    if (s.status === 'fail' && s.check.critical) return 'fail';
    if (s.status !== 'pass') warn = true;
  }
  return warn ? 'warn' : 'pass';
}

/** One check in the IETF draft's "checks" object (draft-inadvisable-health-check). */
function checkEntry(s: CheckState): Record<string, unknown> {
  return {
    componentId: s.check.name,
    componentType: s.componentType,
    observedValue: s.latencyMs ?? null,
    observedUnit: 'ms',
    status: s.status,
    time: s.time ?? null,
    critical: s.check.critical,
    consecutiveFailures: s.consecutiveFailures,
    // the draft: output is for warn and fail, omitted on pass
    ...(s.status === 'pass' ? {} : { output: s.output }),
  };
}

function json(code: number, doc: unknown): ProbeAnswer {
  return answer(code, HEALTH_JSON, JSON.stringify(doc));
}

function text(code: number, t: string): ProbeAnswer {
  return answer(code, TEXT, t);
}

function answer(code: number, type: string, body: string): ProbeAnswer {
  return new PreparedResponse(code, ['content-type', type, 'cache-control', 'no-store'], Buffer.from(body));
}

const codeOf = (status: HealthStatus) => (status === 'fail' ? 503 : 200);

/** kube-apiserver style: one line per check, then the verdict. */
function verboseLine(s: CheckState): string {
  const mark = s.status === 'fail' ? '-' : '+';
  const role = s.check.critical ? '' : ' (informational)';
  const ms = s.latencyMs === undefined ? '' : ` [${s.latencyMs} ms]`;
  const streak = s.consecutiveFailures > 0 ? ` (${s.consecutiveFailures} consecutive failures)` : '';
  const pending = s.status === 'fail' && s.consecutiveFailures === 0 && s.time !== undefined;
  const word = s.status === 'pass' ? 'ok' : s.status === 'warn' ? 'warn' : pending ? 'pending' : 'failed';
  return `[${mark}]${s.check.name}${role} ${word}: ${s.output}${ms}${streak}\n`;
}

export function readyAnswer(states: readonly CheckState[], meta: ReportMeta, verbose: boolean): ProbeAnswer {
  const status = overallStatus(states, meta.draining);
  const failing = states.filter((s) => s.status === 'fail' && s.check.critical).map((s) => s.check.name);
  const output = meta.draining
    ? 'draining: the adapter is shutting down'
    : failing.length
      ? `failing critical checks: ${failing.join(', ')}`
      : undefined;
  if (verbose) {
    const lines = states.map(verboseLine).join('');
    const drain = meta.draining ? '[-]shutdown failed: draining\n' : '';
    return text(codeOf(status), `${lines}${drain}readyz check ${status === 'fail' ? 'failed' : 'passed'}\n`);
  }
  const checks: Record<string, unknown[]> = {};
  for (const s of states) checks[`${s.check.name}:responseTime`] = [checkEntry(s)];
  return json(codeOf(status), {
    status,
    releaseId: meta.version,
    serviceId: 'dds-health-adapter',
    description: 'readiness: the critical checks of the pod dependencies',
    ...(output ? { output } : {}),
    checks,
  });
}

/** /readyz/<check>: that check alone (informational ones too: asked by name, a failure is a 503). */
export function checkAnswer(s: CheckState, meta: ReportMeta, verbose: boolean): ProbeAnswer {
  const status: HealthStatus = meta.draining ? 'fail' : s.status;
  if (verbose)
    return text(codeOf(status), `${verboseLine(s)}readyz check ${status === 'fail' ? 'failed' : 'passed'}\n`);
  return json(codeOf(status), {
    status,
    releaseId: meta.version,
    serviceId: 'dds-health-adapter',
    ...(status === 'pass' ? {} : { output: meta.draining ? 'draining' : s.output }),
    checks: { [`${s.check.name}:responseTime`]: [checkEntry(s)] },
  });
}

/** /livez and /healthz: the adapter process only, never its dependencies. */
export function liveAnswer(version: string, verbose: boolean, path: string): ProbeAnswer {
  if (verbose) return text(200, `[+]ping ok\n${path.slice(1)} check passed\n`);
  return json(200, { status: 'pass', releaseId: version, serviceId: 'dds-health-adapter' });
}

export function notFound(path: string, names: readonly string[]): ProbeAnswer {
  return json(404, {
    status: 'fail',
    output: `no such endpoint ${JSON.stringify(path.slice(0, 200))}; try /livez, /healthz, /readyz or /readyz/<check> (${names.join(', ')})`,
  });
}
