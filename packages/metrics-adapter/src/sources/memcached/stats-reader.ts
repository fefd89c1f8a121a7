/** One `stats [group]` reply: `STAT <name> <value>` lines up to `END`. */
export type StatsBlock = Map<string, string>;

export class StatsProtocolError extends Error {}

const MAX_LINE = 4096;
/** far above what any server sends (stats items of 64 slab classes is ~2k); bounds memory per block */
const MAX_STATS = 50_000;

/**
 * Incremental reader for N pipelined `stats` replies of the memcached text protocol. A reply
 * ends with END; `ERROR`, `CLIENT_ERROR x` or `SERVER_ERROR x` end it too (recorded as an
 * error for that block, e.g. `stats settings` disabled on a proxy). Lines that are not STAT are
 * counted as malformed and skipped.
 */
export class StatsReader {
  private pending = '';
  private current: StatsBlock = new Map();
  readonly blocks: Array<StatsBlock | Error> = [];
  malformed = 0;

  constructor(private readonly expected: number) {}

  push(chunk: Buffer): Array<StatsBlock | Error> | undefined {
    const text = this.pending + chunk.toString('latin1');
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      const end = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      this.line(text.slice(start, end));
      start = nl + 1;
      if (this.blocks.length === this.expected) {
        if (start !== text.length) throw new StatsProtocolError('unexpected bytes after the last reply');
        return this.blocks;
      }
    }
    this.pending = text.slice(start);
    if (this.pending.length > MAX_LINE) throw new StatsProtocolError(`line longer than ${MAX_LINE} bytes`);
    return undefined;
  }

  private line(l: string): void {
    if (l === 'END') {
      this.blocks.push(this.current);
      this.current = new Map();
      return;
    }
    if (l === 'ERROR' || l.startsWith('CLIENT_ERROR') || l.startsWith('SERVER_ERROR')) {
      this.blocks.push(new Error(l));
      this.current = new Map();
      return;
    }
    if (l.startsWith('STAT ')) {
      const sp = l.indexOf(' ', 5);
      if (sp > 5) {
        this.current.set(l.slice(5, sp), l.slice(sp + 1));
        if (this.current.size > MAX_STATS)
          throw new StatsProtocolError(`more than ${MAX_STATS} stats in one reply`);
        return;
      }
    }
    // the very first line decides whether this is memcached at all (not e.g. an HTTP server)
    if (this.blocks.length === 0 && this.current.size === 0 && this.malformed === 0)
      throw new StatsProtocolError(`not a memcached stats reply: "${l.slice(0, 40)}"`);
    this.malformed++;
  }
}
