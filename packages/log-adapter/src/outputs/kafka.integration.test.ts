import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePorts, type Proc, sleep, startComponent, tempDir } from '@dds/test-support';
import { linesBeforeSaved, until } from '@dds/test-support/log-adapter/harness';
import { type Kafka, startKafka } from '@dds/test-support/log-adapter/peers';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

// Kafka against a real single-node KRaft broker from the Maven Central jars
// (scripts/install-kafka.sh); messages are read back with Kafka's own console consumer.

const OUTAGE_MS = Number(process.env.DDS_TEST_OUTAGE_MS ?? 30_000);

let kafka: Kafka;
let procs: Proc[] = [];
beforeAll(async () => {
  const [port, controller, sasl, tls] = (await freePorts(4)) as [number, number, number, number];
  kafka = await startKafka(port, controller, sasl, tls);
}, 120_000);
afterAll(async () => {
  await kafka?.stop('SIGKILL');
});
afterEach(async () => {
  for (const p of procs) await p.kill('SIGKILL');
  procs = [];
});

async function sent(admin: number): Promise<number> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${admin}/metrics`)).text();
    const m = /^dds_log_adapter_records_sent_total\{output="kafka"\} (\d+)/m.exec(text);
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

const numbered = (from: number, to: number) =>
  Array.from(
    { length: to - from },
    (_, i) => `{"level":30,"msg":"line ${from + i}","user":"u${(from + i) % 7}"}\n`,
  ).join('');
const lineNo = (value: string) => Number(/"body":"line (\d+)"/.exec(value)?.[1] ?? -1);

function adapter(app: string, topic: string, admin: number, extra: string[] = [], port = kafka.port): Proc {
  const p = startComponent('log-adapter', [
    '--input',
    app,
    '--output',
    `kafka://127.0.0.1:${port}/${topic}`,
    '--kafka-key',
    'attributes.user',
    '--flush-interval',
    '50ms',
    '--retry-base',
    '100ms',
    '--retry-max',
    '2s',
    '--poll-interval',
    '30ms',
    '--admin',
    `127.0.0.1:${admin}`,
    ...extra,
  ]);
  procs.push(p);
  return p;
}

