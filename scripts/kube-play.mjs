#!/usr/bin/env node
// Runs a Kubernetes manifest of k8s/examples (or your own Pod / Deployment) as real pods with
// `podman kube play`, on a machine without Kubernetes:
//
//   node scripts/kube-play.mjs k8s/examples/rate-limited.yaml --publish 8084:18084
//   curl -si http://127.0.0.1:18084/
//   node scripts/kube-play.mjs --down k8s/examples/rate-limited.yaml
//
// podman 4.3 does not run the manifests as written: it never starts the app of a pod with native
// sidecars (initContainers with restartPolicy: Always), crashes on Secret volumes, and publishes
// every containerPort on all interfaces of the host. So the manifest is rewritten first (below;
// the rewritten file is kept in .cache/kube-play/), ports are published only when asked and only
// on 127.0.0.1, and podman runs with scripts/podman-env.sh's settings.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Rewrites Kubernetes objects into what podman 4.3's `kube play` runs, changing nothing else:
 * - native sidecars (initContainers with restartPolicy: Always) move to the front of containers:
 *   podman 4.3 never starts the app container otherwise;
 * - images dds/x:tag become the local localhost/dds/x:tag, never pulled;
 * - Secrets become ConfigMaps and secret volumes configMap volumes (podman 4.3 crashes on
 *   Kubernetes Secret volumes; the files inside the container are the same);
 * - Services are dropped (a pod is one network namespace here; nothing routes between pods);
 * - Downward API env from metadata.namespace (podman 4.3 knows no namespaces) becomes "default";
 * - the chosen container ports get a hostPort on 127.0.0.1; the others are dropped (podman 4.3
 *   would publish each on every interface of the host; probes use port numbers, so nothing
 *   refers to them).
 *
 * @param {Record<string, any>[]} docs the manifest's objects
 * @param {{ publish?: Record<number, number> }} [opts] containerPort -> host port on 127.0.0.1
 * @returns {Record<string, any>[]}
 */
export function forPodman(docs, opts = {}) {
  const out = [];
  for (const doc of structuredClone(docs)) {
    if (doc.kind === 'Service') continue;
    if (doc.kind === 'Secret') {
      const data = { ...(doc.stringData ?? {}) };
      for (const [k, v] of Object.entries(doc.data ?? {}))
        data[k] = Buffer.from(String(v), 'base64').toString();
      out.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: doc.metadata.name }, data });
      continue;
    }
    if (doc.kind !== 'Pod' && doc.kind !== 'Deployment' && doc.kind !== 'ConfigMap') {
      throw new Error(`podman kube play cannot run a ${doc.kind}; build the pod explicitly`);
    }
    const spec =
      doc.kind === 'Pod' ? doc.spec : doc.kind === 'Deployment' ? doc.spec.template.spec : undefined;
    if (doc.kind === 'Deployment') doc.spec.replicas = 1;
    if (spec) {
      const sidecars = (spec.initContainers ?? []).filter((c) => c.restartPolicy === 'Always');
      const inits = (spec.initContainers ?? []).filter((c) => c.restartPolicy !== 'Always');
      for (const c of sidecars) delete c.restartPolicy;
      spec.containers = [...sidecars, ...spec.containers];
      if (inits.length > 0) spec.initContainers = inits;
      else delete spec.initContainers;
      for (const c of spec.containers) {
        c.image = String(c.image).replace(/^dds\//, 'localhost/dds/');
        c.imagePullPolicy = 'Never';
        for (const e of c.env ?? []) {
          if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.namespace') {
            delete e.valueFrom;
            e.value = 'default';
          }
        }
        const kept = (c.ports ?? []).filter((p) => opts.publish?.[p.containerPort] !== undefined);
        for (const p of kept)
          Object.assign(p, { hostPort: opts.publish[p.containerPort], hostIP: '127.0.0.1' });
        if (kept.length > 0) c.ports = kept;
        else delete c.ports;
      }
      for (const v of spec.volumes ?? []) {
        if (v.secret) {
          v.configMap = { name: v.secret.secretName };
          delete v.secret;
        }
      }
    }
    out.push(doc);
  }
  return out;
}

