import { BYTES, ProtobufError, ProtoReader, ProtoWriter, VARINT } from '@dds/core/protobuf/wire';

/**
 * The messages of envoy.service.ratelimit.v3.RateLimitService, encoded by hand (protobuf wire
 * format). Field numbers are those of Envoy's published API as generated in the Go module
 * github.com/envoyproxy/go-control-plane/envoy v1.32.4 (envoy/service/ratelimit/v3/rls.proto,
 * envoy/extensions/common/ratelimit/v3/ratelimit.proto, envoy/config/core/v3/base.proto), the
 * version envoyproxy/ratelimit builds with. The tests speak to this codec with a client generated
 * from those same stubs (packages/test-support/peers/rls-client). Fields dds does not use (quota, dynamic metadata,
 * raw body) are skipped when decoding and never sent.
 */

export const RLS_PATH = '/envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit';
export const RLS_SERVICE = 'envoy.service.ratelimit.v3.RateLimitService';

export const Code = { UNKNOWN: 0, OK: 1, OVER_LIMIT: 2 } as const;
export type Code = (typeof Code)[keyof typeof Code];

/** RateLimitResponse.RateLimit.Unit (and envoy.type.v3.RateLimitUnit: same numbers). */
export const UNITS = ['unknown', 'second', 'minute', 'hour', 'day', 'month', 'year', 'week'] as const;
export type Unit = Exclude<(typeof UNITS)[number], 'unknown'>;

export interface DescriptorEntry {
  key: string;
  value: string;
}

export interface RlsDescriptor {
  entries: DescriptorEntry[];
  /** RateLimitOverride: a limit the caller sets for this descriptor */
  limit?: { requestsPerUnit: number; unit: number };
  /** google.protobuf.UInt64Value: present (even 0) overrides the request's hits_addend */
  hitsAddend?: number;
}

export interface RlsRequest {
  domain: string;
  descriptors: RlsDescriptor[];
  /** 0 when absent: envoyproxy/ratelimit then counts 1 */
  hitsAddend: number;
}

export interface RlsLimit {
  name: string;
  requestsPerUnit: number;
  unit: number;
}

export interface DescriptorStatus {
  code: Code;
  currentLimit?: RlsLimit;
  limitRemaining: number;
  /** milliseconds; undefined when there is no limit */
  durationUntilResetMs?: number;
}

export interface RlsResponse {
  overallCode: Code;
  statuses: DescriptorStatus[];
  responseHeadersToAdd: [string, string][];
}

/** Bounds on what one request may carry: a hostile caller cannot make one call cost much. */
export const MAX_DESCRIPTORS = 256;
export const MAX_ENTRIES = 64;

export function decodeRequest(buf: Uint8Array): RlsRequest {
  const r = new ProtoReader(buf);
  const req: RlsRequest = { domain: '', descriptors: [], hitsAddend: 0 };
  while (!r.done) {
    const [field, wire] = r.tag();
    if (field === 1 && wire === BYTES) req.domain = r.string();
    else if (field === 2 && wire === BYTES) {
      if (req.descriptors.length >= MAX_DESCRIPTORS)
        throw new ProtobufError(`more than ${MAX_DESCRIPTORS} descriptors`);
      req.descriptors.push(decodeDescriptor(r.message()));
    } else if (field === 3 && wire === VARINT) req.hitsAddend = r.varint();
    else r.skip(wire);
  }
  return req;
}

function decodeDescriptor(r: ProtoReader): RlsDescriptor {
  const d: RlsDescriptor = { entries: [] };
  while (!r.done) {
    const [field, wire] = r.tag();
    if (field === 1 && wire === BYTES) {
      if (d.entries.length >= MAX_ENTRIES) throw new ProtobufError(`more than ${MAX_ENTRIES} entries`);
      d.entries.push(decodeEntry(r.message()));
    } else if (field === 2 && wire === BYTES) {
      const m = r.message();
      const limit = { requestsPerUnit: 0, unit: 0 };
      while (!m.done) {
        const [f, w] = m.tag();
        if (f === 1 && w === VARINT) limit.requestsPerUnit = m.varint();
        else if (f === 2 && w === VARINT) limit.unit = m.varint();
        else m.skip(w);
      }
      d.limit = limit;
    } else if (field === 3 && wire === BYTES) {
      const m = r.message();
      let v = 0;
      while (!m.done) {
        const [f, w] = m.tag();
        if (f === 1 && w === VARINT) v = m.varint();
        else m.skip(w);
      }
      d.hitsAddend = v;
    } else r.skip(wire);
  }
  return d;
}

