import { isIP } from 'node:net';
import { REDACTED } from '@dds/core/config/redact';
import { TrustedProxies } from '@dds/core/http/trusted-proxies';
import { normalizePart } from './key-extractor.js';
import { type KeyPart, parseKeyPart, partName } from './key-spec.js';

/**
 * Allow-list and override entries: which requests of a policy they name.
 *
 *   10.0.0.0/8                      the client address (an IP or CIDR), whatever the key
 *   header:x-api-key=batch-key      one named part of the key has this value
 *   batch-key                       the value of the key, when the key has a single part
 *   { header:x-api-key: k1, ip: 203.0.113.0/24 }   every named part matches (ip: IP or CIDR)
 *
 * A part is named as in `key` (`header:NAME`, `cookie:NAME`, `jwt:CLAIM[@HEADER]`, `ip`); an
 * entry naming a part the key lacks, or a bare value on a key of several parts, is a config error.
 */
export type KeyEntry = string | Readonly<Record<string, string>>;

/** One condition of an entry: a part equals a value, or the client address lies in a range. */
export type Condition = { part: number; value: string } | { part: 'ip'; cidr: string };

/** The conditions of one entry (all must hold), or what is wrong with it. */
export function parseEntry(entry: KeyEntry, parts: readonly KeyPart[]): Condition[] | string {
  const names = parts.map(partName);
  const named = (spec: string, value: string): Condition | string => {
    const part = parseKeyPart(spec);
    if (typeof part === 'string') return part;
    if (part.kind === 'ip') return address(value);
    const idx = names.indexOf(partName(part));
    if (idx < 0) return `"${partName(part)}" is not a part of this policy's key (${names.join(', ')})`;
    if (value === '') return `${partName(part)}= needs a value`;
    return { part: idx, value: normalizePart(value) };
  };
  if (typeof entry !== 'string') {
    const specs = Object.keys(entry);
    if (specs.length === 0) return 'an entry needs at least one part';
    const out: Condition[] = [];
    for (const spec of specs) {
      const c = named(spec, entry[spec]!);
      if (typeof c === 'string') return c;
      out.push(c);
    }
    return out;
  }
  if (isCidr(entry)) {
    const c = address(entry);
    return typeof c === 'string' ? c : [c];
  }
  const eq = entry.indexOf('=');
  if (eq > 0 && typeof parseKeyPart(entry.slice(0, eq)) !== 'string') {
    const c = named(entry.slice(0, eq), entry.slice(eq + 1));
    return typeof c === 'string' ? c : [c];
  }
  if (parts.length !== 1)
    return `the key has ${parts.length} parts (${names.join(', ')}): name the one this value is, as ${names.find((n) => n !== 'ip') ?? names[0]}=${entry}, or give several as {${names.join(': ..., ')}: ...}`;
  if (parts[0]!.kind === 'ip') return `"${entry}" is not an IP address or CIDR`;
  if (entry === '') return 'an entry needs a value';
  return [{ part: 0, value: normalizePart(entry) }];
}

/** A condition on the client address, or why the text is not an address range. */
function address(text: string): Condition | string {
  if (!isCidr(text)) return `"${text}" is not an IP address or CIDR`;
  return TrustedProxies.validate([text]) ?? { part: 'ip', cidr: text };
}

/** An allow-list entry that names addresses (matched against the client IP). */
export function isCidr(entry: string): boolean {
  const [addr, bits] = entry.split('/');
  return isIP(addr ?? '') !== 0 && (bits === undefined || /^\d+$/.test(bits));
}

/** The entry as views and /config show it: addresses stay, key values (API keys, ids) do not. */
export function redactEntry(entry: KeyEntry): KeyEntry {
  if (typeof entry !== 'string')
    return Object.fromEntries(
      Object.entries(entry).map(([spec, v]) => [spec, spec.trim() === 'ip' ? v : REDACTED]),
    );
  if (isCidr(entry)) return entry;
  const eq = entry.indexOf('=');
  const spec = eq > 0 ? entry.slice(0, eq) : '';
  if (spec && typeof parseKeyPart(spec) !== 'string')
    return spec.trim() === 'ip' ? entry : `${spec}=${REDACTED}`;
  return REDACTED;
}

type Compiled = { part: number; value: string } | { part: 'ip'; set: TrustedProxies };

/**
 * Groups of entries (an allow-list is one group; each override is one) compiled for lookups:
 * a Map per key part for the single-value entries, one address set per group for the
 * single-address entries, and a short list for entries with several conditions. A lookup
 * answers the first group (in config order) that has a matching entry.
 */
export class KeyEntries {
  private readonly byPart: Map<string, number>[];
  private readonly byAddress: { group: number; set: TrustedProxies }[] = [];
  private readonly several: { group: number; conditions: Compiled[] }[] = [];
  readonly empty: boolean;

  constructor(groups: readonly (readonly Condition[][])[], partCount: number) {
    this.byPart = Array.from({ length: partCount }, () => new Map<string, number>());
    const cidrs = new Map<number, string[]>();
    groups.forEach((entries, group) => {
      for (const conditions of entries) {
        const only = conditions.length === 1 ? conditions[0]! : undefined;
        if (only && only.part === 'ip') {
          const list = cidrs.get(group) ?? [];
          list.push(only.cidr);
          cidrs.set(group, list);
        } else if (only) {
          const map = this.byPart[only.part]!;
          if (!map.has(only.value)) map.set(only.value, group);
        } else {
          this.several.push({
            group,
            conditions: conditions.map((c) =>
              c.part === 'ip' ? { part: 'ip', set: new TrustedProxies([c.cidr]) } : c,
            ),
          });
        }
      }
    });
    for (const [group, list] of cidrs) this.byAddress.push({ group, set: new TrustedProxies(list) });
    this.empty = groups.every((g) => g.length === 0);
  }

  /** The first group an entry of only addresses matches for this client, or -1. */
  byClient(ip: string): number {
    for (const a of this.byAddress) if (a.set.has(ip)) return a.group;
    return -1;
  }

  /** The first group an entry on key parts matches (address-only entries left to byClient), or -1. */
  byKey(values: readonly string[], ip: string): number {
    let best = -1;
    for (let i = 0; i < this.byPart.length; i++) {
      const map = this.byPart[i]!;
      if (map.size === 0) continue;
      const g = map.get(values[i]!);
      if (g !== undefined && (best < 0 || g < best)) best = g;
    }
    for (const e of this.several) {
      if (best >= 0 && e.group >= best) continue;
      if (e.conditions.every((c) => (c.part === 'ip' ? c.set.has(ip) : values[c.part] === c.value)))
        best = e.group;
    }
    return best;
  }
}