describe('Kafka output (real KRaft broker)', () => {
  it('one message per record, keyed by a record field, every line once', async () => {
    await kafka.createTopic('logs-basic', 3);
    const [admin] = (await freePorts(1)) as [number];
    const dir = tempDir('log-adapter-kafka');
    const app = join(dir, 'app.log');
    writeFileSync(app, numbered(0, 2000));
    const p = adapter(app, 'logs-basic', admin, ['--kafka-compression', 'gzip']);
    await until(async () => (await sent(admin)) >= 2000, 60_000, '2000 records sent');
    expect(await kafka.count('logs-basic')).toBe(2000);
    const msgs = await kafka.consume('logs-basic', 2000);
    expect(msgs.length).toBe(2000);
    const seen = msgs.map((m) => lineNo(m.value));
    expect(new Set(seen).size).toBe(2000);
    for (const m of msgs) {
      const rec = JSON.parse(m.value) as { body: string; attributes: { user: string } };
      expect(m.key).toBe(rec.attributes.user);
      expect(m.key).toBe(`u${lineNo(m.value) % 7}`);
    }
    await p.kill('SIGTERM');
  }, 120_000);

  it(
    `the broker is down for ${OUTAGE_MS / 1000}s mid-stream, then back: every line arrives once`,
    async () => {
      await kafka.createTopic('logs-outage');
      const [admin] = (await freePorts(1)) as [number];
      const dir = tempDir('log-adapter-kafka-outage');
      const app = join(dir, 'app.log');
      writeFileSync(app, '');
      const p = adapter(app, 'logs-outage', admin, ['--position-file', join(dir, 'positions.json')]);
      let written = 0;
      const write = (n: number) => {
        appendFileSync(app, numbered(written, written + n));
        written += n;
      };
      const writer = setInterval(() => write(50), 100);
      try {
        await until(async () => (await sent(admin)) >= 500, 60_000, 'first records');
        await kafka.stop('SIGTERM');
        const atStop = await sent(admin);
        await sleep(OUTAGE_MS); // the outage itself: the broker stays down this long
        expect(await sent(admin)).toBe(atStop);
        await kafka.start();
        await until(async () => (await sent(admin)) > atStop + 500, 90_000, 'records after the restart');
      } finally {
        clearInterval(writer);
      }
      write(100);
      await until(async () => (await sent(admin)) >= written, 60_000, `all ${written} records sent`);
      await p.kill('SIGTERM');
      const total = await kafka.count('logs-outage');
      const seen = (await kafka.consume('logs-outage', total)).map((m) => lineNo(m.value));
      expect(new Set(seen).size).toBe(written);
      expect(Math.min(...seen)).toBe(0);
      expect(Math.max(...seen)).toBe(written - 1);
      expect(seen.length).toBe(written);
    },
    240_000 + OUTAGE_MS,
  );

  it('SIGKILL of the adapter mid-stream, then a restart: nothing lost, duplicates only after the saved position', async () => {
    await kafka.createTopic('logs-kill');
    const [admin] = (await freePorts(1)) as [number];
    const dir = tempDir('log-adapter-kafka-kill');
    const app = join(dir, 'app.log');
    const positions = join(dir, 'positions.json');
    writeFileSync(app, '');
    const extra = ['--position-file', positions, '--position-sync', '200ms'];
    let p = adapter(app, 'logs-kill', admin, extra);
    let written = 0;
    const write = (n: number) => {
      appendFileSync(app, numbered(written, written + n));
      written += n;
    };
    const writer = setInterval(() => write(100), 50);
    let linesBefore = 0;
    try {
      await until(async () => (await sent(admin)) >= 3000, 60_000, 'records before the kill');
      await until(
        () => existsSync(positions) && linesBeforeSaved(positions, app) > 0,
        10_000,
        'a saved position',
      );
      await p.kill('SIGKILL');
      linesBefore = linesBeforeSaved(positions, app);
      p = adapter(app, 'logs-kill', admin, extra);
      await until(async () => (await sent(admin)) > 500, 60_000, 'records after the restart');
    } finally {
      clearInterval(writer);
    }
    await until(async () => (await sent(admin)) >= written - linesBefore, 60_000, 'the rest sent');
    await p.kill('SIGTERM');
    const total = await kafka.count('logs-kill');
    const counts = new Map<number, number>();
    for (const m of await kafka.consume('logs-kill', total))
      counts.set(lineNo(m.value), (counts.get(lineNo(m.value)) ?? 0) + 1);
    for (let i = 0; i < written; i++) expect(counts.get(i), `line ${i}`).toBeGreaterThanOrEqual(1);
    for (const [line, n] of counts) {
      if (n === 1) continue;
      expect(n).toBe(2);
      expect(line).toBeGreaterThanOrEqual(linesBefore);
    }
    expect(linesBefore).toBeGreaterThan(0);
  }, 180_000);

  it('SASL PLAIN with the password from a file; a wrong password holds the records (metric and log), nothing lost', async () => {
    await kafka.createTopic('logs-sasl');
    const [admin] = (await freePorts(1)) as [number];
    const dir = tempDir('log-adapter-kafka-sasl');
    const app = join(dir, 'app.log');
    writeFileSync(app, numbered(0, 300));
    const secret = join(dir, 'password');
    writeFileSync(secret, 'wrong\n');
    const extra = [
      '--kafka-sasl-mechanism',
      'plain',
      '--kafka-sasl-username',
      'alice',
      '--kafka-sasl-password-file',
      secret,
      '--retry-limit',
      '2',
    ];
    const p = adapter(app, 'logs-sasl', admin, extra, kafka.saslPort);
    await p.waitFor('has no dead-letter file', 60_000);
    expect(await sent(admin)).toBe(0);
    expect(p.stderr()).not.toContain('alice-secret');
    // the secret is rotated in place: the next connection reads it
    writeFileSync(secret, 'alice-secret\n');
    await until(async () => (await sent(admin)) >= 300, 60_000, '300 records sent');
    await p.kill('SIGTERM');
    const msgs = await kafka.consume('logs-sasl', await kafka.count('logs-sasl'));
    expect(new Set(msgs.map((m) => lineNo(m.value))).size).toBe(300);
    expect(msgs.length).toBe(300);
  }, 120_000);

  it('TLS: the broker is verified with --kafka-tls-ca; every line once', async () => {
    await kafka.createTopic('logs-tls');
    const [admin] = (await freePorts(1)) as [number];
    const dir = tempDir('log-adapter-kafka-tls');
    const app = join(dir, 'app.log');
    writeFileSync(app, numbered(0, 300));
    const p = adapter(
      app,
      'logs-tls',
      admin,
      ['--kafka-tls-ca', kafka.tlsCa, '--kafka-compression', 'zstd'],
      kafka.tlsPort,
    );
    await until(async () => (await sent(admin)) >= 300, 60_000, '300 records sent over TLS');
    await p.kill('SIGTERM');
    const msgs = await kafka.consume('logs-tls', await kafka.count('logs-tls'));
    expect(new Set(msgs.map((m) => lineNo(m.value))).size).toBe(300);
    expect(msgs.length).toBe(300);
  }, 120_000);
});