/** The pods `podman kube play` makes of the rewritten objects. */
export const podNames = (docs) =>
  docs
    .filter((d) => d.kind === 'Pod' || d.kind === 'Deployment')
    .map((d) => (d.kind === 'Deployment' ? `${d.metadata.name}-pod-0` : String(d.metadata.name)));

function podman(args) {
  const r = spawnSync('bash', ['-c', 'source scripts/podman-env.sh && exec podman "$@"', 'podman', ...args], {
    cwd: root,
    encoding: 'utf8',
  });
  return { code: r.status ?? 1, out: `${r.stdout}${r.stderr}` };
}

async function main(argv) {
  const usage =
    'usage: node scripts/kube-play.mjs MANIFEST.yaml [--publish CONTAINER_PORT:HOST_PORT]...\n       node scripts/kube-play.mjs --down MANIFEST.yaml';
  const down = argv.includes('--down');
  const publish = {};
  const files = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--down') continue;
    if (a === '--help' || a === '-h') {
      console.log(usage);
      return 0;
    }
    if (a === '--publish' || a === '-p') {
      const m = /^(\d+):(\d+)$/.exec(argv[++i] ?? '');
      if (!m) {
        console.error(`--publish takes CONTAINER_PORT:HOST_PORT (published on 127.0.0.1 only)\n${usage}`);
        return 2;
      }
      publish[Number(m[1])] = Number(m[2]);
    } else if (a.startsWith('-')) {
      console.error(`unknown flag ${a}\n${usage}`);
      return 2;
    } else files.push(a);
  }
  if (files.length !== 1) {
    console.error(usage);
    return 2;
  }
  const { parseAllDocuments, stringify } = await import('yaml');
  const docs = parseAllDocuments(readFileSync(files[0], 'utf8'))
    .map((d) => d.toJS())
    .filter((d) => d !== null);
  let rewritten;
  try {
    rewritten = forPodman(docs, { publish });
  } catch (err) {
    console.error(`${files[0]}: ${err.message} (podman runs Pods, Deployments, ConfigMaps and Secrets)`);
    return 2;
  }
  const wanted = new Set(Object.keys(publish).map(Number));
  for (const d of rewritten)
    for (const c of (d.spec?.template?.spec ?? d.spec)?.containers ?? [])
      for (const p of c.ports ?? []) wanted.delete(p.containerPort);
  if (wanted.size > 0) {
    console.error(`--publish: no container of ${files[0]} declares port ${[...wanted].join(', ')}`);
    return 2;
  }
  const dir = join(root, '.cache/kube-play');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, basename(files[0]));
  writeFileSync(file, rewritten.map((d) => stringify(d, { aliasDuplicateObjects: false })).join('---\n'));
  const pods = podNames(rewritten);
  if (down) {
    podman(['kube', 'down', file]);
    for (const p of pods) podman(['pod', 'rm', '-f', '-t', '5', p]);
    console.log(`removed ${pods.join(', ')}`);
    return 0;
  }
  for (const p of pods) podman(['pod', 'rm', '-f', '-t', '0', p]); // left over by an earlier run
  const r = podman(['kube', 'play', file]);
  if (r.code !== 0) {
    console.error(`podman kube play ${file} failed:\n${r.out}`);
    for (const p of pods) podman(['pod', 'rm', '-f', '-t', '0', p]);
    return 1;
  }
  console.log(`pods ${pods.join(', ')} from ${file}`);
  for (const [container, host] of Object.entries(publish))
    console.log(`  127.0.0.1:${host} -> port ${container}`);
  console.log(`stop with: node scripts/kube-play.mjs --down ${files[0]}`);
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
