import { startAdminServer } from '@dds/core/admin/admin-server';
import { renderHelp } from '@dds/core/config/flags';
import { redact } from '@dds/core/config/redact';
import { ConfigError, DdsError, EXIT } from '@dds/core/errors';
import { serveInternal } from '@dds/core/http/internal-upstream';
import { fastPathSwitchError, logFastPaths } from '@dds/core/internals/fast-paths';
import { compactAfterStart } from '@dds/core/internals/startup-compaction';
import { installCrashGuards } from '@dds/core/lifecycle/crash-guards';
import { Lifecycle } from '@dds/core/lifecycle/lifecycle';
import { stopGate } from '@dds/core/lifecycle/stop-gate';
import { createLogger, type Logger } from '@dds/core/logger';
import { createRegistry, Registry } from '@dds/core/metrics';
import { parseAddress } from '@dds/core/net/host-port';
import { type WatchHandle, watchFiles } from '@dds/core/reload/file-watcher';
import { reloadMetrics } from '@dds/core/reload/reload-metrics';
import { serialReloads } from '@dds/core/reload/serial-reloads';
import { type Instance, startedChannel } from '@dds/core/runner';
import { packageVersion } from '@dds/core/version';
import { type Hosted, loadPod, type PodConfig, podFlags } from './pod-config.js';
import { PodMetrics } from './pod-metrics.js';

export const POD_VERSION = packageVersion(import.meta.url);

interface Running extends Hosted {
  // biome-ignore lint/suspicious/noExplicitAny: each component has its own config type
  instance: Instance<any>;
  logger: Logger;
  registry: Registry;
}

/**
 * `dds-pod --config pod.yaml`: the components a pod needs, in one process. One admin port (every
 * component's readiness under its name, its admin routes, one /metrics with a `component` label
 * on each component's series), one drain on SIGTERM, hot reload of the pod file and of the files
 * each component watches (certificates). Each component keeps its own section, validated as its
 * own config file, and its own log lines (`"component":"tls-sidecar"`).
 */
