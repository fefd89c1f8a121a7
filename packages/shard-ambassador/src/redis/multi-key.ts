import { copyBytes } from '../net/copy-bytes.js';
import { ReplyStore } from '../pool/reply-store.js';
import { type ReplySink, Request } from '../pool/request.js';
import { Route } from './commands.js';
import { OK } from './replies.js';
import { RespReplyFramer } from './resp-reply.js';
import { findCrlf, readInt } from './resp-request.js';
import { headerLength, writeHeader } from './resp-writer.js';

const framer = new RespReplyFramer();
/** fragments' replies, copied (they may sit in the read buffer) until their siblings are in */
const held = new ReplyStore();
/**
 * The merged reply is built here, not in a Buffer of its own: the client copies it during
 * complete() (ReplySink's contract), so one scratch serves every merge.
 */
let scratch = Buffer.allocUnsafe(16 * 1024);
const SCRATCH_KEEP = 256 * 1024;
/** per fragment while merging: where its next value starts, and how many values it must hold */
let cursor = new Int32Array(16);
let expected = new Int32Array(16);

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
    const r = Request.create(this);
    this.fragments.push(r);
    this.remaining++;
    return r;
  }

  fragmentAt(i: number): Request {
    return this.fragments[i]!;
  }

  complete(fragment: Request, buf: Buffer, start: number, end: number): void {
    held.keep(fragment, buf, start, end);
    if (--this.remaining > 0) return;
    try {
      this.answerMerged();
    } finally {
      // every fragment is answered and out of its server's FIFO: nothing refers to them now
      for (const f of this.fragments) {
        held.release();
        Request.recycle(f);
      }
      this.fragments.length = 0;
    }
  }

  private answerMerged(): void {
    for (const f of this.fragments) {
      if (f.failed || f.reply![f.replyStart] === 0x2d) {
        this.finish(f.reply!, f.replyStart, f.replyEnd, f.failed);
        return;
      }
    }
    let n: number;
    try {
      n = this.merge();
    } catch (err) {
      this.answer(Buffer.from(`-ERR cannot merge shard replies: ${(err as Error).message}\r\n`), true);
      return;
    }
    const out = scratch;
    if (scratch.length > SCRATCH_KEEP) scratch = Buffer.allocUnsafe(16 * 1024);
    if (n < 0) this.answer(OK);
    else this.finish(out, 0, n);
  }

  /** Writes the merged reply into scratch[0, n) and returns n; -1 for MSET's plain OK. */
  private merge(): number {
    if (this.route === Route.MultiSet) return -1;
    const frags = this.fragments;
    if (this.route === Route.MultiCount) {
      let sum = 0;
      for (const f of frags) {
        const b = f.reply!;
        if (b[f.replyStart] !== 0x3a) throw new Error('expected an integer reply');
        const n = readInt(b, f.replyStart + 1, f.replyEnd - 2);
        if (n === null || n < 0) throw new Error('expected a count');
        sum += n;
      }
      return writeHeader(room(headerLength(sum)), 0, 0x3a, sum);
    }
    // MGET: each fragment's array holds its keys' values in the client's order; the merged
    // reply is one header and the values interleaved back, copied once
    if (cursor.length < frags.length) {
      cursor = new Int32Array(frags.length * 2);
      expected = new Int32Array(frags.length * 2);
    }
    expected.fill(0, 0, frags.length);
    for (const f of this.order) expected[f]!++;
    let size = headerLength(this.keyCount);
    for (let i = 0; i < frags.length; i++) {
      const f = frags[i]!;
      const b = f.reply!;
      if (b[f.replyStart] !== 0x2a) throw new Error('expected an array reply');
      const le = findCrlf(b, f.replyStart + 1, f.replyEnd);
      const n = readInt(b, f.replyStart + 1, le);
      if (n !== expected[i]) throw new Error(`expected ${expected[i]} values, got ${n}`);
      cursor[i] = le + 2;
      size += f.replyEnd - (le + 2);
    }
    const out = room(size);
    let o = writeHeader(out, 0, 0x2a, this.keyCount);
    for (const fi of this.order) {
      const f = frags[fi]!;
      const b = f.reply!;
      const p = cursor[fi]!;
      const e = framer.frame(b, p, f.replyEnd);
      if (e < 0) {
        framer.reset();
        throw new Error('truncated array reply');
      }
      o += copyBytes(b, p, e, out, o);
      cursor[fi] = e;
    }
    return o;
  }
}

/** The scratch buffer, with room for n bytes. */
function room(n: number): Buffer {
  if (scratch.length < n) scratch = Buffer.allocUnsafe(Math.max(n, 2 * scratch.length));
  return scratch;
}
