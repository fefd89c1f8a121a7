import { appendFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { freePorts, startComponent, tempDir } from '@dds/test-support';
import { metric, until, useCleanup } from '@dds/test-support/log-adapter/harness';
import { loadOtlpProto } from '@dds/test-support/log-adapter/otlp-proto';
import { describe, expect, it } from 'vitest';

// The OTLP retry rules against a scripted OTLP/HTTP endpoint (a real collector cannot be made to
// answer 429 with Retry-After or a partial success on demand): Retry-After is honoured, 400 is
// permanent (dead-letter file), a partial success is counted and logged, headers come from a file.

const cleanup = useCleanup();

interface Seen {
  at: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function endpoint(
  port: number,
  answer: (n: number) => [number, Record<string, string>, Uint8Array | string],
): Seen[] {
  const seen: Seen[] = [];
  const s = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      seen.push({ at: Date.now(), headers: req.headers, body });
      const [status, headers, out] = answer(seen.length);
      res.writeHead(status, headers).end(out);
    });
  });
  s.listen(port, '127.0.0.1');
  cleanup.server(s);
  return seen;
}

describe('OTLP output: retry rules (scripted endpoint)', () => {
  it('429 with Retry-After waits as told; a partial success is counted and logged; headers from a file', async () => {
    const proto = await loadOtlpProto();
    const [port, admin] = (await freePorts(2)) as [number, number];
    const seen = endpoint(port, (n) =>
      n === 1
        ? [429, { 'retry-after': '2' }, '']
        : [
            200,
            { 'content-type': 'application/x-protobuf' },
            proto.encodeResponse(2, 'two records had a bad attribute'),
          ],
    );
    const dir = tempDir('log-adapter-otlp-rules');
    writeFileSync(
      join(dir, 'app.log'),
      '{"level":30,"msg":"a"}\n{"level":30,"msg":"b"}\n{"level":30,"msg":"c"}\n',
    );
    writeFileSync(
      join(dir, 'headers'),
      '# the tenant token\nAuthorization: Bearer s3cret\nX-Scope-OrgID: team-a\n',
    );
    const p = startComponent('log-adapter', [
      '--input',
      join(dir, 'app.log'),
      '--output',
      `otlp-http://127.0.0.1:${port}`,
      '--http-headers-file',
      join(dir, 'headers'),
      '--flush-interval',
      '20ms',
      '--retry-base',
      '10ms',
      '--poll-interval',
      '30ms',
      '--admin',
      `127.0.0.1:${admin}`,
    ]);
    cleanup.proc(p);
    await until(() => seen.length >= 2, 15_000, 'the retry');
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(1900);
    expect(seen[0]!.headers.authorization).toBe('Bearer s3cret');
    expect(seen[0]!.headers['x-scope-orgid']).toBe('team-a');
    expect(seen[0]!.headers['content-type']).toBe('application/x-protobuf');
    expect(seen[0]!.headers['content-encoding']).toBe('gzip');
    const req = proto.decodeRequest(seen[1]!.body) as {
      resourceLogs: Array<{ scopeLogs: Array<{ logRecords: unknown[] }> }>;
    };
    expect(req.resourceLogs[0]!.scopeLogs[0]!.logRecords.length).toBe(3);
    await p.waitFor('partial success');
    expect(await metric(admin, 'dds_log_adapter_records_rejected_total{output="otlp"}')).toBe(2);
    expect(await metric(admin, 'dds_log_adapter_records_sent_total{output="otlp"}')).toBe(1);
    expect(await metric(admin, 'dds_log_adapter_output_retries_total{output="otlp"}')).toBe(1);
    // the token never shows in the adapter's own views
    const config = await (await fetch(`http://127.0.0.1:${admin}/config`)).text();
    expect(config).not.toContain('s3cret');
    expect(p.stderr()).not.toContain('s3cret');
  }, 30_000);

  it('400 is permanent: one attempt, then the dead-letter file (JSON encoding, no compression)', async () => {
    const [port, admin] = (await freePorts(2)) as [number, number];
    const seen = endpoint(port, () => [
      400,
      { 'content-type': 'application/json' },
      '{"code":3,"message":"bad"}',
    ]);
    const dir = tempDir('log-adapter-otlp-400');
    writeFileSync(join(dir, 'app.log'), '{"level":30,"msg":"a"}\n{"level":30,"msg":"b"}\n');
    const p = startComponent('log-adapter', [
      '--input',
      join(dir, 'app.log'),
      '--output',
      `otlp-http://127.0.0.1:${port}/custom/path`,
      '--otlp-encoding',
      'json',
      '--otlp-compression',
      'none',
      '--dead-letter-dir',
      join(dir, 'dead'),
      '--flush-interval',
      '20ms',
      '--poll-interval',
      '30ms',
      '--admin',
      `127.0.0.1:${admin}`,
    ]);
    cleanup.proc(p);
    await until(
      async () =>
        (await metric(
          admin,
          'dds_log_adapter_records_dead_lettered_total{output="otlp",reason="rejected"}',
        )) === 2,
      15_000,
      'dead letters',
    );
    expect(seen.length).toBe(1);
    expect(seen[0]!.headers['content-type']).toBe('application/json');
    const doc = JSON.parse(seen[0]!.body.toString()) as {
      resourceLogs: Array<{ scopeLogs: Array<{ logRecords: Array<{ body: { stringValue: string } }> }> }>;
    };
    expect(doc.resourceLogs[0]!.scopeLogs[0]!.logRecords.map((r) => r.body.stringValue)).toEqual(['a', 'b']);
    await p.waitFor('dead-letter file');
  }, 30_000);

  it('a rotated token in --http-headers-file is applied without a restart or a signal', async () => {
    const [port, admin] = (await freePorts(2)) as [number, number];
    const seen = endpoint(port, () => [200, {}, '']);
    const dir = tempDir('log-adapter-otlp-rotate');
    const app = join(dir, 'app.log');
    writeFileSync(app, '{"level":30,"msg":"a"}\n');
    const headers = join(dir, 'headers');
    writeFileSync(headers, 'Authorization: Bearer old-token\n');
    const p = cleanup.proc(
      startComponent('log-adapter', [
        '--input',
        app,
        '--output',
        `otlp-http://127.0.0.1:${port}`,
        '--http-headers-file',
        headers,
        '--reload-interval',
        '50ms',
        '--flush-interval',
        '20ms',
        '--poll-interval',
        '30ms',
        '--admin',
        `127.0.0.1:${admin}`,
      ]),
    );
    await until(() => seen.length >= 1, 15_000, 'the first request');
    expect(seen[0]!.headers.authorization).toBe('Bearer old-token');
    writeFileSync(headers, 'Authorization: Bearer new-token\n');
    await p.waitFor('output reconfigured', 10_000);
    appendFileSync(app, '{"level":30,"msg":"b"}\n');
    await until(() => seen.length >= 2, 15_000, 'the second request');
    expect(seen[1]!.headers.authorization).toBe('Bearer new-token');
    await p.kill('SIGTERM');
  }, 30_000);
});
