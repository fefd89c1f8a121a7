// The Helm charts, checked with the real helm binary (scripts/install-helm.sh installs a pinned one):
// `helm lint` and `helm template` for every chart with its defaults and the values files in
// test/helm/values/, then the rendered objects are parsed and their containers, ports, probes and
// security contexts asserted.

import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bin, freePorts, ROOT, run, tempDir, waitForPort } from '@dds/test-support';
import {
  ensureImages,
  eventually,
  forPodman,
  httpStatus,
  type K8s,
  type Played,
  play,
} from '@dds/test-support/podman';
import { selfSignedCert } from '@dds/test-support/self-signed';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';

// pods and podman on a busy shared machine: generous per-test time (every wait inside is bounded)
vi.setConfig({ testTimeout: 60_000 });

const HELM = join(ROOT, '.cache/bin/helm');
const CHARTS = join(ROOT, 'k8s/charts');
const VALUES = join(ROOT, 'test/helm/values');
const SUBCHARTS = [
  'tls-sidecar',
  'shard-ambassador',
  'experiment-splitter',
  'rate-limiter',
  'metrics-adapter',
  'log-adapter',
  'health-adapter',
] as const;
const ADMIN_PORT: Record<string, number> = {
  'tls-sidecar': 9901,
  'shard-ambassador': 9902,
  'experiment-splitter': 9903,
  'rate-limiter': 9904,
  'metrics-adapter': 9905,
  'log-adapter': 9906,
  'health-adapter': 9907,
};

interface Probe {
  httpGet: { path: string; port: number };
}
interface Container {
  name: string;
  image: string;
  args?: string[];
  restartPolicy?: string;
  ports?: { name: string; containerPort: number }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  securityContext?: Record<string, unknown>;
  volumeMounts?: { name: string; mountPath: string }[];
}
interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  volumes?: { name: string; configMap?: { name: string }; secret?: { secretName: string } }[];
  securityContext?: Record<string, unknown>;
}
/** A rendered object; beyond kind and metadata it is free-form YAML (the K8s type of the e2e helpers). */
type K8sObject = K8s & { kind: string; metadata: { name: string; labels?: Record<string, string> } };

async function helm(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(HELM, args, { timeoutMs: 60_000 });
}

async function template(chart: string, valuesFile?: string, extra: string[] = []): Promise<K8sObject[]> {
  const args = ['template', 'rel', join(CHARTS, chart), ...extra];
  if (valuesFile) args.push('-f', join(VALUES, valuesFile));
  const r = await helm(args);
  expect(r.stderr, `helm template ${chart} ${valuesFile ?? ''}`).toBe('');
  expect(r.code).toBe(0);
  return parseAllDocuments(r.stdout)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}

const byKind = (objs: K8sObject[], kind: string): K8sObject[] => objs.filter((o) => o.kind === kind);
const podSpec = (deployment: K8sObject): PodSpec => deployment.spec.template.spec as PodSpec;

/** What every dds container must carry, wherever it is rendered. */
function expectHardenedDdsContainer(c: Container, component: string, probes = true): void {
  const admin = ADMIN_PORT[component];
  expect(c.image).toBe(`dds/${component}:0.1.0`);
  expect(c.args).toContain(`--admin=0.0.0.0:${admin}`);
  expect(c.ports?.map((p) => p.containerPort)).toContain(admin);
  const names = c.ports?.map((p) => p.name) ?? [];
  for (const n of names) expect(n.length).toBeLessThanOrEqual(15);
  expect(c.securityContext).toMatchObject({
    runAsNonRoot: true,
    runAsUser: 65532,
    readOnlyRootFilesystem: true,
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'] },
  });
  expect(c.volumeMounts?.some((m) => m.mountPath === '/tmp')).toBe(true);
  if (probes) {
    expect(c.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: admin });
    expect(c.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: admin });
    expect(c.startupProbe?.httpGet).toEqual({ path: '/healthz', port: admin });
  } else {
    expect(c.livenessProbe).toBeUndefined();
    expect(c.readinessProbe).toBeUndefined();
  }
}

