import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as z from '@dds/core/config/zod';
import { DdsError } from '@dds/core/errors';
import { parse } from 'yaml';
import { UNITS, type Unit } from './rls-codec.js';

/**
 * envoyproxy/ratelimit's configuration format: one YAML document per file, each a `domain` with
 * nested `descriptors` (`key`, optional `value`, ending in `*` for a prefix match), a
 * `rate_limit` (`unit`, `requests_per_unit`, or `unlimited`; `name` and `replaces`),
 * `shadow_mode`, `detailed_metric` and `value_to_metric`. Unknown keys are refused, as there.
 */
const zReplaces = z.array(
  z.strictObject({ name: z.string().check(z.minLength(1, 'should not have an empty replaces entry')) }),
);

const zRateLimit = z
  .strictObject({
    unit: z.optional(z.string()),
    requests_per_unit: z.optional(z.number().check(z.int(), z.minimum(0), z.maximum(0xffffffff))),
    unlimited: z._default(z.boolean(), false),
    name: z._default(z.string(), ''),
    replaces: z._default(zReplaces, []),
  })
  .check(
    z.superRefine((r, ctx) => {
      const unit = r.unit?.toLowerCase();
      const valid = unit !== undefined && unit !== 'unknown' && (UNITS as readonly string[]).includes(unit);
      if (r.unlimited && valid)
        ctx.addIssue({
          code: 'custom',
          path: ['unit'],
          message: 'should not specify rate limit unit when unlimited',
        });
      else if (!r.unlimited && !valid)
        ctx.addIssue({
          code: 'custom',
          path: ['unit'],
          message: `invalid rate limit unit '${r.unit ?? ''}' (second, minute, hour, day, week, month or year)`,
        });
      if (!r.unlimited && r.requests_per_unit === undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['requests_per_unit'],
          message: 'required (or unlimited: true)',
        });
      if (r.name && r.replaces.some((x) => x.name === r.name))
        ctx.addIssue({
          code: 'custom',
          path: ['replaces'],
          message: 'replaces should not contain name of same descriptor',
        });
    }),
  );

interface YamlDescriptor {
  key: string;
  value?: string | undefined;
  rate_limit?: z.output<typeof zRateLimit> | undefined;
  descriptors: YamlDescriptor[];
  shadow_mode: boolean;
  detailed_metric: boolean;
  value_to_metric: boolean;
}

const unsupported = (what: string) =>
  z.optional(z.unknown().check(z.refine(() => false, `${what} is not supported by dds (remove it)`)));

const zDescriptor: z.ZodMiniType<YamlDescriptor> = z.lazy(() =>
  z.strictObject({
    key: z.string().check(z.minLength(1, 'descriptor has empty key')),
    value: z.optional(z.pipe(z.union([z.string(), z.number()]), z.transform(String))),
    rate_limit: z.optional(zRateLimit),
    descriptors: z._default(z.array(zDescriptor), []),
    shadow_mode: z._default(z.boolean(), false),
    detailed_metric: z._default(z.boolean(), false),
    value_to_metric: z._default(z.boolean(), false),
    quota_mode: unsupported('quota_mode'),
    share_threshold: unsupported('share_threshold'),
  }),
) as z.ZodMiniType<YamlDescriptor>;

const zRoot = z.strictObject({
  domain: z.string().check(z.minLength(1, 'config file cannot have empty domain')),
  descriptors: z._default(z.array(zDescriptor), []),
});

/** Seconds of one unit, as envoyproxy/ratelimit counts them (a month is 30 days, a year 365). */
export const UNIT_SECONDS: Record<Unit, number> = {
  second: 1,
  minute: 60,
  hour: 3600,
  day: 86_400,
  week: 7 * 86_400,
  month: 30 * 86_400,
  year: 365 * 86_400,
};

