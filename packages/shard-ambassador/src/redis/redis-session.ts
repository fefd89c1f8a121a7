import { timingSafeEqual } from 'node:crypto';
import type { Socket } from 'node:net';
import { encodeCommand } from '@dds/core/redis/resp';
import { ClientSession, type SessionContext } from '../pool/client-session.js';
import type { Server } from '../pool/server.js';
import { type CommandSpec, lookupCommand, Route } from './commands.js';
import { MultiKeyRequest } from './multi-key.js';
import { bulkReply, EMPTY_ARRAY, errorReply, NOAUTH, OK, PONG } from './replies.js';
import { ProtocolError, RespRequestParser } from './resp-request.js';
import { writeArrayHeader, writeBulk } from './resp-writer.js';

const PROXY_NAME = 'dds-shard-ambassador';

/** A Redis client connection: parses requests just enough to route them by key. */
export class RedisSession extends ClientSession {
  private readonly parser: RespRequestParser;
  private authed: boolean;
  /** scratch for splitKeys: the shard of each key, and the shard of each fragment */
  private shardOf = new Int32Array(16);
  private shardList = new Int32Array(16);

  constructor(socket: Socket, ctx: SessionContext) {
    super(socket, ctx);
    const l = ctx.limits;
    this.parser = new RespRequestParser({
      maxArgs: l.maxArrayLength,
      maxSize: l.maxRequestSize,
      maxInline: l.redisMaxInline,
    });
    this.authed = ctx.pool.cfg.redis_auth === undefined;
    this.parser.unauthenticated = !this.authed;
  }

  protected needHint(): number {
    return this.parser.need;
  }

  protected resetParser(): void {
    this.parser.reset();
  }

  protected limitError(message: string): void {
    this.protocolError(errorReply(message));
  }

  protected parse(buf: Buffer, end: number): number {
    const p = this.parser;
    let pos = 0;
    try {
      while (pos < end && !this.closing) {
        if (!p.parse(buf, pos, end)) break;
        const frameStart = pos;
        pos = p.frameEnd;
        if (p.argc === 0) continue;
        this.dispatch(buf, frameStart, pos);
      }
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      this.protocolError(errorReply(`Protocol error: ${err.message}`));
      return end;
    }
    return pos;
  }

  private dispatch(buf: Buffer, frameStart: number, frameEnd: number): void {
    const p = this.parser;
    const spec = lookupCommand(buf, p.starts[0]!, p.ends[0]!);
    if (spec === undefined) {
      this.fail(errorReply(`unsupported command '${this.name(buf)}' through ${PROXY_NAME}`));
      return;
    }
    if (!this.authed && !(spec.route === Route.Local && this.isAuthFree(buf))) {
      this.fail(NOAUTH);
      return;
    }
    if (p.argc < spec.minArgs) {
      this.fail(errorReply(`wrong number of arguments for '${this.name(buf).toLowerCase()}' command`));
      return;
    }
    switch (spec.route) {
      case Route.Single:
        this.forwardByKey(buf, frameStart, frameEnd, spec);
        return;
      case Route.MultiGet:
      case Route.MultiCount:
        this.splitKeys(buf, frameStart, frameEnd, spec, 1);
        return;
      case Route.MultiSet:
        if ((p.argc - 1) % 2 !== 0) {
          this.fail(errorReply(`wrong number of arguments for '${this.name(buf).toLowerCase()}' command`));
          return;
        }
        this.splitKeys(buf, frameStart, frameEnd, spec, 2);
        return;
      case Route.SameShard:
      case Route.Eval:
      case Route.StoreNumKeys:
        this.forwardSameShard(buf, frameStart, frameEnd, spec);
        return;
      case Route.Local:
        this.answerLocally(buf);
        return;
      case Route.Refused:
        this.fail(
          errorReply(`'${this.name(buf).toUpperCase()}' is not supported through ${PROXY_NAME}: ${spec.why}`),
        );
        return;
    }
  }

  private name(buf: Buffer): string {
    return buf.toString(
      'latin1',
      this.parser.starts[0]!,
      Math.min(this.parser.ends[0]!, this.parser.starts[0]! + 40),
    );
  }

  private fail(reply: Buffer): void {
    this.ctx.pool.stats.forwardError++;
    this.local(reply);
  }

  /** Sends the request's raw bytes (inline requests are re-encoded as RESP). */
  private forward(server: Server, buf: Buffer, frameStart: number, frameEnd: number): void {
    const conn = server.connection();
    if (!this.parser.inline) {
      conn.send(this.track(), buf, frameStart, frameEnd);
      return;
    }
    const encoded = encodeCommand(this.args(buf, 0, this.parser.argc));
    conn.send(this.track(), encoded, 0, encoded.length);
  }

