import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';
import { startAdminServer } from './admin/admin-server.js';
import { WORKER_ENV } from './cluster-env.js';
import { type LoadOptions, loadConfig } from './config/load.js';
import type { CommonConfig } from './config/schemas.js';
import { DdsError, EXIT } from './errors.js';
import { Lifecycle } from './lifecycle/lifecycle.js';
import { createLogger } from './logger.js';
import { parseAddress } from './net/host-port.js';
import { watchFiles } from './reload/file-watcher.js';

/** More than `exits` worker exits within `windowMs` is a crash loop: the primary gives up. */
export const CRASH_LOOP = Object.freeze({ exits: 5, windowMs: 10_000 });

/** IPC message a worker sends once its listeners are bound. */
export const WORKER_LISTENING = 'dds:listening';

export interface PrimaryOptions<C extends CommonConfig> {
  name: string;
  version: string;
  config: C;
  file: string | undefined;
  loadOpts: LoadOptions<C>;
  /** the config as /config shows it (secrets redacted) */
  shown: (config: C) => unknown;
}

/**
 * `--workers N`: the primary forks N workers that run the component and share its listeners
 * (node:cluster), serves the admin port itself with the workers' metrics aggregated, reports
 * ready once every worker listens, restarts a crashed worker (exiting 1 on a crash loop: more
 * than CRASH_LOOP.exits exits within CRASH_LOOP.windowMs; exiting 2 when a worker cannot start
 * with the config before any worker listened), and on SIGTERM lets each worker
 * drain before it exits 0. Each worker watches the config file and reloads on its own.
 */
export async function runPrimary<C extends CommonConfig>(opts: PrimaryOptions<C>): Promise<void> {
  let config = opts.config;
  const n = config.workers;
  const logger = createLogger(opts.name, config.logLevel);
  const lifecycle = new Lifecycle();
  const aggregator = new AggregatorRegistry();
  const listening = new Set<number>();
  const crashes: number[] = [];
  let stopping = false;
  lifecycle.addReadiness('workers', () => listening.size >= n || `${listening.size}/${n} workers listening`);

  const fork = (): Worker => {
    const w = cluster.fork({ [WORKER_ENV]: String(process.pid) });
    w.on('message', (m: unknown) => {
      if (m === WORKER_LISTENING) {
        listening.add(w.id);
        everListening = true;
      }
    });
    return w;
  };
  let everListening = false;
  cluster.on('exit', (w, code, signal) => {
    listening.delete(w.id);
    if (stopping) return;
    if (code === EXIT.CONFIG && !everListening) {
      // the worker could not start with this config (its log says why: a busy port, a bad
      // file): a new one would fail alike, so exit as a single process would, with 2
      logger.fatal({ worker: w.process.pid, code }, 'a worker cannot start (see its log); exiting');
      for (const other of Object.values(cluster.workers ?? {})) other?.process.kill('SIGKILL');
      process.exit(EXIT.CONFIG);
    }
    const now = Date.now();
    crashes.push(now);
    while (crashes.length && crashes[0]! < now - CRASH_LOOP.windowMs) crashes.shift();
    if (crashes.length > CRASH_LOOP.exits) {
      // Restarting again would only hide the fault: exit, so Kubernetes restarts the pod with
      // its back-off and reports the crash loop. No worker is left behind.
      logger.fatal(
        { worker: w.process.pid, code, signal, exits: crashes.length, withinMs: CRASH_LOOP.windowMs },
        'workers keep crashing; giving up',
      );
      for (const other of Object.values(cluster.workers ?? {})) other?.process.kill('SIGKILL');
      process.exit(EXIT.FAILURE);
    }
    logger.error({ worker: w.process.pid, code, signal }, 'worker exited; starting a new one');
    fork();
  });
  // the admin port first: if it is taken, no worker was started for nothing
  const adminAddress = config.admin === 'off' ? undefined : parseAddress(config.admin);
  let admin: Awaited<ReturnType<typeof startAdminServer>> | undefined;
  try {
    admin =
      adminAddress && typeof adminAddress !== 'string'
        ? await startAdminServer({
            address: adminAddress,
            lifecycle,
            registry: {
              contentType: aggregator.contentType,
              metrics: () => aggregator.clusterMetrics(),
            },
            component: opts.name,
            version: opts.version,
            config: () => opts.shown(config),
          })
        : undefined;
  } catch (err) {
    if (!(err instanceof DdsError)) throw err;
    logger.fatal({ code: err.code, flag: 'admin' }, `cannot start: --admin: ${err.message}`);
    process.exit(EXIT.CONFIG);
  }
  for (let i = 0; i < n; i++) fork();

  // Only for /config: the workers validate, apply and log reloads themselves.
  const watcher = opts.file
    ? watchFiles(
        [opts.file],
        async () => {
          try {
            config = (await loadConfig(opts.loadOpts)).config as C;
          } catch {
            // rejected: the workers log why and keep the old config, and so does /config
          }
        },
        config.reloadInterval,
      )
    : undefined;

  const stop = async (signal: string) => {
    if (stopping) {
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGKILL');
      process.exit(EXIT.SECOND_SIGNAL);
    }
    stopping = true;
    lifecycle.beginDrain();
    watcher?.close();
    logger.info({ signal }, 'draining workers');
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w);
    const exited = Promise.all(
      workers.map((w) => new Promise((r) => (w.isDead() ? r(null) : w.once('exit', r)))),
    );
    for (const w of workers) w.process.kill('SIGTERM');
    const deadline = config.shutdownDelay + config.drainTimeout + 2000;
    const timer = setTimeout(() => {
      for (const w of workers) if (!w.isDead()) w.process.kill('SIGKILL');
    }, deadline);
    await exited;
    clearTimeout(timer);
    await admin?.close();
    logger.info('drained; exiting');
    process.exit(EXIT.OK);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  // last: whoever waits for this line may signal at once
  logger.info({ workers: n, admin: config.admin }, `dds-${opts.name} ${opts.version} primary started`);
}

/** In a worker: report metrics of this registry to the primary, and tell it when listening. */
export function setupWorker(registry: Registry): { listening(): void } {
  // Constructing an aggregator installs prom-client's worker-side IPC listener.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([registry]);
  // Ctrl-C reaches the whole process group; the primary turns it into one SIGTERM per worker.
  process.on('SIGINT', () => {});
  return { listening: () => process.send?.(WORKER_LISTENING) };
}
