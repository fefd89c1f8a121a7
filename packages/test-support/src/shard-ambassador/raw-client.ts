import { connect, type Socket } from 'node:net';

/**
 * A minimal pipelining text client for tests: writes a batch of raw requests and collects
 * bytes until `done(received)` says the replies are complete. Test-only (never built).
 */
export class RawClient {
  private constructor(private readonly socket: Socket) {}

  static async open(port: number, host = '127.0.0.1'): Promise<RawClient> {
    const s = connect(port, host);
    await new Promise<void>((res, rej) => {
      s.once('connect', () => res());
      s.once('error', rej);
    });
    return new RawClient(s);
  }

  /** Sends `data` and resolves with everything received once `done` returns true. */
  exchange(data: string | Buffer, done: (received: Buffer) => boolean, timeoutMs = 10_000): Promise<Buffer> {
    const parts: Buffer[] = [];
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(
            `no complete reply within ${timeoutMs}ms; got ${Buffer.concat(parts).toString().slice(0, 500)}`,
          ),
        );
      }, timeoutMs);
      const onData = (c: Buffer) => {
        parts.push(c);
        const all = Buffer.concat(parts);
        if (done(all)) {
          cleanup();
          resolve(all);
        }
      };
      const onClose = () => {
        cleanup();
        resolve(Buffer.concat(parts));
      };
      const cleanup = () => {
        clearTimeout(timer);
        this.socket.off('data', onData);
        this.socket.off('close', onClose);
      };
      this.socket.on('data', onData);
      this.socket.on('close', onClose);
      this.socket.write(data);
    });
  }

  /** Sends and waits until `n` CRLF-terminated lines have arrived. */
  lines(data: string | Buffer, n: number, timeoutMs?: number): Promise<string[]> {
    return this.exchange(data, (b) => countLines(b) >= n, timeoutMs).then((b) =>
      b.toString().split('\r\n').slice(0, -1),
    );
  }

  get closed(): boolean {
    return this.socket.destroyed || this.socket.readableEnded;
  }

  waitClosed(timeoutMs = 5000): Promise<boolean> {
    if (this.closed) return Promise.resolve(true);
    return new Promise((res) => {
      const t = setTimeout(() => res(false), timeoutMs);
      this.socket.once('close', () => {
        clearTimeout(t);
        res(true);
      });
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

function countLines(b: Buffer): number {
  let n = 0;
  for (let i = 1; i < b.length; i++) if (b[i] === 10 && b[i - 1] === 13) n++;
  return n;
}

/** RESP encoding of one command. */
export const resp = (...args: (string | Buffer)[]): Buffer =>
  Buffer.concat([
    Buffer.from(`*${args.length}\r\n`),
    ...args.flatMap((a) => {
      const b = Buffer.isBuffer(a) ? a : Buffer.from(a);
      return [Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n')];
    }),
  ]);
