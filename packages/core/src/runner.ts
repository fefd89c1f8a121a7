import { channel } from 'node:diagnostics_channel';
import type { Registry } from 'prom-client';
import type { AdminRoutes } from './admin/admin-router.js';
import { type AdminServer, startAdminServer } from './admin/admin-server.js';
import { WORKER_ENV } from './cluster-env.js';
import { commonFlags } from './config/common-flags.js';
import { type FlagSpec, flagPath, renderHelp } from './config/flags.js';
import { type LoadOptions, loadConfig, type UnknownEnv } from './config/load.js';
import { getPath } from './config/object-path.js';
import { redact } from './config/redact.js';
import type { CommonConfig } from './config/schemas.js';
import type * as z from './config/zod.js';
import { ConfigError, type ConfigIssue, DdsError, EXIT, ListenError } from './errors.js';
import type { ProxyHandlerFn } from './http/proxy-contract.js';
import { fastPathSwitchError, logFastPaths } from './internals/fast-paths.js';
import { compactAfterStart } from './internals/startup-compaction.js';
import { installCrashGuards } from './lifecycle/crash-guards.js';
import { Lifecycle } from './lifecycle/lifecycle.js';
import { type StopCause, stopGate } from './lifecycle/stop-gate.js';
import { createLogger, type Logger } from './logger.js';
import { createRegistry } from './metrics.js';
import { formatAddress, parseAddress } from './net/host-port.js';
import { type WatchHandle, watchFiles } from './reload/file-watcher.js';
import { reloadMetrics } from './reload/reload-metrics.js';
import { serialReloads } from './reload/serial-reloads.js';

/**
 * Published (node:diagnostics_channel) the moment a process is serving, before it logs "started":
 * tools that inspect a process at that point (test/footprint's module list) subscribe to it.
 */
export const startedChannel = channel('dds:started');

export interface ComponentContext<C> {
  /** the config the component was created with; reload() hands over later ones */
  config: C;
  logger: Logger;
  registry: Registry;
  lifecycle: Lifecycle;
  /**
   * dds-pod only: makes an HTTP component's request handler reachable by the other components of
   * the process as `internal:<name>` (core's skeleton calls it); returns the withdrawal
   */
  serveInternal?(handler: ProxyHandlerFn): () => void;
}

/**
 * A running component, after Caddy's module life cycle: create() provisions and validates,
 * start() binds, reload() swaps in a new config (throw to reject it; the old one keeps
 * serving), drain() stops accepting and lets in-flight work finish by the deadline.
 */
export interface Instance<C> {
  start(): Promise<void>;
  reload?(next: C, previous: C): Promise<void> | void;
  /** the component's own readiness beyond "listeners bound, not draining" */
  ready?(): true | string;
  drain(deadline: number): Promise<void>;
  adminRoutes?(app: AdminRoutes): void;
  /** extra files to watch besides the config file (certificates); reload() is called on change */
  watchedFiles?(config: C): string[];
}

export interface Component<C extends CommonConfig> {
  name: string;
  version: string;
  summary: string;
  usage: string;
  footer?: string;
  defaultAdmin: string;
  flags: FlagSpec[];
  schema: z.ZodMiniType<C>;
  /** name of the flag that gives the config file (default `config`) */
  fileFlag?: string;
  fromFile?: LoadOptions<C>['fromFile'];
  secretPaths?: string[];
  /**
   * A copy of the config with the component's own secret-bearing values masked (values that no
   * field name gives away, such as API keys in a rate limiter's allow-list); core's rules for
   * secret paths, secret-named fields and URL passwords apply after it.
   */
  redactConfig?(config: C): C;
  /** the component has admin routes that change state: they need --admin-token-file */
  adminActions?: boolean;
  /** where the component's own logs go (default stdout; stderr when stdout carries data) */
  logStream?: 'stdout' | 'stderr';
  /** the component is stateless per process and may run as `--workers N` */
  workers?: boolean;
  /** `DDS_*` variables the component reads besides its flags' (not reported as unknown) */
  env?(config: C): string[];
  /**
   * Provisions and validates, as in Caddy: everything that can stop start() short of binding a
   * port (files, certificates, URLs, cross-field rules) must throw a DdsError here, because
   * `--check-config` runs create() and stops there. It must not bind, and should not connect.
   */
  create(ctx: ComponentContext<C>): Promise<Instance<C>> | Instance<C>;
}

