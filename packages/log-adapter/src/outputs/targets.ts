/**
 * `--output` targets: `stdout`, `file:PATH`, `http(s)://...` (NDJSON POSTs),
 * `otlp-http(s)://HOST:PORT[/path]` (OTLP/HTTP logs) and `kafka://BROKER[,BROKER]/TOPIC`, each
 * optionally named `NAME=TARGET`. Unnamed outputs are named after their kind (`otlp`, `kafka`, ...;
 * `kafka-2` for a second one): the name labels its metrics and selects it in `--output-policy`.
 */
export type OutputKind = 'stdout' | 'file' | 'http' | 'otlp' | 'kafka';
export type OutputPolicy = 'block' | 'spool' | 'drop';

export interface OutputTarget {
  name: string;
  kind: OutputKind;
  /** the target as written, without `NAME=` */
  target: string;
  /** file: the path; http/otlp: the URL to POST to */
  location: string;
  brokers: string[];
  topic: string;
  policy: OutputPolicy;
}

const NAME = /^([a-z][a-z0-9_-]{0,31})=(.+)$/;
const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[^\s:/[\]]+):(\d{1,5})$/;

/** The target's kind and location, or an error message. */
export function parseTarget(raw: string): Omit<OutputTarget, 'name' | 'policy'> | string {
  if (raw === 'stdout') return { kind: 'stdout', target: raw, location: '', brokers: [], topic: '' };
  if (raw.startsWith('file:')) {
    if (raw.length === 5) return 'file: needs a path';
    return { kind: 'file', target: raw, location: raw.slice(5), brokers: [], topic: '' };
  }
  if (/^https?:\/\//.test(raw)) {
    try {
      new URL(raw);
    } catch {
      return 'not a valid URL';
    }
    return { kind: 'http', target: raw, location: raw, brokers: [], topic: '' };
  }
  const otlp = /^otlp-(https?):\/\/(.+)$/.exec(raw);
  if (otlp) {
    let u: URL;
    try {
      u = new URL(`${otlp[1]}://${otlp[2]}`);
    } catch {
      return 'not a valid URL';
    }
    if (!u.port && !/^\[?[^/]+:\d+/.test(otlp[2]!))
      return 'otlp-http:// needs HOST:PORT (OTLP/HTTP is usually on 4318)';
    const path = u.pathname === '/' ? '/v1/logs' : u.pathname;
    return { kind: 'otlp', target: raw, location: `${u.origin}${path}${u.search}`, brokers: [], topic: '' };
  }
  const kafka = /^kafka:\/\/([^/]+)\/([^/?#]+)$/.exec(raw);
  if (kafka) {
    const brokers = kafka[1]!.split(',').filter((b) => b !== '');
    for (const b of brokers) if (!HOST_PORT.test(b)) return `broker "${b}" is not HOST:PORT`;
    if (!/^[a-zA-Z0-9._-]{1,249}$/.test(kafka[2]!)) return `"${kafka[2]}" is not a valid Kafka topic name`;
    return { kind: 'kafka', target: raw, location: '', brokers, topic: kafka[2]! };
  }
  if (raw.startsWith('kafka://')) return 'expected kafka://BROKER[,BROKER]/TOPIC';
  return 'expected stdout, file:PATH, http(s)://URL, otlp-http(s)://HOST:PORT or kafka://BROKER[,BROKER]/TOPIC';
}

/** Splits `NAME=TARGET`. */
export function splitName(raw: string): { name?: string; target: string } {
  const m = NAME.exec(raw);
  // `file:a=b` or a URL with `=` in its query is not a name: names come first and hold no `:`
  return m && !m[1]!.includes(':') ? { name: m[1]!, target: m[2]! } : { target: raw };
}

/**
 * Resolves all targets and policies. `policies` holds `POLICY` (every output) or `NAME=POLICY`.
 * Returns the outputs or a list of [index, message] errors.
 */
export function resolveTargets(
  outputs: readonly string[],
  policies: readonly string[],
): OutputTarget[] | Array<{ path: string; message: string }> {
  const errors: Array<{ path: string; message: string }> = [];
  const out: OutputTarget[] = [];
  const counts = new Map<string, number>();
  outputs.forEach((raw, i) => {
    const { name, target } = splitName(raw);
    const t = parseTarget(target);
    if (typeof t === 'string') {
      errors.push({ path: `output.${i}`, message: t });
      return;
    }
    let n = name;
    if (!n) {
      const c = (counts.get(t.kind) ?? 0) + 1;
      counts.set(t.kind, c);
      n = c === 1 ? t.kind : `${t.kind}-${c}`;
    }
    if (out.some((o) => o.name === n))
      errors.push({ path: `output.${i}`, message: `duplicate output name "${n}"` });
    out.push({ ...t, name: n, policy: 'block' });
  });
  policies.forEach((p, i) => {
    const eq = p.indexOf('=');
    const name = eq < 0 ? undefined : p.slice(0, eq);
    const policy = eq < 0 ? p : p.slice(eq + 1);
    if (policy !== 'block' && policy !== 'spool' && policy !== 'drop') {
      errors.push({ path: `outputPolicy.${i}`, message: `expected block, spool or drop (got "${policy}")` });
      return;
    }
    const hits = out.filter((o) => name === undefined || o.name === name);
    if (name !== undefined && hits.length === 0)
      errors.push({
        path: `outputPolicy.${i}`,
        message: `no output named "${name}" (outputs: ${out.map((o) => o.name).join(', ')})`,
      });
    for (const o of hits) o.policy = policy;
  });
  return errors.length ? errors : out;
}
