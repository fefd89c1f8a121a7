import type { Json, Match } from './json-path.js';
import { type CompiledPath, compileJsonPath } from './json-path.js';

/**
 * A label value: a static string, a JSONPath in braces evaluated against the matched value
 * (`{.id}`), or a key chosen by a wildcard/filter of the metric path: `{@key}` is the innermost
 * one, `{@key[0]}` the outermost, `{@key[-2]}` the one before the innermost.
 */
export type LabelTemplate =
  | { kind: 'static'; value: string }
  | { kind: 'path'; path: CompiledPath }
  | { kind: 'key'; index: number };

export function compileLabel(text: string): LabelTemplate {
  const t = text.trim();
  if (!(t.startsWith('{') && t.endsWith('}'))) return { kind: 'static', value: text };
  const inner = t.slice(1, -1).trim();
  const key = /^@key(?:\[(-?\d+)\])?$/.exec(inner);
  if (key) return { kind: 'key', index: key[1] === undefined ? -1 : Number(key[1]) };
  return { kind: 'path', path: compileJsonPath(inner) };
}

function jsonToLabel(v: Json | undefined): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

export function labelValue(t: LabelTemplate, m: Match): string {
  switch (t.kind) {
    case 'static':
      return t.value;
    case 'key': {
      const i = t.index < 0 ? m.keys.length + t.index : t.index;
      const k = m.keys[i];
      return k === undefined ? '' : String(k);
    }
    case 'path':
      return jsonToLabel(t.path.evaluate(m.value)[0]?.value);
  }
}
