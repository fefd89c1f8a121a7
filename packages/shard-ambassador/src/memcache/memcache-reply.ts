import { findByte } from '../net/find-byte.js';
import { readInt } from '../redis/resp-request.js';
import { ReplyKind } from './reply-kind.js';

const LF = 10;

const startsWith = (buf: Buffer, p: number, text: string): boolean => {
  for (let i = 0; i < text.length; i++) if (buf[p + i] !== text.charCodeAt(i)) return false;
  return true;
};

/** Frames memcached text-protocol replies by the kind of request they answer. */
export class MemcacheReplyFramer {
  need = 0;

  frame(buf: Buffer, pos: number, end: number, kind: number): number {
    this.need = 0;
    let p = pos;
    for (;;) {
      const nl = findByte(buf, LF, p, end);
      if (nl < 0) return this.incomplete(pos, end, 0);
      const lineEnd = nl + 1;
      if (kind === ReplyKind.Line) return lineEnd;
      if (kind === ReplyKind.Meta) {
        if (!startsWith(buf, p, 'VA ')) return lineEnd;
        const size = tokenInt(buf, p + 3, nl);
        if (size === null) throw new Error('invalid VA size in meta reply');
        const stop = lineEnd + size + 2;
        return stop > end ? this.incomplete(pos, end, stop - pos) : stop;
      }
      // retrieval: VALUE <key> <flags> <bytes> [<cas>]\r\n<data>\r\n ... END\r\n
      if (!startsWith(buf, p, 'VALUE ')) return lineEnd; // END, or an error line
      const size = valueBytes(buf, p, nl);
      if (size === null) throw new Error('invalid VALUE line in reply');
      const stop = lineEnd + size + 2;
      if (stop > end) return this.incomplete(pos, end, stop - pos);
      p = stop;
    }
  }

  private incomplete(pos: number, end: number, need: number): number {
    this.need = Math.max(need, end - pos + 1);
    return -1;
  }
}

/** The first space-separated decimal token in buf[from, to). */
function tokenInt(buf: Buffer, from: number, to: number): number | null {
  let e = from;
  while (e < to && buf[e] !== 0x20 && buf[e] !== 13) e++;
  return readInt(buf, from, e);
}

/** The <bytes> field (4th token) of a VALUE line buf[p, nl). */
function valueBytes(buf: Buffer, p: number, nl: number): number | null {
  let t = 0;
  let i = p;
  const stop = buf[nl - 1] === 13 ? nl - 1 : nl;
  while (i < stop) {
    while (i < stop && buf[i] === 0x20) i++;
    const s = i;
    while (i < stop && buf[i] !== 0x20) i++;
    if (++t === 4) return readInt(buf, s, i);
  }
  return null;
}
