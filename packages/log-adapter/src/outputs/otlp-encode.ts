import { packageVersion } from '@dds/core/version';
import { forEachLine } from './record-field.js';

/**
 * NDJSON records (the adapter's normalized OpenTelemetry-shaped lines) -> an OTLP
 * ExportLogsServiceRequest, in the object shape protobufjs encodes and, with `json`, in OTLP/JSON's
 * shape (hex trace ids, 64-bit integers as decimal strings). Records are grouped by resource, so
 * each distinct resource (the pod's, or a container's from a kubelet log path) is sent once per
 * batch, as OTLP intends.
 */

export interface OtlpAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | { low: number; high: number; unsigned: boolean };
  doubleValue?: number;
  arrayValue?: { values: OtlpAnyValue[] };
  kvlistValue?: { values: OtlpKeyValue[] };
}
export interface OtlpKeyValue {
  key: string;
  value: OtlpAnyValue;
}
type Nanos = string | { low: number; high: number; unsigned: boolean };
export interface OtlpLogRecord {
  timeUnixNano?: Nanos;
  observedTimeUnixNano?: Nanos;
  severityNumber?: number;
  severityText?: string;
  body?: OtlpAnyValue;
  attributes: OtlpKeyValue[];
  traceId?: string | Uint8Array;
  spanId?: string | Uint8Array;
}
export interface OtlpRequest {
  resourceLogs: Array<{
    resource: { attributes: OtlpKeyValue[] };
    scopeLogs: Array<{ scope: { name: string; version: string }; logRecords: OtlpLogRecord[] }>;
  }>;
}

export interface NormalizedRecord {
  timestamp?: string;
  observed_timestamp?: string;
  severity_text?: string;
  severity_number?: number;
  body?: unknown;
  trace_id?: string;
  span_id?: string;
  attributes?: Record<string, unknown>;
  resource?: Record<string, unknown>;
}

export const SCOPE = { name: 'dds-log-adapter', version: packageVersion(import.meta.url) };

/** Nanoseconds since the epoch of an RFC 3339 UTC stamp (`...T..:..:..[.fraction]Z`), or undefined. */
export function stampNanos(stamp: string): bigint | undefined {
  const dot = stamp.indexOf('.', 19);
  const end = stamp.length - 1;
  if (stamp.charCodeAt(end) !== 90) return undefined; // 'Z': the adapter writes UTC only
  const seconds = Date.parse(`${stamp.slice(0, dot < 0 ? end : dot)}Z`);
  if (Number.isNaN(seconds)) return undefined;
  const frac = dot < 0 ? '' : stamp.slice(dot + 1, end);
  if (!/^\d{0,9}$/.test(frac)) return undefined;
  return BigInt(seconds) * 1_000_000n + BigInt(frac.padEnd(9, '0'));
}

const HEX = /^[0-9a-fA-F]+$/;

/** A trace or span id as its hex text when valid (right length, not all zeros), else undefined. */
export function validId(id: string | undefined, len: number): string | undefined {
  return id && id.length === len * 2 && HEX.test(id) && !/^0+$/.test(id) ? id : undefined;
}

function hexId(id: string | undefined, len: number, json: boolean): string | Uint8Array | undefined {
  if (!validId(id, len)) return undefined;
  return json ? id!.toLowerCase() : Buffer.from(id!, 'hex');
}

function int64(v: number | bigint, json: boolean): OtlpAnyValue['intValue'] {
  if (json) return String(v);
  const n = BigInt.asUintN(64, BigInt(v));
  return { low: Number(n & 0xffffffffn) | 0, high: Number(n >> 32n) | 0, unsigned: false };
}

function nanos(v: bigint, json: boolean): Nanos {
  if (json) return v.toString();
  return { low: Number(v & 0xffffffffn) | 0, high: Number(v >> 32n) | 0, unsigned: true };
}

/** A JSON value as an OTLP AnyValue (integers as intValue, other numbers as doubleValue). */
export function anyValue(v: unknown, json: boolean): OtlpAnyValue {
  switch (typeof v) {
    case 'string':
      return { stringValue: v };
    case 'boolean':
      return { boolValue: v };
    case 'number':
      return Number.isSafeInteger(v) ? { intValue: int64(v, json) } : { doubleValue: v };
    case 'object':
      if (v === null) return {};
      if (Array.isArray(v)) return { arrayValue: { values: v.map((x) => anyValue(x, json)) } };
      return { kvlistValue: { values: keyValues(v as Record<string, unknown>, json) } };
    default:
      return {};
  }
}

export function keyValues(o: Record<string, unknown> | undefined, json: boolean): OtlpKeyValue[] {
  const out: OtlpKeyValue[] = [];
  if (!o) return out;
  for (const key of Object.keys(o)) out.push({ key, value: anyValue(o[key], json) });
  return out;
}

/** One normalized record as an OTLP LogRecord. */
export function logRecord(r: NormalizedRecord, json: boolean): OtlpLogRecord {
  const out: OtlpLogRecord = { attributes: keyValues(r.attributes, json) };
  const t = r.timestamp ? stampNanos(r.timestamp) : undefined;
  if (t !== undefined) out.timeUnixNano = nanos(t, json);
  const o = r.observed_timestamp ? stampNanos(r.observed_timestamp) : undefined;
  if (o !== undefined) out.observedTimeUnixNano = nanos(o, json);
  if (r.severity_number) out.severityNumber = r.severity_number;
  if (r.severity_text) out.severityText = r.severity_text;
  if (r.body !== undefined) out.body = anyValue(r.body, json);
  const traceId = hexId(r.trace_id, 16, json);
  const spanId = hexId(r.span_id, 8, json);
  if (traceId) out.traceId = traceId;
  else if (r.trace_id) out.attributes.push({ key: 'trace_id', value: { stringValue: r.trace_id } });
  if (spanId) out.spanId = spanId;
  else if (r.span_id) out.attributes.push({ key: 'span_id', value: { stringValue: r.span_id } });
  return out;
}

export interface ResourceGroup {
  resource: Record<string, unknown> | undefined;
  records: NormalizedRecord[];
}

/**
 * The records of a batch of NDJSON lines, grouped by resource (the resource member is the last of
 * each line and repeats from line to line, so its text is the group key without re-serializing).
 */
export function groupByResource(ndjson: string): ResourceGroup[] {
  const groups = new Map<string, ResourceGroup>();
  forEachLine(ndjson, (line) => {
    const r = JSON.parse(line) as NormalizedRecord;
    const at = line.lastIndexOf(',"resource":');
    const key = r.resource ? (at > 0 ? line.slice(at) : JSON.stringify(r.resource)) : '';
    let g = groups.get(key);
    if (!g) {
      g = { resource: r.resource, records: [] };
      groups.set(key, g);
    }
    g.records.push(r);
  });
  return [...groups.values()];
}

/** The request for a batch of NDJSON lines (each a normalized record), as plain objects. */
export function exportRequest(ndjson: string, json: boolean): { request: OtlpRequest; records: number } {
  let records = 0;
  const resourceLogs = groupByResource(ndjson).map((g) => {
    records += g.records.length;
    return {
      resource: { attributes: keyValues(g.resource, json) },
      scopeLogs: [{ scope: SCOPE, logRecords: g.records.map((r) => logRecord(r, json)) }],
    };
  });
  return { request: { resourceLogs }, records };
}
