import { K, type LogRecord } from '../record.js';
import { severityName, severityOf, severityOfPinoLevel } from '../severity.js';
import { parseIsoLike, stampFromEpoch } from '../time/stamps.js';
import type { ParseContext, Parser } from './context.js';

const PINO_NAMES = ['', 'trace', 'debug', 'info', 'warn', 'error', 'fatal'];

/**
 * JSON lines from common loggers. Their field names differ; these map to the record:
 *   time:     time (pino epoch ms, bunyan/slog/logrus ISO), timestamp (winston, GCP), @timestamp
 *             (ECS), ts (zap epoch seconds)
 *   level:    level (pino/bunyan numbers, words), log.level (ECS), severity (GCP), lvl
 *   message:  msg, message
 *   trace:    trace_id/traceId/trace.id/logging.googleapis.com/trace (projects/p/traces/ID),
 *             span_id/spanId/span.id/logging.googleapis.com/spanId
 *   others:   pid -> process.pid, hostname -> host.name, err/error -> exception.*, caller ->
 *             code.file.path + code.line.number, stack_trace -> exception.stacktrace; pino-http
 *             req.method/req.url/res.statusCode -> HTTP attributes; bunyan's `v` is dropped.
 * Everything else is kept as an attribute with its JSON value.
 */
export const parseJsonLogger: Parser = (line, rec, ctx) => {
  let obj: unknown;
  try {
    obj = JSON.parse(line);
  } catch {
    return false;
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return false;
  const o = obj as Record<string, unknown>;
  let body: unknown;
  let haveBody = false;
  // unmapped fields are collected and serialized with one JSON.stringify (measured faster than
  // one per field); logs of one app repeat the same keys, so the object keeps one hidden class
  let rest: Record<string, unknown> | undefined;
  for (const key in o) {
    const v = o[key];
    switch (key) {
      case 'msg':
      case 'message':
        if (!haveBody) {
          body = v;
          haveBody = true;
          continue;
        }
        break;
      case 'time':
      case 'timestamp':
      case '@timestamp':
      case 'ts':
        if (rec.time === '') {
          const t = timeOf(v, key, ctx);
          if (t !== '') {
            rec.time = t;
            continue;
          }
        }
        break;
      case 'level':
      case 'log.level':
      case 'severity':
      case 'lvl':
        if (rec.severityNumber === 0 && levelOf(v, rec)) continue;
        break;
      case 'trace_id':
      case 'traceId':
      case 'trace.id':
      case 'traceid':
        if (typeof v === 'string' && rec.traceId === '') {
          rec.traceId = v;
          continue;
        }
        break;
      case 'logging.googleapis.com/trace':
        if (typeof v === 'string' && rec.traceId === '') {
          rec.traceId = v.slice(v.lastIndexOf('/') + 1);
          continue;
        }
        break;
      case 'span_id':
      case 'spanId':
      case 'span.id':
      case 'spanid':
      case 'logging.googleapis.com/spanId':
        if (typeof v === 'string' && rec.spanId === '') {
          rec.spanId = v;
          continue;
        }
        break;
      case 'pid':
        if (typeof v === 'number') {
          rec.raw(K.pid, v);
          continue;
        }
        break;
      case 'hostname':
        if (typeof v === 'string') {
          rec.str(K.hostName, v);
          continue;
        }
        break;
      case 'v':
        if (typeof v === 'number' && 'name' in o) continue; // bunyan's format version
        break;
      case 'err':
      case 'error':
        if (exception(v, rec)) continue;
        break;
      case 'stack_trace':
        if (typeof v === 'string') {
          rec.str(K.exceptionStack, v);
          continue;
        }
        break;
      case 'caller':
        if (typeof v === 'string' && caller(v, rec)) continue;
        break;
      case 'req':
        if (typeof v === 'object' && v !== null && pinoRequest(v as Record<string, unknown>, rec)) continue;
        break;
      case 'res':
        if (typeof v === 'object' && v !== null && pinoResponse(v as Record<string, unknown>, rec)) continue;
        break;
    }
    if (key === '__proto__')
      rec.raw(',"__proto__":', JSON.stringify(v)); // would set the prototype
    else if (v !== undefined) {
      rest ??= {};
      rest[key] = v;
    }
  }
  if (rest !== undefined) {
    const json = JSON.stringify(rest);
    if (json.length > 2) rec.raw(',', json.slice(1, -1));
  }
  rec.body = !haveBody ? line : typeof body === 'string' ? body : (JSON.stringify(body) ?? '');
  return true;
};

function timeOf(v: unknown, key: string, ctx: ParseContext): string {
  if (typeof v === 'string') return parseIsoLike(v, 0, ctx.clock);
  if (typeof v !== 'number') return '';
  // zap `ts` is float seconds; pino/winston numbers are epoch ms; tell them apart by size
  return stampFromEpoch(v, key === 'ts' || v < 1e11 ? 's' : 'ms');
}

function levelOf(v: unknown, rec: LogRecord): boolean {
  if (typeof v === 'number') {
    const n = severityOfPinoLevel(v);
    rec.severity(PINO_NAMES[Math.min(6, Math.floor(v / 10))] || severityName(n), n);
    return true;
  }
  if (typeof v === 'string') {
    rec.severity(v, severityOf(v));
    return true;
  }
  return false;
}

function exception(v: unknown, rec: LogRecord): boolean {
  if (typeof v === 'string') {
    rec.str(K.exceptionMessage, v);
    return true;
  }
  if (typeof v !== 'object' || v === null) return false;
  const e = v as Record<string, unknown>;
  if (typeof e.message !== 'string' && typeof e.stack !== 'string') return false;
  const type = typeof e.type === 'string' ? e.type : typeof e.name === 'string' ? e.name : '';
  if (type !== '') rec.str(K.exceptionType, type);
  if (typeof e.message === 'string') rec.str(K.exceptionMessage, e.message);
  if (typeof e.stack === 'string') rec.str(K.exceptionStack, e.stack);
  return true;
}

/** zap's `dir/file.go:42`. */
function caller(v: string, rec: LogRecord): boolean {
  const c = v.lastIndexOf(':');
  const n = Number(v.slice(c + 1));
  if (c <= 0 || !Number.isInteger(n)) return false;
  rec.str(K.codeFile, v.slice(0, c));
  rec.raw(K.codeLine, n);
  return true;
}

/** pino-http's `req`: only when it is just method and url, so nothing is lost. */
function pinoRequest(req: Record<string, unknown>, rec: LogRecord): boolean {
  const keys = Object.keys(req);
  if (
    typeof req.method !== 'string' ||
    typeof req.url !== 'string' ||
    keys.some((k) => k !== 'method' && k !== 'url')
  ) {
    return false;
  }
  rec.str(K.method, req.method);
  const q = req.url.indexOf('?');
  rec.str(K.urlPath, q < 0 ? req.url : req.url.slice(0, q));
  if (q >= 0) rec.str(K.urlQuery, req.url.slice(q + 1));
  return true;
}

function pinoResponse(res: Record<string, unknown>, rec: LogRecord): boolean {
  const keys = Object.keys(res);
  if (typeof res.statusCode !== 'number' || keys.length !== 1) return false;
  rec.raw(K.status, res.statusCode);
  return true;
}
