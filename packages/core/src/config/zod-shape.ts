import type * as z from './zod.js';

/**
 * Zod's schema definitions, read in this one place: the keys an object schema accepts at a path,
 * for "did you mean" hints on unknown YAML keys. Follows wrappers (default, optional, pipe, ...),
 * arrays, records and the object options of unions; an unknown shape gives no keys.
 */
interface Def {
  type: string;
  shape?: Record<string, Schema>;
  innerType?: Schema;
  in?: Schema;
  element?: Schema;
  valueType?: Schema;
  options?: Schema[];
  left?: Schema;
  right?: Schema;
  getter?: () => Schema;
}
type Schema = { _zod: { def: Def } };

const WRAPPERS = new Set(['default', 'prefault', 'optional', 'nullable', 'nonoptional', 'readonly', 'catch']);

/** The object shapes a schema stands for once wrappers are unwrapped. */
function objects(s: Schema | undefined, depth = 0): Def[] {
  if (!s || depth > 20) return [];
  const def = s._zod.def;
  if (def.type === 'object') return [def];
  if (WRAPPERS.has(def.type)) return objects(def.innerType, depth + 1);
  if (def.type === 'pipe') return objects(def.in, depth + 1);
  if (def.type === 'lazy' && def.getter) return objects(def.getter(), depth + 1);
  if (def.type === 'union') return (def.options ?? []).flatMap((o) => objects(o, depth + 1));
  if (def.type === 'intersection') return [...objects(def.left, depth + 1), ...objects(def.right, depth + 1)];
  return [];
}

/** The schema one step down (an object key, an array index, a record value). */
function child(s: Schema | undefined, key: string | number, depth = 0): Schema[] {
  if (!s || depth > 20) return [];
  const def = s._zod.def;
  if (WRAPPERS.has(def.type)) return child(def.innerType, key, depth + 1);
  if (def.type === 'pipe') return child(def.in, key, depth + 1);
  if (def.type === 'lazy' && def.getter) return child(def.getter(), key, depth + 1);
  if (def.type === 'array') return def.element ? [def.element] : [];
  if (def.type === 'record') return def.valueType ? [def.valueType] : [];
  if (def.type === 'object') return def.shape?.[key] ? [def.shape[key]] : [];
  if (def.type === 'union') return (def.options ?? []).flatMap((o) => child(o, key, depth + 1));
  if (def.type === 'intersection')
    return [...child(def.left, key, depth + 1), ...child(def.right, key, depth + 1)];
  return [];
}

/** Keys the object schema at `path` accepts (empty when it cannot be told). */
export function knownKeysAt(schema: z.ZodMiniType<unknown>, path: readonly (string | number)[]): string[] {
  let at: Schema[] = [schema as unknown as Schema];
  for (const key of path) at = at.flatMap((s) => child(s, key));
  return [...new Set(at.flatMap((s) => objects(s)).flatMap((d) => Object.keys(d.shape ?? {})))];
}