beforeAll(async () => {
  if (!existsSync(HELM)) {
    const r = await run('bash', ['scripts/install-helm.sh'], { timeoutMs: 600_000 });
    if (r.code !== 0) throw new Error(`installing helm failed: ${r.stderr}`);
  }
  // file:// dependencies are vendored into <chart>/charts; the library first, the umbrella last.
  for (const chart of [...SUBCHARTS, 'dds']) {
    const r = await helm(['dependency', 'update', '--skip-refresh', join(CHARTS, chart)]);
    if (r.code !== 0) throw new Error(`helm dependency update ${chart}: ${r.stderr}`);
  }
}, 660_000);

describe('helm lint', () => {
  it.each(['dds-lib', ...SUBCHARTS, 'dds'])('%s passes helm lint --strict', async (chart) => {
    const r = await helm(['lint', '--strict', join(CHARTS, chart)]);
    expect(r.stdout).toContain('0 chart(s) failed');
    expect(r.code).toBe(0);
  });

  it.each(readdirSync(VALUES).filter((f) => f.endsWith('.yaml')))(
    'lints with values file %s',
    async (file) => {
      const chart = file.startsWith('dds-') ? 'dds' : SUBCHARTS.find((c) => file.startsWith(`${c}-`));
      expect(chart, `values file ${file} names no chart`).toBeDefined();
      const r = await helm(['lint', '--strict', join(CHARTS, chart as string), '-f', join(VALUES, file)]);
      expect(r.stdout).toContain('0 chart(s) failed');
    },
  );

  it('every chart has a values.schema.json that rejects bad values', async () => {
    for (const chart of ['dds-lib', ...SUBCHARTS, 'dds']) {
      expect(existsSync(join(CHARTS, chart, 'values.schema.json')), chart).toBe(true);
    }
    const badPort = await helm([
      'template',
      'rel',
      join(CHARTS, 'rate-limiter'),
      '--set',
      'admin.port=70000',
    ]);
    expect(badPort.code).not.toBe(0);
    expect(badPort.stderr).toMatch(/admin[\s\S]*port|maximum/);
    const typo = await helm(['template', 'rel', join(CHARTS, 'tls-sidecar'), '--set', 'replicas=3']);
    expect(typo.code).not.toBe(0);
    expect(typo.stderr).toMatch(/additional properties 'replicas' not allowed/);
    // flags: one property per flag of the component, generated from its settings
    const flagTypo = await helm(['template', 'rel', join(CHARTS, 'tls-sidecar'), '--set', 'flags.upstrem=x']);
    expect(flagTypo.code).not.toBe(0);
    expect(flagTypo.stderr).toMatch(/additional properties 'upstrem' not allowed/);
    const unknownSidecar = await helm([
      'template',
      'rel',
      join(CHARTS, 'dds'),
      '--set',
      'app.sidecars={nginx}',
    ]);
    expect(unknownSidecar.code).not.toBe(0);
  });
});

describe('subcharts with their defaults', () => {
  it.each(SUBCHARTS)('%s renders nothing but its optional Deployment', async (chart) => {
    const objs = await template(chart);
    const deployments = byKind(objs, 'Deployment');
    // only the splitter runs standalone by default; the others are sidecar blocks until enabled
    expect(deployments.length).toBe(chart === 'experiment-splitter' ? 1 : 0);
    expect(byKind(objs, 'ConfigMap')).toHaveLength(0);
  });

  it.each(SUBCHARTS)(
    '%s as a standalone Deployment: hardened container, probes on the admin port',
    async (chart) => {
      const extra = ['--set', 'deployment.enabled=true'];
      if (chart === 'log-adapter') extra.push('--set', 'logVolume.name=tmp-logs');
      const objs = await template(chart, undefined, extra);
      const [deployment] = byKind(objs, 'Deployment');
      expect(deployment?.metadata.name).toBe(`rel-${chart}`);
      const spec = podSpec(deployment as K8sObject);
      expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532, fsGroup: 65532 });
      expect(spec.containers).toHaveLength(1);
      const [c] = spec.containers;
      expect(c?.name).toBe(chart);
      expect(c?.restartPolicy).toBeUndefined();
      expectHardenedDdsContainer(c as Container, chart);
      const services = byKind(objs, 'Service');
      if (chart === 'log-adapter') {
        // no data listener, so no Service
        expect(services).toHaveLength(0);
      } else {
        expect(services).toHaveLength(1);
        const svcPorts = (services[0] as K8sObject).spec.ports as { targetPort: string }[];
        const containerPortNames = new Set(c?.ports?.map((p) => p.name));
        for (const p of svcPorts) expect(containerPortNames.has(p.targetPort)).toBe(true);
      }
    },
  );
});