  private args(buf: Buffer, from: number, to: number): Buffer[] {
    const out: Buffer[] = [];
    for (let i = from; i < to; i++) out.push(buf.subarray(this.parser.starts[i]!, this.parser.ends[i]!));
    return out;
  }

  private pick(buf: Buffer, arg: number): Server | null {
    const s = this.parser.starts[arg]!;
    const e = this.parser.ends[arg]!;
    this.hot(buf, s, e);
    return this.ctx.pool.pick(buf, s, e);
  }

  private noServer(): void {
    this.fail(errorReply(`no live servers in pool '${this.ctx.pool.name}'`));
  }

  /** the server that answers: a read may go to a replica of the key's shard */
  private target(server: Server, spec: CommandSpec): Server {
    return spec.read && server.replicas.length > 0 ? server.readTarget(this.ctx.pool.preferReplica) : server;
  }

  private forwardByKey(buf: Buffer, frameStart: number, frameEnd: number, spec: CommandSpec): void {
    const found = this.pick(buf, spec.minArgs - 1);
    const server = found && this.target(found, spec);
    if (server === null) {
      this.noServer();
      return;
    }
    this.forward(server, buf, frameStart, frameEnd);
  }

  private forwardSameShard(buf: Buffer, frameStart: number, frameEnd: number, spec: CommandSpec): void {
    const p = this.parser;
    let first = 1;
    let last = p.argc - 1;
    if (spec.route === Route.Eval || spec.route === Route.StoreNumKeys) {
      const n = Number(buf.toString('latin1', p.starts[2]!, p.ends[2]!));
      if (!Number.isInteger(n) || n < 0 || 2 + n > p.argc - 1) {
        this.fail(errorReply('numkeys is not a valid number of keys for this command'));
        return;
      }
      if (spec.route === Route.Eval) {
        if (n === 0) {
          this.fail(
            errorReply(
              `${this.name(buf).toUpperCase()} without keys cannot be routed to a shard; pass at least one key`,
            ),
          );
          return;
        }
        first = 3;
        last = 2 + n;
      } else {
        // destination at 1, then keys 3..3+n-1
        first = 1;
        last = 2 + n;
      }
    } else if (spec.minArgs === 3) {
      last = 2;
    }
    let server: Server | null = null;
    for (let i = first; i <= last; i++) {
      if (spec.route === Route.StoreNumKeys && i === 2) continue;
      const s = this.pick(buf, i);
      if (s === null) {
        this.noServer();
        return;
      }
      if (server !== null && s !== server) {
        this.fail(errorReply("Keys in request don't hash to the same shard (use a hash_tag)", 'CROSSSLOT'));
        return;
      }
      server = s;
    }
    this.forward(server!, buf, frameStart, frameEnd);
  }

  /** MGET/MSET/DEL...: one fragment per shard, unless all keys live on one shard. */
  private splitKeys(
    buf: Buffer,
    frameStart: number,
    frameEnd: number,
    spec: CommandSpec,
    step: number,
  ): void {
    const p = this.parser;
    const pool = this.ctx.pool;
    const keyCount = (p.argc - 1) / step;
    if (this.shardOf.length < keyCount) this.shardOf = new Int32Array(keyCount * 2);
    const shardOf = this.shardOf;
    let single = true;
    for (let k = 0; k < keyCount; k++) {
      const arg = 1 + k * step;
      const s = p.starts[arg]!;
      const e = p.ends[arg]!;
      this.hot(buf, s, e);
      const idx = pool.pickIndex(buf, s, e);
      if (idx < 0) {
        this.noServer();
        return;
      }
      shardOf[k] = idx;
      if (idx !== shardOf[0]) single = false;
    }
    if (single) {
      this.forward(this.target(pool.servers[shardOf[0]!]!, spec), buf, frameStart, frameEnd);
      return;
    }
    // fragments in order of each shard's first key; all are created before any is sent
    const parent = new MultiKeyRequest(this, spec.route, keyCount);
    this.queue.push(parent);
    const order = parent.order;
    if (this.shardList.length < keyCount) this.shardList = new Int32Array(keyCount * 2);
    const shards = this.shardList;
    let fragments = 0;
    for (let k = 0; k < keyCount; k++) {
      const s = shardOf[k]!;
      let f = 0;
      while (f < fragments && shards[f] !== s) f++;
      if (f === fragments) {
        shards[fragments++] = s;
        parent.fragment();
      }
      order[k] = f;
    }
    const cmdStart = p.starts[0]!;
    const cmdEnd = p.ends[0]!;
    for (let f = 0; f < fragments; f++) {
      let n = 0;
      for (let k = 0; k < keyCount; k++) if (order[k] === f) n++;
      pool.stats.fragments++;
      const out = this.target(pool.servers[shards[f]!]!, spec).connection().begin(parent.fragmentAt(f));
      if (out === null) continue;
      writeArrayHeader(out, 1 + n * step);
      writeBulk(out, buf, cmdStart, cmdEnd);
      for (let k = 0; k < keyCount; k++) {
        if (order[k] !== f) continue;
        const arg = 1 + k * step;
        writeBulk(out, buf, p.starts[arg]!, p.ends[arg]!);
        if (step === 2) writeBulk(out, buf, p.starts[arg + 1]!, p.ends[arg + 1]!);
      }
    }
  }

