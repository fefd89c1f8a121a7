// Podman helpers for the end-to-end tests: images, containers and `podman kube play` of the
// k8s/examples manifests, with the settings of scripts/podman-env.sh (the only ones that work on
// these machines) and a teardown that runs even when a test fails.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { forPodman as rewrite } from '../../../scripts/kube-play.mjs';
import { ROOT, run, sleep } from './index.js';

/** Every image the project builds (scripts/images.sh), in build order. */
export const COMPONENTS = [
  'demo-app',
  'tls-sidecar',
  'shard-ambassador',
  'experiment-splitter',
  'rate-limiter',
  'metrics-adapter',
  'log-adapter',
  'health-adapter',
  'pod',
] as const;
export type ComponentName = (typeof COMPONENTS)[number];

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** podman with the project's containers.conf and chroot isolation. */
export function podman(args: readonly string[], timeoutMs = 120_000): Promise<RunResult> {
  return run('bash', ['-c', 'source scripts/podman-env.sh && exec podman "$@"', 'podman', ...args], {
    timeoutMs,
  });
}

export async function podmanOk(args: readonly string[], timeoutMs?: number): Promise<string> {
  const r = await podman(args, timeoutMs);
  if (r.code !== 0) throw new Error(`podman ${args.join(' ')} failed (${r.code}): ${r.stderr || r.stdout}`);
  return r.stdout;
}

/** An image as scripts/images.sh tags it: with its package's version. */
export const imageRef = (name: string): string =>
  `localhost/dds/${name}:${JSON.parse(readFileSync(join(ROOT, 'packages', name, 'package.json'), 'utf8')).version}`;

/** Builds (cached) whatever image is missing: the test command builds them all beforehand. */
export async function ensureImages(names: readonly string[]): Promise<void> {
  const missing: string[] = [];
  for (const n of names) {
    if ((await podman(['image', 'exists', imageRef(n)])).code !== 0) missing.push(n);
  }
  if (missing.length === 0) return;
  const r = await run('bash', ['scripts/images.sh', ...missing], { timeoutMs: 600_000 });
  if (r.code !== 0) throw new Error(`scripts/images.sh ${missing.join(' ')} failed: ${r.stderr}`);
}

// biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects are free-form YAML
export type K8s = Record<string, any>;

/** The documents of a k8s/examples manifest. */
export function loadExample(file: string): K8s[] {
  const text = readFileSync(join(ROOT, 'k8s/examples', file), 'utf8');
  return parseAllDocuments(text)
    .map((d) => d.toJS() as K8s | null)
    .filter((d): d is K8s => d !== null);
}

export const findDoc = (docs: K8s[], kind: string, name: string): K8s => {
  const d = docs.find((x) => x.kind === kind && x.metadata?.name === name);
  if (!d) throw new Error(`${kind}/${name} not in the manifest`);
  return d;
};

export interface PodmanOptions {
  /** containerPort -> host port (published on 127.0.0.1 only) */
  publish?: Record<number, number>;
}

/**
 * The rewrite that makes podman 4.3's `kube play` run a manifest (native sidecars, Secrets,
 * Services, ports on 127.0.0.1 only): the one users run with `node scripts/kube-play.mjs`.
 */
export const forPodman: (docs: K8s[], opts?: PodmanOptions) => K8s[] = rewrite;

/** A played manifest: its pods, and a teardown that removes them whatever happened. */
export interface Played {
  file: string;
  pods: string[];
  /** `<pod>-<container>` as podman names the containers */
  container(pod: string, name: string): string;
  logs(pod: string, name: string): Promise<string>;
  down(): Promise<void>;
}

const podNameOf = (doc: K8s): string =>
  doc.kind === 'Deployment' ? `${doc.metadata.name}-pod-0` : String(doc.metadata.name);

export async function play(docs: K8s[]): Promise<Played> {
  const dir = mkdtempSync(join(tmpdir(), 'dds-e2e-kube-'));
  const file = join(dir, 'manifest.yaml');
  writeFileSync(file, docs.map((d) => stringify(d, { aliasDuplicateObjects: false })).join('---\n'));
  const pods = docs.filter((d) => d.kind === 'Pod' || d.kind === 'Deployment').map(podNameOf);
  const played: Played = {
    file,
    pods,
    container: (pod, name) => `${pod}-${name}`,
    logs: async (pod, name) => {
      const r = await podman(['logs', `${pod}-${name}`]);
      return r.stdout + r.stderr;
    },
    down: async () => {
      await podman(['kube', 'down', file], 60_000);
      for (const p of pods) await podman(['pod', 'rm', '-f', '-t', '2', p], 60_000);
    },
  };
  // a pod left over by an earlier, killed run would make the ports clash
  for (const p of pods) await podman(['pod', 'rm', '-f', '-t', '0', p]);
  const r = await podman(['kube', 'play', file], 180_000);
  if (r.code !== 0) {
    await played.down();
    throw new Error(`podman kube play failed: ${r.stderr || r.stdout}`);
  }
  return played;
}

/** Polls until fn returns a value (not undefined) or the time is up. */
export async function eventually<T>(
  what: string,
  fn: () => Promise<T | undefined>,
  timeoutMs = 60_000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(250);
  }
}

/** GET with a short timeout; undefined while nothing answers. */
export async function httpStatus(url: string): Promise<number | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return undefined;
  }
}
