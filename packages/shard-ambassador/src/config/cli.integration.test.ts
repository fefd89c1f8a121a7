import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import {
  bin,
  freePorts,
  run,
  startComponent,
  startNutcracker,
  startRedis,
  tempDir,
  waitForPort,
} from '@dds/test-support';
import { startAmbassador } from '@dds/test-support/shard-ambassador/ambassador';
import { RawClient, resp } from '@dds/test-support/shard-ambassador/raw-client';
import { describe, expect, it } from 'vitest';

const amb = (args: string[]) => run(process.execPath, [bin('shard-ambassador'), ...args]);
const file = (text: string) => {
  const f = join(tempDir('nc-conf'), 'nutcracker.yml');
  writeFileSync(f, text);
  return f;
};
const statsOf = (port: number): Promise<Record<string, unknown>> =>
  new Promise((res, rej) => {
    const s = connect(port, '127.0.0.1');
    let d = '';
    s.on('data', (c) => (d += c));
    s.on('end', () => res(JSON.parse(d)));
    s.on('error', rej);
  });

describe('nutcracker command line and configuration', () => {
  it('-t accepts the example config shipped with nutcracker', async () => {
    const r = await amb(['-t', '-c', '/usr/share/doc/nutcracker/examples/nutcracker.yml']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/is valid/);
  });

  it('invalid pools: exit 2, the message names the pool and the key', async () => {
    const bad = file(
      'alpha:\n  listen: 127.0.0.1:22121\n  hash: sha1\n  servers:\n   - 127.0.0.1:6379:1\nbeta:\n  listen: 127.0.0.1:22122\n  servers:\n   - 127.0.0.1:6379:0\n',
    );
    const r = await amb(['--test-conf', '--conf-file', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/pools\.alpha\.hash/);
    expect(r.stderr).toMatch(/pools\.beta\.servers\.0: weight must be at least 1/);
    const dup = file(
      'a:\n  listen: 127.0.0.1:1\n  servers: ["127.0.0.1:2:1"]\nb:\n  listen: 127.0.0.1:1\n  servers: ["127.0.0.1:3:1"]\n',
    );
    const d = await amb(['-t', '-c', dup]);
    expect(d.code).toBe(2);
    expect(d.stderr).toMatch(/pools\.b\.listen: pools "a" and "b" have the same listen address/);
    const unknown = file('a:\n  listen: 127.0.0.1:1\n  servers: ["127.0.0.1:2:1"]\n  hashh: md5\n');
    expect((await amb(['-t', '-c', unknown])).stderr).toMatch(/pools\.a.*hashh/);
  });

  it('dds: takes every flag, by its camelCased name, its own name or its path; durations as flags take them', async () => {
    const ok = file(
      [
        'a:',
        '  listen: 127.0.0.1:1',
        '  timeout: 400ms',
        '  server_retry_timeout: 30s',
        '  servers: ["127.0.0.1:2:1"]',
        'dds:',
        '  hotkeysTop: 20',
        '  hotkeys-sample: 4',
        '  hotkeys: { window: 1m }',
        '  client-idle-timeout: 90s',
        '  maxClients: 50',
        '',
      ].join('\n'),
    );
    const r = await amb(['-c', ok, '--print-config']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/hotkeys:\n {2}top: 20\n {2}window: 60000\n {2}sample: 4/);
    expect(r.stdout).toMatch(/clientIdleTimeout: 90000/);
    expect(r.stdout).toMatch(/maxClients: 50/);
    expect(r.stdout).toMatch(/timeout: 400\n/);
    expect(r.stdout).toMatch(/server_retry_timeout: 30000/);
    const both = file(
      'a:\n  listen: 127.0.0.1:1\n  servers: ["127.0.0.1:2:1"]\ndds:\n  hotkeysTop: 5\n  hotkeys: { top: 6 }\n',
    );
    const b = await amb(['-t', '-c', both]);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/dds\.hotkeysTop: hotkeys\.top is also given; keep one of them/);
    const bad = file('a:\n  listen: 127.0.0.1:1\n  timeout: soon\n  servers: ["127.0.0.1:2:1"]\n');
    const t = await amb(['-t', '-c', bad]);
    expect(t.code).toBe(2);
    expect(t.stderr).toMatch(/pools\.a\.timeout: expected a duration like 500ms, 10s or 2m/);
  });

  it('an error about a setting under dds: names it as the file wrote it', async () => {
    const bad = file(
      'a:\n  listen: 127.0.0.1:1\n  servers: ["127.0.0.1:2:1"]\ndds:\n  hotkeysTop: -1\n  logLevel: loud\n  hotkeys: { window: soon }\n  maxClientz: 5\n',
    );
    const r = await amb(['-t', '-c', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^ {2}dds\.hotkeysTop: .*\(got -1\) \[from file /m);
    expect(r.stderr).toMatch(/^ {2}dds\.logLevel: .*\(got "loud"\) \[from file /m);
    expect(r.stderr).toMatch(/^ {2}dds\.hotkeys\.window: expected a duration/m);
    expect(r.stderr).toMatch(/^ {2}dds\.maxClientz: unknown key \(did you mean "maxClients"\?\)/m);
    // a value from a flag is named as the flag's path, not the file's
    const f = await amb([
      '-t',
      '-c',
      file('a:\n  listen: 127.0.0.1:1\n  servers: ["127.0.0.1:2:1"]\n'),
      '--hotkeys-top',
      '-1',
    ]);
    expect(f.code).toBe(2);
    expect(f.stderr).toMatch(/^ {2}hotkeys\.top: .*\[from flag --hotkeys-top\]/m);
  });

  it('quick mode: one pool from flags, no config file; without pools it refuses to start', async () => {
    const redis = await startRedis();
    const [port] = await freePorts(1);
    const p = startComponent('shard-ambassador', [
      '--redis-servers',
      `127.0.0.1:${redis.port}:1`,
      '--redis-listen',
      `127.0.0.1:${port}`,
      '-s',
      '0',
      '--admin',
      'off',
    ]);
    try {
      await waitForPort(port!, '127.0.0.1', 30_000);
      const c = await RawClient.open(port!);
      expect(await c.lines(Buffer.concat([resp('SET', 'q', '1'), resp('GET', 'q')]), 3)).toEqual([
        '+OK',
        '$1',
        '1',
      ]);
      c.close();
    } finally {
      await p.kill();
      await redis.stop();
    }
    const none = await amb(['-s', '0', '--admin', 'off']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no pools: give -c nutcracker.yaml or --redis-servers/);
  });

  it('-d is refused with a clear message; the other nutcracker flags are accepted', async () => {
    const r = await amb(['-d', '-c', '/usr/share/doc/nutcracker/examples/nutcracker.yml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/daemonizing is not supported/);
    const ok = await amb([
      '-c',
      '/usr/share/doc/nutcracker/examples/nutcracker.yml',
      '-v',
      '7',
      '-s',
      '6222',
      '-a',
      '127.0.0.1',
      '-i',
      '10000',
      '-m',
      '512',
      '-o',
      '/dev/null',
      '-p',
      '/tmp/x.pid',
      '--print-config',
    ]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/logLevel: debug/);
    expect(ok.stdout).toMatch(/statsPort: 6222/);
  });

  it('the book’s pod command line works; the stats port speaks twemproxy’s JSON with nutcracker’s keys', async () => {
    const redis = await startRedis();
    const [port, ncPort] = await freePorts(2);
    const servers = [`127.0.0.1:${redis.port}:1 shard0`];
    const a = await startAmbassador({ memcache: { listen: `127.0.0.1:${port}`, redis: true, servers } }, [
      '-v',
      '7',
    ]);
    const nc = await startNutcracker(
      `memcache:\n  listen: 127.0.0.1:${ncPort}\n  redis: true\n  servers:\n   - ${servers[0]}\n`,
      ncPort,
    );
    try {
      const c = await RawClient.open(port);
      expect(await c.lines(Buffer.concat([resp('SET', 'a', '1'), resp('GET', 'a')]), 3)).toEqual([
        '+OK',
        '$1',
        '1',
      ]);
      c.close();
      const ours = await statsOf(a.statsPort);
      const theirs = await statsOf(nc.statsPort);
      const shape = (o: Record<string, unknown>) =>
        JSON.stringify(o, (_k, v) => (typeof v === 'number' || typeof v === 'string' ? 0 : v));
      expect(Object.keys(ours).sort()).toEqual(Object.keys(theirs).sort());
      expect(shape(ours.memcache as Record<string, unknown>)).toBe(
        shape(theirs.memcache as Record<string, unknown>),
      );
      const srv = (ours.memcache as Record<string, Record<string, number>>).shard0!;
      expect(srv.requests).toBe(2);
      expect(srv.responses).toBe(2);
    } finally {
      await a.stop();
      await nc.stop();
      await redis.stop();
    }
  });
});
