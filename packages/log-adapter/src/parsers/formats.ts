import { parseAccessLog } from './access-log.js';
import { parseApacheError } from './apache-error.js';
import { parseAppText } from './app-text.js';
import type { Parser } from './context.js';
import { parseJsonLogger } from './json-logger.js';
import { parseMysqlError } from './mysql-error.js';
import { parseNginxError } from './nginx-error.js';
import { parseRedis } from './redis.js';
import { parseSyslog3164 } from './syslog-rfc3164.js';
import { parseSyslog5424 } from './syslog-rfc5424.js';

/** Formats by id; the id is the metrics label index. Container formats are unwrapped first. */
export const FORMAT_NAMES = [
  'access',
  'nginx-error',
  'apache-error',
  'redis',
  'syslog-rfc3164',
  'syslog-rfc5424',
  'mysql-error',
  'json',
  'app-text',
  'custom',
] as const;
export type FormatName = (typeof FORMAT_NAMES)[number];

const PARSERS: Parser[] = [
  parseAccessLog,
  parseNginxError,
  parseApacheError,
  parseRedis,
  parseSyslog3164,
  parseSyslog5424,
  parseMysqlError,
  parseJsonLogger,
  parseAppText,
];

export const F = {
  access: 0,
  nginxError: 1,
  apacheError: 2,
  redis: 3,
  syslog3164: 4,
  syslog5424: 5,
  mysql: 6,
  json: 7,
  appText: 8,
  /** a user-defined parser (parsers: in the config file) */
  custom: 9,
} as const;

/** `--format` values: the names users know, mapped to a parser (or auto / raw / a container). */
export const FORMAT_CHOICES = {
  auto: -1,
  raw: -2,
  'nginx-combined': F.access,
  'nginx-main': F.access,
  'ingress-nginx': F.access,
  'apache-common': F.access,
  'apache-combined': F.access,
  'nginx-error': F.nginxError,
  'apache-error': F.apacheError,
  redis: F.redis,
  'syslog-rfc3164': F.syslog3164,
  'syslog-rfc5424': F.syslog5424,
  'mysql-error': F.mysql,
  json: F.json,
  'app-text': F.appText,
  cri: -1,
  docker: -1,
} as const satisfies Record<string, number>;
export type FormatChoice = keyof typeof FORMAT_CHOICES;

export const AUTO = -1;
export const RAW = -2;

/** Parses with one format; returns its id, or -1 when the line is not in that format. */
export function parseAs(
  id: number,
  line: string,
  rec: Parameters<Parser>[1],
  ctx: Parameters<Parser>[2],
): number {
  return PARSERS[id]!(line, rec, ctx) ? id : -1;
}

/**
 * Auto-detection by the first bytes, so each line meets one or two parsers, never all of them:
 *   `{` JSON; `<` syslog (`<PRI>1 ` is RFC 5424); `[` Apache error; a digit: `YYYY-` MariaDB/MySQL
 *   or app text, `YYYY/` nginx error, `pid:R ` Redis, else an access log (IPv4/IPv6 client);
 *   a letter: BSD syslog without PRI (`Nov 28 ...`) or an access log with a host name.
 */
export function parseAuto(line: string, rec: Parameters<Parser>[1], ctx: Parameters<Parser>[2]): number {
  const c = line.charCodeAt(0);
  if (c === 123) return parseJsonLogger(line, rec, ctx) ? F.json : -1;
  if (c >= 48 && c <= 57) {
    const c4 = line.charCodeAt(4);
    if (c4 === 45) {
      if (parseMysqlError(line, rec, ctx)) return F.mysql;
      return parseAppText(line, rec, ctx) ? F.appText : -1;
    }
    if (c4 === 47 && parseNginxError(line, rec, ctx)) return F.nginxError;
    if (parseAccessLog(line, rec, ctx)) return F.access;
    return parseRedis(line, rec, ctx) ? F.redis : -1;
  }
  if (c === 60) {
    const gt = line.indexOf('>');
    if (gt > 0 && gt < 5 && line.charCodeAt(gt + 1) === 49 && line.charCodeAt(gt + 2) === 32) {
      return parseSyslog5424(line, rec, ctx) ? F.syslog5424 : -1;
    }
    return parseSyslog3164(line, rec, ctx) ? F.syslog3164 : -1;
  }
  if (c === 91) return parseApacheError(line, rec, ctx) ? F.apacheError : -1;
  if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122)) {
    if (line.charCodeAt(3) === 32 && parseSyslog3164(line, rec, ctx)) return F.syslog3164;
    return parseAccessLog(line, rec, ctx) ? F.access : -1;
  }
  return -1;
}
