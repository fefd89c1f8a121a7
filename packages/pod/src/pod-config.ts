import { type CommonConfig, commonFlags, commonSchema } from '@dds/core/config/common-flags';
import { type FlagSpec, flagPath } from '@dds/core/config/flags';
import { type LoadedConfig, loadConfig } from '@dds/core/config/load';
import { isPlainObject } from '@dds/core/config/object-path';
import * as z from '@dds/core/config/zod';
import { ConfigError, type ConfigIssue, DdsError } from '@dds/core/errors';
import { internalReferences } from '@dds/core/http/internal-upstream';
import { allFlags, type Component } from '@dds/core/runner';
import { COMPONENTS } from './components.js';

export const POD_DEFAULT_ADMIN = '0.0.0.0:9910';

/** `dds-pod` takes the common flags only: everything else is in the pod file. */
export const podFlags: FlagSpec[] = commonFlags({ admin: POD_DEFAULT_ADMIN });

export type PodConfig = CommonConfig & { components: Record<string, unknown> };

const podSchema = z.strictObject({
  ...commonSchema,
  components: z._default(z.record(z.string(), z.unknown()), {}),
});

/** Settings a pod holds once for all its components; a section may not set them. */
const POD_LEVEL = ['admin', 'workers', 'shutdownDelay', 'drainTimeout', 'reloadInterval'] as const;

/** One hosted component: its definition, its validated config, and what /config may show. */
export interface Hosted {
  name: string;
  // biome-ignore lint/suspicious/noExplicitAny: each component has its own config type
  component: Component<any>;
  config: CommonConfig;
  secrets: Set<string>;
}

export interface LoadedPod {
  pod: Readonly<PodConfig>;
  file: string | undefined;
  hosted: Hosted[];
  actions: LoadedConfig<PodConfig>['actions'];
  positionals: readonly string[];
  /** the in-process hops: [the component that sends, the component it names with internal:] */
  hops: [string, string][];
}

/**
 * Loads the pod file (flags < env < file as for any component), then validates each component's
 * section with that component's own flags' defaults and schema, exactly as its YAML file when it
 * runs alone; issues are named `components.<name>.<field>`. The pod sets admin, workers and the
 * drain timings once; a section's log level defaults to the pod's.
 */
