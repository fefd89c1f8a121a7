import { type Proc, run, start } from '@dds/test-support';
import { afterAll, describe, expect, it } from 'vitest';

// The README's first command ends in `node scripts/demo.mjs`: run it and try what it prints.
let demo: Proc | undefined;
afterAll(async () => {
  await demo?.kill('SIGTERM');
});

describe('the live demo', () => {
  it('starts every component and the commands it prints work', async () => {
    demo = start(process.execPath, ['scripts/demo.mjs', '--seconds', '120']);
    await demo.waitFor('Ctrl-C stops everything.', 60_000);
    expect(demo.stdout() + demo.stderr()).not.toContain('!!');
    const commands = demo
      .stdout()
      .split('\n')
      .filter((l) => /^\s+(curl|redis-cli|for |printf|echo)/.test(l))
      .map((l) => l.trim());
    expect(commands.length).toBeGreaterThan(10);
    const r = await run('bash', ['-c', commands.join('\n')], { timeoutMs: 60_000 });
    const out = r.stdout;
    expect(out).toContain('ALPN: server accepted h2');
    expect(out).toContain('hello from the legacy app');
    expect(out).toMatch(/dds_tls_certificate_expiry_timestamp_seconds\{[^}]*\} \d+/);
    expect(out).toMatch(/^OK$/m); // MSET through the shard ambassador
    expect(out).toMatch(/^a\nb\nc\nd\ne\nf$/m); // MGET merged in order
    expect(out).toContain('VALUE k 0 5\r\nhello');
    expect(out).toContain('hello from the EXPERIMENT');
    expect(out).toMatch(/(200 ){5,}.*429/);
    expect(out).toContain('ratelimit-policy: "per-ip";q=5;w=1');
    expect(out).toContain('redis_up 1');
    expect(out).toContain('readyz check passed');
    expect(out).toContain('"http.request.method":"POST"');
  }, 150_000);
});
