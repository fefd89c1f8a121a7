import { writeFileSync } from 'node:fs';
import {
  expectAnswer,
  type RedisCluster,
  run,
  type SentinelSet,
  selfSignedCert,
  sleep,
  startRedisCluster,
  startSentinels,
  startTlsAclRedis,
  type TlsAclRedis,
  tlsAclArgs,
} from '@dds/test-support';
import { type Adapter, get, startAdapter } from '@dds/test-support/metrics-adapter/harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const adapters: Adapter[] = [];
afterAll(async () => {
  await Promise.all(adapters.map((a) => a.stop()));
});
const adapter = async (args: string[]) => {
  const a = await startAdapter('redis', args);
  adapters.push(a);
  return a;
};

describe('metrics-adapter: Redis over TLS with an ACL user', () => {
  let redis: TlsAclRedis;
  beforeAll(async () => {
    redis = await startTlsAclRedis(selfSignedCert());
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('scrapes through rediss:// as the ACL user; a wrong password or CA fails /readyz with the reason', async () => {
    const args = tlsAclArgs(redis, selfSignedCert().cert);
    const good = await adapter(args.good);
    expect((await get(`${good.url}/metrics`)).body).toMatch(/^redis_up 1$/m);
    await expectAnswer(`${good.admin}/readyz`, /^200 [\s\S]*ready/);
    const badPassword = await adapter(args.wrongPassword);
    await expectAnswer(`${badPassword.admin}/readyz`, /^503 [\s\S]*redis: authentication failed: WRONGPASS/);
    const badCa = await adapter(args.wrongCa);
    await expectAnswer(`${badCa.admin}/readyz`, /^503 [\s\S]*redis: 127\.0\.0\.1:\d+: TLS: /);
    // still serving: redis_up 0 with the reason, as redis_exporter does
    expect((await get(`${badCa.url}/metrics`)).body).toMatch(/^redis_up 0$/m);
    // the Secret is fixed: the next scrape succeeds and the adapter is ready again
    writeFileSync(args.wrongPasswordFile, `${redis.password}\n`);
    expect((await get(`${badPassword.url}/metrics`)).body).toMatch(/^redis_up 1$/m);
    await expectAnswer(`${badPassword.admin}/readyz`, /^200 [\s\S]*ready/);
  }, 90_000);
});

describe('metrics-adapter: Sentinel and Cluster', () => {
  let set: SentinelSet;
  let cluster: RedisCluster;
  beforeAll(async () => {
    [set, cluster] = await Promise.all([startSentinels(), startRedisCluster({ primaries: 3, replicas: 0 })]);
  }, 90_000);
  afterAll(async () => {
    await Promise.all([set?.stop(), cluster?.stop()]);
  });

  it('--redis-sentinel scrapes the primary the sentinels name', async () => {
    const a = await adapter([
      '--redis-sentinel',
      set.addresses.join(','),
      '--redis-sentinel-master',
      set.master,
    ]);
    const body = (await get(`${a.url}/metrics`)).body;
    expect(body).toMatch(/^redis_up 1$/m);
    expect(body).toMatch(
      new RegExp(`^redis_instance_info\\{role="master",.*tcp_port="${set.primary.port}"`, 'm'),
    );
    // a failover keeps the old primary running as a replica: the kept connection to it is
    // dropped and the sentinels asked again, so the next scrape is of the new primary
    await run('redis-cli', ['-p', set.addresses[0]!.split(':')[1]!, 'SENTINEL', 'FAILOVER', set.master]);
    const now = await set.waitFailover(set.primary.port);
    // the sentinels turn the old primary into a replica a moment after they promote the new one
    const oldRole = async () =>
      (await run('redis-cli', ['-p', String(set.primary.port), 'ROLE'])).stdout.split('\n')[0];
    for (let until = Date.now() + 20_000; (await oldRole()) !== 'slave'; await sleep(50))
      if (Date.now() > until) throw new Error('the old primary never became a replica');
    const after = (await get(`${a.url}/metrics`)).body;
    expect(after).toMatch(/^redis_up 1$/m);
    expect(after).toMatch(new RegExp(`^redis_instance_info\\{role="master",.*tcp_port="${now}"`, 'm'));
  }, 60_000);

  it('--redis-cluster scrapes the first seed that answers', async () => {
    const [dead, ...alive] = cluster.seeds;
    await cluster.nodes[0]!.proc.kill('SIGKILL');
    const a = await adapter(['--redis-cluster', [dead, ...alive].join(',')]);
    const body = (await get(`${a.url}/metrics`)).body;
    expect(body).toMatch(/^redis_up 1$/m);
    expect(body).toMatch(/^redis_cluster_enabled 1$/m);
    expect(body).toMatch(new RegExp(`tcp_port="${alive[0]!.split(':')[1]}"`));
  });
});