export async function loadPod(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<LoadedPod> {
  const loaded = await loadConfig<PodConfig>({ flags: podFlags, schema: podSchema as never, argv, env });
  const pod = loaded.config;
  const source = loaded.file ? `file ${loaded.file}` : 'the pod config';
  const names = Object.keys(pod.components);
  if (loaded.file === undefined && !loaded.actions.size)
    throw new DdsError('DDS_CONFIG_FILE', 'give the pod file: dds-pod --config pod.yaml (see --help)');
  const issues: ConfigIssue[] = [];
  if (names.length === 0 && loaded.file !== undefined)
    issues.push({ path: 'components', message: `no components: name one or more of ${known()}`, source });
  const hosted: Hosted[] = [];
  for (const name of names) {
    const load = COMPONENTS[name];
    if (!load) {
      issues.push({ path: `components.${name}`, message: `unknown component; one of ${known()}`, source });
      continue;
    }
    const component = await load();
    // the section is what the component's own file holds (the shard-ambassador's is a
    // nutcracker.yaml: pools at the top, its settings under dds:), shaped as that file is
    let section: unknown;
    try {
      section = component.fromFile
        ? component.fromFile(pod.components[name] ?? {}, `${source}, components.${name}`)
        : (pod.components[name] ?? {});
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      for (const i of err.issues)
        issues.push({ ...i, path: i.path ? `components.${name}.${i.path}` : `components.${name}` });
      continue;
    }
    if (!isPlainObject(section)) {
      issues.push({ path: `components.${name}`, message: 'expected a mapping of its settings', source });
      continue;
    }
    for (const key of POD_LEVEL)
      if (key in section)
        issues.push({
          path: `components.${name}.${key}`,
          message: 'set once for the whole pod, at the top level of the pod file',
          source,
        });
    const flags = allFlags(component);
    try {
      const c = await loadConfig({
        flags,
        schema: component.schema,
        argv: [],
        env: {},
        fileFlag: component.fileFlag,
        document: {
          value: { logLevel: pod.logLevel, ...section, ...podLevel(pod) },
          source: `${source}, components.${name}`,
        },
      });
      hosted.push({
        name,
        component,
        config: c.config as CommonConfig,
        secrets: new Set([...(component.secretPaths ?? []), ...flags.filter((f) => f.secret).map(flagPath)]),
      });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      for (const i of err.issues)
        issues.push({ ...i, path: i.path ? `components.${name}.${i.path}` : `components.${name}` });
    }
  }
  if (issues.length) throw new ConfigError(issues);
  // the hops between sections once every section is valid on its own
  const hops = hopsOf(hosted, issues, source);
  if (issues.length) throw new ConfigError(issues);
  return { pod, file: loaded.file, hosted, actions: loaded.actions, positionals: loaded.positionals, hops };
}

/** Components whose proxy takes requests in-process (the tls-sidecar terminates clients' TLS: it is a first hop). */
const INTERNAL_TARGETS = ['rate-limiter', 'experiment-splitter'];

/**
 * The chain of `internal:<component>` upstreams: each must name an HTTP component of this pod
 * that can take requests in-process, and no chain may come back to where it started; a component
 * with `listen: off` must be named by one (nothing else reaches it).
 */
function hopsOf(hosted: readonly Hosted[], issues: ConfigIssue[], source: string): [string, string][] {
  const hops: [string, string][] = [];
  const names = new Set(hosted.map((h) => h.name));
  for (const h of hosted)
    for (const [path, target] of internalReferences(h.config)) {
      const at = `components.${h.name}.${path}`;
      if (!names.has(target))
        issues.push({
          path: at,
          message: `internal:${target}: no such component in this pod (it has ${[...names].join(', ')})`,
          source,
        });
      else if (!INTERNAL_TARGETS.includes(target))
        issues.push({
          path: at,
          message: `internal:${target}: only ${INTERNAL_TARGETS.join(' and ')} take HTTP requests in-process`,
          source,
        });
      else hops.push([h.name, target]);
    }
  const next = (name: string) => hops.filter(([from]) => from === name).map(([, to]) => to);
  const cycle = (start: string): string[] | undefined => {
    const walk = (at: string, path: string[]): string[] | undefined => {
      for (const to of next(at)) {
        if (to === start) return [...path, to];
        if (!path.includes(to)) {
          const found = walk(to, [...path, to]);
          if (found) return found;
        }
      }
      return undefined;
    };
    return walk(start, [start]);
  };
  for (const h of hosted) {
    const loop = cycle(h.name);
    if (loop !== undefined && loop[0] === [...loop].sort()[0]) {
      const path = internalReferences(h.config).find(([, t]) => t === loop[1])?.[0] ?? 'upstream';
      issues.push({
        path: `components.${h.name}.${path}`,
        message: `internal: upstreams make a loop: ${loop.join(' -> ')}`,
        source,
      });
    }
    if ((h.config as { listen?: unknown }).listen === 'off' && !hops.some(([, to]) => to === h.name))
      issues.push({
        path: `components.${h.name}.listen`,
        message: `off, but no internal:${h.name} upstream in the pod names it: nothing would reach it`,
        source,
      });
  }
  return hops;
}

function podLevel(pod: PodConfig): Record<string, unknown> {
  return {
    admin: 'off',
    workers: 1,
    shutdownDelay: pod.shutdownDelay,
    drainTimeout: pod.drainTimeout,
    reloadInterval: pod.reloadInterval,
  };
}

const known = () => Object.keys(COMPONENTS).join(', ');