  private isAuthFree(buf: Buffer): boolean {
    const n = this.name(buf).toLowerCase();
    return n === 'auth' || n === 'quit' || n === 'ping' || n === 'hello';
  }

  /**
   * AUTH password, or AUTH username password: the password must be redis_auth; a username, when
   * given, must be redis_username (or "default" when none is set, as Redis has it). Compared in
   * constant time.
   */
  private credentialsMatch(buf: Buffer, password: string, username: string | undefined): boolean {
    const p = this.parser;
    const okPassword = sameBytes(this.arg(buf, p.argc - 1), Buffer.from(password));
    if (p.argc === 2) return okPassword;
    return sameBytes(this.arg(buf, 1), Buffer.from(username ?? 'default')) && okPassword;
  }

  private arg(buf: Buffer, i: number): Buffer {
    return buf.subarray(this.parser.starts[i]!, this.parser.ends[i]!);
  }

  private answerLocally(buf: Buffer): void {
    const p = this.parser;
    const name = this.name(buf).toLowerCase();
    const cfg = this.ctx.pool.cfg;
    switch (name) {
      case 'ping':
        this.local(p.argc > 1 ? bulkReply(Buffer.from(this.arg(buf, 1))) : PONG);
        return;
      case 'echo':
        if (p.argc !== 2) {
          this.fail(errorReply("wrong number of arguments for 'echo' command"));
          return;
        }
        this.local(bulkReply(Buffer.from(this.arg(buf, 1))));
        return;
      case 'quit':
        this.local(OK, true);
        return;
      case 'auth': {
        if (p.argc < 2 || p.argc > 3) {
          this.fail(errorReply("wrong number of arguments for 'auth' command"));
          return;
        }
        if (cfg.redis_auth === undefined) {
          this.fail(errorReply('AUTH <password> called without any password configured for the pool'));
          return;
        }
        if (this.credentialsMatch(buf, cfg.redis_auth, cfg.redis_username)) {
          this.authed = true;
          this.parser.unauthenticated = false;
          this.local(OK);
          return;
        }
        this.authed = false;
        this.parser.unauthenticated = true;
        this.fail(errorReply('invalid username-password pair or user is disabled.', 'WRONGPASS'));
        return;
      }
      case 'select': {
        if (p.argc !== 2) {
          this.fail(errorReply("wrong number of arguments for 'select' command"));
          return;
        }
        // each pool shows one database (redis_db on the servers); clients see it as db 0
        if (this.arg(buf, 1).toString() === '0') {
          this.local(OK);
          return;
        }
        this.fail(errorReply('SELECT is not supported through the proxy; set redis_db in the pool instead'));
        return;
      }
      case 'info': {
        const text =
          `# Server\r\nredis_version:7.0.0\r\nredis_mode:proxy\r\nproxy:${PROXY_NAME}\r\n` +
          `pool:${this.ctx.pool.name}\r\nservers:${this.ctx.pool.servers.length}\r\nloading:0\r\n`;
        this.local(bulkReply(Buffer.from(text)));
        return;
      }
      case 'command':
        // redis-cli asks for COMMAND DOCS to show hints; an empty answer is valid
        this.local(EMPTY_ARRAY);
        return;
      case 'client': {
        const sub = p.argc > 1 ? this.arg(buf, 1).toString('latin1').toLowerCase() : '';
        if (sub === 'setname' || sub === 'setinfo') {
          this.local(OK);
          return;
        }
        this.fail(errorReply(`CLIENT ${sub.toUpperCase()} is not supported through ${PROXY_NAME}`));
        return;
      }
      default:
        // HELLO: RESP3 is not offered; clients fall back to RESP2 on this error
        this.fail(errorReply(`unknown command '${name}' (${PROXY_NAME} speaks RESP2)`));
        return;
    }
  }
}

/** Equal bytes, compared in constant time for equal lengths. */
function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
