import { copyBytes } from '../net/copy-bytes.js';
import { type ReplySink, Request } from '../pool/request.js';
import { Route } from './commands.js';
import { OK } from './replies.js';
import { RespReplyFramer } from './resp-reply.js';
import { findCrlf, readInt } from './resp-request.js';

const framer = new RespReplyFramer();

/**
 * A multi-key command split over shards (MGET, MSET, DEL, UNLINK, EXISTS, TOUCH). Each
 * fragment is a Request of its own; when all are answered the replies are merged: MGET's
 * values back in the client's key order, counts summed, MSET's OKs folded. The first error
 * (a dead shard) becomes the reply of the whole command.
 */
export class MultiKeyRequest extends Request implements ReplySink {
  /** the fragment that carries each key, in the client's key order */
  readonly order: number[];
  private readonly fragments: Request[] = [];
  private remaining = 0;

  constructor(
    sink: ReplySink,
    private readonly route: Route,
    private readonly keyCount: number,
  ) {
    super(sink);
    this.order = new Array<number>(keyCount);
  }

  /** A new fragment; create all of them before sending any (an answer may come at once). */
  fragment(): Request {
    const r = new Request(this);
    this.fragments.push(r);
    this.remaining++;
    return r;
  }

  fragmentAt(i: number): Request {
    return this.fragments[i]!;
  }

  complete(fragment: Request, buf: Buffer, start: number, end: number): void {
    fragment.keep(buf, start, end);
    if (--this.remaining > 0) return;
    for (const f of this.fragments) {
      if (f.failed || f.reply![0] === 0x2d) {
        this.answer(f.reply!, f.failed);
        return;
      }
    }
    try {
      this.answer(this.merge());
    } catch (err) {
      this.answer(Buffer.from(`-ERR cannot merge shard replies: ${(err as Error).message}\r\n`), true);
    }
  }

  private merge(): Buffer {
    if (this.route === Route.MultiSet) return OK;
    if (this.route === Route.MultiCount) {
      let sum = 0;
      for (const f of this.fragments) {
        const b = f.reply!;
        if (b[0] !== 0x3a) throw new Error('expected an integer reply');
        sum += readInt(b, 1, b.length - 2) ?? 0;
      }
      return Buffer.from(`:${sum}\r\n`);
    }
    // MGET: each fragment's array holds its keys' values in the client's order; the merged
    // reply is one header and the values interleaved back, copied once
    const frags = this.fragments;
    const cursor = new Array<number>(frags.length).fill(0);
    const expected = new Array<number>(frags.length).fill(0);
    for (const f of this.order) expected[f]!++;
    const header = `*${this.keyCount}\r\n`;
    let size = header.length;
    for (let i = 0; i < frags.length; i++) {
      const b = frags[i]!.reply!;
      if (b[0] !== 0x2a) throw new Error('expected an array reply');
      const le = findCrlf(b, 1, b.length);
      const n = readInt(b, 1, le);
      if (n !== expected[i]) throw new Error(`expected ${expected[i]} values, got ${n}`);
      cursor[i] = le + 2;
      size += b.length - (le + 2);
    }
    const out = Buffer.allocUnsafe(size);
    let o = out.write(header, 0, 'latin1');
    for (const f of this.order) {
      const b = frags[f]!.reply!;
      const p = cursor[f]!;
      const e = framer.frame(b, p, b.length);
      if (e < 0) throw new Error('truncated array reply');
      o += copyBytes(b, p, e, out, o);
      cursor[f] = e;
    }
    return out;
  }
}
