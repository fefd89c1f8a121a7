// The book's examples from k8s/examples, run as real pods with `podman kube play` (one network
// namespace per pod: sidecars reach the app on 127.0.0.1 exactly as in Kubernetes) and driven with
// real clients: curl over HTTPS, redis-cli, many HTTP users, promtool, a stopped MariaDB.
// Every pod is torn down in afterAll, whatever happened.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { freePorts, run, type Service, startNutcracker, tempDir } from '@dds/test-support';
import {
  ensureImages,
  eventually,
  findDoc,
  forPodman,
  httpStatus,
  type K8s,
  loadExample,
  type Played,
  play,
  podman,
  podmanOk,
} from '@dds/test-support/podman';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { extractBlocks, shellCommands } from '../docs/markdown.js';

// pods and podman on a busy shared machine: generous per-test time (every wait inside is bounded)
vi.setConfig({ testTimeout: 90_000 });

const ready = (url: string) => async () => ((await httpStatus(url)) === 200 ? true : undefined);

beforeAll(async () => {
  await ensureImages([
    'demo-app',
    'tls-sidecar',
    'shard-ambassador',
    'experiment-splitter',
    'rate-limiter',
    'metrics-adapter',
    'log-adapter',
    'health-adapter',
  ]);
  for (const base of ['redis:7.0.15', 'mariadb:10.11.19']) {
    if ((await podman(['image', 'exists', `localhost/dds/${base}`])).code !== 0) {
      const r = await run('bash', ['scripts/base-image.sh', base.split(':')[0] as string], {
        timeoutMs: 300_000,
      });
      if (r.code !== 0) throw new Error(`scripts/base-image.sh failed: ${r.stderr}`);
    }
  }
}, 900_000);

describe.sequential('legacy app + TLS sidecar (tls-sidecar.yaml)', () => {
  let pod: Played | undefined;
  let https = 0;
  let admin = 0;
  const dir = tempDir('e2e-tls');

  beforeAll(async () => {
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
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
        '-keyout',
        join(dir, 'tls.key'),
        '-out',
        join(dir, 'tls.crt'),
      ],
      { stdio: 'ignore' },
    );
    [https, admin] = (await freePorts(2)) as [number, number];
    const secret: K8s = {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'kubernetes.io/tls',
      metadata: { name: 'legacy-app-tls' },
      data: {
        'tls.crt': readFileSync(join(dir, 'tls.crt')).toString('base64'),
        'tls.key': readFileSync(join(dir, 'tls.key')).toString('base64'),
      },
    };
    pod = await play(
      forPodman([secret, ...loadExample('tls-sidecar.yaml')], { publish: { 8443: https, 9901: admin } }),
    );
    await eventually(
      'the TLS sidecar ready (its upstream app up)',
      ready(`http://127.0.0.1:${admin}/readyz`),
    );
  }, 120_000);
  afterAll(async () => {
    await pod?.down();
  }, 60_000);

  it('serves the plain-HTTP app over verified HTTPS with HSTS, and over HTTP/2', async () => {
    const r = await run('curl', [
      '-sS',
      '--http1.1',
      '--cacert',
      join(dir, 'tls.crt'),
      '-D',
      '-',
      `https://localhost:${https}/echo`,
    ]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^HTTP\/1\.1 200/);
    expect(r.stdout).toMatch(/^x-served-by: legacy-app\r?$/im);
    expect(r.stdout).toMatch(/^strict-transport-security: max-age=31536000/im);
    const echo = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as { headers: Record<string, string> };
    expect(echo.headers['x-forwarded-proto']).toBe('https');
    const h2 = await run('curl', [
      '-sS',
      '--http2',
      '--cacert',
      join(dir, 'tls.crt'),
      '-o',
      '/dev/null',
      '-w',
      '%{http_version} %{http_code}',
      `https://localhost:${https}/`,
    ]);
    expect(h2.stdout).toBe('2 200');
  });

  it('refuses a client that does not trust the certificate, and TLS 1.1', async () => {
    const untrusted = await run('curl', ['-sS', `https://localhost:${https}/`]);
    expect(untrusted.code).toBe(60);
    const old = await run('openssl', ['s_client', '-connect', `127.0.0.1:${https}`, '-tls1_1'], {
      input: '',
    });
    // the ClientHello went out as TLS 1.1 and the sidecar answered with a protocol_version alert
    expect(old.code).not.toBe(0);
    expect(old.stderr).toMatch(/alert protocol version/);
  });

  it('stops cleanly: SIGTERM to the pod, every container exits 0 within the grace period', async () => {
    const p = pod as Played;
    const t0 = Date.now();
    await podmanOk(['pod', 'stop', '-t', '20', p.pods[0] as string], 60_000);
    expect(Date.now() - t0).toBeLessThan(15_000);
    for (const name of ['tls-sidecar', 'app']) {
      const code = await podmanOk([
        'inspect',
        p.container(p.pods[0] as string, name),
        '--format',
        '{{.State.ExitCode}}',
      ]);
      expect(code.trim(), name).toBe('0');
    }
  }, 60_000);
});

