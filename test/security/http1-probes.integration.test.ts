import { type StrictUpstream, startStrictUpstream } from '@dds/test-support/recording-upstream';
import { PROBES, problems } from '@dds/test-support/security/probes';
import {
  probe,
  startNginxReference,
  startRateLimiter,
  startShardHttp,
  startSplitter,
  startTlsSidecar,
  type Target,
} from '@dds/test-support/security/targets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The shared adversarial suite, HTTP/1.1 side: every probe against every HTTP component (the TLS
// sidecar over TLS, the others in plain text; the splitter also with the llhttp fast path
// switched off, on the node:http and undici fallbacks) and nginx as the reference, each in front of its
// own strict recording upstream. For every probe the upstream must see exactly the requests the
// client sent and the proxy accepted, each with framing and trust headers written by the proxy;
// dds forwards what the probe says, and never more than nginx does.

interface Run {
  target: Target;
  upstream: StrictUpstream;
}
const runs: Run[] = [];
/** requests each target let through, per probe (for the comparison with nginx) */
const forwarded = new Map<string, Map<string, number>>();
let barrier = 0;

beforeAll(async () => {
  const starters: ((u: StrictUpstream) => Promise<Target>)[] = [
    (u) => startNginxReference(u.port),
    (u) => startTlsSidecar(u.url),
    (u) => startSplitter(u.url),
    (u) => startRateLimiter(u.url),
    (u) => startShardHttp(u.port),
    // the fallbacks of a Node whose llhttp binding changed: node:http in front, undici behind
    (u) => startSplitter(u.url, [], { DDS_FAST_PATHS_OFF: 'llhttp' }),
  ];
  for (const start of starters) {
    const upstream = await startStrictUpstream();
    runs.push({ target: await start(upstream), upstream });
  }
});

afterAll(async () => {
  for (const r of runs) {
    await r.target.stop();
    await r.upstream.close();
  }
});

/** Sends one probe and returns what the upstream saw because of it. */
async function run(r: Run, bytes: string, responses: number) {
  r.upstream.seen.length = 0;
  const client = await probe(r.target, bytes, responses);
  // a barrier request on another connection: once the upstream saw it, it saw the probe's requests
  const mark = `/barrier-${++barrier}`;
  await probe(r.target, `GET ${mark} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n`, 1);
  await r.upstream.waitFor(mark);
  const seen = r.upstream.seen.filter((s) => s.url !== mark);
  return { client, seen };
}

const names = [
  'nginx',
  'tls-sidecar',
  'experiment-splitter',
  'rate-limiter',
  'shard-ambassador (http)',
  'experiment-splitter (llhttp off)',
];

describe.each(names)('%s: adversarial HTTP/1.1 probes', (name) => {
  const r = () => runs.find((x) => x.target.name === name)!;

  it.each(PROBES.map((p) => [p.name, p] as const))('%s', async (_n, p) => {
    const { client, seen } = await run(r(), p.bytes, p.responses);
    const ours = !r().target.reference;
    expect(problems(seen, p.legit, ours), `${client.out.slice(0, 400)}`).toEqual([]);
    // every request the upstream saw was answered to the client, and nothing else was
    expect(client.statuses.filter((s) => s === 200).length).toBe(seen.length);
    if (ours)
      expect(seen.length, client.out.slice(0, 300)).toBe(
        name.startsWith('shard') ? (p.shard ?? p.ours) : p.ours,
      );
    const m = forwarded.get(p.name) ?? new Map<string, number>();
    m.set(name, seen.length);
    forwarded.set(p.name, m);
  });
});

describe('dds is at least as strict as nginx', () => {
  it.each(PROBES.map((p) => [p.name] as const))('%s', (probeName) => {
    const m = forwarded.get(probeName)!;
    const nginx = m.get('nginx')!;
    for (const n of names.slice(1)) expect({ [n]: m.get(n) }).toEqual({ [n]: Math.min(m.get(n)!, nginx) });
  });
});
