import { type ParseContext, SLOT } from '../parsers/context.js';
import { parsedEnd, parseIsoLike } from '../time/stamps.js';
import type { ContainerLine } from './container-line.js';

/**
 * CRI log line (containerd, CRI-O): `<RFC3339Nano> <stdout|stderr> <P|F> <message>`.
 * `P` marks a partial chunk (the runtime splits lines at 16 KiB); the record ends at `F`.
 */
export function unwrapCri(line: string, out: ContainerLine, ctx: ParseContext): boolean {
  const sp = line.indexOf(' ', 19);
  if (sp < 0 || sp > 40) return false;
  const s1 = line.charCodeAt(sp + 1);
  if (s1 !== 115 || line.charCodeAt(sp + 7) !== 32) return false; // "stdout"/"stderr"
  const stream = line.slice(sp + 1, sp + 7);
  if (stream !== 'stdout' && stream !== 'stderr') return false;
  const tag = line.charCodeAt(sp + 8);
  if ((tag !== 80 && tag !== 70) || (line.length > sp + 9 && line.charCodeAt(sp + 9) !== 32)) return false;
  const time = ctx.stamp(SLOT.container, line, 0, sp, criStamp);
  if (time === '') return false;
  out.stream = stream;
  out.partial = tag === 80;
  out.time = time;
  out.message = line.length > sp + 10 ? line.slice(sp + 10) : '';
  return true;
}

/** The runtime writes UTC with `Z` (CRI-O may write an offset); the stamp is the whole token. */
function criStamp(raw: string, ctx: ParseContext): string {
  const t = parseIsoLike(raw, 0, ctx.clock);
  const z = raw.charCodeAt(raw.length - 1);
  return t !== '' && parsedEnd === raw.length && (z === 90 || raw.charCodeAt(raw.length - 3) === 58) ? t : '';
}
