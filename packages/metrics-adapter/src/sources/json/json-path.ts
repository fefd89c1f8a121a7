/**
 * A small, documented JSONPath subset (what json_exporter configs use in practice):
 *
 *   $ or @            the root (optional; `{ ... }` braces as in json_exporter are accepted too)
 *   .name  ['name']   object member ("name" may be quoted to contain dots or spaces)
 *   [n]               array element, negative n counts from the end
 *   .*  [*]           every member of an object / element of an array (records the key)
 *   ..name  ..*       recursive descent
 *   [?(@.a.b OP lit)] filter array elements or object members; OP is == != < <= > >=,
 *                     lit is a number, 'string', "string", true, false or null;
 *                     [?(@.a)] keeps elements where the member exists and is not false/null
 *
 * Every match carries the keys chosen by wildcards and filters, so labels can use them
 * (`{@key}`: see label-template.ts).
 */
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export interface Match {
  value: Json;
  /** keys picked by `*` and filter steps, outermost first */
  keys: Array<string | number>;
}

type Op = '==' | '!=' | '<' | '<=' | '>' | '>=';
type Step =
  | { kind: 'member'; name: string }
  | { kind: 'index'; index: number }
  | { kind: 'wildcard' }
  | { kind: 'descend'; name: string | undefined }
  | { kind: 'filter'; path: Step[]; op?: Op; literal?: Json };

export class JsonPathError extends Error {}

const MAX_MATCHES = 100_000;

class Parser {
  pos = 0;
  constructor(readonly src: string) {}

  fail(msg: string): never {
    throw new JsonPathError(`${msg} at offset ${this.pos} in "${this.src}"`);
  }
  peek(s: string): boolean {
    return this.src.startsWith(s, this.pos);
  }
  eat(s: string): boolean {
    if (!this.peek(s)) return false;
    this.pos += s.length;
    return true;
  }
  ws(): void {
    while (this.src[this.pos] === ' ') this.pos++;
  }
  name(): string {
    const m = /^[^.[\]\s()=!<>'"*]+/.exec(this.src.slice(this.pos));
    if (!m) this.fail('expected a member name');
    this.pos += m[0].length;
    return m[0];
  }
  quoted(): string {
    const q = this.src[this.pos];
    if (q !== "'" && q !== '"') this.fail('expected a quoted string');
    let out = '';
    this.pos++;
    while (this.pos < this.src.length && this.src[this.pos] !== q) {
      if (this.src[this.pos] === '\\') this.pos++;
      out += this.src[this.pos++] ?? '';
    }
    if (!this.eat(q)) this.fail('unterminated string');
    return out;
  }
  literal(): Json {
    this.ws();
    const c = this.src[this.pos];
    if (c === "'" || c === '"') return this.quoted();
    for (const [word, v] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const)
      if (this.eat(word)) return v;
    const m = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(this.src.slice(this.pos));
    if (!m) this.fail('expected a literal');
    this.pos += m[0].length;
    return Number(m[0]);
  }
  steps(stopAt?: string): Step[] {
    const steps: Step[] = [];
    while (this.pos < this.src.length) {
      if (stopAt && /^\s*(\)|==|!=|<|>)/.test(this.src.slice(this.pos))) break;
      if (this.eat('..')) {
        steps.push({ kind: 'descend', name: this.eat('*') ? undefined : this.name() });
      } else if (this.eat('.')) {
        steps.push(this.eat('*') ? { kind: 'wildcard' } : { kind: 'member', name: this.name() });
      } else if (this.eat('[')) {
        this.ws();
        if (this.eat('*')) steps.push({ kind: 'wildcard' });
        else if (this.eat('?(')) {
          this.ws();
          if (!this.eat('@')) this.fail('filter must start with @');
          const path = this.steps(')');
          this.ws();
          const op = (['==', '!=', '<=', '>=', '<', '>'] as const).find((o) => this.eat(o));
          const step: Step = { kind: 'filter', path };
          if (op) {
            step.op = op;
            step.literal = this.literal();
          }
          this.ws();
          if (!this.eat(')')) this.fail('expected ) to close the filter');
          steps.push(step);
        } else if (this.src[this.pos] === "'" || this.src[this.pos] === '"')
          steps.push({ kind: 'member', name: this.quoted() });
        else {
          const m = /^-?\d+/.exec(this.src.slice(this.pos));
          if (!m) this.fail('expected an index, *, a quoted name or a filter');
          this.pos += m[0].length;
          steps.push({ kind: 'index', index: Number(m[0]) });
        }
        this.ws();
        if (!this.eat(']')) this.fail('expected ]');
      } else this.fail(`unexpected "${this.src[this.pos]}"`);
    }
    return steps;
  }
}

