// Static checks of k8s/examples that podman cannot make (it runs the pods but is more lenient than
// the Kubernetes API server): valid port names unique within a pod, native sidecars where written,
// probes on the admin ports, hardened dds containers, references that resolve.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '@dds/test-support';
import { forPodman, type K8s, loadExample } from '@dds/test-support/podman';
import { describe, expect, it } from 'vitest';

const ADMIN: Record<string, number> = {
  'dds/tls-sidecar': 9901,
  'dds/shard-ambassador': 9902,
  'dds/experiment-splitter': 9903,
  'dds/rate-limiter': 9904,
  'dds/metrics-adapter': 9905,
  'dds/log-adapter': 9906,
  'dds/health-adapter': 9907,
};
const files = readdirSync(join(ROOT, 'k8s/examples')).filter((f) => f.endsWith('.yaml'));

const podSpecs = (docs: K8s[]): [string, K8s][] =>
  docs
    .filter((d) => ['Deployment', 'StatefulSet', 'Pod'].includes(d.kind))
    .map((d) => [d.metadata.name as string, (d.kind === 'Pod' ? d.spec : d.spec.template.spec) as K8s]);

describe.each(files)('k8s/examples/%s', (file) => {
  const docs = loadExample(file);

  it('has valid, pod-unique port names and ports', () => {
    for (const [name, spec] of podSpecs(docs)) {
      const containers: K8s[] = [...(spec.initContainers ?? []), ...spec.containers];
      const names = containers.flatMap((c) => (c.ports ?? []).map((p: K8s) => p.name as string));
      for (const n of names)
        expect(n, `${name}: port name ${n}`).toMatch(/^(?=.*[a-z])[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$/);
      expect(new Set(names).size, `${name}: duplicate port names`).toBe(names.length);
      const numbers = containers.flatMap((c) => (c.ports ?? []).map((p: K8s) => p.containerPort as number));
      expect(new Set(numbers).size, `${name}: duplicate container ports`).toBe(numbers.length);
    }
  });

  it('runs dds sidecars as native sidecars, hardened, probed on their admin port', () => {
    for (const [name, spec] of podSpecs(docs)) {
      const all: [K8s, boolean][] = [
        ...(spec.initContainers ?? []).map((c: K8s) => [c, true] as [K8s, boolean]),
        ...spec.containers.map((c: K8s) => [c, false] as [K8s, boolean]),
      ];
      for (const [c, init] of all) {
        const repo = String(c.image).split(':')[0] as string;
        if (init)
          expect(c.restartPolicy, `${name}/${c.name}: an init container must be a native sidecar`).toBe(
            'Always',
          );
        const admin = ADMIN[repo];
        if (admin === undefined) continue;
        expect(c.args, `${name}/${c.name}`).toContain(`--admin=0.0.0.0:${admin}`);
        expect(c.livenessProbe?.httpGet, `${name}/${c.name}`).toEqual({ path: '/healthz', port: admin });
        expect(c.startupProbe?.httpGet?.port, `${name}/${c.name}`).toBe(admin);
        expect(c.securityContext, `${name}/${c.name}`).toMatchObject({
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
          capabilities: { drop: ['ALL'] },
        });
        const runAsNonRoot = spec.securityContext?.runAsNonRoot ?? c.securityContext?.runAsNonRoot;
        expect(runAsNonRoot, `${name}/${c.name}`).toBe(true);
      }
    }
  });

  it('mounts only volumes the pod defines, from ConfigMaps the manifest carries', () => {
    for (const [name, spec] of podSpecs(docs)) {
      const volumes = new Map<string, K8s>((spec.volumes ?? []).map((v: K8s) => [v.name, v]));
      for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
        for (const m of c.volumeMounts ?? [])
          expect(volumes.has(m.name), `${name}/${c.name}: ${m.name}`).toBe(true);
      }
      for (const v of volumes.values()) {
        if (v.configMap) {
          expect(docs.some((d) => d.kind === 'ConfigMap' && d.metadata.name === v.configMap.name)).toBe(true);
        }
      }
    }
  });

  it('routes every Service to pods and named ports that exist', () => {
    for (const svc of docs.filter((d) => d.kind === 'Service')) {
      const selector = svc.spec.selector as Record<string, string>;
      const targets = docs.filter((d) => {
        const labels = d.spec?.template?.metadata?.labels as Record<string, string> | undefined;
        return labels && Object.entries(selector).every(([k, v]) => labels[k] === v);
      });
      expect(targets.length, `Service ${svc.metadata.name} selects nothing`).toBeGreaterThan(0);
      for (const port of svc.spec.ports as K8s[]) {
        if (typeof port.targetPort !== 'string') continue;
        for (const t of targets) {
          const spec = t.spec.template.spec as K8s;
          const named = [...(spec.initContainers ?? []), ...spec.containers].flatMap((c: K8s) =>
            (c.ports ?? []).map((p: K8s) => p.name),
          );
          expect(named, `Service ${svc.metadata.name} -> ${t.metadata.name}`).toContain(port.targetPort);
        }
      }
    }
  });
});

describe('scripts/kube-play.mjs rewrite (podman 4.3 publishes every containerPort otherwise)', () => {
  it.each(files)('%s: publishes no port unless asked, and an asked one only on 127.0.0.1', (file) => {
    const docs = loadExample(file).filter((d) => d.kind !== 'StatefulSet');
    if (docs.every((d) => d.kind !== 'Pod' && d.kind !== 'Deployment')) return;
    const ports = (out: K8s[]) =>
      podSpecs(out).flatMap(([, spec]) =>
        (spec.containers as K8s[]).flatMap((c) => (c.ports ?? []) as K8s[]),
      );
    expect(ports(forPodman(docs))).toEqual([]);
    const first = podSpecs(docs)
      .flatMap(([, spec]) => [...(spec.initContainers ?? []), ...spec.containers] as K8s[])
      .flatMap((c) => (c.ports ?? []) as K8s[])[0];
    if (!first) return;
    const published = ports(forPodman(docs, { publish: { [first.containerPort]: 18000 } }));
    expect(published.length).toBeGreaterThan(0);
    for (const p of published)
      expect(p).toMatchObject({ containerPort: first.containerPort, hostPort: 18000, hostIP: '127.0.0.1' });
  });
});
