// The Node ceiling for an HTTP-aware proxy: the least HTTP work any sticky splitter (or, with
// percent 0, any per-request proxy such as a rate limiter) must do, in one Node process. Per request it finds the end of the head, reads one cookie, hashes it,
// picks a backend, adds one header and forwards the head bytes; per response it finds the end of
// the head and its Content-Length and forwards bytes until the body is complete. Nothing else:
// no validation, no request bodies, no chunked responses, no pooling (each client connection
// opens its own connection to each backend), no metrics, no timeouts. It is not a proxy anyone
// should run; it bounds what a correct one (the benchmarks' subject) can reach here.
import { connect, createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { freePort, proc, waitPort } from './processes.mjs';

const SELF = fileURLToPath(import.meta.url);
const HEAD_END = Buffer.from('\r\n\r\n');
// the spellings wrk and nginx use; a real proxy must match any case
const COOKIE = Buffer.from('\r\nCookie: ');
const UID = Buffer.from('uid=');
const CRLF = Buffer.from('\r\n');
const LENGTH = Buffer.from('\r\nContent-Length: ');

/** A bench target `start` for the minimal splitter over two backends (control, experiment ports). */
export function nodeMinProxyTarget(controlPort, experimentPort, percent) {
  return async () => {
    const port = await freePort();
    const args = [SELF, String(port), String(controlPort), String(experimentPort), String(percent)];
    const p = proc(process.execPath, args, 'SIGKILL');
    await waitPort(port);
    return { ...p, port };
  };
}

/** FNV-1a over the cookie value's bytes plus murmur3's final mix: cheap, and spreads similar ids. */
function hash(buf, from, to) {
  let h = 0x811c9dc5;
  for (let i = from; i < to; i++) h = Math.imul(h ^ buf[i], 0x01000193);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function upstream(port, client) {
  const up = connect(port, '127.0.0.1');
  up.setNoDelay(true);
  let pending = Buffer.alloc(0);
  let remaining = -1; // body bytes still to pass on; -1: reading a head
  up.on('data', (chunk) => {
    client.write(chunk);
    // framing only: where this response ends, so the next request may go
    let buf = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    for (;;) {
      if (remaining < 0) {
        const end = buf.indexOf(HEAD_END);
        if (end < 0) break;
        const at = buf.subarray(0, end).indexOf(LENGTH);
        remaining = 0;
        for (let i = at < 0 ? end : at + LENGTH.length; buf[i] >= 48 && buf[i] <= 57; i++)
          remaining = remaining * 10 + buf[i] - 48;
        buf = buf.subarray(end + 4);
      }
      const take = Math.min(remaining, buf.length);
      remaining -= take;
      buf = buf.subarray(take);
      if (remaining > 0) break;
      remaining = -1;
      if (buf.length === 0) break;
    }
    pending = buf.length ? Buffer.from(buf) : Buffer.alloc(0);
  });
  up.on('error', () => client.destroy());
  return up;
}

function main([port, controlPort, experimentPort, percent]) {
  const threshold = Math.floor((Number(percent) / 100) * 2 ** 32);
  createServer({ noDelay: true }, (client) => {
    const ups = [undefined, undefined];
    let pending = Buffer.alloc(0);
    client.on('data', (chunk) => {
      let buf = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      for (;;) {
        const end = buf.indexOf(HEAD_END);
        if (end < 0) break;
        const head = buf.subarray(0, end + 2);
        const c = head.indexOf(COOKIE);
        let variant = 0;
        if (c >= 0) {
          const from = head.indexOf(UID, c) + 4;
          const to = head.indexOf(CRLF, from);
          if (from >= 4 && to > from) variant = hash(head, from, to) < threshold ? 1 : 0;
        }
        ups[variant] ??= upstream(variant ? Number(experimentPort) : Number(controlPort), client);
        const up = ups[variant];
        // head and the added header leave as one writev
        up.cork();
        up.write(head);
        up.write(variant ? EXP : CONTROL);
        up.uncork();
        buf = buf.subarray(end + 4);
      }
      pending = buf.length ? Buffer.from(buf) : Buffer.alloc(0);
    });
    client.on('error', () => {
      for (const u of ups) u?.destroy();
    });
    client.on('close', () => {
      for (const u of ups) u?.destroy();
    });
  }).listen(Number(port), '127.0.0.1');
}

const CONTROL = Buffer.from('x-variant: control\r\n\r\n');
const EXP = Buffer.from('x-variant: experiment\r\n\r\n');

if (process.argv[1] === SELF) main(process.argv.slice(2));