describe.sequential('sharded Redis + shard ambassador (sharded-redis.yaml)', () => {
  let pod: Played | undefined;
  let peer: Service | undefined;
  const shardPorts: number[] = [];
  const placement = new Map<string, number>();
  let admin = 0;

  beforeAll(async () => {
    // The StatefulSet's three shards join the app pod on 127.0.0.1:6380-6382 (podman runs no
    // StatefulSets and no cluster DNS); the ambassador's config keeps its server names, so the
    // ketama ring, and with it every key's shard, is the one the manifest gives in a cluster.
    const docs = loadExample('sharded-redis.yaml');
    const cm = structuredClone(findDoc(docs, 'ConfigMap', 'shard-ambassador'));
    cm.data['nutcracker.yaml'] = cm.data['nutcracker.yaml'].replace(
      /redis-(\d)\.redis:6379:1/g,
      (_: string, i: string) => `127.0.0.1:${6380 + Number(i)}:1`,
    );
    const app = structuredClone(findDoc(docs, 'Deployment', 'redis-app'));
    const shard = findDoc(docs, 'StatefulSet', 'redis').spec.template.spec.containers[0] as K8s;
    const ports = await freePorts(4);
    admin = ports[3] as number;
    for (let i = 0; i < 3; i++) {
      shardPorts.push(ports[i] as number);
      app.spec.template.spec.containers.push({
        ...structuredClone(shard),
        name: `redis-${i}`,
        args: ['--port', String(6380 + i), '--protected-mode', 'no', '--save', '', '--appendonly', 'no'],
        ports: [{ name: `redis-${i}`, containerPort: 6380 + i }],
      });
      delete app.spec.template.spec.containers.at(-1).readinessProbe;
    }
    const publish = {
      6380: ports[0] as number,
      6381: ports[1] as number,
      6382: ports[2] as number,
      9902: admin,
    };
    pod = await play(forPodman([cm, app], { publish }));
    await eventually('the shard ambassador ready', ready(`http://127.0.0.1:${admin}/readyz`));
  }, 120_000);
  afterAll(async () => {
    await pod?.down();
    await peer?.stop();
  }, 60_000);

  it('redis-cli through the ambassador spreads keys over all three shards, placed as twemproxy places them', async () => {
    const p = pod as Played;
    const keys = Array.from({ length: 300 }, (_, i) => `user:${i}`);
    // redis-cli inside the pod (the Redis image carries it), talking to the ambassador on loopback
    const load = await run(
      'bash',
      [
        '-c',
        'source scripts/podman-env.sh && exec podman exec -i "$1" /usr/bin/redis-cli -p 6379',
        'x',
        p.container(p.pods[0] as string, 'redis-0'),
      ],
      { input: keys.map((k) => `SET ${k} v-${k}\n`).join(''), timeoutMs: 60_000 },
    );
    expect(load.code).toBe(0);
    expect(
      load.stdout
        .trim()
        .split('\n')
        .filter((l) => l === 'OK'),
    ).toHaveLength(300);
    // every shard holds a share, and each key exactly once
    for (const [i, port] of shardPorts.entries()) {
      const r = await run('redis-cli', ['-p', String(port), '--scan', '--pattern', 'user:*']);
      const onShard = r.stdout.trim().split('\n').filter(Boolean);
      expect(onShard.length, `shard ${i}`).toBeGreaterThan(0);
      for (const k of onShard) placement.set(k, i);
    }
    expect(placement.size).toBe(300);
    // twemproxy itself, given the same named servers, finds every key on the shard we put it on
    const [nutPort] = (await freePorts(1)) as [number];
    const conf = findDoc(loadExample('sharded-redis.yaml'), 'ConfigMap', 'shard-ambassador').data[
      'nutcracker.yaml'
    ];
    const yaml = (conf as string)
      .replace('listen: 127.0.0.1:6379', `listen: 127.0.0.1:${nutPort}`)
      .replace(/redis-(\d)\.redis:6379:1/g, (_: string, i: string) => `127.0.0.1:${shardPorts[Number(i)]}:1`);
    peer = await startNutcracker(yaml, nutPort);
    const get = await run('redis-cli', ['-p', String(nutPort)], {
      input: keys.map((k) => `GET ${k}\n`).join(''),
    });
    expect(get.stdout.trim().split('\n')).toEqual(keys.map((k) => `v-${k}`));
  }, 90_000);

  it('keeps serving the keys on the other shards when one shard stops', async () => {
    const p = pod as Played;
    await podmanOk(['stop', '-t', '2', p.container(p.pods[0] as string, 'redis-2')], 60_000);
    const get = async (key: string): Promise<string> => {
      const r = await podman([
        'exec',
        p.container(p.pods[0] as string, 'redis-0'),
        '/usr/bin/redis-cli',
        '-p',
        '6379',
        'GET',
        key,
      ]);
      return r.stdout.trim();
    };
    const keyOn = (shard: number): string => [...placement].find(([, s]) => s === shard)?.[0] as string;
    // keys on the live shards keep answering with their values
    expect(await get(keyOn(0))).toBe(`v-${keyOn(0)}`);
    expect(await get(keyOn(1))).toBe(`v-${keyOn(1)}`);
    // a key on the stopped shard gets an error (or, once the shard is ejected, a miss): never a hang
    const lost = await get(keyOn(2));
    expect(lost).not.toBe(`v-${keyOn(2)}`);
  }, 60_000);
});

