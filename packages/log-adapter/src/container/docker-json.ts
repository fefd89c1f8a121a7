import { type ParseContext, SLOT } from '../parsers/context.js';
import { parseIsoLike } from '../time/stamps.js';
import type { ContainerLine } from './container-line.js';

/**
 * Docker `json-file` driver line: `{"log":"text\n","stream":"stdout","time":"RFC3339Nano"}`.
 * A `log` without the trailing newline is a partial chunk (Docker splits lines at 16 KiB).
 */
export function unwrapDockerJson(line: string, out: ContainerLine, ctx: ParseContext): boolean {
  let o: { log?: unknown; stream?: unknown; time?: unknown };
  try {
    o = JSON.parse(line);
  } catch {
    return false;
  }
  if (typeof o !== 'object' || o === null || typeof o.log !== 'string' || typeof o.time !== 'string')
    return false;
  const time = ctx.stamp(SLOT.container, o.time, 0, o.time.length, dockerStamp);
  if (time === '') return false;
  const log = o.log;
  const nl = log.charCodeAt(log.length - 1) === 10;
  out.stream = typeof o.stream === 'string' ? o.stream : '';
  out.partial = !nl;
  out.time = time;
  out.message = nl ? log.slice(0, log.charCodeAt(log.length - 2) === 13 ? -2 : -1) : log;
  return true;
}

const dockerStamp = (raw: string, ctx: ParseContext): string => parseIsoLike(raw, 0, ctx.clock);