function decodeEntry(r: ProtoReader): DescriptorEntry {
  const e: DescriptorEntry = { key: '', value: '' };
  while (!r.done) {
    const [field, wire] = r.tag();
    if (field === 1 && wire === BYTES) e.key = r.string();
    else if (field === 2 && wire === BYTES) e.value = r.string();
    else r.skip(wire);
  }
  return e;
}

export function encodeResponse(res: RlsResponse): Buffer {
  const w = new ProtoWriter().uint(1, res.overallCode);
  for (const s of res.statuses) {
    const m = new ProtoWriter().uint(1, s.code);
    if (s.currentLimit)
      m.message(
        2,
        new ProtoWriter()
          .uint(1, s.currentLimit.requestsPerUnit)
          .uint(2, s.currentLimit.unit)
          .string(3, s.currentLimit.name),
      );
    m.uint(3, s.limitRemaining);
    if (s.durationUntilResetMs !== undefined) {
      const ms = Math.max(0, Math.ceil(s.durationUntilResetMs));
      m.message(4, new ProtoWriter().uint(1, Math.floor(ms / 1000)).uint(2, (ms % 1000) * 1_000_000));
    }
    w.message(2, m);
  }
  for (const [k, v] of res.responseHeadersToAdd) w.message(3, new ProtoWriter().string(1, k).string(2, v));
  return w.finish();
}

/** For tests and the bench: the client side of the same messages. */
export function encodeRequest(req: RlsRequest): Buffer {
  const w = new ProtoWriter().string(1, req.domain);
  for (const d of req.descriptors) {
    const m = new ProtoWriter();
    for (const e of d.entries) m.message(1, new ProtoWriter().string(1, e.key).string(2, e.value));
    if (d.limit) m.message(2, new ProtoWriter().uint(1, d.limit.requestsPerUnit).uint(2, d.limit.unit));
    if (d.hitsAddend !== undefined) m.message(3, new ProtoWriter().uint(1, d.hitsAddend));
    w.message(2, m);
  }
  return w.uint(3, req.hitsAddend).finish();
}

export function decodeResponse(buf: Uint8Array): RlsResponse {
  const r = new ProtoReader(buf);
  const res: RlsResponse = { overallCode: Code.UNKNOWN, statuses: [], responseHeadersToAdd: [] };
  while (!r.done) {
    const [field, wire] = r.tag();
    if (field === 1 && wire === VARINT) res.overallCode = r.varint() as Code;
    else if (field === 2 && wire === BYTES) res.statuses.push(decodeStatus(r.message()));
    else if (field === 3 && wire === BYTES) {
      const m = r.message();
      let k = '';
      let v = '';
      while (!m.done) {
        const [f, w] = m.tag();
        if (f === 1 && w === BYTES) k = m.string();
        else if (f === 2 && w === BYTES) v = m.string();
        else m.skip(w);
      }
      res.responseHeadersToAdd.push([k, v]);
    } else r.skip(wire);
  }
  return res;
}

function decodeStatus(r: ProtoReader): DescriptorStatus {
  const s: DescriptorStatus = { code: Code.UNKNOWN, limitRemaining: 0 };
  while (!r.done) {
    const [field, wire] = r.tag();
    if (field === 1 && wire === VARINT) s.code = r.varint() as Code;
    else if (field === 2 && wire === BYTES) {
      const m = r.message();
      const l: RlsLimit = { name: '', requestsPerUnit: 0, unit: 0 };
      while (!m.done) {
        const [f, w] = m.tag();
        if (f === 1 && w === VARINT) l.requestsPerUnit = m.varint();
        else if (f === 2 && w === VARINT) l.unit = m.varint();
        else if (f === 3 && w === BYTES) l.name = m.string();
        else m.skip(w);
      }
      s.currentLimit = l;
    } else if (field === 3 && wire === VARINT) s.limitRemaining = r.varint();
    else if (field === 4 && wire === BYTES) {
      const m = r.message();
      let sec = 0;
      let nanos = 0;
      while (!m.done) {
        const [f, w] = m.tag();
        if (f === 1 && w === VARINT) sec = m.varint();
        else if (f === 2 && w === VARINT) nanos = m.varint();
        else m.skip(w);
      }
      s.durationUntilResetMs = sec * 1000 + nanos / 1e6;
    } else r.skip(wire);
  }
  return s;
}
