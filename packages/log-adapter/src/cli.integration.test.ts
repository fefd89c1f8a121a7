import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { packageVersion } from '@dds/core/version';
import { bin, run } from '@dds/test-support';
import { describe, expect, it } from 'vitest';

describe('dds-log-adapter CLI', () => {
  it('stdin to stdout with resource attributes from the Downward API env; own logs on stderr', async () => {
    const r = await run(process.execPath, [bin('log-adapter'), '--admin', 'off'], {
      input: '1:M 28 Nov 2026 15:49:08.733 * ready\nplain text\n',
      env: {
        POD_NAME: 'web-0',
        POD_NAMESPACE: 'shop',
        NODE_NAME: 'node-1',
        CONTAINER_NAME: 'redis',
        OTEL_RESOURCE_ATTRIBUTES: 'service.name=cache,deployment.environment=prod%20eu',
      },
    });
    expect(r.code).toBe(0);
    const out = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(out).toHaveLength(2);
    expect(out[0].resource).toEqual({
      'k8s.pod.name': 'web-0',
      'k8s.namespace.name': 'shop',
      'k8s.node.name': 'node-1',
      'k8s.container.name': 'redis',
      'service.name': 'cache',
      'deployment.environment': 'prod eu',
    });
    expect(out[0].observed_timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(out[1]).toMatchObject({
      body: 'plain text',
      attributes: { 'dds.parse_error': 'no known format' },
    });
    expect(r.stderr).toContain(`"msg":"dds-log-adapter ${packageVersion(import.meta.url)} started"`);
  });

  it('a SIGTERM while the end of stdin drains joins that drain: every line out, exit 0', async () => {
    // `app | dds-log-adapter` stopped by a shell or the kubelet: the app exits, stdin ends and the
    // adapter drains; the SIGTERM that follows is the first signal, not a second one (exit 130)
    const child = spawn(process.execPath, [bin('log-adapter'), '--admin', 'off'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = once(child, 'exit');
    // more output than a pipe holds, and stdout not read yet: the drain waits on the writes
    const lines = 20_000;
    child.stdin.end(Array.from({ length: lines }, (_, i) => `line ${i}\n`).join(''));
    for (let i = 0; i < 200 && !stderr.includes('"msg":"draining"'); i++)
      await new Promise((r) => setTimeout(r, 25));
    expect(stderr).toContain('"signal":"stdin closed"');
    child.kill('SIGTERM');
    for (let i = 0; i < 200 && !stderr.includes('already draining'); i++)
      await new Promise((r) => setTimeout(r, 25));
    expect(stderr).toContain('"signal":"SIGTERM","msg":"already draining"');
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const [code] = await exited;
    expect(code).toBe(0);
    expect(out.trim().split('\n')).toHaveLength(lines);
    expect(stderr).not.toContain('second signal');
  });

  it('invalid configuration exits 2 naming the field', async () => {
    const r = await run(process.execPath, [
      bin('log-adapter'),
      '--timezone',
      'Mars/Olympus_Mons',
      '--format',
      'klingon',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/timezone: unknown IANA time zone/);
    expect(r.stderr).toMatch(/format:/);
  });

  it('--help lists every flag with its default and env var', async () => {
    const r = await run(process.execPath, [bin('log-adapter'), '--help']);
    expect(r.code).toBe(0);
    for (const f of [
      '--input',
      '--format',
      '--position-file',
      '--max-line-length',
      '--timezone',
      '--output',
      '--output-policy',
      '--retry-limit',
      '--spool-dir',
      '--spool-max-size',
      '--dead-letter-dir',
      '--otlp-encoding',
      '--otlp-compression',
      '--http-headers-file',
      '--kafka-key',
      '--kafka-compression',
      '--kafka-tls-ca',
      '--kafka-sasl-mechanism',
      '--kafka-sasl-password-file',
      '--input-format',
      '--allowed-root',
    ]) {
      expect(r.stdout).toContain(f);
    }
    expect(r.stdout).toContain('[env DDS_MAX_LINE_LENGTH]');
    expect(r.stdout).toContain('(default 65536)');
  });
});
