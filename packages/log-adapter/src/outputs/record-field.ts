/**
 * A field of a normalized record by a dotted path, where attribute keys hold dots themselves:
 * `attributes.k8s.pod.name` is `record.attributes["k8s.pod.name"]`. At each level the longest
 * key present wins, so both `{"k8s.pod.name": ..}` and nested `{"k8s": {"pod": ..}}` resolve.
 */
export function recordField(record: unknown, path: string): unknown {
  const parts = path.split('.');
  let cur: unknown = record;
  let i = 0;
  while (i < parts.length) {
    if (cur === null || typeof cur !== 'object') return undefined;
    const o = cur as Record<string, unknown>;
    let found = false;
    for (let j = parts.length; j > i; j--) {
      const key = parts.slice(i, j).join('.');
      if (Object.hasOwn(o, key)) {
        cur = o[key];
        i = j;
        found = true;
        break;
      }
    }
    if (!found) return undefined;
  }
  return cur;
}

/**
 * The field as message-key text: strings as they are, other values as JSON, absent as undefined.
 * `attributes.NAME` falls back to the resource attribute NAME: Kubernetes metadata (pod, namespace,
 * container) is resource in the OpenTelemetry data model, and users reach for it as an attribute.
 */
export function fieldText(record: unknown, path: string): string | undefined {
  let v = recordField(record, path);
  if (v === undefined && path.startsWith('attributes.'))
    v = recordField(record, `resource.${path.slice(11)}`);
  if (v === undefined || v === null) return undefined;
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** Calls `fn` with each non-empty line of an NDJSON batch. */
export function forEachLine(ndjson: string, fn: (line: string) => void): void {
  let start = 0;
  while (start < ndjson.length) {
    let end = ndjson.indexOf('\n', start);
    if (end < 0) end = ndjson.length;
    if (end > start) fn(ndjson.slice(start, end));
    start = end + 1;
  }
}