describe.sequential('sharded memcache + shared ambassador (sharded-memcache.yaml)', () => {
  let pod: Played | undefined;
  let peer: Service | undefined;
  let proxyPort = 0;
  const shardPorts: number[] = [];

  beforeAll(async () => {
    // the ambassador Deployment's pod, with the StatefulSet's three memcached shards beside it on
    // 127.0.0.1:11212-11214 (server names, and so placement, as in the manifest)
    const docs = loadExample('sharded-memcache.yaml');
    const cm = structuredClone(findDoc(docs, 'ConfigMap', 'memcache-ambassador'));
    cm.data['nutcracker.yaml'] = cm.data['nutcracker.yaml'].replace(
      /memcache-(\d)\.memcache:11211:1/g,
      (_: string, i: string) => `127.0.0.1:${11212 + Number(i)}:1`,
    );
    const ambassador = structuredClone(findDoc(docs, 'Deployment', 'memcache-ambassador'));
    const shard = findDoc(docs, 'StatefulSet', 'memcache').spec.template.spec.containers[0] as K8s;
    const ports = await freePorts(5);
    proxyPort = ports[3] as number;
    for (let i = 0; i < 3; i++) {
      shardPorts.push(ports[i] as number);
      const c = structuredClone(shard);
      Object.assign(c, {
        name: `memcache-${i}`,
        args: ['-m', '16', '-p', String(11212 + i), '-U', '0'],
        ports: [{ name: `memc-${i}`, containerPort: 11212 + i }],
      });
      delete c.readinessProbe;
      ambassador.spec.template.spec.containers.push(c);
    }
    const publish = {
      11212: ports[0] as number,
      11213: ports[1] as number,
      11214: ports[2] as number,
      11211: proxyPort,
      9902: ports[4] as number,
    };
    pod = await play(forPodman([cm, ambassador], { publish }));
    await eventually('the ambassador ready', ready(`http://127.0.0.1:${ports[4]}/readyz`));
  }, 120_000);
  afterAll(async () => {
    await pod?.down();
    await peer?.stop();
  }, 60_000);

  it('memccat through the shared ambassador reads what was stored, placed as twemproxy places it', async () => {
    const keys = Array.from({ length: 100 }, (_, i) => `session:${i}`);
    // store through the ambassador with the text protocol, one pipelined batch
    const replies = await new Promise<string>((resolve, reject) => {
      const sock = connect(proxyPort, '127.0.0.1');
      let got = '';
      sock.on('data', (d) => {
        got += d.toString();
        if (got.split('STORED\r\n').length - 1 === keys.length) {
          sock.end();
          resolve(got);
        }
      });
      sock.on('error', reject);
      sock.write(keys.map((k) => `set ${k} 0 0 ${`v-${k}`.length}\r\nv-${k}\r\n`).join(''));
    });
    expect(replies).toBe('STORED\r\n'.repeat(keys.length));
    const cat = await run('memccat', [`--servers=127.0.0.1:${proxyPort}`, ...keys]);
    expect(cat.stdout.trim().split('\n')).toEqual(keys.map((k) => `v-${k}`));
    // all keys stored once, over more than one shard (fnv1a_64 + ketama with these names and keys
    // places them 90/0/10, exactly as twemproxy does: checked below key by key)
    const items: number[] = [];
    for (const port of shardPorts) {
      const stat = await run('memcstat', [`--servers=127.0.0.1:${port}`]);
      items.push(Number(/curr_items: (\d+)/.exec(stat.stdout)?.[1]));
    }
    expect(
      items.reduce((a, b) => a + b, 0),
      `items per shard: ${items}`,
    ).toBe(keys.length);
    expect(items.filter((n) => n > 0).length, `items per shard: ${items}`).toBeGreaterThanOrEqual(2);
    // twemproxy with the same named servers finds every key where the ambassador put it
    const [nutPort] = (await freePorts(1)) as [number];
    const conf = findDoc(loadExample('sharded-memcache.yaml'), 'ConfigMap', 'memcache-ambassador').data[
      'nutcracker.yaml'
    ] as string;
    peer = await startNutcracker(
      conf
        .replace('listen: 0.0.0.0:11211', `listen: 127.0.0.1:${nutPort}`)
        .replace(
          /memcache-(\d)\.memcache:11211:1/g,
          (_: string, i: string) => `127.0.0.1:${shardPorts[Number(i)]}:1`,
        ),
      nutPort,
    );
    const viaPeer = await run('memccat', [`--servers=127.0.0.1:${nutPort}`, ...keys]);
    expect(viaPeer.stdout.trim().split('\n')).toEqual(keys.map((k) => `v-${k}`));
  }, 90_000);
});