describe('subcharts with values files', () => {
  it('tls-sidecar standalone: certificate Secret mounted, flags rendered, 3 replicas', async () => {
    const objs = await template('tls-sidecar', 'tls-sidecar-standalone.yaml');
    const [deployment] = byKind(objs, 'Deployment');
    expect(deployment?.spec.replicas).toBe(3);
    const spec = podSpec(deployment as K8sObject);
    const [c] = spec.containers as [Container];
    expectHardenedDdsContainer(c, 'tls-sidecar');
    expect(c.args).toEqual(
      expect.arrayContaining([
        '--listen=0.0.0.0:8443',
        '--upstream=http://web:8080',
        '--hsts=max-age=31536000',
        '--tls-dir=/etc/dds/tls',
      ]),
    );
    expect(c.ports?.find((p) => p.name === 'tls-https')?.containerPort).toBe(8443);
    expect(c.volumeMounts).toContainEqual({
      name: 'tls-sidecar-certs',
      mountPath: '/etc/dds/tls',
      readOnly: true,
    });
    expect(spec.volumes).toContainEqual({ name: 'tls-sidecar-certs', secret: { secretName: 'web-tls' } });
  });

  it('V8 heap sizing from the memory limit: NODE_OPTIONS, off with v8Sizing: false or an own NODE_OPTIONS', async () => {
    const optionsOf = async (extra: string[]) => {
      const [deployment] = byKind(
        await template('tls-sidecar', 'tls-sidecar-standalone.yaml', extra),
        'Deployment',
      );
      const c = podSpec(deployment as K8sObject).containers[0] as unknown as {
        env?: { name: string; value?: string }[];
      };
      return (c.env ?? []).filter((e) => e.name === 'NODE_OPTIONS').map((e) => e.value);
    };
    expect(await optionsOf([])).toEqual(['--max-old-space-size=96 --max-semi-space-size=2']);
    expect(await optionsOf(['--set', 'resources.limits.memory=128Mi'])).toEqual([
      '--max-old-space-size=64 --max-semi-space-size=1',
    ]);
    expect(await optionsOf(['--set', 'resources.limits.memory=1Gi'])).toEqual(['--max-old-space-size=512']);
    expect(await optionsOf(['--set', 'v8Sizing=false'])).toEqual([]);
    expect(
      await optionsOf([
        '--set',
        'env[0].name=NODE_OPTIONS',
        '--set',
        'env[0].value=--max-old-space-size=300',
      ]),
    ).toEqual(['--max-old-space-size=300']);
    // a chart with its own measured young generation (v8SemiSpaceMb): the log-adapter's 16 MB
    const [logs] = byKind(
      await template('log-adapter', undefined, ['--set', 'deployment.enabled=true']),
      'Deployment',
    );
    const env = (
      podSpec(logs as K8sObject).containers[0] as unknown as { env?: { name: string; value?: string }[] }
    ).env;
    expect(env?.filter((e) => e.name === 'NODE_OPTIONS').map((e) => e.value)).toEqual([
      '--max-old-space-size=128 --max-semi-space-size=16',
    ]);
  });

  it('shard-ambassador shared: nutcracker config in a ConfigMap, mounted and passed, restarted on change', async () => {
    const objs = await template('shard-ambassador', 'shard-ambassador-shared.yaml');
    const [cm] = byKind(objs, 'ConfigMap');
    expect(cm?.metadata.name).toBe('rel-shard-ambassador-config');
    expect(cm?.data['nutcracker.yaml']).toContain('memcache-2.memcache:11211:1');
    const [deployment] = byKind(objs, 'Deployment');
    const spec = podSpec(deployment as K8sObject);
    const [c] = spec.containers as [Container];
    expectHardenedDdsContainer(c, 'shard-ambassador');
    expect(c.args?.[0]).toBe('--conf-file=/etc/dds/config/nutcracker.yaml');
    expect(c.args?.some((a) => a.startsWith('--listen'))).toBe(false);
    expect(c.volumeMounts).toContainEqual({
      name: 'shard-ambassador-config',
      mountPath: '/etc/dds/config',
      readOnly: true,
    });
    expect(spec.volumes).toContainEqual({
      name: 'shard-ambassador-config',
      configMap: { name: 'rel-shard-ambassador-config' },
    });
    expect(deployment?.spec.template.metadata.annotations['checksum/config']).toMatch(/^[0-9a-f]{64}$/);
    const [svc] = byKind(objs, 'Service');
    expect(svc?.spec.ports).toEqual([
      { name: 'memc', port: 11211, targetPort: 'shard-memc', protocol: 'TCP' },
    ]);
  });

  it('experiment-splitter: a 10% experiment with the guard on', async () => {
    const objs = await template('experiment-splitter', 'experiment-splitter-ten-percent.yaml');
    const [c] = podSpec(byKind(objs, 'Deployment')[0] as K8sObject).containers as [Container];
    expectHardenedDdsContainer(c, 'experiment-splitter');
    expect(c.args).toEqual(
      expect.arrayContaining([
        '--listen=0.0.0.0:8083',
        '--control=http://web-v1:8080',
        '--experiment=http://web-v2:8080',
        '--percent=10',
        '--experiment-name=checkout-v2',
        '--guard',
      ]),
    );
  });
});

