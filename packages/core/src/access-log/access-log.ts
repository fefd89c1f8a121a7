import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Registry } from 'prom-client';
import { DdsError } from '../errors.js';
import { rawHeader } from '../http/llhttp.js';
import { normalizeIp, type TrustedProxies } from '../http/trusted-proxies.js';
import type { Logger } from '../logger.js';
import { Counter, METRIC_PREFIX } from '../metrics.js';
import { buildResource, resourceMember } from '../telemetry/resource.js';
import { parseTraceParent } from '../telemetry/traceparent.js';
import { type AccessLogConfig, accessLogTarget } from './access-log-config.js';
import { LineWriter } from './line-writer.js';

/** The part of a request (lean HTTP/1.1, HTTP/2 stream or node:http) an access record reads. */
export interface LoggedRequest {
  readonly method?: string | undefined;
  readonly url?: string | undefined;
  readonly httpVersionMajor: number;
  readonly httpVersionMinor: number;
  /** flat [name, value, ...]; HTTP/2 pseudo-headers included */
  readonly rawHeaders: string[];
  readonly socket: Socket;
}

/** Lines held while the destination is slow: beyond this, records are dropped and counted. */
const MAX_BUFFERED = 8 * 1024 * 1024;

/** `,"key":value` for the `extra` argument of AccessLog#log (JSON-encoded value). */
export const accessAttr = (key: string, value: string | number | boolean): string =>
  `,${JSON.stringify(key)}:${JSON.stringify(value)}`;

/**
 * Per-request access records for an HTTP proxy, one JSON line each in the OpenTelemetry log
 * shape the log adapter writes (timestamp, observed_timestamp, severity, body, trace_id,
 * span_id, attributes after the HTTP semantic conventions, resource), so one pipeline reads
 * both. Recording costs the hot path one string build and an array push: the LineWriter
 * batches lines and writes them off the event loop, and drops (counted) when the destination
 * cannot keep up instead of slowing requests or growing memory. One instance per component,
 * created once; configure() applies --access-log / --access-log-sample at start and on reload.
 */
export class AccessLog {
  private writer: LineWriter | undefined;
  private target = 'off';
  private sample = 1;
  private readonly resource: string;
  private readonly records: Counter;
  private readonly dropped: Counter<'reason'>;

  constructor(
    private readonly opts: {
      component: string;
      registry: Registry;
      logger: Logger;
      env?: Readonly<Record<string, string | undefined>>;
    },
  ) {
    const resource = buildResource(opts.env ?? process.env, []);
    resource['service.name'] ??= `dds-${opts.component}`;
    this.resource = resourceMember(resource);
    this.records = new Counter({
      name: `${METRIC_PREFIX}access_log_records_total`,
      help: 'Access log records written to their destination.',
      registers: [opts.registry],
    });
    this.dropped = new Counter({
      name: `${METRIC_PREFIX}access_log_dropped_total`,
      help: 'Access log records lost: buffer_full (the destination was slower than the traffic) or write_error.',
      labelNames: ['reason'],
      registers: [opts.registry],
    });
  }

  /** true when records are written (the hot path checks this before building anything). */
  get enabled(): boolean {
    return this.writer !== undefined;
  }

  /**
   * Applies the settings; a new destination is opened before the old one is closed, so a
   * destination that cannot be opened throws (DdsError naming it) and the old one stays.
   */
  configure(c: AccessLogConfig): void {
    this.sample = c.accessLogSample;
    if (c.accessLog === this.target) return;
    const where = accessLogTarget(c.accessLog);
    let next: LineWriter | undefined;
    if (where) {
      try {
        next = new LineWriter(where, {
          maxBuffered: MAX_BUFFERED,
          onWritten: (n) => this.records.inc(n),
          onDropped: (n, reason) => this.dropped.inc({ reason }, n),
          onError: (err) =>
            this.opts.logger.error({ error: err.message, code: err.code }, 'access log write failed'),
        });
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        throw new DdsError(
          'DDS_CONFIG_FILE',
          `access-log: cannot open ${c.accessLog}: ${e.code ?? e.message}`,
          {
            cause: err,
          },
        );
      }
    }
    const old = this.writer;
    this.writer = next;
    this.target = c.accessLog;
    void old?.close();
  }

