import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  freePort,
  type Proc,
  type RedisCluster,
  type SentinelSet,
  selfSignedCert,
  sleep,
  startComponent,
  startRedisCluster,
  startSentinels,
  startTlsAclRedis,
  type TlsAclRedis,
  tempDir,
} from '../../../test/support/index.js';

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

/** `/readyz?verbose` as `STATUS text`, polled (checks run every 200 ms) until it matches or 15 s pass. */
async function readyz(base: string, want: RegExp): Promise<string> {
  let last = '';
  for (let i = 0; i < 150 && !want.test(last); i++) {
    if (i) await sleep(100);
    const r = await fetch(`${base}/readyz?verbose`);
    last = `${r.status} ${await r.text()}`;
  }
  return last;
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
    const common = ['--redis', `rediss://127.0.0.1:${redis.tlsPort}`, '--redis-username', redis.user];
    const good = await adapter([
      ...common,
      '--redis-tls-ca-file',
      redis.ca,
      '--redis-password-file',
      redis.passwordFile,
    ]);
    expect(await readyz(good, /^200 [\s\S]*\[\+\]redis ok: PONG, role master/)).toMatch(
      /^200 [\s\S]*\[\+\]redis ok: PONG, role master/,
    );
    const dir = tempDir('health-acl');
    writeFileSync(join(dir, 'pw'), 'nope\n');
    const badPassword = await adapter([
      ...common,
      '--redis-tls-ca-file',
      redis.ca,
      '--redis-password-file',
      join(dir, 'pw'),
    ]);
    expect(await readyz(badPassword, /^503 [\s\S]*\[-\]redis failed: AUTH: WRONGPASS/)).toMatch(
      /^503 [\s\S]*\[-\]redis failed: AUTH: WRONGPASS/,
    );
    const badCa = await adapter([
      ...common,
      '--redis-tls-ca-file',
      selfSignedCert().cert,
      '--redis-password-file',
      redis.passwordFile,
    ]);
    expect(await readyz(badCa, /^503 [\s\S]*\[-\]redis failed: .*(self-signed|signature|verify)/i)).toMatch(
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
    expect(await readyz(base, /^200 [\s\S]*\[\+\]redis ok: PONG, role master/)).toMatch(
      /^200 [\s\S]*\[\+\]redis ok: PONG, role master/,
    );
    const wrong = await adapter([
      '--redis-sentinel',
      set.addresses.join(','),
      '--redis-sentinel-master',
      'nobody',
    ]);
    expect(await readyz(wrong, /^503 [\s\S]*\[-\]redis failed: .*No such master with that name/)).toMatch(
      /^503 [\s\S]*\[-\]redis failed: .*No such master with that name/,
    );
  });

  it('--redis-cluster needs cluster_state:ok from a seed that answers', async () => {
    const base = await adapter(['--redis-cluster', cluster.seeds.join(',')]);
    expect(await readyz(base, /^200 [\s\S]*\[\+\]redis ok: cluster ok, 3 nodes, 16384 slots ok/)).toMatch(
      /^200 [\s\S]*\[\+\]redis ok: cluster ok, 3 nodes, 16384 slots ok/,
    );
    // a primary gone and no replica to take over: its slots are lost, the cluster is down
    await cluster.nodes[0]!.proc.kill('SIGKILL');
    expect(await readyz(base, /^503 [\s\S]*\[-\]redis failed: cluster_state:fail/)).toMatch(
      /^503 [\s\S]*\[-\]redis failed: cluster_state:fail/,
    );
  }, 60_000);
});
