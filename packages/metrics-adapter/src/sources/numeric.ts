const NUMBER_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * Strict number parsing for stats values: a decimal or exponent number, nothing else
 * (`Number('')` is 0 and `Number('0x10')` is 16, both wrong here). Undefined if not numeric.
 */
export function parseNumber(s: string): number | undefined {
  const t = s.trim();
  if (!NUMBER_RE.test(t)) return undefined;
  const v = Number(t);
  return Number.isFinite(v) ? v : undefined;
}
