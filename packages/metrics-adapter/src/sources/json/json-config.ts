import { readFileSync } from 'node:fs';
import * as z from '@dds/core/config/zod';
import { DdsError } from '@dds/core/errors';
import { strictNameProblem } from '../../exposition/naming.js';
import { type CompiledPath, compileJsonPath } from './json-path.js';
import { compileLabel, type LabelTemplate } from './label-template.js';

const metricName = z
  .string()
  .check(z.regex(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/, 'not a valid Prometheus metric name'));
const labelName = z.string().check(z.regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'not a valid Prometheus label name'));

const metricSchema = z.strictObject({
  name: metricName,
  help: z.optional(z.string()),
  type: z._default(z.enum(['value', 'object']), 'value'),
  path: z.string().check(z.minLength(1)),
  valuetype: z._default(z.enum(['gauge', 'counter', 'untyped']), 'untyped'),
  labels: z._default(z.record(labelName, z.string()), {}),
  /** object metrics: suffix -> value path relative to each object (or a constant) */
  values: z.optional(
    z.record(z.string().check(z.regex(/^[a-zA-Z0-9_]+$/)), z.union([z.string(), z.number()])),
  ),
  /** string values -> numbers, matched case-insensitively (e.g. {up: 1, down: 0}) */
  valueconverter: z.optional(z.record(z.string(), z.number())),
});

const moduleSchema = z.strictObject({
  headers: z._default(z.record(z.string(), z.string()), {}),
  metrics: z.array(metricSchema).check(z.minLength(1)),
});

const fileSchema = z.union([
  z.strictObject({ modules: z.record(z.string(), moduleSchema) }),
  // json_exporter < 0.5 style: metrics at the top level form the module "default"
  z.pipe(
    moduleSchema,
    z.transform((m) => ({ modules: { default: m } })),
  ),
]);

export interface JsonMetric {
  name: string;
  help: string;
  type: 'value' | 'object';
  path: CompiledPath;
  valuetype: 'gauge' | 'counter' | 'untyped';
  labels: Array<[string, LabelTemplate]>;
  values: Array<[suffix: string, CompiledPath | number]>;
  converter?: Map<string, number>;
}

export interface JsonModule {
  headers: Record<string, string>;
  metrics: JsonMetric[];
}

export type JsonModules = Map<string, JsonModule>;

/** Validates and compiles a json_exporter-like config; errors name the field (`modules.default.metrics.0.path`). */
export function compileJsonConfig(input: unknown, origin: string, strict = false): JsonModules {
  const r = fileSchema.safeParse(input);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new DdsError('DDS_CONFIG_INVALID', `${origin}: ${i.path.join('.') || '(root)'}: ${i.message}`);
  }
  const out: JsonModules = new Map();
  for (const [modName, mod] of Object.entries(r.data.modules)) {
    const metrics = mod.metrics.map((m, idx) => {
      const where = `${origin}: modules.${modName}.metrics.${idx}`;
      try {
        if (m.type === 'object' && !m.values)
          throw new Error('values: an object metric needs values (suffix: path)');
        if (strict) {
          const names =
            m.type === 'object' ? Object.keys(m.values ?? {}).map((k) => `${m.name}_${k}`) : [m.name];
          for (const n of names) {
            const problem = strictNameProblem(n, m.valuetype);
            if (problem) throw new Error(`name: ${n}: ${problem} (--naming strict)`);
          }
          for (const l of Object.keys(m.labels))
            if (/[A-Z]/.test(l))
              throw new Error(`labels.${l}: label names should be snake_case (--naming strict)`);
        }
        return {
          name: m.name,
          help: m.help ?? `${m.name} from ${m.path}`,
          type: m.type,
          path: compileJsonPath(m.path),
          valuetype: m.valuetype,
          labels: Object.entries(m.labels).map(([k, v]) => [k, compileLabel(v)] as [string, LabelTemplate]),
          values: Object.entries(m.values ?? {}).map(
            ([k, v]) =>
              [k, typeof v === 'number' ? v : compileJsonPath(v)] as [string, CompiledPath | number],
          ),
          ...(m.valueconverter
            ? {
                converter: new Map(Object.entries(m.valueconverter).map(([k, v]) => [k.toLowerCase(), v])),
              }
            : {}),
        } satisfies JsonMetric;
      } catch (err) {
        throw new DdsError('DDS_CONFIG_INVALID', `${where}: ${(err as Error).message}`);
      }
    });
    out.set(modName, { headers: mod.headers, metrics });
  }
  return out;
}

/** Reads a json_exporter-style YAML file (the YAML parser loads only when one is given). */
export async function loadJsonConfig(file: string, strict = false): Promise<JsonModules> {
  let doc: unknown;
  try {
    const { parse } = (await import('yaml')).default;
    doc = parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new DdsError('DDS_CONFIG_INVALID', `json-config ${file}: ${(err as Error).message}`);
  }
  return compileJsonConfig(doc, `json-config ${file}`, strict);
}
