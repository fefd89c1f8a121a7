/**
 * Names of UTC itself: read without Intl, whose first DateTimeFormat loads ICU's locale and zone
 * data (about 4 MB of RSS for a process that never needs them).
 */
export const isUtcZone = (zone: string): boolean => zone === 'UTC' || zone === 'Etc/UTC' || zone === 'GMT';

/**
 * Turns wall-clock times without a zone (Redis, MariaDB, nginx error, syslog 3164 ...) into UTC,
 * reading them in a configured IANA zone. Offsets come from Intl and are cached per 15 minutes,
 * so the hot path is a Map lookup; DST gaps and overlaps resolve like java.time (earlier offset).
 */
export class ZoneClock {
  readonly utc: boolean;
  private readonly fmt: Intl.DateTimeFormat | undefined;
  private readonly offsets = new Map<number, number>();

  constructor(readonly zone: string) {
    this.utc = isUtcZone(zone);
    // throws RangeError for an unknown zone: the config schema reports it
    this.fmt = this.utc
      ? undefined
      : new Intl.DateTimeFormat('en-US', {
          timeZone: zone,
          hourCycle: 'h23',
          year: 'numeric',
          month: 'numeric',
          day: 'numeric',
          hour: 'numeric',
          minute: 'numeric',
          second: 'numeric',
        });
  }

  /** Offset of the zone from UTC in ms at the UTC instant t. */
  offsetAt(t: number): number {
    if (!this.fmt) return 0;
    const bucket = Math.floor(t / 900_000);
    const hit = this.offsets.get(bucket);
    if (hit !== undefined) return hit;
    const p: Record<string, number> = {};
    for (const part of this.fmt.formatToParts(bucket * 900_000)) p[part.type] = Number(part.value);
    const asUtc = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!);
    const offset = asUtc - bucket * 900_000;
    if (this.offsets.size > 4096) this.offsets.clear();
    this.offsets.set(bucket, offset);
    return offset;
  }

  /** Epoch ms of a local wall-clock time in this zone (month 0-11). */
  localToEpoch(y: number, mo: number, d: number, h: number, mi: number, s: number): number {
    const wall = Date.UTC(y, mo, d, h, mi, s);
    if (this.utc) return wall;
    const o1 = this.offsetAt(wall);
    const t = wall - o1;
    const o2 = this.offsetAt(t);
    return o2 === o1 ? t : wall - o2;
  }
}
