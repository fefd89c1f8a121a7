import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { asWriteWrap, directWritesActive, SocketWriter, setDirectWrites } from './socket-writer.js';
import { useStreamState } from './stream-state.js';

/** A connected pair on loopback; the server side starts paused (nothing read until resumed). */
async function pair(): Promise<{ client: Socket; peer: Socket; server: Server }> {
  const server = createServer({ pauseOnConnect: true });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  const client = connect(port, '127.0.0.1');
  const [peer] = (await once(server, 'connection')) as [Socket];
  if (client.connecting) await once(client, 'connect');
  return { client, peer, server };
}

function collect(peer: Socket): Promise<Buffer> {
  const parts: Buffer[] = [];
  peer.on('data', (d: Buffer) => parts.push(d));
  peer.resume();
  return once(peer, 'end').then(() => Buffer.concat(parts));
}

/** Chunks of distinct bytes, some far larger than a socket buffer (those must queue). */
function chunks(): Buffer[] {
  const out: Buffer[] = [];
  let v = 0;
  for (const size of [1, 5, 300, 70_000, 2, 3_000_000, 17, 1_500_000, 9]) {
    const b = Buffer.allocUnsafe(size);
    for (let i = 0; i < size; i++) b[i] = v++ & 0xff;
    out.push(b);
  }
  return out;
}

const opened: { client: Socket; peer: Socket; server: Server }[] = [];
afterEach(() => {
  setDirectWrites(true);
  useStreamState(true);
  for (const { client, peer, server } of opened.splice(0)) {
    client.destroy();
    peer.destroy();
    server.close();
  }
});

describe.each([
  // a request object is reused while writes finish at once (the stream state says so)
  ['straight to the handle', true, true],
  ['straight to the handle, a new request per write (no stream state)', true, false],
  ['through socket.write (fallback)', false, true],
])('SocketWriter %s', (_name, direct, state) => {
  beforeEach(() => useStreamState(state));

  it('delivers every byte in order while a slow reader makes writes queue; drain is reported', async () => {
    setDirectWrites(direct);
    const p = await pair();
    opened.push(p);
    let drains = 0;
    const w = new SocketWriter(p.client, () => drains++);
    const all = chunks();
    let queuedOnce = false;
    for (const c of all) {
      const done = w.write(c);
      // "done" promises the kernel has it all: then nothing may be pending
      if (done) expect(w.pending).toBe(0);
      else if (w.pending > 0) queuedOnce = true;
    }
    expect(queuedOnce).toBe(true);
    expect(directWritesActive()).toBe(direct);
    const got = collect(p.peer);
    for (let i = 0; i < 500 && w.pending > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(w.pending).toBe(0);
    expect(drains).toBeGreaterThan(0);
    p.client.end();
    expect((await got).equals(Buffer.concat(all))).toBe(true);
  });

  it('a peer that resets the connection ends in close, not a crash', async () => {
    setDirectWrites(direct);
    const p = await pair();
    opened.push(p);
    const w = new SocketWriter(p.client);
    const errors: Error[] = [];
    p.client.on('error', (e) => errors.push(e));
    const closed = new Promise((r) => p.client.on('close', r));
    w.write(Buffer.alloc(10));
    p.peer.resetAndDestroy();
    // keep writing until the reset is noticed
    for (let i = 0; i < 200 && !p.client.destroyed; i++) {
      w.write(Buffer.alloc(64 * 1024));
      await new Promise((r) => setTimeout(r, 5));
    }
    await closed;
    expect(p.client.destroyed).toBe(true);
    expect(errors.length).toBeGreaterThan(0);
  });
});

describe('the request class check (feature check for other Node versions)', () => {
  it('accepts only a constructor named WriteWrap', () => {
    class WriteWrap {}
    expect(asWriteWrap(WriteWrap)).toBe(WriteWrap);
    expect(asWriteWrap(Object)).toBeNull();
    expect(asWriteWrap(undefined)).toBeNull();
    expect(asWriteWrap({ name: 'WriteWrap' })).toBeNull();
  });
});
