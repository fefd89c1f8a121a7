import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { bin, freePorts, run, startComponent, tempDir } from '@dds/test-support';
import { exactlyOnce, metric, until, useCleanup } from '@dds/test-support/log-adapter/harness';
import { describe, expect, it } from 'vitest';

// The adapter as a process: config errors, input warnings and confinement, per-input parsers,
// several outputs with their own policies, the disk spool across a SIGKILL, and hot reload of
// parsers and outputs while lines keep coming.

const cleanup = useCleanup();

interface Rec {
  body?: unknown;
  timestamp?: string;
  severity_text?: string;
  severity_number?: number;
  attributes: Record<string, unknown>;
}

const records = (file: string): Rec[] =>
  existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l.endsWith('}'))
        .map((l) => JSON.parse(l) as Rec)
    : [];

const numbered = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => `{"level":30,"msg":"line ${from + i}"}\n`).join('');
const lineNo = (r: Rec) => Number(/line (\d+)/.exec(String(r.body))?.[1] ?? -1);

/** An NDJSON endpoint that can be down (503) or up. */
function endpoint(port: number): { received: number[]; up: boolean } {
  const ep = { received: [] as number[], up: false };
  const s = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (!ep.up) return res.writeHead(503).end();
      for (const l of Buffer.concat(chunks).toString().split('\n'))
        if (l) ep.received.push(lineNo(JSON.parse(l) as Rec));
      res.writeHead(200).end();
    });
  });
  s.listen(port, '127.0.0.1');
  cleanup.server(s);
  return ep;
}

