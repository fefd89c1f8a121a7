import { connect, type Socket } from 'node:net';
import { freePorts, type Service, startRedis } from '@dds/test-support';
import { type Ambassador, startAmbassador } from '@dds/test-support/shard-ambassador/ambassador';
import { resp } from '@dds/test-support/shard-ambassador/raw-client';
import { until } from '@dds/test-support/shard-ambassador/wait';
import { afterEach, describe, expect, it } from 'vitest';

/** A client socket that records what it receives and when it closes. */
async function client(port: number): Promise<{ s: Socket; got: () => string; closed: Promise<void> }> {
  const s = connect(port, '127.0.0.1');
  let got = '';
  s.on('data', (d: Buffer) => {
    got += d.toString();
  });
  s.on('error', () => {});
  const closed = new Promise<void>((r) => s.once('close', () => r()));
  await new Promise((r) => s.once('connect', r));
  return { s, got: () => got, closed };
}

const refused = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(true));
  });

describe('SIGTERM drain (real redis-server shards)', () => {
  const shards: Service[] = [];
  let amb: Ambassador | undefined;
  afterEach(async () => {
    for (const s of shards) s.proc.child.kill('SIGCONT');
    await amb?.stop();
    await Promise.all(shards.splice(0).map((s) => s.stop()));
  });

  /** Two shards, a key of the second one and one of the first (found through /locate). */
  async function setup(args: string[]): Promise<{ port: number; stalledKey: string; liveKey: string }> {
    for (let i = 0; i < 2; i++) shards.push(await startRedis());
    const [port] = (await freePorts(1)) as [number];
    amb = await startAmbassador(
      {
        r: {
          listen: `127.0.0.1:${port}`,
          redis: true,
          servers: shards.map((s, i) => `127.0.0.1:${s.port}:1 s${i}`),
        },
      },
      args,
    );
    const keys: Record<string, string> = {};
    for (let i = 0; !keys.s0 || !keys.s1; i++) {
      const key = `drain:${i}`;
      const at = (await (await fetch(`${amb.admin}/locate?pool=r&key=${key}`)).json()) as { server: string };
      keys[at.server] ??= key;
    }
    return { port, stalledKey: keys.s1!, liveKey: keys.s0! };
  }

  const inFlight = async (server: string): Promise<number> => {
    const text = await (await fetch(`${amb!.admin}/metrics`)).text();
    const m = new RegExp(`^dds_shard_in_flight_requests\\{pool="r",server="${server}"\\} (\\d+)`, 'm').exec(
      text,
    );
    return Number(m?.[1] ?? 0);
  };

  it('a pipelined request in flight completes; idle clients close at once; new connections are refused; exit 0', async () => {
    const { port, stalledKey, liveKey } = await setup(['--drain-timeout', '30s']);
    const idle = await client(port);
    const busy = await client(port);
    // the shard holding stalledKey stops answering: its GET stays in flight
    shards[1]!.proc.child.kill('SIGSTOP');
    // replies come in request order: the SET after the stalled GET waits for it
    busy.s.write(Buffer.concat([resp('GET', stalledKey), resp('SET', liveKey, 'v'), resp('PING')]));
    await until('the GET to be in flight', async () => (await inFlight('s1')) === 1);
    expect(busy.got()).toBe('');

    amb!.proc.child.kill('SIGTERM');
    await idle.closed;
    await until('the listener to close', () => refused(port));
    // still owed a reply: still open
    expect(busy.s.destroyed).toBe(false);
    shards[1]!.proc.child.kill('SIGCONT');
    await busy.closed;
    expect(busy.got()).toBe('$-1\r\n+OK\r\n+PONG\r\n');
    expect(await amb!.proc.exited).toBe(0);
    expect(amb!.proc.stdout()).toMatch(/drained; exiting/);
  });

  it('a request that outlasts --drain-timeout is answered with an error at the deadline, then closed', async () => {
    const { port, stalledKey } = await setup(['--drain-timeout', '1s']);
    const busy = await client(port);
    shards[1]!.proc.child.kill('SIGSTOP');
    busy.s.write(resp('GET', stalledKey));
    await until('the GET to be in flight', async () => (await inFlight('s1')) === 1);
    amb!.proc.child.kill('SIGTERM');
    await busy.closed;
    expect(busy.got()).toBe('-ERR the proxy is shutting down: no reply before --drain-timeout\r\n');
    expect(await amb!.proc.exited).toBe(0);
  });
});