/** All flags of a component, its own first, then the common ones it does not override. */
export function allFlags<C extends CommonConfig>(c: Component<C>): FlagSpec[] {
  const own = new Set(c.flags.map((f) => f.name));
  return [
    ...c.flags,
    ...commonFlags({ admin: c.defaultAdmin, workers: c.workers, adminActions: c.adminActions }).filter(
      (f) => !own.has(f.name),
    ),
  ];
}

/** Runs a component as a process: the whole CLI, admin server, hot reload and drain. */
export async function runComponent<C extends CommonConfig>(
  c: Component<C>,
  argv: readonly string[] = process.argv.slice(2),
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<void> {
  const flags = allFlags(c);
  const loadOpts: LoadOptions<C> = {
    flags,
    schema: c.schema,
    argv,
    env,
    fileFlag: c.fileFlag,
    fromFile: c.fromFile,
  };
  const secrets = new Set([...(c.secretPaths ?? []), ...flags.filter((f) => f.secret).map(flagPath)]);
  /** the config as /config and --print-config show it */
  const shown = (cfg: C): unknown => redact(c.redactConfig ? c.redactConfig(cfg) : cfg, secrets);
  let loaded: Awaited<ReturnType<typeof loadConfig<C>>>;
  try {
    if (argv.includes('--help') || argv.includes('-h')) {
      process.stdout.write(
        renderHelp({ bin: `dds-${c.name}`, summary: c.summary, usage: c.usage, flags, footer: c.footer }),
      );
      return process.exit(EXIT.OK);
    }
    if (argv.includes('--version')) {
      process.stdout.write(`dds-${c.name} ${c.version}\n`);
      return process.exit(EXIT.OK);
    }
    loaded = await loadConfig(loadOpts);
  } catch (err) {
    return exitWithConfigError(c.name, err);
  }
  if (loaded.positionals.length) {
    return exitWithConfigError(
      c.name,
      new DdsError('DDS_FLAG_UNKNOWN', `unexpected argument "${loaded.positionals[0]}" (see --help)`),
    );
  }
  const fastPathError = fastPathSwitchError(env);
  if (fastPathError !== undefined)
    return exitWithConfigError(c.name, new DdsError('DDS_CONFIG_INVALID', fastPathError));
  let config = loaded.config as C;
  const podOnly = await podOnlySettings(config);
  if (podOnly !== undefined) return exitWithConfigError(c.name, podOnly);
  if (config.workers > 1 && !c.workers) {
    return exitWithConfigError(
      c.name,
      new ConfigError([
        {
          path: 'workers',
          message: `dds-${c.name} keeps per-process state and runs as one process`,
          received: config.workers,
        },
      ]),
    );
  }
  const unknownEnv = loaded.unknownEnv.filter((v) => !c.env?.(config).includes(v.name));
  if (loaded.actions.get('check-config')) return checkConfig(c, config, loaded.file, unknownEnv);
  if (loaded.actions.get('print-config')) {
    const { stringify } = (await import('yaml')).default;
    process.stdout.write(stringify(shown(loaded.config as C)));
    return process.exit(EXIT.OK);
  }

  // node:cluster and the metrics aggregator load only for --workers N; a worker knows itself by
  // the variable its primary forked it with (Node removes its own NODE_UNIQUE_ID at start)
  const clusterWorker = process.env[WORKER_ENV] !== undefined && process.send !== undefined;
  if (config.workers > 1 && !clusterWorker) {
    const { runPrimary } = await import('./cluster.js');
    return runPrimary({ name: c.name, version: c.version, config, file: loaded.file, loadOpts, shown });
  }
  const logger = createLogger(c.name, config.logLevel, c.logStream === 'stderr' ? 2 : 1);
  for (const v of unknownEnv)
    logger.warn({ variable: v.name, didYouMean: v.suggestion }, unknownEnvText(c.name, v));
  const registry = createRegistry(c.name, c.version);
  const lifecycle = new Lifecycle();
  const reloadCounts = reloadMetrics(registry, 'the component');
  installCrashGuards(logger);
  const workerLink = clusterWorker ? (await import('./cluster.js')).setupWorker(registry) : undefined;

  let instance: Instance<C>;
  let listening = false;
  lifecycle.addReadiness('listeners', () => listening || 'listeners not bound yet');
  try {
    instance = await c.create({ config, logger, registry, lifecycle });
    if (instance.ready) lifecycle.addReadiness(c.name, () => instance.ready!());
  } catch (err) {
    if (err instanceof DdsError) return exitWithConfigError(c.name, err);
    throw err;
  }

  // SIGTERM and SIGINT are handled from here on: one that arrives while the listeners are being
  // bound drains once they are (it used to kill the process with the default action, 143)
  let stopping = false;
  let startup: Promise<void> = Promise.resolve();
  let watcher: WatchHandle | undefined;
  let admin: AdminServer | undefined;
  const gate = stopGate();
  const stop = async (signal: string, cause: StopCause = 'signal') => {
    const step = gate(cause);
    if (step === 'exit') {
      logger.warn({ signal }, 'second signal: exiting at once');
      return process.exit(EXIT.SECOND_SIGNAL);
    }
    if (step === 'joined') {
      logger.info({ signal }, 'already draining');
      return;
    }
    stopping = true;
    lifecycle.beginDrain();
    logger.info(
      { signal, shutdownDelayMs: config.shutdownDelay, drainTimeoutMs: config.drainTimeout },
      'draining',
    );
    await startup;
    watcher?.close();
    if (config.shutdownDelay > 0) await new Promise((r) => setTimeout(r, config.shutdownDelay));
    try {
      await instance.drain(Date.now() + config.drainTimeout);
    } catch (err) {
      logger.error({ err }, 'error while draining');
    }
    await admin?.close();
    logger.info('drained; exiting');
    process.exit(EXIT.OK);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  lifecycle.onStopRequest((reason) => void stop(reason, 'request'));

  const adminAddress = config.admin === 'off' ? undefined : parseAddress(config.admin);
  let starting = 'admin';
  const bind = async () => {
    if (adminAddress && typeof adminAddress !== 'string' && !workerLink) {
      admin = await startAdminServer({
        address: adminAddress,
        lifecycle,
        registry,
        component: c.name,
        version: c.version,
        config: () => shown(config),
        routes: instance.adminRoutes?.bind(instance),
        actionTokenFile: () => (config as { adminTokenFile?: string }).adminTokenFile,
      });
    }
    starting = 'component';
    await instance.start();
  };
  startup = bind().catch((err: unknown) => {
    if (!(err instanceof DdsError)) {
      const e = err as NodeJS.ErrnoException;
      logger.fatal({ err: e, code: e.code }, `cannot start: ${e.message}`);
      return process.exit(EXIT.FAILURE);
    }
    // a known condition (a busy port, a bad setting): one clear line naming the setting, no stack
    const flag = starting === 'admin' ? 'admin' : listenFlag(err, config, flags);
    logger.fatal({ code: err.code, flag }, `cannot start: ${flag ? `--${flag}: ` : ''}${err.message}`);
    return process.exit(EXIT.CONFIG);
  });
  await startup;
  listening = true;
  workerLink?.listening();

  // Hot reload: re-run the whole load (file < env < flags) so precedence holds on reload too.
  const applyReload = serialReloads(logger, reloadCounts, async () => {
    const next = (await loadConfig(loadOpts)).config as C;
    const refused = await podOnlySettings(next);
    if (refused !== undefined) throw refused;
    const prev = config;
    if (instance.reload) await instance.reload(next, prev);
    else if (loaded.file) logger.warn('this component applies config changes only on restart');
    config = next;
    logger.level = next.logLevel;
    rewatch();
  });
  // Replaced after every reload (the files or the interval may have changed). The new watcher
  // starts from what the old one last saw, not from the files as they are now: a write that
  // landed while the reload ran is still reported.
  const rewatch = () => {
    if (stopping) return;
    const files = [...(loaded.file ? [loaded.file] : []), ...(instance.watchedFiles?.(config) ?? [])];
    const previous = watcher;
    previous?.close();
    watcher = files.length
      ? watchFiles(files, applyReload, config.reloadInterval, previous?.digests)
      : undefined;
  };
  rewatch();
  process.on('SIGHUP', () => applyReload(['SIGHUP']));
  // last: whoever waits for this line may signal, reload or connect at once
  startedChannel.publish({ component: c.name });
  compactAfterStart();
  logger.info({ admin: config.admin, config: loaded.file }, `dds-${c.name} ${c.version} started`);
  logFastPaths(logger);
}

/**
 * `--check-config`: everything start would check short of binding ports. The config has passed
 * its schema; create() provisions and validates the rest (files, certificates, URLs), the
 * instance is never started, and the process exits 0 (valid) or 2 (invalid, with the reason).
 */
async function checkConfig<C extends CommonConfig>(
  c: Component<C>,
  config: C,
  file: string | undefined,
  unknownEnv: readonly UnknownEnv[],
): Promise<never> {
  for (const v of unknownEnv) process.stderr.write(`dds-${c.name}: warning: ${unknownEnvText(c.name, v)}\n`);
  // what create() logs below warn (sources started, ...) is noise for a check; warnings show
  const verbose = config.logLevel === 'debug' || config.logLevel === 'trace';
  const logger = createLogger(c.name, verbose ? config.logLevel : 'warn', 2);
  try {
    await c.create({
      config,
      logger,
      registry: createRegistry(c.name, c.version),
      lifecycle: new Lifecycle(),
    });
  } catch (err) {
    if (err instanceof DdsError) return exitWithConfigError(c.name, err);
    // start would die on it too (exit 1): for a check, the configuration is not usable
    process.stderr.write(`dds-${c.name}: cannot start with this configuration: ${(err as Error).message}\n`);
    return process.exit(EXIT.CONFIG);
  }
  process.stdout.write(`dds-${c.name}: configuration ${file ? `${file} ` : ''}is valid\n`);
  return process.exit(EXIT.OK);
}

function unknownEnvText(component: string, v: UnknownEnv): string {
  const hint = v.suggestion ? ` (did you mean ${v.suggestion}?)` : '';
  return `${v.name} is not a setting of dds-${component}${hint}; ignored`;
}

/** The flag of the listener a ListenError is about: the one whose value is that address. */
function listenFlag(err: DdsError, config: object, flags: readonly FlagSpec[]): string | undefined {
  if (!(err instanceof ListenError)) return undefined;
  for (const f of flags) {
    if (f.action || f.name === 'admin') continue;
    const value = getPath(config, flagPath(f));
    if (typeof value !== 'string') continue;
    const a = parseAddress(value);
    if (typeof a !== 'string' && formatAddress(a) === err.address) return f.name;
  }
  return undefined;
}

function exitWithConfigError(component: string, err: unknown): never {
  if (err instanceof ConfigError) {
    process.stderr.write(`dds-${component}: invalid configuration:\n${err.message.replace(/^/gm, '  ')}\n`);
    process.exit(EXIT.CONFIG);
  }
  if (err instanceof DdsError) {
    process.stderr.write(`dds-${component}: ${err.message}\n`);
    process.exit(EXIT.CONFIG);
  }
  throw err;
}
/**
 * What only dds-pod can run: `internal:` upstreams (another component of the same process) and
 * `listen: off` (a component reached only through them). A component alone refuses them, naming
 * the field. The walk over the config is loaded only when the config mentions `internal:`.
 */
async function podOnlySettings(config: CommonConfig): Promise<ConfigError | undefined> {
  const issues: ConfigIssue[] = [];
  if ((config as { listen?: unknown }).listen === 'off')
    issues.push({
      path: 'listen',
      message: 'off is for dds-pod, where the component is reached through internal: upstreams',
    });
  if (JSON.stringify(config).includes('"internal:')) {
    const { internalReferences } = await import('./http/internal-upstream.js');
    for (const [path, target] of internalReferences(config))
      issues.push({
        path,
        message: `internal:${target} names a component of the same dds-pod process; alone, give its URL (http://host:port)`,
      });
  }
  return issues.length > 0 ? new ConfigError(issues) : undefined;
}