describe.sequential('10% experiment (experiment.yaml)', () => {
  let pod: Played | undefined;
  let port = 0;

  beforeAll(async () => {
    // control, experiment and the splitter in one pod; the Services become loopback ports
    const docs = loadExample('experiment.yaml');
    const control = findDoc(docs, 'Deployment', 'web-control').spec.template.spec.containers[0] as K8s;
    const experiment = structuredClone(
      findDoc(docs, 'Deployment', 'web-experiment').spec.template.spec.containers[0],
    );
    experiment.args = ['--listen=0.0.0.0:8081', '--admin=0.0.0.0:9911', '--name=experiment'];
    experiment.ports = [];
    const splitterDoc = structuredClone(findDoc(docs, 'Deployment', 'experiment-splitter'));
    const splitter = splitterDoc.spec.template.spec.containers[0] as K8s;
    splitter.args = (splitter.args as string[]).map((a) =>
      a
        .replace('http://web-control:8080', 'http://127.0.0.1:8080')
        .replace('http://web-experiment:8080', 'http://127.0.0.1:8081'),
    );
    splitterDoc.spec.template.spec.containers = [
      { ...control, name: 'control', ports: [] },
      { ...experiment, name: 'experiment' },
      splitter,
    ];
    const ports = await freePorts(2);
    port = ports[0] as number;
    pod = await play(forPodman([splitterDoc], { publish: { 8083: port, 9903: ports[1] as number } }));
    await eventually('the splitter ready', ready(`http://127.0.0.1:${ports[1]}/readyz`));
    // the pod's containers start together: wait until users of both variants get answers
    await eventually('both backends up', async () => {
      const served = new Set<string>();
      for (let i = 0; i < 100 && served.size < 2; i++) {
        const r = await fetch(`http://127.0.0.1:${port}/`, { headers: { cookie: `dds_uid=probe-${i}` } });
        await r.arrayBuffer();
        if (r.status !== 200) return undefined;
        served.add(r.headers.get('x-served-by') ?? 'none');
      }
      return served.has('control') && served.has('experiment') ? true : undefined;
    });
  }, 120_000);
  afterAll(async () => {
    await pod?.down();
  }, 60_000);

  const variantOf = async (user: string): Promise<string> => {
    const r = await fetch(`http://127.0.0.1:${port}/`, { headers: { cookie: `dds_uid=${user}` } });
    await r.arrayBuffer();
    expect(r.status).toBe(200);
    return r.headers.get('x-served-by') ?? 'none';
  };

  it('sends a sticky ~10% of 1000 users to the experiment', async () => {
    const seen = new Map<string, string>();
    for (let i = 0; i < 1000; i++) seen.set(`user-${i}`, await variantOf(`user-${i}`));
    const counts = { control: 0, experiment: 0, other: 0 };
    for (const v of seen.values()) {
      if (v === 'control' || v === 'experiment') counts[v]++;
      else counts.other++;
    }
    expect(counts.other).toBe(0);
    // binomial(1000, 0.1): mean 100, sd 9.5
    expect(counts.experiment).toBeGreaterThanOrEqual(65);
    expect(counts.experiment).toBeLessThanOrEqual(135);
    for (let i = 0; i < 200; i++) expect(await variantOf(`user-${i}`)).toBe(seen.get(`user-${i}`));
  }, 120_000);
});