describe('log-adapter process', () => {
  it('invalid output, policy, parser and spool settings exit 2 naming each field (also --check-config)', async () => {
    const dir = tempDir('log-adapter-bad');
    const cfg = join(dir, 'config.yaml');
    writeFileSync(
      cfg,
      [
        'parsers:',
        '  broken: { regex: "(?<a>[" }',
        '  nogroups: { regex: "^x$" }',
        '  badtime: { regex: "^(?<time>.*)$", timeFormat: "%Q" }',
        'inputFormat: ["/logs/*.log=nosuch"]',
        '',
      ].join('\n'),
    );
    for (const extra of [[], ['--check-config']]) {
      const r = await run(process.execPath, [
        bin('log-adapter'),
        '--config',
        cfg,
        '--output',
        'kafka://no-port/topic',
        '--output',
        'otlp-http://collector',
        '--output-policy',
        'nosuch=drop',
        ...extra,
      ]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/output\.0: broker "no-port" is not HOST:PORT/);
      expect(r.stderr).toMatch(/output\.1: otlp-http:\/\/ needs HOST:PORT/);
      expect(r.stderr).toMatch(/parsers\.broken\.regex: invalid regular expression/);
      expect(r.stderr).toMatch(/parsers\.nogroups\.regex: needs named groups/);
      expect(r.stderr).toMatch(/parsers\.badtime\.timeFormat: unsupported directive %Q/);
      expect(r.stderr).toMatch(/inputFormat\.0: unknown format or parser "nosuch"/);
    }
    const r = await run(process.execPath, [
      bin('log-adapter'),
      '--output',
      'otlp-http://127.0.0.1:4318',
      '--output-policy',
      'otlp=spool',
      '--otlp-encoding',
      'xml',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/spoolDir: an output with policy spool needs --spool-dir/);
    expect(r.stderr).toMatch(/otlpEncoding:/);
  });

  it('an --input glob that matches nothing is warned about; files outside --allowed-root are not followed', async () => {
    const dir = tempDir('log-adapter-roots');
    mkdirSync(join(dir, 'logs'));
    mkdirSync(join(dir, 'secret'));
    writeFileSync(join(dir, 'secret/shadow'), 'root:x:0:0\n');
    symlinkSync(join(dir, 'secret/shadow'), join(dir, 'logs/evil.log'));
    writeFileSync(join(dir, 'logs/app.log'), numbered(0, 3));
    const [admin] = (await freePorts(1)) as [number];
    const out = join(dir, 'out.ndjson');
    const p = startComponent('log-adapter', [
      '--input',
      join(dir, 'logs/*.log'),
      '--input',
      join(dir, 'nothing-here/*.log'),
      '--allowed-root',
      join(dir, 'logs'),
      '--output',
      `file:${out}`,
      '--poll-interval',
      '30ms',
      '--admin',
      `127.0.0.1:${admin}`,
    ]);
    cleanup.proc(p);
    await p.waitFor(/"input":"[^"]*nothing-here\/\*\.log".*matches no file/);
    await p.waitFor('not following a file outside --allowed-root');
    await until(() => records(out).length === 3, 10_000, 'app.log');
    expect(await metric(admin, 'dds_log_adapter_files_skipped_total{reason="outside_allowed_roots"}')).toBe(
      1,
    );
    expect(records(out).map((r) => r.body)).toEqual(['line 0', 'line 1', 'line 2']);
    expect(readFileSync(out, 'utf8')).not.toContain('root:x');
  });

  it('parsers chosen per input path: a custom regex parser with a multiline rule beside --format auto', async () => {
    const dir = tempDir('log-adapter-parsers');
    mkdirSync(join(dir, 'app'));
    mkdirSync(join(dir, 'web'));
    writeFileSync(
      join(dir, 'app/worker.log'),
      [
        '2026-11-28 15:49:09,345 ERROR [worker] task failed',
        'Traceback (most recent call last):',
        '  File "/app/worker.py", line 42, in run',
        'ZeroDivisionError: division by zero',
        '2026-11-28 15:49:10,001 INFO [worker] next task',
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(dir, 'web/access.log'),
      '192.0.2.1 - - [28/Nov/2026:15:49:08 +0000] "GET / HTTP/1.1" 200 1 "-" "t"\n',
    );
    const cfg = join(dir, 'config.yaml');
    writeFileSync(
      cfg,
      [
        'parsers:',
        '  worker:',
        '    regex: "^(?<time>\\\\S+ \\\\S+) (?<level>[A-Z]+) \\\\[(?<thread>[^\\\\]]+)\\\\] (?<message>.*)$"',
        '    timeFormat: "%Y-%m-%d %H:%M:%S,%L"',
        '    rename: { thread: thread.name }',
        '    multiline: { start: "^\\\\d{4}-\\\\d\\\\d-\\\\d\\\\d ", timeout: 200ms }',
        `inputFormat: ["${join(dir, 'app/*.log')}=worker"]`,
        '',
      ].join('\n'),
    );
    const out = join(dir, 'out.ndjson');
    const p = startComponent('log-adapter', [
      '--config',
      cfg,
      '--input',
      join(dir, '*/*.log'),
      '--output',
      `file:${out}`,
      '--poll-interval',
      '30ms',
      '--admin',
      'off',
    ]);
    cleanup.proc(p);
    await until(() => records(out).length === 3, 10_000, 'three records');
    const rs = records(out);
    const failed = rs.find((r) => r.severity_text === 'ERROR')!;
    expect(failed.timestamp).toBe('2026-11-28T15:49:09.345Z');
    expect(failed.attributes['thread.name']).toBe('worker');
    expect(failed.body).toMatch(/^task failed\nTraceback[\s\S]*ZeroDivisionError: division by zero$/);
    expect(rs.find((r) => r.body === 'next task')?.severity_number).toBe(9);
    expect(
      rs.find((r) => String(r.body).startsWith('192.0.2.1'))?.attributes['http.response.status_code'],
    ).toBe(200);
  });

  it('several outputs: a blocking output that is down holds positions; the same output with policy drop does not', async () => {
    for (const policy of ['block', 'drop'] as const) {
      const [port, admin] = (await freePorts(2)) as [number, number];
      const ep = endpoint(port);
      const dir = tempDir(`log-adapter-multi-${policy}`);
      writeFileSync(join(dir, 'app.log'), numbered(0, 1000));
      const out = join(dir, 'out.ndjson');
      const p = startComponent('log-adapter', [
        '--input',
        join(dir, 'app.log'),
        '--output',
        `file:${out}`,
        '--output',
        `remote=http://127.0.0.1:${port}/`,
        '--output-policy',
        `remote=${policy}`,
        '--position-file',
        join(dir, 'positions.json'),
        '--position-sync',
        '50ms',
        '--flush-interval',
        '20ms',
        '--retry-max',
        '100ms',
        '--poll-interval',
        '30ms',
        '--admin',
        `127.0.0.1:${admin}`,
      ]);
      cleanup.proc(p);
      await until(() => records(out).length === 1000, 10_000, 'the file output');
      await until(
        async () => (await metric(admin, 'dds_log_adapter_output_retries_total{output="remote"}')) > 2,
        10_000,
        'retries',
      );
      expect(await metric(admin, 'dds_log_adapter_records_sent_total{output="file"}')).toBe(1000);
      expect(await metric(admin, 'dds_log_adapter_records_sent_total{output="remote"}')).toBe(0);
      if (policy === 'block') {
        expect(await metric(admin, 'dds_log_adapter_lag_bytes')).toBe(Buffer.byteLength(numbered(0, 1000)));
        expect(await metric(admin, 'dds_log_adapter_output_pending_bytes{output="remote"}')).toBeGreaterThan(
          0,
        );
        ep.up = true;
        await until(() => ep.received.length === 1000, 10_000, 'the remote output');
        exactlyOnce(ep.received, 1000);
      }
      await until(
        async () => (await metric(admin, 'dds_log_adapter_lag_bytes')) === 0,
        10_000,
        'positions at the end',
      );
      await p.kill('SIGKILL');
    }
  }, 60_000);

  it('policy spool: batches are acknowledged once on disk, survive a SIGKILL, and are delivered once the sink is back', async () => {
    const [port, admin] = (await freePorts(2)) as [number, number];
    const ep = endpoint(port);
    const dir = tempDir('log-adapter-spool');
    const app = join(dir, 'app.log');
    writeFileSync(app, numbered(0, 3000));
    const args = [
      '--input',
      app,
      '--output',
      `http://127.0.0.1:${port}/`,
      '--output-policy',
      'spool',
      '--spool-dir',
      join(dir, 'spool'),
      '--position-file',
      join(dir, 'positions.json'),
      '--position-sync',
      '50ms',
      '--flush-interval',
      '20ms',
      '--batch-size',
      '8192',
      '--retry-max',
      '100ms',
      '--poll-interval',
      '30ms',
      '--admin',
      `127.0.0.1:${admin}`,
    ];
    let p = startComponent('log-adapter', args);
    cleanup.proc(p);
    // the sink is down, yet positions reach the end: the spool holds the records
    await until(
      async () => (await metric(admin, 'dds_log_adapter_lag_bytes')) === 0,
      10_000,
      'positions at the end',
    );
    await until(() => existsSync(join(dir, 'positions.json')), 5000, 'saved positions');
    expect(await metric(admin, 'dds_log_adapter_output_pending_bytes{output="http"}')).toBeGreaterThan(
      100_000,
    );
    const end = Buffer.byteLength(numbered(0, 3000));
    await until(
      () => readFileSync(join(dir, 'positions.json'), 'utf8').includes(`"offset": ${end}`),
      5000,
      'the end saved',
    );
    await p.kill('SIGKILL');
    appendFileSync(app, numbered(3000, 3500));
    ep.up = true;
    p = startComponent('log-adapter', args);
    cleanup.proc(p);
    await until(() => ep.received.length >= 3500, 20_000, 'all 3500 lines');
    await until(
      async () => (await metric(admin, 'dds_log_adapter_output_pending_bytes{output="http"}')) === 0,
      5000,
      'an empty spool',
    );
    await p.kill('SIGTERM');
    exactlyOnce(ep.received, 3500);
  }, 60_000);

  it('hot reload of parsers and outputs while lines keep coming: none lost or repeated', async () => {
    const dir = tempDir('log-adapter-reload');
    const app = join(dir, 'app.log');
    writeFileSync(app, '');
    const a = join(dir, 'a.ndjson');
    const b = join(dir, 'b.ndjson');
    const cfg = join(dir, 'config.yaml');
    const config = (outputs: string[], format: string) =>
      writeFileSync(
        cfg,
        [
          'parsers:',
          '  tagged: { regex: "^\\\\{\\"level\\":30,\\"msg\\":\\"(?<message>[^\\"]*)\\"\\\\}$", messageKey: message }',
          `format: ${format}`,
          `output: [${outputs.map((o) => `"${o}"`).join(', ')}]`,
          '',
        ].join('\n'),
      );
    config([`file:${a}`], 'json');
    const p = startComponent('log-adapter', [
      '--config',
      cfg,
      '--input',
      app,
      '--poll-interval',
      '20ms',
      '--reload-interval',
      '50ms',
      '--admin',
      'off',
    ]);
    cleanup.proc(p);
    let written = 0;
    const writer = setInterval(() => {
      appendFileSync(app, numbered(written, written + 20));
      written += 20;
    }, 20);
    try {
      await until(() => records(a).length > 200, 10_000, 'records in a');
      config([`file:${a}`, `file:${b}`], 'tagged');
      await p.waitFor('configuration reloaded', 10_000);
      await until(() => records(b).length > 200, 10_000, 'records in b');
    } finally {
      clearInterval(writer);
    }
    await until(() => records(a).length >= written, 10_000, 'all lines in a');
    await p.kill('SIGTERM');
    const ra = records(a);
    exactlyOnce(ra.map(lineNo), written);
    // parsed by json before the reload and by the custom parser after it, never both
    const firstCustom = ra.findIndex((r) => r.severity_number === undefined);
    expect(firstCustom).toBeGreaterThan(0);
    expect(ra.slice(0, firstCustom).every((r) => r.severity_number === 9)).toBe(true);
    expect(
      ra
        .slice(firstCustom)
        .every((r) => r.severity_number === undefined && r.attributes['dds.parse_error'] === undefined),
    ).toBe(true);
    // b starts at the reload and then has every line up to the end, once
    const nb = records(b).map(lineNo);
    expect(nb).toEqual(Array.from({ length: nb.length }, (_, i) => nb[0]! + i));
    expect(nb[nb.length - 1]).toBe(written - 1);
  }, 60_000);

  it('a reload that changes an output hands its queued batches to the new one: none lost or repeated', async () => {
    const [port, admin] = (await freePorts(2)) as [number, number];
    const ep = endpoint(port);
    const dir = tempDir('log-adapter-reload-output');
    const app = join(dir, 'app.log');
    writeFileSync(app, numbered(0, 2000));
    const cfg = join(dir, 'config.yaml');
    const config = (header: string) =>
      writeFileSync(
        cfg,
        [`output: ["remote=http://127.0.0.1:${port}/"]`, `httpHeader: ["X-Tenant: ${header}"]`, ''].join(
          '\n',
        ),
      );
    config('a');
    const p = startComponent('log-adapter', [
      '--config',
      cfg,
      '--input',
      app,
      '--flush-interval',
      '20ms',
      '--retry-max',
      '100ms',
      '--poll-interval',
      '20ms',
      '--admin',
      `127.0.0.1:${admin}`,
    ]);
    cleanup.proc(p);
    // the endpoint is down: batches queue in the output; then the output's settings change
    await until(
      async () => (await metric(admin, 'dds_log_adapter_output_pending_bytes{output="remote"}')) > 0,
      10_000,
      'a queue',
    );
    config('b');
    process.kill(p.child.pid!, 'SIGHUP');
    await p.waitFor('output reconfigured', 10_000);
    ep.up = true;
    appendFileSync(app, numbered(2000, 3000));
    await until(() => ep.received.length >= 3000, 20_000, 'all 3000 lines');
    await p.kill('SIGTERM');
    exactlyOnce(ep.received, 3000);
  }, 40_000);

  it('a failed position write is counted, logged and retried at the next sync', async () => {
    const [admin] = (await freePorts(1)) as [number];
    const dir = tempDir('log-adapter-posfail');
    const app = join(dir, 'app.log');
    writeFileSync(app, numbered(0, 10));
    const positions = join(dir, 'positions.json');
    mkdirSync(`${positions}.tmp`); // the temp file cannot be created: every save fails
    const p = startComponent('log-adapter', [
      '--input',
      app,
      '--output',
      `file:${join(dir, 'out.ndjson')}`,
      '--position-file',
      positions,
      '--position-sync',
      '50ms',
      '--poll-interval',
      '20ms',
      '--admin',
      `127.0.0.1:${admin}`,
    ]);
    cleanup.proc(p);
    await until(
      async () => (await metric(admin, 'dds_log_adapter_position_write_failures_total')) >= 2,
      10_000,
      'failures',
    );
    await p.waitFor('cannot save positions');
    expect(existsSync(positions)).toBe(false);
    rmSync(`${positions}.tmp`, { recursive: true });
    await until(() => existsSync(positions), 10_000, 'a saved position');
    const saved = JSON.parse(readFileSync(positions, 'utf8')) as {
      files: Record<string, { offset: number }>;
    };
    expect(Object.values(saved.files)[0]!.offset).toBe(Buffer.byteLength(numbered(0, 10)));
    await p.kill('SIGTERM');
  }, 30_000);

  it('a file rotated away while the output is down keeps its position until delivered, across a SIGKILL', async () => {
    const [port, admin] = (await freePorts(2)) as [number, number];
    const ep = endpoint(port);
    const dir = tempDir('log-adapter-rotated-down');
    const app = join(dir, 'app.log');
    writeFileSync(app, numbered(0, 500));
    const args = [
      '--input',
      app, // the rotated file no longer matches: only the position file leads back to it
      '--output',
      `http://127.0.0.1:${port}/`,
      '--position-file',
      join(dir, 'positions.json'),
      '--position-sync',
      '50ms',
      '--rotate-wait',
      '200ms',
      '--flush-interval',
      '20ms',
      '--retry-max',
      '100ms',
      '--poll-interval',
      '20ms',
      '--admin',
      `127.0.0.1:${admin}`,
    ];
    let p = cleanup.proc(startComponent('log-adapter', args));
    await until(
      async () => (await metric(admin, 'dds_log_adapter_output_retries_total{output="http"}')) > 0,
      10_000,
      'retries',
    );
    renameSync(app, `${app}.1`);
    writeFileSync(app, numbered(500, 800));
    await p.waitFor('file rotated away', 10_000);
    // past --rotate-wait the rotated file is read to its end, but its records are not delivered
    await p.waitFor('kept open until the outputs have it', 10_000);
    expect(await metric(admin, 'dds_log_adapter_files_followed')).toBe(2);
    await p.kill('SIGKILL');
    ep.up = true;
    p = cleanup.proc(startComponent('log-adapter', args));
    await until(() => ep.received.length >= 800, 20_000, 'all 800 lines');
    await p.kill('SIGTERM');
    exactlyOnce(ep.received, 800);
  }, 40_000);
});
