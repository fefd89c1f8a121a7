/**
 * One log record after the OpenTelemetry log data model. Parsers fill it; `toJsonLine` writes
 * the JSON line directly (string building, no intermediate object), which measured faster than
 * building an object and calling JSON.stringify.
 */
export class LogRecord {
  /** RFC 3339 UTC, '' when the line carries no time */
  time = '';
  severityText = '';
  severityNumber = 0;
  body = '';
  traceId = '';
  spanId = '';
  /** attribute members as JSON text, each with a leading comma: `,"k":v,"k2":v2` */
  attrs = '';
  /** exception header and stack lines joined by the multi-line stage */
  stack = '';
  /** stack holds a Python traceback that ends at its first unindented line */
  pythonTraceback = false;
  /** lines joined into this record */
  lines = 1;
  /** may be followed by continuation lines (text logs, unparsed lines), so it waits for the next line */
  holdable = false;

  /** Adds a string attribute; `key` is JSON text with comma and colon: `,"client.address":` */
  str(key: string, value: string): void {
    this.attrs += key + JSON.stringify(value);
  }

  /** Adds a number, boolean or already-serialized JSON value. */
  raw(key: string, json: string | number | boolean): void {
    this.attrs += key + json;
  }

  severity(text: string, n: number): void {
    this.severityText = text;
    this.severityNumber = n;
  }
}

/** Attribute keys as JSON text with comma and colon (OpenTelemetry semantic conventions where one exists). */
export const K = {
  clientAddress: ',"client.address":',
  clientPort: ',"client.port":',
  serverAddress: ',"server.address":',
  method: ',"http.request.method":',
  urlPath: ',"url.path":',
  urlQuery: ',"url.query":',
  protocolVersion: ',"network.protocol.version":',
  status: ',"http.response.status_code":',
  bodySize: ',"http.response.body.size":',
  requestSize: ',"http.request.size":',
  referer: ',"http.request.header.referer":',
  userAgent: ',"user_agent.original":',
  user: ',"user.name":',
  exceptionType: ',"exception.type":',
  exceptionMessage: ',"exception.message":',
  exceptionStack: ',"exception.stacktrace":',
  pid: ',"process.pid":',
  threadId: ',"thread.id":',
  threadName: ',"thread.name":',
  hostName: ',"host.name":',
  codeNamespace: ',"code.namespace":',
  codeFile: ',"code.file.path":',
  codeLine: ',"code.line.number":',
  iostream: ',"log.iostream":',
  parseError: ',"dds.parse_error":',
  truncated: ',"dds.truncated":',
  originalSize: ',"dds.original_size":',
} as const;

/**
 * The JSON line of a record. `observed` is the read time; `fileAttrs` are source members with
 * a leading comma (`,"log.file.path":"..."`) and `resource` the constant `,"resource":{...}` member.
 */
export function toJsonLine(r: LogRecord, observed: string, fileAttrs: string, resource: string): string {
  let out = r.time === '' ? '{' : `{"timestamp":"${r.time}",`;
  out += `"observed_timestamp":"${observed}"`;
  if (r.severityNumber !== 0 || r.severityText !== '') {
    out += `,"severity_text":${JSON.stringify(r.severityText)},"severity_number":${r.severityNumber}`;
  }
  out += `,"body":${JSON.stringify(r.body)}`;
  if (r.traceId !== '') out += `,"trace_id":${JSON.stringify(r.traceId)}`;
  if (r.spanId !== '') out += `,"span_id":${JSON.stringify(r.spanId)}`;
  let attrs = r.attrs;
  if (r.stack !== '') attrs += K.exceptionStack + JSON.stringify(r.stack);
  attrs += fileAttrs;
  return `${out},"attributes":{${attrs === '' ? '' : attrs.slice(1)}}${resource}}\n`;
}
