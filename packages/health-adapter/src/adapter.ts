import { ConnectionTracker } from '@dds/core/lifecycle/connection-tracker';
import { Gauge, METRIC_PREFIX } from '@dds/core/metrics';
import { type Address, parseAddress } from '@dds/core/net/host-port';
import { listen } from '@dds/core/net/listen';
import type { ComponentContext, Instance } from '@dds/core/runner';
import type { ResolvedCheck } from './checks/check-spec.js';
import { checksFromConfig } from './checks-from-config.js';
import type { HealthConfig } from './config.js';
import { CheckMetrics } from './health/check-metrics.js';
import { CheckRunner, type CheckState } from './health/check-runner.js';
import { overallStatus, readyAnswer } from './health/health-report.js';
import { createProbeServer, type ProbeSource } from './probe-server.js';

/** Identity of a check's settings (RegExps included) to keep unchanged checks running across a reload. */
const keyOf = (c: ResolvedCheck) => JSON.stringify(c, (_k, v) => (v instanceof RegExp ? String(v) : v));

export function createHealthAdapter(
  ctx: ComponentContext<HealthConfig>,
  version: string,
): Instance<HealthConfig> {
  const { logger, lifecycle } = ctx;
  const metrics = new CheckMetrics(ctx.registry);
  let runners = new Map<string, { key: string; runner: CheckRunner }>();
  let states: CheckState[] = [];
  let running = false;

  const source = {
    version: 0,
    get draining() {
      return lifecycle.draining;
    },
    states: () => states,
    state: (name: string) => runners.get(name)?.runner.state,
  } satisfies ProbeSource;
  new Gauge({
    name: `${METRIC_PREFIX}health_ready`,
    help: 'The /readyz verdict: 1 when it answers 200 (pass or warn), 0 when 503.',
    registers: [ctx.registry],
    collect() {
      this.set(overallStatus(states, lifecycle.draining) === 'fail' ? 0 : 1);
    },
  });
  const changed = () => {
    source.version++;
  };

  /** Keeps runners whose settings did not change (their state and thresholds survive), replaces the rest. */
  const apply = (checks: ResolvedCheck[]) => {
    const next = new Map<string, { key: string; runner: CheckRunner }>();
    for (const c of checks) {
      const key = keyOf(c);
      const old = runners.get(c.name);
      if (old && old.key === key) next.set(c.name, old);
      else {
        old?.runner.stop();
        const runner = new CheckRunner(c, metrics, logger.child({ check: c.name }), changed);
        if (old) runner.carryOver(old.runner);
        next.set(c.name, { key, runner });
        if (running) runner.start();
      }
    }
    for (const [name, old] of runners) if (!next.has(name)) old.runner.stop();
    runners = next;
    states = [...next.values()].map((r) => r.runner.state);
    changed();
  };

  // --once: every check runs a single time, so one result decides (no thresholds)
  const once = (c: ResolvedCheck): ResolvedCheck => ({ ...c, successThreshold: 1, failureThreshold: 1 });
  apply(checksFromConfig(ctx.config).map(ctx.config.once ? once : (c) => c));

  /** --once: a CLI check (an exec probe, a deploy gate, debugging), answered like /readyz?verbose. */
  const runOnceAndExit = async (): Promise<never> => {
    await Promise.all([...runners.values()].map(({ runner }) => runner.runOnce()));
    const answer = readyAnswer(states, { version, draining: false }, true);
    process.stdout.write(answer.body);
    for (const { runner } of runners.values()) runner.stop();
    process.exit(answer.status === 200 ? 0 : 1);
  };
  const server = createProbeServer(source, version, ctx.registry);
  const tracker = new ConnectionTracker(server);
  const address = parseAddress(ctx.config.listen) as Address;

  return {
    async start() {
      if (ctx.config.once) return runOnceAndExit();
      await listen(server, address);
      running = true;
      for (const { runner } of runners.values()) runner.start();
      logger.info(
        { listen: ctx.config.listen, checks: [...runners.keys()] },
        `probes on ${ctx.config.listen}: ${runners.size} check(s)`,
      );
    },
    reload(next, prev) {
      if (next.listen !== prev.listen)
        throw new Error('listen cannot change on reload (restart to move the probe port)');
      apply(checksFromConfig(next));
    },
    async drain(deadline) {
      for (const { runner } of runners.values()) runner.stop();
      await tracker.drain(deadline);
    },
  };
}
