import { type KeySource, parseKeySource } from '@dds/core/http/key-source';
import type { ProxyHooks } from '@dds/core/http/reverse-proxy';
import type { Upstream } from '@dds/core/http/upstream';
import { bucketTable, saltSeed, weightToBuckets } from './bucketing.js';
import type { GuardConfig, SplitterConfig } from './config.js';
import { experimentsOf } from './config.js';
import { ExperimentRouter } from './experiment-router.js';
import { overrideSignature } from './override.js';
import type { VariantStats } from './variant-stats.js';

export interface Variant {
  readonly name: string;
  readonly index: number;
  readonly isControl: boolean;
  readonly backend: string;
  /** configured percent of users (control: the rest) */
  readonly weight: number;
  readonly experiment: Experiment;
  readonly upstream: Upstream;
  readonly stats: VariantStats;
  /** extra upstream request headers naming experiment and variant, built once */
  readonly requestHeaders: readonly string[];
  /** the same for an upgraded (tunnelled) request: a variant is a route of the proxy (ProxyRoute) */
  readonly tunnelHeaders: readonly string[];
  /** extra response headers (the variant header when enabled), built once */
  readonly responseHeaders: readonly string[] | undefined;
  hooks: ProxyHooks;
  /** with fallback: until this time (ms) the variant's users go to control; 0 = healthy */
  downUntil: number;
}

export interface Experiment {
  readonly name: string;
  readonly seed: number;
  readonly key: KeySource;
  readonly variants: Variant[];
  readonly control: Variant;
  readonly byName: ReadonlyMap<string, Variant>;
  readonly buckets: readonly number[];
  readonly fallback: boolean;
  readonly guard: GuardConfig;
  readonly hosts: readonly string[];
  readonly pathPrefix: string;
  /** identity of the experiment's design: guard trips survive a reload only while it is unchanged */
  readonly signature: string;
  /** variants the guard switched off */
  readonly off: Set<number>;
  /** with an override secret: variant name -> the signature that forces it (override.ts) */
  readonly overrideSignatures: ReadonlyMap<string, Buffer> | undefined;
  /** bucket -> variant index */
  table: Uint8Array;
}

export interface IdCookie {
  name: string;
  /** `; Path=/; Max-Age=...` */
  suffix: string;
}

/** One immutable routing snapshot; a reload builds a new one and swaps it in. */
export interface Plan {
  readonly router: ExperimentRouter<Experiment>;
  readonly experiments: readonly Experiment[];
  readonly defaultRoute: { upstream: Upstream; hooks: ProxyHooks } | undefined;
  /** lower-cased */
  readonly overrideHeader: string | undefined;
  readonly overrideCookie: string | undefined;
  readonly idCookie: IdCookie | undefined;
}

export interface PlanDeps {
  upstream(url: string): Upstream;
  stats(experiment: string, variant: string): VariantStats;
  hooks(variant: Variant): ProxyHooks;
  defaultHooks(): ProxyHooks;
  idCookieSuffix(c: SplitterConfig): string;
  /** the HMAC key override values must be signed with (undefined: bare variant names) */
  overrideSecret: string | undefined;
}

const off = (s: string): string | undefined => (s === 'off' ? undefined : s.toLowerCase());

export function buildPlan(c: SplitterConfig, deps: PlanDeps, previous?: Plan): Plan {
  const experiments = experimentsOf(c).map((e) => {
    const controlIdx = e.variants.findIndex((v) => v.name === e.control);
    const others = e.variants.reduce((sum, v, i) => (i === controlIdx ? sum : sum + (v.weight ?? 0)), 0);
    const buckets = e.variants.map((v, i) => (i === controlIdx ? 0 : weightToBuckets(v.weight ?? 0)));
    const signature = JSON.stringify([e.salt ?? e.name, e.key ?? c.key, e.control, e.variants]);
    const prev = previous?.experiments.find((p) => p.name === e.name && p.signature === signature);
    const exp = {
      name: e.name,
      seed: saltSeed(e.salt ?? e.name),
      key: parseKeySource(e.key ?? c.key) as KeySource, // validated by the schema
      variants: [] as Variant[],
      byName: new Map<string, Variant>(),
      buckets,
      fallback: e.fallbackToControl ?? c.fallbackToControl,
      guard: { ...c.guard, ...e.guard },
      hosts: e.hosts,
      pathPrefix: e.pathPrefix,
      signature,
      off: new Set(prev?.off ?? []),
      overrideSignatures:
        deps.overrideSecret === undefined
          ? undefined
          : new Map(e.variants.map((v) => [v.name, overrideSignature(deps.overrideSecret!, e.name, v.name)])),
      table: new Uint8Array(0),
    } as Omit<Experiment, 'control'> as Experiment;
    const vh = off(c.variantHeader);
    const eh = off(c.experimentHeader);
    e.variants.forEach((v, i) => {
      const requestHeaders = [...(vh ? [vh, v.name] : []), ...(eh ? [eh, e.name] : [])];
      const variant: Variant = {
        name: v.name,
        index: i,
        isControl: i === controlIdx,
        backend: v.backend,
        weight: i === controlIdx ? 100 - others : (v.weight ?? 0),
        experiment: exp,
        upstream: deps.upstream(v.backend),
        stats: deps.stats(e.name, v.name),
        requestHeaders,
        tunnelHeaders: requestHeaders,
        responseHeaders: c.responseHeader && vh ? [vh, v.name] : undefined,
        hooks: undefined as unknown as ProxyHooks,
        downUntil: 0,
      };
      variant.hooks = deps.hooks(variant);
      exp.variants.push(variant);
      (exp.byName as Map<string, Variant>).set(v.name, variant);
    });
    (exp as { control: Variant }).control = exp.variants[controlIdx]!;
    exp.table = bucketTable(buckets, controlIdx, exp.off);
    return exp;
  });
  const router = new ExperimentRouter(
    experiments.map((e) => ({ hosts: e.hosts, prefix: e.pathPrefix, target: e })),
  );
  const key = parseKeySource(c.key) as KeySource;
  const idName = c.idCookie.name || (key.kind === 'cookie' ? key.name : 'dds_uid');
  return {
    router,
    experiments,
    defaultRoute: c.defaultBackend
      ? { upstream: deps.upstream(c.defaultBackend), hooks: deps.defaultHooks() }
      : undefined,
    overrideHeader: off(c.overrideHeader),
    overrideCookie: c.overrideCookie === 'off' ? undefined : c.overrideCookie,
    idCookie: c.idCookie.enabled ? { name: idName, suffix: deps.idCookieSuffix(c) } : undefined,
  };
}