describe('umbrella chart dds', () => {
  it('renders nothing with every component off', async () => {
    expect(await template('dds')).toHaveLength(0);
  });

  it('an app pod with native sidecars: initContainers with restartPolicy Always, unique port names', async () => {
    const objs = await template('dds', 'dds-app-native.yaml');
    const app = byKind(objs, 'Deployment').find((d) => d.metadata.name === 'rel-app') as K8sObject;
    const spec = podSpec(app);
    expect(spec.containers.map((c) => c.name)).toEqual(['app']);
    const sidecars = spec.initContainers ?? [];
    expect(sidecars.map((c) => c.name)).toEqual([
      'tls-sidecar',
      'shard-ambassador',
      'rate-limiter',
      'metrics-adapter',
      'log-adapter',
      'health-adapter',
    ]);
    for (const c of sidecars) {
      expect(c.restartPolicy).toBe('Always');
      expectHardenedDdsContainer(c, c.name);
    }
    const portNames = [...spec.containers, ...sidecars].flatMap((c) => c.ports?.map((p) => p.name) ?? []);
    expect(new Set(portNames).size).toBe(portNames.length);
    const portNumbers = [...spec.containers, ...sidecars].flatMap(
      (c) => c.ports?.map((p) => p.containerPort) ?? [],
    );
    expect(new Set(portNumbers).size).toBe(portNumbers.length);
    // every volume a container mounts exists, exactly once
    const volumeNames = (spec.volumes ?? []).map((v) => v.name);
    expect(new Set(volumeNames).size).toBe(volumeNames.length);
    for (const c of [...spec.containers, ...sidecars]) {
      for (const m of c.volumeMounts ?? []) expect(volumeNames).toContain(m.name);
    }
    // the log adapter reads the app's log emptyDir
    const logAdapter = sidecars.find((c) => c.name === 'log-adapter') as Container;
    expect(logAdapter.volumeMounts).toContainEqual({
      name: 'app-logs',
      mountPath: '/var/log/app',
      readOnly: true,
    });
    // ConfigMaps the pod references are rendered by the subcharts under the same names
    const configMaps = byKind(objs, 'ConfigMap').map((o) => o.metadata.name);
    for (const v of spec.volumes ?? []) if (v.configMap) expect(configMaps).toContain(v.configMap.name);
    expect(configMaps.sort()).toEqual(['rel-log-adapter-config', 'rel-shard-ambassador-config']);
    // the splitter is not a sidecar: it runs standalone with its Service
    expect(byKind(objs, 'Deployment').map((d) => d.metadata.name)).toContain('rel-experiment-splitter');
    expect(byKind(objs, 'Service').map((d) => d.metadata.name)).toEqual(['rel-experiment-splitter']);
  });

  it('native: false puts the sidecars under containers for older clusters', async () => {
    const objs = await template('dds', 'dds-app-classic.yaml');
    const spec = podSpec(byKind(objs, 'Deployment')[0] as K8sObject);
    expect(spec.initContainers).toBeUndefined();
    expect(spec.containers.map((c) => c.name)).toEqual([
      'app',
      'tls-sidecar',
      'rate-limiter',
      'health-adapter',
    ]);
    for (const c of spec.containers.slice(1)) {
      expect(c.restartPolicy).toBeUndefined();
      expectHardenedDdsContainer(c, c.name, c.name !== 'health-adapter');
    }
    const app = spec.containers[0] as Container;
    expect(app.securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true });
  });
});