/** Strips json_exporter's `{ }` and the leading `$`/`@`; a bare `name.x` is read as `.name.x`. */
function normalize(path: string): string {
  let p = path.trim();
  if (p.startsWith('{') && p.endsWith('}')) p = p.slice(1, -1).trim();
  if (p.startsWith('$') || p.startsWith('@')) p = p.slice(1);
  if (p !== '' && !p.startsWith('.') && !p.startsWith('[')) p = `.${p}`;
  return p;
}

export interface CompiledPath {
  source: string;
  evaluate(root: Json): Match[];
}

export function compileJsonPath(path: string): CompiledPath {
  const p = new Parser(normalize(path));
  const steps = p.steps();
  return { source: path, evaluate: (root) => run(steps, [{ value: root, keys: [] }]) };
}

const isObject = (v: Json): v is { [k: string]: Json } =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function children(v: Json): Array<[string | number, Json]> {
  if (Array.isArray(v)) return v.map((x, i) => [i, x]);
  if (isObject(v)) return Object.entries(v);
  return [];
}

function compare(a: Json, op: Op, b: Json): boolean {
  switch (op) {
    case '==':
      return a === b;
    case '!=':
      return a !== b;
  }
  if (typeof a !== typeof b || (typeof a !== 'number' && typeof a !== 'string')) return false;
  const x = a as number | string;
  const y = b as number | string;
  return op === '<' ? x < y : op === '<=' ? x <= y : op === '>' ? x > y : x >= y;
}

function descend(m: Match, name: string | undefined, out: Match[]): void {
  for (const [k, child] of children(m.value)) {
    if (name === undefined || k === name) out.push({ value: child, keys: m.keys });
    descend({ value: child, keys: m.keys }, name, out);
    if (out.length > MAX_MATCHES) throw new JsonPathError(`more than ${MAX_MATCHES} matches`);
  }
}

function run(steps: readonly Step[], start: Match[]): Match[] {
  let cur = start;
  for (const step of steps) {
    const next: Match[] = [];
    for (const m of cur) {
      const v = m.value;
      switch (step.kind) {
        case 'member':
          if (isObject(v) && Object.hasOwn(v, step.name)) next.push({ value: v[step.name]!, keys: m.keys });
          break;
        case 'index':
          if (Array.isArray(v)) {
            const i = step.index < 0 ? v.length + step.index : step.index;
            if (i >= 0 && i < v.length) next.push({ value: v[i]!, keys: m.keys });
          }
          break;
        case 'wildcard':
          for (const [k, child] of children(v)) next.push({ value: child, keys: [...m.keys, k] });
          break;
        case 'descend':
          descend(m, step.name, next);
          break;
        case 'filter':
          for (const [k, child] of children(v)) {
            const found = run(step.path, [{ value: child, keys: [] }]);
            const keep =
              step.op === undefined
                ? found.some((f) => f.value !== null && f.value !== false)
                : found.some((f) => compare(f.value, step.op!, step.literal ?? null));
            if (keep) next.push({ value: child, keys: [...m.keys, k] });
          }
          break;
      }
      if (next.length > MAX_MATCHES) throw new JsonPathError(`more than ${MAX_MATCHES} matches`);
    }
    cur = next;
  }
  return cur;
}
