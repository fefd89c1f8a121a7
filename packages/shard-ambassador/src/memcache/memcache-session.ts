import type { Socket } from 'node:net';
import { CommandTable } from '../net/command-table.js';
import { ClientSession, type SessionContext } from '../pool/client-session.js';
import { type ReplySink, Request } from '../pool/request.js';
import type { Server } from '../pool/server.js';
import { serverError } from './memcache-protocol.js';
import { MemcacheProtocolError, MemcacheRequestParser } from './memcache-request.js';
import { ReplyKind } from './reply-kind.js';

const END = Buffer.from('END\r\n');
const clientError = (m: string) => Buffer.from(`CLIENT_ERROR ${m}\r\n`);

/** Commands by name: how many tokens at least, where the data length is (storage), reply kind. */
interface McCommand {
  min: number;
  kind: number;
  /** token index of <bytes> for storage commands */
  bytesAt?: number;
  retrieval?: boolean;
  /** index of the first key (gat: 2) */
  keyAt: number;
  /** only reads: a replica may answer */
  read?: boolean;
}

const STORAGE = { min: 5, kind: ReplyKind.Line, bytesAt: 4, keyAt: 1 };
const COMMAND_LIST: [string, McCommand][] = [
  ['get', { min: 2, kind: ReplyKind.Retrieval, retrieval: true, keyAt: 1, read: true }],
  ['gets', { min: 2, kind: ReplyKind.Retrieval, retrieval: true, keyAt: 1, read: true }],
  ['gat', { min: 3, kind: ReplyKind.Retrieval, retrieval: true, keyAt: 2 }],
  ['gats', { min: 3, kind: ReplyKind.Retrieval, retrieval: true, keyAt: 2 }],
  ['set', STORAGE],
  ['add', STORAGE],
  ['replace', STORAGE],
  ['append', STORAGE],
  ['prepend', STORAGE],
  ['cas', { min: 6, kind: ReplyKind.Line, bytesAt: 4, keyAt: 1 }],
  ['incr', { min: 3, kind: ReplyKind.Line, keyAt: 1 }],
  ['decr', { min: 3, kind: ReplyKind.Line, keyAt: 1 }],
  ['delete', { min: 2, kind: ReplyKind.Line, keyAt: 1 }],
  ['touch', { min: 3, kind: ReplyKind.Line, keyAt: 1 }],
  ['mg', { min: 2, kind: ReplyKind.Meta, keyAt: 1, read: true }],
  ['ms', { min: 3, kind: ReplyKind.Meta, bytesAt: 2, keyAt: 1 }],
  ['md', { min: 2, kind: ReplyKind.Meta, keyAt: 1 }],
  ['ma', { min: 2, kind: ReplyKind.Meta, keyAt: 1 }],
];
const COMMANDS = new CommandTable<McCommand>(false);
for (const [name, c] of COMMAND_LIST) COMMANDS.set(name, c);
const NOREPLY = Buffer.from('noreply');

/** A get fanned out to several shards: VALUE blocks of every shard, then one END. */
class MultiGet extends Request implements ReplySink {
  private readonly parts: Request[] = [];
  private remaining = 0;

  fragment(): Request {
    const r = new Request(this);
    r.kind = ReplyKind.Retrieval;
    this.parts.push(r);
    this.remaining++;
    return r;
  }

  complete(part: Request, buf: Buffer, start: number, end: number): void {
    part.keep(buf, start, end);
    if (--this.remaining > 0) return;
    const out: Buffer[] = [];
    for (const p of this.parts) {
      const b = p.reply!;
      if (p.failed || !b.subarray(b.length - 5).equals(END)) {
        this.answer(b, p.failed);
        return;
      }
      out.push(b.subarray(0, b.length - 5));
    }
    out.push(END);
    this.answer(Buffer.concat(out));
  }
}

/** A memcached text-protocol client connection, routed by key. */
export class MemcacheSession extends ClientSession {
  private readonly parser: MemcacheRequestParser;
  private cmd: McCommand | undefined;

  constructor(socket: Socket, ctx: SessionContext) {
    super(socket, ctx);
    const l = ctx.limits;
    this.parser = new MemcacheRequestParser({
      maxTokens: l.maxArrayLength,
      maxSize: l.maxRequestSize,
      maxLine: l.memcacheMaxLine,
      maxKey: l.memcacheMaxKeyLength,
      maxValue: l.memcacheMaxValue,
    });
  }

  protected needHint(): number {
    return this.parser.need;
  }

  protected resetParser(): void {
    this.parser.reset();
  }

  protected limitError(message: string): void {
    this.protocolError(clientError(message));
  }

  /** data length of the current line's storage command, -1 without one (parser callback) */
  private readonly dataLength = (p: MemcacheRequestParser, buf: Buffer): number => {
    this.cmd = COMMANDS.get(buf, p.starts[0]!, p.ends[0]!);
    const at = this.cmd?.bytesAt;
    if (at === undefined || p.ntokens < this.cmd!.min) return -1;
    const n = p.int(buf, at);
    if (n === null || n < 0) throw new MemcacheProtocolError('bad data chunk length');
    return n;
  };

