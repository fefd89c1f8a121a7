import { connect } from 'node:tls';

// A raw HTTP/2 client for adversarial tests: Node's own client refuses to send malformed
// requests (connection headers, CR/LF in values, pseudo-header misuse), so frames are built here.
// HPACK: every field is a literal without indexing, no Huffman coding.

const PREFACE = 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n';
enum Type {
  DATA = 0,
  HEADERS = 1,
  RST_STREAM = 3,
  SETTINGS = 4,
  GOAWAY = 7,
}
const END_STREAM = 0x1;
const END_HEADERS = 0x4;

function frame(type: number, flags: number, stream: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(9);
  h.writeUIntBE(payload.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(stream, 5);
  return Buffer.concat([h, payload]);
}

/** HPACK integer with an N-bit prefix (RFC 7541 5.1). */
function int(n: number, bits: number, first: number): number[] {
  const max = (1 << bits) - 1;
  if (n < max) return [first | n];
  const out = [first | max];
  n -= max;
  while (n >= 128) {
    out.push((n % 128) + 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

function literal(s: string): Buffer {
  const b = Buffer.from(s, 'latin1');
  return Buffer.concat([Buffer.from(int(b.length, 7, 0)), b]);
}

/** A header block of literal fields, in the order given (pseudo-headers included). */
export function headerBlock(fields: [string, string][]): Buffer {
  return Buffer.concat(fields.flatMap(([n, v]) => [Buffer.from([0]), literal(n), literal(v)]));
}

// :status values of the HPACK static table (RFC 7541 appendix A)
const STATIC_STATUS: Record<number, number> = { 8: 200, 9: 204, 10: 206, 11: 304, 12: 400, 13: 404, 14: 500 };

export interface H2Outcome {
  /** the response status (200 / 400 / ... from the static table, -1 for another literal status) */
  status?: number;
  /** the stream was reset (RST_STREAM) */
  reset: boolean;
  /** the connection was refused (GOAWAY) */
  goaway: boolean;
}

/**
 * Sends one request on stream 1 (`fields` as given, then `data` frames; END_STREAM on the last
 * frame) and reports how the server answered it: status, reset or GOAWAY.
 */
export function h2Request(
  port: number,
  ca: string,
  fields: [string, string][],
  data: string[] = [],
  timeoutMs = 5000,
): Promise<H2Outcome> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, servername: 'localhost', ca, ALPNProtocols: ['h2'] });
    const outcome: H2Outcome = { reset: false, goaway: false };
    let buf = Buffer.alloc(0);
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(finish, timeoutMs);
    s.on('error', (e) => (done ? undefined : outcome.status || outcome.reset ? finish() : reject(e)));
    s.on('close', finish);
    s.on('secureConnect', () => {
      if (s.alpnProtocol !== 'h2') {
        reject(new Error(`ALPN chose ${s.alpnProtocol}`));
        return;
      }
      const frames = [Buffer.from(PREFACE), frame(Type.SETTINGS, 0, 0, Buffer.alloc(0))];
      frames.push(frame(Type.HEADERS, END_HEADERS | (data.length ? 0 : END_STREAM), 1, headerBlock(fields)));
      for (let i = 0; i < data.length; i++)
        frames.push(
          frame(Type.DATA, i === data.length - 1 ? END_STREAM : 0, 1, Buffer.from(data[i]!, 'latin1')),
        );
      s.write(Buffer.concat(frames));
    });
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 9) {
        const len = buf.readUIntBE(0, 3);
        if (buf.length < 9 + len) break;
        const type = buf[3]!;
        const flags = buf[4]!;
        const stream = buf.readUInt32BE(5) & 0x7fffffff;
        const payload = buf.subarray(9, 9 + len);
        buf = buf.subarray(9 + len);
        if (type === Type.SETTINGS && !(flags & 1)) s.write(frame(Type.SETTINGS, 1, 0, Buffer.alloc(0)));
        if (type === Type.GOAWAY) {
          outcome.goaway = true;
          finish();
        }
        if (stream !== 1) continue;
        if (type === Type.RST_STREAM) {
          outcome.reset = true;
          finish();
        } else if (type === Type.HEADERS && outcome.status === undefined) {
          // the first field of the block, after the pad length and priority fields if flagged
          const first = payload[(flags & 0x8 ? 1 : 0) + (flags & 0x20 ? 5 : 0)]!;
          outcome.status = first & 0x80 ? (STATIC_STATUS[first & 0x7f] ?? -1) : -1;
          if (flags & END_STREAM) finish();
        } else if (type === Type.DATA && flags & END_STREAM) finish();
      }
    });
  });
}
