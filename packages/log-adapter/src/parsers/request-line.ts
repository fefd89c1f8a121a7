import { K, type LogRecord } from '../record.js';
import { unescapeLogString } from './unescape.js';

/**
 * "METHOD target HTTP/x.y" -> http.request.method, url.path, url.query, network.protocol.version.
 * Anything else (a TLS hello sent to a plain port, "-") adds nothing and returns false.
 */
export function requestAttributes(request: string, rec: LogRecord): boolean {
  const sp1 = request.indexOf(' ');
  const sp2 = request.lastIndexOf(' ');
  if (sp1 <= 0 || sp2 <= sp1 || !request.startsWith('HTTP/', sp2 + 1)) return false;
  for (let i = 0; i < sp1; i++) {
    const c = request.charCodeAt(i);
    if (c < 65 || c > 90) return false;
  }
  rec.str(K.method, request.slice(0, sp1));
  const target = unescapeLogString(request.slice(sp1 + 1, sp2));
  const qm = target.indexOf('?');
  if (qm < 0) rec.str(K.urlPath, target);
  else {
    rec.str(K.urlPath, target.slice(0, qm));
    rec.str(K.urlQuery, target.slice(qm + 1));
  }
  // semantic conventions: network.protocol.name only when it is not "http"
  rec.str(K.protocolVersion, request.slice(sp2 + 6));
  return true;
}

/** A header attribute value: OpenTelemetry records request headers as string arrays. */
export const headerValue = (v: string): string => `[${JSON.stringify(v)}]`;
