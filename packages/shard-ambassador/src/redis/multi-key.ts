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
  private readonly fragments: Request[] = [];
  /** for MGET: the client's key positions per fragment */
  private readonly positions: number[][] = [];
  private remaining = 0;

  constructor(
    sink: ReplySink,
    private readonly route: Route,
    private readonly keyCount: number,
  ) {
    super(sink);
  }

  fragment(positions: number[]): Request {
    const r = new Request(this);
    this.fragments.push(r);
    this.positions.push(positions);
    this.remaining++;
    return r;
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
    const values: Buffer[] = new Array(this.keyCount);
    for (let i = 0; i < this.fragments.length; i++) {
      const b = this.fragments[i]!.reply!;
      const pos = this.positions[i]!;
      if (b[0] !== 0x2a) throw new Error('expected an array reply');
      const le = findCrlf(b, 1, b.length);
      const n = readInt(b, 1, le);
      if (n !== pos.length) throw new Error(`expected ${pos.length} values, got ${n}`);
      let p = le + 2;
      for (let k = 0; k < n; k++) {
        const e = framer.frame(b, p, b.length);
        if (e < 0) throw new Error('truncated array reply');
        values[pos[k]!] = b.subarray(p, e);
        p = e;
      }
    }
    return Buffer.concat([Buffer.from(`*${this.keyCount}\r\n`), ...values]);
  }
}
