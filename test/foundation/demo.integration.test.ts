import { type Proc, run, start } from '@dds/test-support';
import { afterAll, describe, expect, it } from 'vitest';

// The README's first command ends in `node scripts/demo.mjs`: run it and every command it prints,
// exactly as printed, and check each shows what its comment claims.
let demo: Proc | undefined;
afterAll(async () => {
  await demo?.kill('SIGTERM');
});

describe('the live demo', () => {
  it('starts every component and the commands it prints show what they claim', async () => {
    demo = start(process.execPath, ['scripts/demo.mjs', '--seconds', '120']);
    await demo.waitFor('Ctrl-C stops everything.', 60_000);
    expect(demo.stdout() + demo.stderr()).not.toContain('!!');
    const printed = demo.stdout().slice(demo.stdout().indexOf('Try:'));
    // every indented line that is not a comment is a command to try
    const commands = printed
      .split('\n')
      .filter((l) => /^ {2}\S/.test(l) && !l.trimStart().startsWith('#'))
      .map((l) => l.trim());
    expect(commands.length).toBeGreaterThan(14);
    const results: { cmd: string; code: number; out: string }[] = [];
    for (const cmd of commands) {
      const r = await run('bash', ['-c', cmd], { timeoutMs: 30_000 });
      results.push({ cmd, code: r.code, out: r.stdout });
      expect(r.code, `${cmd}\n${r.stdout}${r.stderr}`).toBe(0);
    }
    const out = (re: RegExp) => results.find((r) => re.test(r.cmd))!.out;
    // tls-sidecar
    expect(out(/--http2/)).toContain('ALPN: server accepted h2');
    expect(out(/--http2/)).toContain('hello from the legacy app');
    expect(out(/certificate_expiry/)).toMatch(/dds_tls_certificate_expiry_timestamp_seconds\{[^}]*\} \d+/);
    // shard-ambassador: MSET/MGET through it, the keys on every one of the three shards
    expect(out(/mset user:1/)).toMatch(/^OK\na\nb\nc\nd\ne\nf\n$/);
    const shards = out(/where the keys landed/)
      .trim()
      .split('\n');
    expect(shards).toHaveLength(3);
    const held = shards.map((l) =>
      l
        .replace(/^shard :\d+ holds ?/, '')
        .split(' ')
        .filter(Boolean),
    );
    for (const keys of held) expect(keys.length, shards.join('\n')).toBeGreaterThan(0);
    expect(held.flat().sort()).toEqual(['user:1', 'user:2', 'user:3', 'user:4', 'user:5', 'user:6']);
    expect(out(/printf 'set k/)).toContain('VALUE k 0 5\r\nhello');
    const stats = JSON.parse(out(/JSON stats/)) as { service: string; redis: Record<string, unknown> };
    expect(stats.service).toBe('nutcracker');
    expect(Object.keys(stats.redis)).toEqual(expect.arrayContaining(['client_connections']));
    expect(out(/dds_shard_requests_total/)).toMatch(
      /^dds_shard_requests_total\{pool="redis",server="shard-[abc]"\} [1-9]/m,
    );
    // experiment-splitter: both variants among 12 users, and the admin view
    expect(out(/for u in/)).toContain('hello from the EXPERIMENT');
    expect(out(/for u in/)).toContain('hello from the legacy app');
    expect(JSON.parse(out(/experiments$/))).toBeTypeOf('object');
    // rate-limiter: the burst, then 429 with the headers
    expect(out(/seq 15/)).toMatch(/^(200 ){5,}.*429/);
    expect(out(/grep -i ratelimit/)).toContain('ratelimit-policy: "per-ip";q=5;w=1');
    // adapters
    expect(out(/redis_\(up/)).toContain('redis_up 1');
    expect(out(/readyz\?verbose/)).toContain('readyz check passed');
    expect(out(/grep -m1/)).toContain('"http.request.method":"POST"');
    expect(JSON.parse(out(/\/readyz$/))).toMatchObject({ status: 'ready' });
  }, 180_000);
});