describe.sequential('rate-limited service (rate-limited.yaml)', () => {
  let pod: Played | undefined;
  let port = 0;

  beforeAll(async () => {
    const ports = await freePorts(3);
    port = ports[0] as number;
    pod = await play(
      forPodman(loadExample('rate-limited.yaml'), {
        publish: { 8084: port, 9904: ports[1] as number, 9900: ports[2] as number },
      }),
    );
    await eventually('the rate limiter ready', ready(`http://127.0.0.1:${ports[1]}/readyz`));
    // the pod is ready (and a Service would route to it) once the app is ready too
    await eventually('the app ready', ready(`http://127.0.0.1:${ports[2]}/readyz`));
  }, 120_000);
  afterAll(async () => {
    await pod?.down();
  }, 60_000);

  it('admits the burst, then answers 429 with RateLimit headers and Retry-After', async () => {
    const statuses: number[] = [];
    let denied: Response | undefined;
    for (let i = 0; i < 30; i++) {
      const r = await fetch(`http://127.0.0.1:${port}/`);
      await r.arrayBuffer();
      statuses.push(r.status);
      if (r.status === 429 && !denied) denied = r;
    }
    const ok = statuses.filter((s) => s === 200).length;
    expect(statuses.filter((s) => s !== 200 && s !== 429)).toEqual([]);
    expect(ok).toBeGreaterThanOrEqual(6);
    expect(ok).toBeLessThan(30);
    expect(denied?.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(denied?.headers.get('ratelimit-policy')).toBeTruthy();
    expect(denied?.headers.get('ratelimit')).toBeTruthy();
  });
});

describe.sequential('the documented podman path (docs/kubernetes.md, scripts/kube-play.mjs)', () => {
  // the block under "Running the examples with podman", run line by line in one shell as printed
  const block = extractBlocks('docs/kubernetes.md', ['sh']).find((b) => /kube-play\.mjs/.test(b.text))!;
  const lines = shellCommands(block.text);
  const played = () =>
    podman(['ps', '-a', '--filter', 'pod=rate-limited-app-pod-0', '--format', '{{.Names}} {{.Ports}}']);
  afterAll(async () => {
    await run(process.execPath, ['scripts/kube-play.mjs', '--down', 'k8s/examples/rate-limited.yaml']);
  }, 60_000);

  it('plays the example, publishes only on 127.0.0.1, limits, and takes it down', async () => {
    expect(lines).toHaveLength(4);
    const results: { code: number; out: string }[] = [];
    for (const [i, line] of lines.entries()) {
      if (i === 3) {
        // before --down: what the pod publishes, and where
        const ports = (await played()).stdout;
        expect(ports).toContain('127.0.0.1:18084->8084/tcp');
        expect(ports).not.toMatch(/0\.0\.0\.0:|\[::\]:|(^|[\s,]):?\d+->/);
      }
      const r = await run('bash', ['-c', line], { timeoutMs: 240_000 });
      expect(r.code, `${line}\n${r.stdout}${r.stderr}`).toBe(0);
      results.push({ code: r.code, out: r.stdout });
    }
    expect(results[0]!.out).toContain('127.0.0.1:18084 -> port 8084');
    expect(results[1]!.out).toContain('hello from the legacy app');
    const statuses = results[2]!.out.trim().split(' ');
    expect(statuses.filter((s) => s !== '200' && s !== '429')).toEqual([]);
    expect(statuses).toContain('429');
    expect(statuses.indexOf('429')).toBeGreaterThanOrEqual(3); // the burst passed first
    expect((await played()).stdout.trim()).toBe('');
  }, 300_000);
});

describe.sequential('Redis + metrics adapter (redis-metrics.yaml)', () => {
  let pod: Played | undefined;
  let port = 0;
  let adminPort = 0;

  beforeAll(async () => {
    const ports = await freePorts(2);
    port = ports[0] as number;
    adminPort = ports[1] as number;
    pod = await play(
      forPodman(loadExample('redis-metrics.yaml'), { publish: { 9121: port, 9905: adminPort } }),
    );
    await eventually('the metrics adapter ready', ready(`http://127.0.0.1:${ports[1]}/readyz`));
  }, 120_000);
  afterAll(async () => {
    await pod?.down();
  }, 60_000);

  it('exposes Redis as Prometheus metrics that promtool accepts', async () => {
    const text = await eventually('redis_up 1', async () => {
      const r = await fetch(`http://127.0.0.1:${port}/metrics`);
      const body = await r.text();
      return /^redis_up 1$/m.test(body) ? body : undefined;
    });
    expect(text).toMatch(/^redis_connected_clients \d+/m);
    expect(text).toMatch(/^# TYPE redis_commands_processed_total counter$/m);
    // The Redis metrics keep redis_exporter's names (existing dashboards and alerts work), some of
    // which promtool's linter dislikes (e.g. redis_aof_last_rewrite_duration_sec): the exposition
    // must parse, and every complaint must be a naming lint on a redis_ metric.
    const check = await run('promtool', ['check', 'metrics'], { input: text });
    expect(check.stdout + check.stderr).not.toMatch(/error while linting|parsing error/);
    for (const line of (check.stdout + check.stderr).split('\n').filter(Boolean)) {
      expect(line).toMatch(
        /^redis_\w+ (metric names should not contain abbreviated units|counter metrics should have "_total" suffix|non-counter metrics should not have "_total" suffix)$/,
      );
    }
    // the adapter's own metrics (dds_*) on its admin port are lint-clean
    const own = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
    expect(own).toMatch(/^dds_build_info\{/m);
    const ownCheck = await run('promtool', ['check', 'metrics'], { input: own });
    expect(ownCheck.stdout + ownCheck.stderr).toBe('');
    expect(ownCheck.code).toBe(0);
  });
});

describe.sequential('MariaDB + health adapter (mariadb-health.yaml)', () => {
  let pod: Played | undefined;
  let probes = 0;

  beforeAll(async () => {
    const ports = await freePorts(1);
    probes = ports[0] as number;
    pod = await play(forPodman(loadExample('mariadb-health.yaml'), { publish: { 8086: probes } }));
  }, 120_000);
  afterAll(async () => {
    await pod?.down();
  }, 60_000);

  it('the readiness probe follows a real query: ready, not ready when MariaDB stops, ready again', async () => {
    const p = pod as Played;
    const db = p.container(p.pods[0] as string, 'mariadb');
    await eventually('readyz 200 with MariaDB up', ready(`http://127.0.0.1:${probes}/readyz`), 60_000);
    await podmanOk(['stop', '-t', '10', db], 60_000);
    await eventually(
      'readyz 503 with MariaDB stopped',
      async () => ((await httpStatus(`http://127.0.0.1:${probes}/readyz`)) === 503 ? true : undefined),
      20_000,
    );
    // the adapter itself stays alive: only readiness flips
    expect(await httpStatus(`http://127.0.0.1:${probes}/livez`)).toBe(200);
    await podmanOk(['start', db], 60_000);
    await eventually('readyz 200 again', ready(`http://127.0.0.1:${probes}/readyz`), 60_000);
  }, 180_000);
});

describe.sequential('app logs on a shared emptyDir + log adapter (log-adapter.yaml)', () => {
  let pod: Played | undefined;

  beforeAll(async () => {
    const [admin] = (await freePorts(1)) as [number];
    pod = await play(forPodman(loadExample('log-adapter.yaml'), { publish: { 9906: admin } }));
    await eventually('the log adapter ready', ready(`http://127.0.0.1:${admin}/readyz`));
  }, 120_000);
  afterAll(async () => {
    await pod?.down();
  }, 60_000);

  it('turns the JSON lines and the multi-line stack trace into one record each', async () => {
    const p = pod as Played;
    const records = await eventually(
      'the record of order 10 with its stack trace',
      async () => {
        const r = await podman(['logs', p.container(p.pods[0] as string, 'log-adapter')]);
        const lines = r.stdout.split('\n').filter((l) => l.startsWith('{'));
        const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
        return parsed.some((o) => JSON.stringify(o).includes('order 10 failed')) ? parsed : undefined;
      },
      30_000,
    );
    const info = records.find((o) => JSON.stringify(o).includes('order 3 processed'));
    expect(info).toBeDefined();
    const error = records.find((o) => JSON.stringify(o).includes('order 10 failed')) as Record<
      string,
      unknown
    >;
    const text = JSON.stringify(error);
    // the stack trace is joined into the error's record, not split into records of its own
    expect(text).toContain('Orders.java:42');
    expect(text).toContain('Main.java:7');
    expect(records.filter((o) => JSON.stringify(o).includes('Orders.java:42') && o !== error)).toHaveLength(
      0,
    );
  }, 60_000);
});
