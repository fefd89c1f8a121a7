import { parseDuration } from '@dds/core/config/duration';

/** `count` requests per `periodMs`, parsed from `100/s`, `1000/h`, `10/m`, `5/10s`, `50/500ms`. */
export interface Rate {
  count: number;
  periodMs: number;
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseRate(text: string): Rate | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:r|req)?\s*\/\s*(\S+)\s*$/.exec(text);
  if (!m) return undefined;
  const count = Number(m[1]);
  const unit = m[2]!;
  const periodMs = UNITS[unit] ?? parseDuration(unit);
  if (!(count > 0) || !Number.isFinite(count) || periodMs === undefined || !(periodMs > 0)) return undefined;
  return { count, periodMs };
}

export const RATE_HINT = 'expected a rate like 100/s, 10/m, 1000/h or 5/10s';