  /**
   * Records one request. `bytes` is the response body size sent, `failure` why no upstream
   * response came (upstream_error, upstream_timeout, client_abort ...), `extra` more attribute
   * members as JSON text with leading commas (see accessAttr), `trusted` the proxies whose
   * X-Forwarded-For names the client.
   */
  log(
    req: LoggedRequest,
    status: number,
    seconds: number,
    bytes: number,
    failure?: string,
    extra = '',
    trusted?: TrustedProxies,
  ): void {
    const writer = this.writer;
    if (writer === undefined) return;
    if (status < 500 && failure === undefined && this.sample < 1 && Math.random() >= this.sample) return;
    writer.write(this.line(req, status, seconds, bytes, failure, extra, trusted));
  }

  /** Writes what is queued and closes the destination (on drain). */
  close(): Promise<void> {
    const w = this.writer;
    this.writer = undefined;
    this.target = 'off';
    return w ? w.close() : Promise.resolve();
  }

  private line(
    req: LoggedRequest,
    status: number,
    seconds: number,
    bytes: number,
    failure: string | undefined,
    extra: string,
    trusted: TrustedProxies | undefined,
  ): string {
    const end = Date.now();
    const raw = req.rawHeaders;
    const method = req.method ?? '';
    const target = req.url ?? '';
    const version = req.httpVersionMajor === 2 ? '2' : `${req.httpVersionMajor}.${req.httpVersionMinor}`;
    const [sevText, sevNum] = status >= 500 ? SEV_ERROR : status >= 400 ? SEV_WARN : SEV_INFO;
    let out = `{"timestamp":"${new Date(end - seconds * 1000).toISOString()}","observed_timestamp":"${new Date(end).toISOString()}","severity_text":"${sevText}","severity_number":${sevNum},"body":${JSON.stringify(`${method} ${target} HTTP/${version} ${status}`)}`;
    const trace = parseTraceParent(rawHeader(raw, 'traceparent'));
    if (trace) out += `,"trace_id":"${trace.traceId}","span_id":"${trace.spanId}"`;
    const q = target.indexOf('?');
    out += `,"attributes":{"http.request.method":${JSON.stringify(method)},"url.path":${JSON.stringify(q < 0 ? target : target.slice(0, q))}`;
    if (q >= 0) out += `,"url.query":${JSON.stringify(target.slice(q + 1))}`;
    out += `,"network.protocol.version":"${version}","http.response.status_code":${status},"http.server.request.duration":${Math.round(seconds * 1e6) / 1e6},"http.response.body.size":${bytes}`;
    const length = rawHeader(raw, 'content-length');
    if (length !== undefined && /^\d{1,15}$/.test(length)) out += `,"http.request.body.size":${length}`;
    const sock = req.socket;
    const peer = normalizeIp(sock?.remoteAddress ?? '');
    const client =
      trusted !== undefined && !trusted.empty
        ? trusted.clientAddress(peer, rawHeader(raw, 'x-forwarded-for'))
        : peer;
    out += `,"client.address":${JSON.stringify(client)}`;
    if (client === peer) {
      if (sock?.remotePort !== undefined) out += `,"client.port":${sock.remotePort}`;
    } else out += `,"network.peer.address":${JSON.stringify(peer)}`;
    const host = rawHeader(raw, ':authority') ?? rawHeader(raw, 'host');
    if (host !== undefined) out += `,"server.address":${JSON.stringify(hostName(host))}`;
    const ua = rawHeader(raw, 'user-agent');
    if (ua !== undefined) out += `,"user_agent.original":${JSON.stringify(ua)}`;
    const tls =
      typeof (sock as TLSSocket)?.getProtocol === 'function' ? (sock as TLSSocket).getProtocol() : null;
    if (tls) out += `,"tls.protocol.version":${JSON.stringify(tls.startsWith('TLSv') ? tls.slice(4) : tls)}`;
    if (failure !== undefined) out += `,"dds.failure":"${failure}"`;
    return `${out}${extra}}${this.resource}}\n`;
  }
}

const SEV_INFO = ['INFO', 9] as const;
const SEV_WARN = ['WARN', 13] as const;
const SEV_ERROR = ['ERROR', 17] as const;

/** Host header without its port (`[::1]:8443` -> `::1`). */
function hostName(host: string): string {
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end > 0 ? host.slice(1, end) : host;
  }
  const colon = host.indexOf(':');
  return colon < 0 ? host : host.slice(0, colon);
}