describe('umbrella chart dds in pod mode (app.sidecarMode: pod)', () => {
  const POD_LEVEL = ['admin', 'workers', 'shutdownDelay', 'drainTimeout', 'reloadInterval'];
  const tlsDir = tempDir('helm-pod-tls');
  beforeAll(() => {
    const c = selfSignedCert();
    copyFileSync(c.cert, join(tlsDir, 'tls.crt'));
    copyFileSync(c.key, join(tlsDir, 'tls.key'));
  });
  /** What a component makes of its settings: --print-config, paths under /etc/dds moved to test files. */
  async function printed(program: string, args: string[]): Promise<Record<string, unknown>> {
    const r = await run(process.execPath, [bin(program), ...args, '--print-config']);
    expect(r.stderr, `${program} ${args.join(' ')}`).toBe('');
    expect(r.code).toBe(0);
    return parse(r.stdout) as Record<string, unknown>;
  }
  const withoutPodLevel = (c: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(c).filter(([k]) => !POD_LEVEL.includes(k)));

  it('one dds/pod container for the app pod: hardened, one admin port, every data port, its pod file', async () => {
    const objs = await template('dds', 'dds-app-pod.yaml');
    const app = byKind(objs, 'Deployment').find((d) => d.metadata.name === 'rel-app') as K8sObject;
    const spec = podSpec(app);
    expect(spec.containers.map((c) => c.name)).toEqual(['app']);
    const [pod, ...more] = spec.initContainers ?? [];
    expect(more).toEqual([]);
    expect(pod?.name).toBe('dds-pod');
    expect(pod?.image).toBe('dds/pod:0.1.0');
    expect(pod?.restartPolicy).toBe('Always');
    expect(pod?.args).toEqual(['--config=/etc/dds/config/pod.yaml', '--admin=0.0.0.0:9910']);
    expect(pod?.ports).toEqual([
      { name: 'tls-https', containerPort: 8443, protocol: 'TCP' },
      { name: 'shard-redis', containerPort: 6379, protocol: 'TCP' },
      { name: 'rl-http', containerPort: 8084, protocol: 'TCP' },
      { name: 'metrics-redis', containerPort: 9121, protocol: 'TCP' },
      { name: 'pod-admin', containerPort: 9910, protocol: 'TCP' },
    ]);
    expect(pod?.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 9910 });
    expect(pod?.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 9910 });
    expect(pod?.securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true });
    expect((pod as unknown as { env: unknown }).env).toEqual([
      { name: 'NODE_OPTIONS', value: '--max-old-space-size=160 --max-semi-space-size=2' },
    ]);
    // the members' mounts (certificates, the app's logs) and the pod file; every volume exists once
    expect(pod?.volumeMounts?.map((m) => m.mountPath)).toEqual([
      '/tmp',
      '/etc/dds/config',
      '/etc/dds/tls',
      '/var/log/app',
    ]);
    const volumeNames = (spec.volumes ?? []).map((v) => v.name);
    expect(new Set(volumeNames).size).toBe(volumeNames.length);
    for (const c of [...spec.containers, pod as Container])
      for (const m of c.volumeMounts ?? []) expect(volumeNames).toContain(m.name);
    const file = byKind(objs, 'ConfigMap').find((o) => o.metadata.name === 'rel-dds-pod-config');
    const podFile = parse(file?.data['pod.yaml']) as { components: Record<string, unknown> };
    expect(Object.keys(podFile.components).sort()).toEqual([
      'log-adapter',
      'metrics-adapter',
      'rate-limiter',
      'shard-ambassador',
      'tls-sidecar',
    ]);
    expect(podFile).toMatchObject({ logLevel: 'info', drainTimeout: '20s' });
    // the splitter is not in app.sidecars: it still runs standalone
    expect(byKind(objs, 'Deployment').map((d) => d.metadata.name)).toContain('rel-experiment-splitter');
  });

  it('each section is what that component makes of the same values in its own container', async () => {
    const pod = await template('dds', 'dds-app-pod.yaml');
    const alone = await template('dds', 'dds-app-pod.yaml', ['--set', 'app.sidecarMode=containers']);
    const dir = tempDir('helm-pod-config');
    /** a rendered ConfigMap's files written out; returns the directory */
    const files = (objs: K8sObject[], name: string) => {
      const d = join(dir, name);
      mkdirSync(d, { recursive: true });
      const cm = byKind(objs, 'ConfigMap').find((o) => o.metadata.name === name) as K8sObject;
      for (const [f, text] of Object.entries(cm.data as Record<string, string>))
        writeFileSync(join(d, f), text);
      return d;
    };
    const local = (args: string[], configDir: string) =>
      args.map((a) => a.replace('/etc/dds/config/', `${configDir}/`).replace('/etc/dds/tls', tlsDir));
    const podDir = files(pod, 'rel-dds-pod-config');
    writeFileSync(
      join(podDir, 'pod.yaml'),
      readFileSync(join(podDir, 'pod.yaml'), 'utf8').replace('/etc/dds/tls', tlsDir),
    );
    const whole = await printed('pod', ['--config', join(podDir, 'pod.yaml')]);
    const sections = whole.components as Record<string, Record<string, unknown>>;
    const containers =
      podSpec(alone.find((d) => d.metadata.name === 'rel-app') as K8sObject).initContainers ?? [];
    expect(containers.map((c) => c.name).sort()).toEqual(Object.keys(sections).sort());
    for (const c of containers) {
      const cm = `rel-${c.name}-config`;
      const configDir = byKind(alone, 'ConfigMap').some((o) => o.metadata.name === cm)
        ? files(alone, cm)
        : join(dir, cm);
      const own = await printed(c.name, local(c.args ?? [], configDir));
      expect(withoutPodLevel(sections[c.name] as Record<string, unknown>), c.name).toEqual(
        withoutPodLevel(own),
      );
    }
  });

  it('chains in-process from the same values: tls-sidecar -> internal:rate-limiter, the rate limiter listening nowhere', async () => {
    const objs = await template('dds', 'dds-app-pod.yaml', [
      '--set-string',
      'tlsSidecar.flags.upstream=internal:rate-limiter,rateLimiter.flags.listen=off,rateLimiter.listenHost=',
      '--set-json',
      'rateLimiter.ports=[]',
    ]);
    const file = byKind(objs, 'ConfigMap').find((o) => o.metadata.name === 'rel-dds-pod-config');
    const text = String(file?.data['pod.yaml']).replace('/etc/dds/tls', tlsDir);
    const podFile = parse(text) as { components: Record<string, Record<string, unknown>> };
    expect(podFile.components['tls-sidecar']?.upstream).toBe('internal:rate-limiter');
    expect(podFile.components['rate-limiter']?.listen).toBe('off');
    const app = byKind(objs, 'Deployment').find((d) => d.metadata.name === 'rel-app') as K8sObject;
    const pod = (podSpec(app).initContainers ?? [])[0];
    expect(pod?.ports?.map((p) => p.containerPort)).not.toContain(8084);
    const path = join(tempDir('helm-pod-chain'), 'pod.yaml');
    writeFileSync(path, text);
    const r = await run(process.execPath, [bin('pod'), '--config', path, '--check-config']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('refuses what a pod section cannot take: a pod-level flag, environment variables, an unknown flag', async () => {
    const bad = async (set: string) => {
      const r = await helm([
        'template',
        'rel',
        join(CHARTS, 'dds'),
        '-f',
        join(VALUES, 'dds-app-pod.yaml'),
        '--set',
        set,
      ]);
      expect(r.code).toBe(1);
      return r.stderr;
    };
    expect(await bad('rateLimiter.flags.drain-timeout=5s')).toContain(
      'rateLimiter: --drain-timeout is set once for the whole pod in pod mode (pod.* values)',
    );
    expect(await bad('tlsSidecar.env[0].name=DDS_HSTS,tlsSidecar.env[0].value=x')).toContain(
      'tlsSidecar.env: environment variables do not reach a component in pod mode',
    );
    expect(await bad('rateLimiter.extraArgs[0]=--no-such-flag')).toContain(
      'rateLimiter: unknown flag --no-such-flag',
    );
    expect(await bad('app.sidecarMode=one')).toContain('sidecarMode');
  });
});

interface PolicyRule {
  ports: { port: number; protocol: string }[];
  from?: Record<string, unknown>[];
}
const policySpec = (o: K8sObject) =>
  o.spec as {
    podSelector: { matchLabels: Record<string, string> };
    policyTypes: string[];
    ingress: PolicyRule[];
  };

describe('optional NetworkPolicy', () => {
  it.each(SUBCHARTS)('%s renders none by default, also as a standalone Deployment', async (chart) => {
    const extra = ['--set', 'deployment.enabled=true'];
    if (chart === 'log-adapter') extra.push('--set', 'logVolume.name=tmp-logs');
    expect(byKind(await template(chart, undefined, extra), 'NetworkPolicy')).toEqual([]);
  });

  it('a standalone rate limiter: data port open, admin port only from Prometheus and the nodes', async () => {
    const objs = await template('rate-limiter', 'rate-limiter-network-policy.yaml');
    const [policy] = byKind(objs, 'NetworkPolicy') as [K8sObject];
    expect(policy.metadata.name).toBe('rel-rate-limiter');
    const spec = policySpec(policy);
    // it selects exactly the Deployment's pods
    const [deployment] = byKind(objs, 'Deployment') as [K8sObject];
    expect(spec.podSelector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
    expect(deployment.spec.template.metadata.labels).toMatchObject(spec.podSelector.matchLabels);
    expect(spec.policyTypes).toEqual(['Ingress']);
    expect(spec.ingress).toEqual([
      { ports: [{ port: 8084, protocol: 'TCP' }] },
      {
        ports: [{ port: 9904, protocol: 'TCP' }],
        from: [
          {
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } },
            podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } },
          },
          { ipBlock: { cidr: '10.0.0.0/16' } },
        ],
      },
    ]);
  });

  it('without adminFrom or kubeletCidrs the admin port gets no rule; a component without data ports gets none at all', async () => {
    const rl = await template('rate-limiter', undefined, [
      '--set',
      'deployment.enabled=true',
      '--set',
      'networkPolicy.enabled=true',
      '--set',
      'networkPolicy.dataFrom[0].podSelector.matchLabels.role=frontend',
    ]);
    expect(policySpec(byKind(rl, 'NetworkPolicy')[0] as K8sObject).ingress).toEqual([
      {
        ports: [{ port: 8084, protocol: 'TCP' }],
        from: [{ podSelector: { matchLabels: { role: 'frontend' } } }],
      },
    ]);
    const logs = await template('log-adapter', undefined, [
      '--set',
      'deployment.enabled=true',
      '--set',
      'logVolume.name=tmp-logs',
      '--set',
      'networkPolicy.enabled=true',
    ]);
    expect(policySpec(byKind(logs, 'NetworkPolicy')[0] as K8sObject).ingress).toEqual([]);
  });

  it('the umbrella app pod: the app and sidecar data ports, every sidecar admin port behind adminFrom', async () => {
    const objs = await template('dds', 'dds-app-native.yaml', [
      '--set',
      'app.networkPolicy.enabled=true',
      '--set',
      'app.networkPolicy.adminFrom[0].namespaceSelector.matchLabels.team=observability',
    ]);
    const policies = byKind(objs, 'NetworkPolicy');
    expect(policies.map((p) => p.metadata.name)).toEqual(['rel-app']);
    const spec = policySpec(policies[0] as K8sObject);
    const app = byKind(objs, 'Deployment').find((d) => d.metadata.name === 'rel-app') as K8sObject;
    expect(app.spec.template.metadata.labels).toMatchObject(spec.podSelector.matchLabels);
    const [data, admin] = spec.ingress as [PolicyRule, PolicyRule];
    const sidecars = podSpec(app).initContainers ?? [];
    const adminPorts = sidecars.map((c) => ADMIN_PORT[c.name]);
    const dataPorts = sidecars.flatMap(
      (c) => c.ports?.map((p) => p.containerPort).filter((p) => !adminPorts.includes(p)) ?? [],
    );
    expect(data.ports.map((p) => p.port).sort()).toEqual(dataPorts.sort());
    expect(data.from).toBeUndefined();
    expect(admin.ports.map((p) => p.port).sort()).toEqual(adminPorts.sort());
    expect(admin.from).toEqual([{ namespaceSelector: { matchLabels: { team: 'observability' } } }]);
  });

  it('its values are checked by the schema', async () => {
    const typo = await helm([
      'template',
      'rel',
      join(CHARTS, 'rate-limiter'),
      '--set',
      'networkPolicy.adminFrm[0]=x',
    ]);
    expect(typo.code).not.toBe(0);
    expect(typo.stderr).toMatch(/additional properties 'adminFrm' not allowed/);
    const cidr = await helm([
      'template',
      'rel',
      join(CHARTS, 'dds'),
      '--set',
      'app.networkPolicy.kubeletCidrs={nodes}',
    ]);
    expect(cidr.code).not.toBe(0);
    expect(cidr.stderr).toMatch(/kubeletCidrs/);
  });
});