/** A rate limit of the config, ready to apply. */
export interface RlsRule {
  /** `domain.key_value.key2`: the metric label and storage id */
  readonly fullKey: string;
  readonly requestsPerUnit: number;
  readonly unit: Unit;
  /** wire number of the unit */
  readonly unitCode: number;
  readonly unlimited: boolean;
  readonly shadowMode: boolean;
  readonly name: string;
  readonly replaces: readonly string[];
  readonly detailedMetric: boolean;
}

export interface RlsNode {
  readonly rule: RlsRule | undefined;
  readonly children: ReadonlyMap<string, RlsNode>;
  /** child keys ending in `*`, in config order */
  readonly wildcards: readonly string[];
  readonly valueToMetric: boolean;
}

export interface RlsConfig {
  readonly domains: ReadonlyMap<string, RlsNode>;
  readonly files: readonly string[];
}

/** The YAML files of a path: the file itself, or the *.yaml / *.yml files of a directory (sorted). */
export function rlsConfigFiles(path: string): string[] {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(path);
  } catch (err) {
    throw new DdsError(
      'DDS_CONFIG_INVALID',
      `rlsConfig: cannot read ${path}: ${(err as NodeJS.ErrnoException).code}`,
    );
  }
  if (!st.isDirectory()) return [path];
  return readdirSync(path)
    .filter((f) => /\.ya?ml$/.test(f) && !f.startsWith('.'))
    .sort()
    .map((f) => join(path, f));
}

/** Reads and validates every file; throws a DdsError naming the file and field. */
export function loadRlsConfig(path: string): RlsConfig {
  const files = rlsConfigFiles(path);
  if (files.length === 0) throw new DdsError('DDS_CONFIG_INVALID', `rlsConfig: no *.yaml files in ${path}`);
  const domains = new Map<string, RlsNode>();
  for (const file of files) {
    let doc: unknown;
    try {
      doc = parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new DdsError('DDS_CONFIG_INVALID', `${file}: ${(err as Error).message.split('\n')[0]}`);
    }
    const r = zRoot.safeParse(doc);
    if (!r.success) {
      const i = r.error.issues[0]!;
      throw new DdsError('DDS_CONFIG_INVALID', `${file}: ${i.path.join('.') || '(root)'}: ${i.message}`);
    }
    if (domains.has(r.data.domain))
      throw new DdsError('DDS_CONFIG_INVALID', `${file}: duplicate domain '${r.data.domain}' in config file`);
    domains.set(r.data.domain, compileLevel(file, r.data.domain, r.data.descriptors, undefined, false));
  }
  return { domains, files };
}

function compileLevel(
  file: string,
  parent: string,
  descriptors: YamlDescriptor[],
  rule: RlsRule | undefined,
  valueToMetric: boolean,
): RlsNode {
  const children = new Map<string, RlsNode>();
  const wildcards: string[] = [];
  for (const d of descriptors) {
    const finalKey = d.value ? `${d.key}_${d.value}` : d.key;
    const fullKey = `${parent}.${finalKey}`;
    if (children.has(finalKey))
      throw new DdsError('DDS_CONFIG_INVALID', `${file}: duplicate descriptor composite key '${fullKey}'`);
    const rl = d.rate_limit;
    const unit = (rl?.unit?.toLowerCase() ?? 'second') as Unit;
    const own: RlsRule | undefined = rl && {
      fullKey,
      requestsPerUnit: rl.requests_per_unit ?? 0,
      unit,
      unitCode: (UNITS as readonly string[]).indexOf(unit),
      unlimited: rl.unlimited,
      shadowMode: d.shadow_mode,
      name: rl.name,
      replaces: rl.replaces.map((x) => x.name),
      detailedMetric: d.detailed_metric,
    };
    if (finalKey.endsWith('*')) wildcards.push(finalKey);
    children.set(finalKey, compileLevel(file, fullKey, d.descriptors, own, d.value_to_metric));
  }
  return { rule, children, wildcards, valueToMetric };
}