  protected parse(buf: Buffer, end: number): number {
    const p = this.parser;
    let pos = 0;
    try {
      while (pos < end && !this.closing) {
        if (!p.parse(buf, pos, end, this.dataLength)) break;
        const start = pos;
        pos = p.frameEnd;
        if (p.ntokens > 0) this.dispatch(buf, start, pos);
      }
    } catch (err) {
      if (!(err instanceof MemcacheProtocolError)) throw err;
      this.protocolError(clientError(err.message));
      return end;
    }
    return pos;
  }

  private fail(reply: Buffer): void {
    this.ctx.pool.stats.forwardError++;
    this.local(reply);
  }

  private dispatch(buf: Buffer, start: number, end: number): void {
    const p = this.parser;
    const c = this.cmd;
    if (c === undefined) {
      this.answerLocally(buf);
      return;
    }
    if (p.ntokens < c.min) {
      this.fail(Buffer.from('ERROR\r\n'));
      return;
    }
    for (let i = c.keyAt; i < (c.retrieval ? p.ntokens : c.keyAt + 1); i++) {
      if (p.ends[i]! - p.starts[i]! > this.ctx.limits.memcacheMaxKeyLength) {
        this.fail(clientError('bad command line format'));
        return;
      }
    }
    if (c.kind === ReplyKind.Meta && this.quiet(buf)) {
      this.fail(clientError('meta quiet mode (q) is not supported through the proxy'));
      return;
    }
    if (c.retrieval) {
      this.retrieve(buf, start, end, c);
      return;
    }
    const server = this.pick(buf, c.keyAt);
    if (server === null) {
      this.fail(serverError(`no live servers in pool '${this.ctx.pool.name}'`));
      return;
    }
    if (c.kind === ReplyKind.Line && this.isNoReply(buf)) {
      server.connection().send(null, buf, start, end);
      return;
    }
    const r = this.track();
    r.kind = c.kind;
    server.connection().send(r, buf, start, end);
  }

  private isNoReply(buf: Buffer): boolean {
    const i = this.parser.ntokens - 1;
    const s = this.parser.starts[i]!;
    const e = this.parser.ends[i]!;
    if (e - s !== NOREPLY.length) return false;
    for (let j = 0; j < NOREPLY.length; j++) if (buf[s + j] !== NOREPLY[j]) return false;
    return true;
  }

  private quiet(buf: Buffer): boolean {
    for (let i = 2; i < this.parser.ntokens; i++) if (this.parser.token(buf, i) === 'q') return true;
    return false;
  }

  private pick(buf: Buffer, i: number): Server | null {
    const s = this.parser.starts[i]!;
    const e = this.parser.ends[i]!;
    this.hot(buf, s, e);
    const server = this.ctx.pool.pick(buf, s, e);
    // a read may go to a replica of the key's shard
    return server && this.cmd?.read && server.replicas.length > 0
      ? server.readTarget(this.ctx.pool.preferReplica)
      : server;
  }

  private retrieve(buf: Buffer, start: number, end: number, c: McCommand): void {
    const p = this.parser;
    if (p.ntokens - c.keyAt === 1) {
      const server = this.pick(buf, c.keyAt);
      if (server === null) {
        this.fail(serverError(`no live servers in pool '${this.ctx.pool.name}'`));
        return;
      }
      const r = this.track();
      r.kind = ReplyKind.Retrieval;
      server.connection().send(r, buf, start, end);
      return;
    }
    const groups = new Map<Server, number[]>();
    for (let i = c.keyAt; i < p.ntokens; i++) {
      const s = this.pick(buf, i);
      if (s === null) {
        this.fail(serverError(`no live servers in pool '${this.ctx.pool.name}'`));
        return;
      }
      const g = groups.get(s);
      if (g) g.push(i);
      else groups.set(s, [i]);
    }
    if (groups.size === 1) {
      const r = this.track();
      r.kind = ReplyKind.Retrieval;
      groups.keys().next().value!.connection().send(r, buf, start, end);
      return;
    }
    const parent = new MultiGet(this);
    this.queue.push(parent);
    const head = buf.subarray(p.starts[0]!, p.ends[c.keyAt - 1]!);
    for (const [server, idx] of groups) {
      const parts: Buffer[] = [head];
      for (const i of idx) parts.push(SPACE, buf.subarray(p.starts[i]!, p.ends[i]!));
      parts.push(CRLF);
      this.ctx.pool.stats.fragments++;
      const fragment = Buffer.concat(parts);
      server.connection().send(parent.fragment(), fragment, 0, fragment.length);
    }
  }

  private answerLocally(buf: Buffer): void {
    const name = this.parser.token(buf, 0);
    if (name === 'version') {
      this.local(Buffer.from('VERSION 1.6.0 dds-shard-ambassador\r\n'));
      return;
    }
    if (name === 'quit') {
      this.local(Buffer.alloc(0), true);
      return;
    }
    if (name === 'mn') {
      this.local(Buffer.from('MN\r\n'));
      return;
    }
    if (name === 'verbosity') {
      this.local(Buffer.from('OK\r\n'));
      return;
    }
    this.fail(clientError(`command '${name.slice(0, 40)}' is not supported through dds-shard-ambassador`));
  }
}

const SPACE = Buffer.from(' ');
const CRLF = Buffer.from('\r\n');