describe.sequential('the umbrella chart rendered and run as a real pod (podman kube play)', () => {
  let pod: Played | undefined;
  let https = 0;
  let limited = 0;
  let probes = 0;
  const dir = tempDir('helm-pod');

  beforeAll(async () => {
    await ensureImages(['demo-app', 'tls-sidecar', 'rate-limiter', 'health-adapter']);
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost',
        '-keyout',
        join(dir, 'tls.key'),
        '-out',
        join(dir, 'tls.crt'),
      ],
      { stdio: 'ignore' },
    );
    const objs = await template('dds', 'dds-app-podman.yaml');
    const secret: K8sObject = {
      kind: 'Secret',
      metadata: { name: 'chart-tls' },
      data: {
        'tls.crt': readFileSync(join(dir, 'tls.crt')).toString('base64'),
        'tls.key': readFileSync(join(dir, 'tls.key')).toString('base64'),
      },
    };
    [https, limited, probes] = (await freePorts(3)) as [number, number, number];
    pod = await play(forPodman([secret, ...objs], { publish: { 8443: https, 8084: limited, 8086: probes } }));
    await eventually('the health adapter reporting the app ready', async () =>
      (await httpStatus(`http://127.0.0.1:${probes}/readyz`)) === 200 ? true : undefined,
    );
    // the app being ready says nothing of the pod's other containers: wait for each front door
    // (the rate limiter only by a connect: a request would spend the tokens the test counts)
    await eventually('the TLS sidecar answering', async () => {
      const tls = await run('curl', [
        '-sk',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        `https://localhost:${https}/`,
      ]);
      return tls.stdout === '200' ? true : undefined;
    });
    await waitForPort(limited, '127.0.0.1', 60_000);
  }, 600_000);
  afterAll(async () => {
    await pod?.down();
  }, 60_000);

  it('serves the app over HTTPS, rate-limits it, and probes it, exactly as rendered', async () => {
    const r = await run('curl', [
      '-sS',
      '--cacert',
      join(dir, 'tls.crt'),
      '-D',
      '-',
      '-o',
      '/dev/null',
      `https://localhost:${https}/`,
    ]);
    expect(r.stdout).toMatch(/^HTTP\/2 200/);
    expect(r.stdout).toMatch(/^x-served-by: chart-app\r?$/m);
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await httpStatus(`http://127.0.0.1:${limited}/`)) ?? 0);
    expect(statuses.slice(0, 2)).toEqual([200, 200]);
    expect(statuses).toContain(429);
  });
});