export async function runPod(
  argv: readonly string[] = process.argv.slice(2),
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(
      renderHelp({
        bin: 'dds-pod',
        summary: 'several dds components in one process: one admin port, one metrics registry, one drain',
        usage: 'dds-pod --config pod.yaml',
        flags: podFlags,
        footer:
          "The pod file: the common settings at the top level, then `components:` with one section per component\n(tls-sidecar, rate-limiter, experiment-splitter, metrics-adapter, log-adapter, health-adapter,\nshard-ambassador), each with the keys of that component's own config file. See packages/pod/README.md.",
      }),
    );
    return process.exit(EXIT.OK);
  }
  if (argv.includes('--version')) {
    process.stdout.write(`dds-pod ${POD_VERSION}\n`);
    return process.exit(EXIT.OK);
  }
  let loaded: Awaited<ReturnType<typeof loadPod>>;
  try {
    loaded = await loadPod(argv, env);
    if (loaded.positionals.length)
      throw new DdsError('DDS_FLAG_UNKNOWN', `unexpected argument "${loaded.positionals[0]}" (see --help)`);
    const fastPathError = fastPathSwitchError(env);
    if (fastPathError !== undefined) throw new DdsError('DDS_CONFIG_INVALID', fastPathError);
  } catch (err) {
    return exitWithConfigError(err);
  }
  if (loaded.actions.get('check-config')) {
    process.stdout.write(`dds-pod: configuration ${loaded.file} is valid\n`);
    return process.exit(EXIT.OK);
  }
  if (loaded.actions.get('print-config')) {
    const { stringify } = (await import('yaml')).default;
    process.stdout.write(stringify(shown(loaded.pod, loaded.hosted)));
    return process.exit(EXIT.OK);
  }

  let pod = loaded.pod;
  let hops = loaded.hops;
  // a component whose stdout carries data (the log adapter) sends every component's logs to stderr
  const logFd = loaded.hosted.some((h) => h.component.logStream === 'stderr') ? 2 : 1;
  const logger = createLogger('pod', pod.logLevel, logFd);
  const registry = createRegistry('pod', POD_VERSION);
  const lifecycle = new Lifecycle();
  const reloadCounts = reloadMetrics(registry, 'a component');
  installCrashGuards(logger);

  let listening = false;
  lifecycle.addReadiness('listeners', () => listening || 'listeners not bound yet');
  const running: Running[] = [];
  try {
    for (const h of loaded.hosted) {
      const own = new Registry();
      own.setDefaultLabels({ component: h.name });
      const log = createLogger(h.name, h.config.logLevel, logFd);
      const instance = await h.component.create({
        config: h.config,
        logger: log,
        registry: own,
        lifecycle,
        serveInternal: (handler) => serveInternal(h.name, handler),
      });
      if (instance.ready) lifecycle.addReadiness(h.name, () => instance.ready!());
      running.push({ ...h, instance, logger: log, registry: own });
    }
  } catch (err) {
    if (err instanceof DdsError) return exitWithConfigError(err);
    throw err;
  }

  const metrics = new PodMetrics(registry, () => running.map((r) => r.registry));
  const adminAddress = pod.admin === 'off' ? undefined : parseAddress(pod.admin);
  let admin: Awaited<ReturnType<typeof startAdminServer>> | undefined;
  try {
    if (adminAddress && typeof adminAddress !== 'string') {
      admin = await startAdminServer({
        address: adminAddress,
        lifecycle,
        registry: metrics,
        component: 'pod',
        version: POD_VERSION,
        config: () => shown(pod, running),
        routes: (app) => {
          for (const r of running) r.instance.adminRoutes?.(app);
        },
      });
    }
    for (const r of running) await r.instance.start();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    logger.fatal({ err: e, code: e.code }, `cannot start: ${e.message}`);
    return process.exit(e instanceof DdsError ? EXIT.CONFIG : EXIT.FAILURE);
  }
  listening = true;
  compactAfterStart();
  startedChannel.publish({ component: 'pod' });
  logger.info(
    { admin: pod.admin, config: loaded.file, components: running.map((r) => r.name) },
    `dds-pod ${POD_VERSION} started`,
  );
  logFastPaths(logger);

  // Hot reload: the whole pod file again; every component gets its section (or the same one, when
  // one of its watched files changed), and a pod file with any invalid section is refused whole.
  const applyReload = serialReloads(logger, reloadCounts, async () => {
    const next = await loadPod(argv, env);
    const names = (h: Hosted[]) => h.map((x) => x.name).join(',');
    if (names(next.hosted) !== names(running))
      throw new DdsError('DDS_CONFIG_INVALID', 'adding or removing components needs a restart');
    for (const r of running) {
      const c = next.hosted.find((h) => h.name === r.name)!.config;
      if (r.instance.reload) await r.instance.reload(c, r.config);
      r.config = c;
      r.logger.level = c.logLevel;
    }
    pod = next.pod;
    hops = next.hops;
    logger.level = pod.logLevel;
    rewatch();
  });
  let watcher: WatchHandle | undefined;
  const rewatch = () => {
    const files = [
      ...(loaded.file ? [loaded.file] : []),
      ...running.flatMap((r) => r.instance.watchedFiles?.(r.config) ?? []),
    ];
    const previous = watcher;
    previous?.close();
    watcher = watchFiles(files, applyReload, pod.reloadInterval, previous?.digests);
  };
  rewatch();
  process.on('SIGHUP', () => applyReload(['SIGHUP']));

  const gate = stopGate();
  const stop = async (signal: string) => {
    const step = gate('signal');
    if (step === 'exit') {
      logger.warn({ signal }, 'second signal: exiting at once');
      return process.exit(EXIT.SECOND_SIGNAL);
    }
    if (step === 'joined') return;
    lifecycle.beginDrain();
    logger.info({ signal, shutdownDelayMs: pod.shutdownDelay, drainTimeoutMs: pod.drainTimeout }, 'draining');
    watcher?.close();
    if (pod.shutdownDelay > 0) await new Promise((r) => setTimeout(r, pod.shutdownDelay));
    const deadline = Date.now() + pod.drainTimeout;
    // a component drains once every component that sends to it in-process (internal:) has: its
    // requests finish through the whole chain, and no hop closes under a request still coming
    const drained = new Map<string, Promise<void>>();
    const drain = (r: Running): Promise<void> => {
      let p = drained.get(r.name);
      if (p === undefined) {
        const senders = running.filter((s) => hops.some(([from, to]) => from === s.name && to === r.name));
        p = Promise.all(senders.map(drain)).then(() =>
          r.instance.drain(deadline).catch((err) => r.logger.error({ err }, 'error while draining')),
        );
        drained.set(r.name, p);
      }
      return p;
    };
    await Promise.all(running.map(drain));
    await admin?.close();
    logger.info('drained; exiting');
    process.exit(EXIT.OK);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

/** The pod's effective config, each section as its component shows it (secrets redacted). */
function shown(pod: PodConfig, hosted: readonly Hosted[]): unknown {
  const { components: _, ...common } = pod;
  return {
    ...common,
    components: Object.fromEntries(hosted.map((h) => [h.name, redact(h.config, h.secrets)])),
  };
}

function exitWithConfigError(err: unknown): never {
  if (err instanceof ConfigError) {
    process.stderr.write(`dds-pod: invalid configuration:\n${err.message.replace(/^/gm, '  ')}\n`);
    process.exit(EXIT.CONFIG);
  }
  if (err instanceof DdsError) {
    process.stderr.write(`dds-pod: ${err.message}\n`);
    process.exit(EXIT.CONFIG);
  }
  throw err;
}
