import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttp1Server, Http1Server, type HttpFront } from '../http/server/http1-server.js';
import { NodeHttp1Server } from '../http/server/node-http1-server.js';
import {
  FAST_PATHS,
  fastPathStates,
  fastPathSummary,
  fastPathSwitchError,
  probe,
  resetFastPaths,
} from './fast-paths.js';
import { parserBinding } from './http-parser.js';
import { replaceAcceptedSockets } from './socket-adoption.js';

// Each fast path on Node's internals: its probe on this Node (the project's pinned one: all
// live), and its fallback when switched off as DDS_FAST_PATHS_OFF does (a Node whose internals
// changed looks the same to the code).

const LIMITS = { maxHeaderSize: 4096, headerTimeout: 2000, requestTimeout: 5000, idleTimeout: 5000 };
const servers: HttpFront[] = [];

function withSwitch(value: string | undefined): void {
  if (value === undefined) delete process.env.DDS_FAST_PATHS_OFF;
  else process.env.DDS_FAST_PATHS_OFF = value;
  resetFastPaths();
}

afterEach(() => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    s.close();
  }
  withSwitch(undefined);
});

/** A lean server that echoes method, url and body length, and the sockets its listeners saw. */
async function echoServer(): Promise<{ port: number; seen: Socket[] }> {
  const seen: Socket[] = [];
  const server = createHttp1Server(LIMITS, (req, res) => {
    let n = 0;
    req.on('data', (c: Buffer) => {
      n += c.length;
    });
    req.on('end', () => {
      const body = `${req.method} ${req.url} ${n}\n`;
      res.writeHead(200, ['content-length', String(body.length)]);
      res.end(body);
    });
  });
  server.on('connection', (s: Socket) => seen.push(s));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, seen };
}

/** Sends bytes, returns everything received until the server closes. */
function exchange(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let out = '';
    s.on('data', (d) => (out += d.toString('latin1')));
    s.on('end', () => resolve(out));
    s.on('error', reject);
    s.write(bytes);
  });
}

const PIPELINED =
  'POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello' +
  'POST /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n' +
  'GET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';

describe('fast paths', () => {
  it('probes once and keeps the verdict; reports them all', () => {
    let runs = 0;
    const check = () => {
      runs++;
      return 'not here' as const;
    };
    expect(probe(FAST_PATHS.llhttp, check)).toBe(false);
    expect(probe(FAST_PATHS.llhttp, () => true)).toBe(false);
    expect(runs).toBe(1);
    expect(fastPathSummary()[FAST_PATHS.llhttp]).toBe('not here');
    expect(probe(FAST_PATHS.socketAdoption, () => true)).toBe(true);
    expect(fastPathStates().map((s) => [s.path, s.live])).toEqual([
      ['llhttp', false],
      ['socket-adoption', true],
    ]);
    resetFastPaths();
    expect(
      probe(FAST_PATHS.socketAdoption, () => {
        throw new Error('changed');
      }),
    ).toBe(false);
    expect(fastPathSummary()['socket-adoption']).toBe('changed');
  });

  it('DDS_FAST_PATHS_OFF switches paths off by name or all, and names an unknown one', () => {
    withSwitch(' llhttp ');
    expect(probe(FAST_PATHS.llhttp, () => true)).toBe(false);
    expect(fastPathSummary().llhttp).toBe('switched off by DDS_FAST_PATHS_OFF');
    expect(probe(FAST_PATHS.socketAdoption, () => true)).toBe(true);
    withSwitch('all');
    expect(probe(FAST_PATHS.socketAdoption, () => true)).toBe(false);
    expect(fastPathSwitchError({ DDS_FAST_PATHS_OFF: 'all' })).toBeUndefined();
    expect(fastPathSwitchError({ DDS_FAST_PATHS_OFF: 'llhttp,socket-adoption' })).toBeUndefined();
    expect(fastPathSwitchError({ DDS_FAST_PATHS_OFF: 'llhttp,turbo' })).toMatch(
      /^DDS_FAST_PATHS_OFF: unknown fast path "turbo" \(known: all, llhttp, socket-adoption/,
    );
  });
});

describe('llhttp (_http_common)', () => {
  it("is live on this Node: the probe parsed a request and a response with Node's binding", () => {
    const b = parserBinding();
    expect(b?.methods).toContain('PATCH');
    expect(fastPathSummary().llhttp).toBe(true);
  });

  it("switched off, the HTTP/1.1 front end is node:http's and the lean server refuses to start", () => {
    withSwitch('llhttp');
    expect(parserBinding()).toBeUndefined();
    const front = createHttp1Server(LIMITS, () => {});
    expect(front).toBeInstanceOf(NodeHttp1Server);
    front.close();
    expect(() => new Http1Server(LIMITS, () => {})).toThrow(/llhttp/);
  });
});

describe('socket adoption (_handle, and the server emit override)', () => {
  it('live: accepted sockets read into the shared buffer; listeners see the adopted socket', async () => {
    const { port, seen } = await echoServer();
    expect(await exchange(port, PIPELINED)).toMatch(/POST \/a 5\n[\s\S]*POST \/b 3\n[\s\S]*GET \/c 0\n$/);
    expect(fastPathSummary()['socket-adoption']).toBe(true);
    expect(seen).toHaveLength(1);
    // the adopted socket has no 'data' listener: its bytes come through onread
    expect(seen[0]!.listenerCount('data')).toBe(0);
  });

  it('switched off: the accepted socket serves as it is, through its data events', async () => {
    withSwitch('socket-adoption');
    const { port, seen } = await echoServer();
    expect(await exchange(port, PIPELINED)).toMatch(/POST \/a 5\n[\s\S]*POST \/b 3\n[\s\S]*GET \/c 0\n$/);
    expect(fastPathSummary()['socket-adoption']).toBe('switched off by DDS_FAST_PATHS_OFF');
    expect(seen).toHaveLength(1);
    expect(seen[0]!.listenerCount('data')).toBeGreaterThan(0);
    // a large body in many reads, as the fallback delivers it
    const big = 'x'.repeat(300_000);
    const out = await exchange(
      port,
      `POST /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: ${big.length}\r\n\r\n${big}`,
    );
    expect(out).toContain(`POST /big ${big.length}\n`);
  });

  it('replaceAcceptedSockets hands connection listeners the replacement', async () => {
    const server = createServer({ pauseOnConnect: true });
    const replaced: Socket[] = [];
    replaceAcceptedSockets(server, (accepted) => {
      accepted.resume();
      replaced.push(accepted);
      return accepted;
    });
    const got = new Promise<Socket>((r) => server.on('connection', r));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const c = connect((server.address() as AddressInfo).port, '127.0.0.1');
    expect(await got).toBe(replaced[0]);
    c.destroy();
    server.close();
  });
});
