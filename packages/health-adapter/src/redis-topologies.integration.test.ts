import {
  expectAnswer,
  freePort,
  type Proc,
  type RedisCluster,
  type SentinelSet,
  selfSignedCert,
  startComponent,
  startRedisCluster,
  startSentinels,
  startTlsAclRedis,
  type TlsAclRedis,
  tlsAclArgs,
} from '@dds/test-support';
import { afterAll, beforeAll, describe, it } from 'vitest';

const procs: Proc[] = [];
afterAll(async () => {
  await Promise.all(procs.map((p) => p.kill('SIGKILL')));
});

/** The health-adapter with the quick Redis check; its probe port's base URL. */
async function adapter(args: string[]): Promise<string> {
  const port = await freePort();
  const p = startComponent('health-adapter', [
    '--listen',
    `127.0.0.1:${port}`,
    '--admin',
    'off',
    '--interval',
    '200ms',
    '--failure-threshold',
    '1',
    ...args,
  ]);
  procs.push(p);
  await p.waitFor('started', 20_000);
  return `http://127.0.0.1:${port}`;
}

describe('health-adapter: Redis over TLS with an ACL user', () => {
  let redis: TlsAclRedis;
  beforeAll(async () => {
    redis = await startTlsAclRedis(selfSignedCert());
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('passes as the ACL user over rediss://; a wrong password or CA fails /readyz with the reason', async () => {
    const args = tlsAclArgs(redis, selfSignedCert().cert);
    const good = await adapter(args.good);
    await expectAnswer(`${good}/readyz?verbose`, /^200 [\s\S]*\[\+\]redis ok: PONG, role master/);
    const badPassword = await adapter(args.wrongPassword);
    await expectAnswer(`${badPassword}/readyz?verbose`, /^503 [\s\S]*\[-\]redis failed: AUTH: WRONGPASS/);
    const badCa = await adapter(args.wrongCa);
    await expectAnswer(
      `${badCa}/readyz?verbose`,
      /^503 [\s\S]*\[-\]redis failed: .*(self-signed|signature|verify)/i,
    );
  }, 90_000);
});

describe('health-adapter: Sentinel and Cluster', () => {
  let set: SentinelSet;
  let cluster: RedisCluster;
  beforeAll(async () => {
    [set, cluster] = await Promise.all([startSentinels(), startRedisCluster({ primaries: 3, replicas: 0 })]);
  }, 90_000);
  afterAll(async () => {
    await Promise.all([set?.stop(), cluster?.stop()]);
  });

  it('--redis-sentinel checks the primary the sentinels name', async () => {
    const base = await adapter([
      '--redis-sentinel',
      set.addresses.join(','),
      '--redis-sentinel-master',
      set.master,
    ]);
    await expectAnswer(`${base}/readyz?verbose`, /^200 [\s\S]*\[\+\]redis ok: PONG, role master/);
    const wrong = await adapter([
      '--redis-sentinel',
      set.addresses.join(','),
      '--redis-sentinel-master',
      'nobody',
    ]);
    await expectAnswer(
      `${wrong}/readyz?verbose`,
      /^503 [\s\S]*\[-\]redis failed: no sentinel named a primary for "nobody" \(.*no primary named "nobody"/,
    );
  });

  it('--redis-cluster needs cluster_state:ok from a seed that answers', async () => {
    const base = await adapter(['--redis-cluster', cluster.seeds.join(',')]);
    await expectAnswer(
      `${base}/readyz?verbose`,
      /^200 [\s\S]*\[\+\]redis ok: cluster ok, 3 nodes, 16384 slots ok/,
    );
    // a primary gone and no replica to take over: its slots are lost, the cluster is down
    await cluster.nodes[0]!.proc.kill('SIGKILL');
    await expectAnswer(`${base}/readyz?verbose`, /^503 [\s\S]*\[-\]redis failed: cluster_state:fail/);
  }, 60_000);
});
