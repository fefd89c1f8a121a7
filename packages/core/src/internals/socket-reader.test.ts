import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { READ_BUFFER } from '../net/read-buffer.js';
import { adoptSocket } from './socket-adoption.js';
import { readDirect, setDirectReads } from './socket-reader.js';
import { streamState, useStreamState } from './stream-state.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Pair {
  client: Socket;
  /** the accepted side, adopted to read into READ_BUFFER as the proxy's sessions do */
  peer: Socket;
  server: Server;
  /** copies of what the peer's read callback saw, in order */
  got: Buffer[];
  /** readDirect's answer: whether the handle calls back directly */
  direct: boolean;
  /** what the callback returns (false: stop reading) */
  answer: { value: boolean };
}

async function pair(): Promise<Pair> {
  const server = createServer({ pauseOnConnect: true });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  const client = connect(port, '127.0.0.1');
  const [accepted] = (await once(server, 'connection')) as [Socket];
  if (client.connecting) await once(client, 'connect');
  const got: Buffer[] = [];
  const answer = { value: true };
  const onRead = (n: number, buf: Buffer): boolean => {
    got.push(Buffer.from(buf.subarray(0, n)));
    return answer.value;
  };
  const peer = adoptSocket(accepted, onRead, true);
  const direct = readDirect(peer, READ_BUFFER, onRead);
  return { client, peer, server, got, direct, answer };
}

const total = (p: Pair) => p.got.reduce((s, b) => s + b.length, 0);

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  for (let t = 0; !cond(); t += 5) {
    if (t > ms) throw new Error('timed out');
    await sleep(5);
  }
}

const opened: Pair[] = [];
afterEach(() => {
  setDirectReads(true);
  useStreamState(true);
  for (const { client, peer, server } of opened.splice(0)) {
    client.destroy();
    peer.destroy();
    server.close();
  }
});

function bytes(size: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = (i * 7 + seed) & 0xff;
  return b;
}

describe.each([
  ['straight from the handle', 'direct'],
  ['through onStreamRead (switched off)', 'off'],
  ['through onStreamRead (no stream state)', 'no-state'],
])('readDirect %s', (_name, mode) => {
  const setup = async (): Promise<Pair> => {
    setDirectReads(mode !== 'off');
    useStreamState(mode !== 'no-state');
    const p = await pair();
    opened.push(p);
    // on this Node the direct path must really be taken (else the tests would test nothing new)
    expect(p.direct).toBe(mode === 'direct');
    return p;
  };

  it('delivers every byte in order, over many reads', async () => {
    const p = await setup();
    const sent = [bytes(1, 1), bytes(70_000, 2), bytes(5, 3), bytes(1_000_000, 4), bytes(300, 5)];
    for (const b of sent) p.client.write(b);
    const all = Buffer.concat(sent);
    await until(() => total(p) >= all.length);
    expect(Buffer.concat(p.got).equals(all)).toBe(true);
    expect(p.got.length).toBeGreaterThan(1);
  });

  it('EOF: end is emitted and the half-closed peer can still answer', async () => {
    const p = await setup();
    const ended = once(p.peer, 'end');
    const answered: Buffer[] = [];
    p.client.on('data', (d: Buffer) => answered.push(d));
    const clientEnded = once(p.client, 'end');
    p.client.end(Buffer.from('last words'));
    await ended;
    expect(Buffer.concat(p.got).toString()).toBe('last words');
    p.peer.end(Buffer.from('reply after EOF'));
    await clientEnded;
    expect(Buffer.concat(answered).toString()).toBe('reply after EOF');
  });

  it('a reset peer ends in error and close, not a crash', async () => {
    const p = await setup();
    // (events.once would reject on the 'error' that comes first)
    const closed = new Promise((r) => p.peer.on('close', r));
    const errors: Error[] = [];
    p.peer.on('error', (e) => errors.push(e));
    p.client.write('x');
    await until(() => total(p) === 1);
    p.client.resetAndDestroy();
    await closed;
    expect(errors.map((e) => (e as NodeJS.ErrnoException).code)).toEqual(['ECONNRESET']);
  });

  it('pause() stops the callbacks and resume() restarts them', async () => {
    const p = await setup();
    p.client.write('a');
    await until(() => total(p) === 1);
    p.peer.pause();
    p.client.write('bc');
    await sleep(100);
    expect(total(p)).toBe(1);
    p.peer.resume();
    await until(() => total(p) === 3);
    expect(Buffer.concat(p.got).toString()).toBe('abc');
  });

  it('a callback that returns false stops reading until resume()', async () => {
    const p = await setup();
    p.answer.value = false;
    p.client.write('a');
    await until(() => total(p) === 1);
    p.client.write('b');
    await sleep(100);
    expect(total(p)).toBe(1);
    p.answer.value = true;
    p.peer.resume();
    await until(() => total(p) === 2);
    expect(Buffer.concat(p.got).toString()).toBe('ab');
  });
});

describe('the stream state (feature check for other Node versions)', () => {
  it('is found on this Node and can be switched off', () => {
    expect(streamState()).not.toBeNull();
    useStreamState(false);
    expect(streamState()).toBeNull();
    useStreamState(true);
    expect(streamState()?.state).toBeInstanceOf(Int32Array);
  });
});
