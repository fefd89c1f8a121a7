/**
 * Resource attributes for every record: the Downward API variables a pod spec usually sets
 * (both the plain names and K8S_* names), then OTEL_RESOURCE_ATTRIBUTES, OTEL_SERVICE_NAME, then
 * --resource; later sources win.
 */
const DOWNWARD: Array<[string, string[]]> = [
  ['k8s.pod.name', ['K8S_POD_NAME', 'POD_NAME']],
  ['k8s.pod.uid', ['K8S_POD_UID', 'POD_UID']],
  ['k8s.namespace.name', ['K8S_NAMESPACE_NAME', 'POD_NAMESPACE']],
  ['k8s.node.name', ['K8S_NODE_NAME', 'NODE_NAME']],
  ['k8s.container.name', ['K8S_CONTAINER_NAME', 'CONTAINER_NAME']],
  ['k8s.deployment.name', ['K8S_DEPLOYMENT_NAME']],
];

export function buildResource(
  env: Readonly<Record<string, string | undefined>>,
  extra: readonly string[],
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, names] of DOWNWARD) {
    for (const n of names) {
      const v = env[n];
      if (v) {
        out[key] = v;
        break;
      }
    }
  }
  for (const pair of (env.OTEL_RESOURCE_ATTRIBUTES ?? '').split(',')) addPair(out, pair, true);
  if (env.OTEL_SERVICE_NAME) out['service.name'] = env.OTEL_SERVICE_NAME;
  for (const pair of extra) addPair(out, pair, false);
  return out;
}

function addPair(out: Record<string, string>, pair: string, percentEncoded: boolean): void {
  const eq = pair.indexOf('=');
  if (eq <= 0) return;
  const key = pair.slice(0, eq).trim();
  let value = pair.slice(eq + 1).trim();
  if (percentEncoded) {
    try {
      value = decodeURIComponent(value);
    } catch {
      // keep the raw value: the OTel spec says to ignore bad encodings rather than fail
    }
  }
  out[key] = value;
}

/** The constant `,"resource":{...}` member of every JSON line ('' when empty). */
export function resourceMember(resource: Record<string, string>): string {
  return Object.keys(resource).length ? `,"resource":${JSON.stringify(resource)}` : '';
}
