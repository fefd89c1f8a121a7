import { accessSync, constants, readFileSync } from 'node:fs';
import { type CommonConfig, configSchema } from '@dds/core/config/common-flags';
import { zDuration } from '@dds/core/config/schemas';
import { flagsOf, setting } from '@dds/core/config/settings';
import * as z from '@dds/core/config/zod';
import { TCHAR } from '@dds/core/http/field-syntax';
import { type OutputTarget, resolveTargets } from './outputs/targets.js';
import { compileTimeFormat } from './parsers/custom/time-format.js';
import { FORMAT_CHOICES, type FormatChoice } from './parsers/formats.js';
import { isUtcZone } from './time/zone-clock.js';

const FORMATS = Object.keys(FORMAT_CHOICES) as [FormatChoice, ...FormatChoice[]];
const IN = 'Input';
const PARSE = 'Parsing';
const OUT = 'Output';
const HTTP = 'HTTP and OTLP outputs';
const KAFKA = 'Kafka output';

const validZone = (z: string): boolean => {
  if (isUtcZone(z)) return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: z });
    return true;
  } catch {
    return false;
  }
};

const HEADER = new RegExp(`^${TCHAR}+:\\s*.*$`);

export const settings = {
  input: setting.list({
    short: 'i',
    help: 'files to follow: globs (quote them), comma-separated or repeated; "-" reads stdin',
    metavar: 'GLOB',
    default: ['-'],
    group: IN,
    schema: z.array(z.string().check(z.minLength(1))).check(z.minLength(1)),
  }),
  exclude: setting.list({
    help: 'paths matched by --input to skip (the position, spool and output files always are)',
    metavar: 'PATH',
    default: [],
    group: IN,
  }),
  positionFile: setting.string({
    help: 'where read offsets are kept across restarts (put it on the shared volume); none: a restart reads from --read-from again',
    metavar: 'FILE',
    default: '',
    group: IN,
  }),
  positionSync: setting.duration({
    help: 'how often acknowledged offsets are saved (fsynced; also at shutdown)',
    default: 1000,
    group: IN,
  }),
  pollInterval: setting.duration({
    help: 'how often globs and files are checked',
    default: 250,
    group: IN,
    schema: zDuration.check(z.refine((v) => v >= 10, 'at least 10ms')),
  }),
  readFrom: setting.string({
    help: 'files present at the first start without a saved position: head|tail',
    default: 'head',
    group: IN,
    schema: z.enum(['head', 'tail']),
  }),
  rotateWait: setting.duration({
    help: 'keep reading a rotated-away or deleted file this long for late writes',
    default: 5000,
    group: IN,
  }),
  fingerprintSize: setting.number({
    help: 'bytes at the start of a file hashed to recognise it',
    default: 1024,
    group: IN,
    schema: z.number().check(z.int(), z.minimum(16), z.maximum(1 << 20)),
  }),
  allowedRoot: setting.list({
    help: 'follow only files whose real path (symlinks resolved) is under one of these directories; others are logged once and counted',
    metavar: 'DIR',
    default: [],
    group: IN,
    schema: z.array(z.string().check(z.minLength(1))),
  }),
  inputFormat: setting.list({
    help: 'format or custom parser per input: GLOB=NAME (first match wins; others use --format)',
    metavar: 'GLOB=NAME',
    default: [],
    group: PARSE,
    schema: z.array(z.string().check(z.regex(/^.+=[A-Za-z0-9_-]+$/, 'expected GLOB=NAME'))),
  }),
  format: setting.string({
    short: 'f',
    help: `line format: ${FORMATS.join('|')}, or a parser defined under parsers: in the config file`,
    default: 'auto',
    group: PARSE,
  }),
  maxLineLength: setting.number({
    help: 'longer lines (and joined records) are cut and marked dds.truncated',
    default: 65536,
    group: PARSE,
    schema: z.number().check(z.int(), z.minimum(256), z.maximum(64 << 20)),
  }),
  multiline: setting.boolean({
    help: 'join stack traces into the record before them',
    default: true,
    group: PARSE,
  }),
  multilineTimeout: setting.duration({
    help: 'how long a warning/error record waits for stack-trace lines at the end of input',
    default: 500,
    group: PARSE,
  }),
  multilineMaxLines: setting.number({
    help: 'most lines joined into one record',
    default: 1000,
    group: PARSE,
    schema: z.number().check(z.int(), z.minimum(1)),
  }),
  timezone: setting.string({
    help: 'IANA zone of timestamps written without one (Redis, MariaDB, nginx error, syslog)',
    default: 'UTC',
    group: PARSE,
    schema: z.string().check(z.refine(validZone, 'unknown IANA time zone')),
  }),
  resource: setting.list({
    help: 'extra resource attributes key=value (besides the Downward API env and OTEL_RESOURCE_ATTRIBUTES)',
    metavar: 'K=V',
    default: [],
    group: OUT,
    schema: z.array(z.string().check(z.regex(/^[^=]+=.*$/, 'expected key=value'))),
  }),
  output: setting.list({
    short: 'o',
    separator: ' ',
    help: 'where records go; repeat for several (env: space-separated): stdout, file:PATH, http(s)://URL (NDJSON), otlp-http(s)://HOST:PORT, kafka://BROKER[,BROKER]/TOPIC; NAME=TARGET names one',
    metavar: 'TARGET',
    default: ['stdout'],
    group: OUT,
    // one target may be written as a string in the config file
    schema: z.pipe(
      z.transform((v: unknown) => (typeof v === 'string' ? [v] : v)),
      z.array(z.string().check(z.minLength(1))).check(z.minLength(1)),
    ),
  }),
  outputPolicy: setting.list({
    help: 'what an output does when it cannot keep up: block (pause inputs), spool (disk spool), drop (count); POLICY for all or NAME=POLICY',
    metavar: '[NAME=]POLICY',
    default: [],
    group: OUT,
  }),
  batchSize: setting.number({
    help: 'most bytes of records per send',
    default: 1_048_576,
    group: OUT,
    schema: z.number().check(z.int(), z.minimum(1024)),
  }),
  flushInterval: setting.duration({
    help: 'longest wait before a partial batch is sent (HTTP, OTLP, Kafka; stdout and files write at once)',
    default: 1000,
    group: OUT,
  }),
  bufferSize: setting.number({
    help: 'bytes queued in memory per output before inputs pause (block) or batches drop (drop)',
    default: 4_194_304,
    group: OUT,
    schema: z.number().check(z.int(), z.minimum(1024)),
  }),
  retryLimit: setting.number({
    help: 'attempts per batch before it goes to the dead-letter file (or is dropped, policy drop); 0 = retry forever',
    default: 0,
    group: OUT,
    schema: z.number().check(z.int(), z.minimum(0)),
  }),
  retryBase: setting.duration({
    help: 'first retry backoff (doubles, with jitter; a longer Retry-After from the backend wins, up to 5m)',
    default: 200,
    group: OUT,
    schema: zDuration.check(z.refine((v) => v > 0, 'must be above 0')),
  }),
  retryMax: setting.duration({
    help: 'longest retry backoff',
    default: 30_000,
    group: OUT,
    schema: zDuration.check(z.refine((v) => v > 0, 'must be above 0')),
  }),
  spoolDir: setting.string({
    help: 'directory of the disk spools of spool-policy outputs (one subdirectory each)',
    metavar: 'DIR',
    default: '',
    group: OUT,
  }),
  spoolMaxSize: setting.number({
    help: 'most bytes each output spools on disk before inputs pause',
    default: 268_435_456,
    group: OUT,
    schema: z.number().check(z.int(), z.minimum(1 << 16)),
  }),
  deadLetterDir: setting.string({
    help: 'batches refused for good (4xx) or out of retries are appended to DIR/<output>.ndjson; empty = hold and retry them',
    metavar: 'DIR',
    default: '',
    group: OUT,
  }),
  deadLetterMaxSize: setting.number({
    help: 'most bytes per dead-letter file; past it batches are held and retried',
    default: 1_073_741_824,
    group: OUT,
    schema: z.number().check(z.int(), z.minimum(1024)),
  }),
  httpTimeout: setting.duration({
    help: 'request timeout (HTTP and OTLP)',
    default: 10_000,
    group: HTTP,
  }),
  httpHeader: setting.list({
    help: 'extra request header "Name: value" (repeat for more; HTTP and OTLP; redacted in /config)',
    metavar: 'HEADER',
    default: [],
    secret: true,
    group: HTTP,
    schema: z.array(z.string().check(z.regex(HEADER, 'expected "Name: value"'))),
  }),
  httpHeadersFile: setting.string({
    help: 'file of "Name: value" lines added to every request (tokens); watched: a rotated token applies at once',
    metavar: 'FILE',
    default: '',
    group: HTTP,
  }),
  httpTlsCa: setting.string({
    help: 'CA bundle (PEM) to verify https:// and otlp-https:// endpoints (default: the system CAs)',
    metavar: 'FILE',
    default: '',
    group: HTTP,
  }),
  httpTlsCert: setting.string({
    help: 'client certificate (PEM) for mutual TLS to HTTP and OTLP endpoints',
    metavar: 'FILE',
    default: '',
    group: HTTP,
  }),
  httpTlsKey: setting.string({
    help: 'client key (PEM) for mutual TLS to HTTP and OTLP endpoints',
    metavar: 'FILE',
    default: '',
    group: HTTP,
  }),
  otlpEncoding: setting.string({
    help: 'OTLP/HTTP body: protobuf|json',
    default: 'protobuf',
    group: HTTP,
    schema: z.enum(['protobuf', 'json']),
  }),
  otlpCompression: setting.string({
    help: 'OTLP/HTTP body compression: gzip|none',
    default: 'gzip',
    group: HTTP,
    schema: z.enum(['gzip', 'none']),
  }),
  kafkaKey: setting.string({
    help: 'record field whose value keys each message (same key, same partition), e.g. resource.k8s.pod.name; attributes.X falls back to the resource attribute X (empty = no key)',
    metavar: 'FIELD',
    default: '',
    group: KAFKA,
  }),
  kafkaCompression: setting.string({
    help: 'none|gzip|snappy|lz4|zstd',
    default: 'lz4',
    group: KAFKA,
    schema: z.enum(['none', 'gzip', 'snappy', 'lz4', 'zstd']),
  }),
  kafkaClientId: setting.string({
    help: 'client id sent to the brokers',
    default: 'dds-log-adapter',
    group: KAFKA,
    schema: z.string().check(z.minLength(1)),
  }),
  kafkaTimeout: setting.duration({
    help: 'connect and request timeout',
    default: 10_000,
    group: KAFKA,
  }),
  kafkaTls: setting.boolean({
    help: 'connect to the brokers over TLS',
    default: false,
    group: KAFKA,
  }),
  kafkaTlsCa: setting.string({
    help: 'CA bundle for the brokers (PEM); implies --kafka-tls',
    metavar: 'FILE',
    default: '',
    group: KAFKA,
  }),
  kafkaTlsCert: setting.string({
    help: 'client certificate (PEM) for mutual TLS',
    metavar: 'FILE',
    default: '',
    group: KAFKA,
  }),
  kafkaTlsKey: setting.string({
    help: 'client key (PEM) for mutual TLS',
    metavar: 'FILE',
    default: '',
    group: KAFKA,
  }),
  kafkaTlsServerName: setting.string({
    help: 'TLS server name (SNI) to verify',
    default: '',
    group: KAFKA,
  }),
  kafkaSaslMechanism: setting.string({
    help: 'SASL: plain|scram-sha-256|scram-sha-512 (empty = none)',
    default: '',
    group: KAFKA,
    schema: z.enum(['', 'plain', 'scram-sha-256', 'scram-sha-512']),
  }),
  kafkaSaslUsername: setting.string({
    help: 'SASL user name',
    default: '',
    group: KAFKA,
  }),
  kafkaSaslPasswordFile: setting.string({
    help: 'file holding the SASL password (read at each connection)',
    metavar: 'FILE',
    default: '',
    group: KAFKA,
  }),
};

export const flags = flagsOf(settings);

const regexSource = (flags: string) =>
  z.string().check(
    z.superRefine((src, ctx) => {
      try {
        new RegExp(src, flags);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: `invalid regular expression: ${(err as Error).message}` });
      }
    }),
  );

/** A user-defined parser under `parsers:` in the config file. */
const zParser = z
  .strictObject({
    regex: z.optional(regexSource('s')),
    format: z.optional(z.enum(FORMATS)),
    timeKey: z._default(z.string(), 'time'),
    timeFormat: z._default(z.string(), 'rfc3339').check(
      z.superRefine((f, ctx) => {
        const r = compileTimeFormat(f);
        if (typeof r === 'string') ctx.addIssue({ code: 'custom', message: r });
      }),
    ),
    severityKey: z._default(z.string(), 'level'),
    messageKey: z._default(z.string(), 'message'),
    types: z._default(z.record(z.string(), z.enum(['string', 'int', 'float', 'bool'])), {}),
    rename: z._default(z.record(z.string(), z.string().check(z.minLength(1))), {}),
    multiline: z.optional(
      z.strictObject({
        start: regexSource(''),
        timeout: z.optional(zDuration),
        maxLines: z.optional(z.number().check(z.int(), z.minimum(1))),
      }),
    ),
  })
  .check(
    z.superRefine((p, ctx) => {
      if (!p.regex === !p.format)
        ctx.addIssue({ code: 'custom', message: 'a parser has either regex or format' });
      if (p.regex && !/\(\?<[A-Za-z_$][\w$]*>/.test(p.regex))
        ctx.addIssue({ code: 'custom', path: ['regex'], message: 'needs named groups, e.g. (?<level>\\w+)' });
    }),
  );

export type ParserConfig = z.infer<typeof zParser>;

const base = configSchema(settings, {
  parsers: z._default(
    z.record(
      z.string().check(z.regex(/^[A-Za-z0-9_-]+$/, 'parser names use letters, digits, _ and -')),
      zParser,
    ),
    {},
  ),
});

// runs even when a field failed, so one run reports every bad field (the checks guard their inputs)
export const schema = base.check(z.superRefine(checkOutputs, { when: () => true }));

export type LogAdapterConfig = z.infer<typeof schema> & CommonConfig;

/** Cross-field checks: output targets and policies, and what each output kind needs. */
function checkOutputs(c: z.infer<typeof base>, ctx: z.core.$RefinementCtx): void {
  const issue = (path: string, message: string) =>
    ctx.addIssue({
      code: 'custom',
      path: path.split('.').map((p) => (/^\d+$/.test(p) ? Number(p) : p)),
      message,
    });
  const parsers = c.parsers && typeof c.parsers === 'object' ? c.parsers : {};
  const known = (name: string) => name in FORMAT_CHOICES || Object.hasOwn(parsers, name);
  const names = `${FORMATS.join(', ')}${Object.keys(parsers).length ? `, or a parser: ${Object.keys(parsers).join(', ')}` : ''}`;
  if (typeof c.format === 'string' && !known(c.format))
    issue('format', `unknown format or parser "${c.format}" (expected ${names})`);
  if (Array.isArray(c.inputFormat))
    c.inputFormat.forEach((r, i) => {
      const name = typeof r === 'string' ? r.slice(r.lastIndexOf('=') + 1) : '';
      if (name && !known(name)) issue(`inputFormat.${i}`, `unknown format or parser "${name}"`);
    });
  if (!Array.isArray(c.output) || !Array.isArray(c.outputPolicy)) return;
  const targets = resolveTargets(c.output, c.outputPolicy);
  if (!isTargets(targets)) {
    for (const e of targets) issue(e.path, e.message);
    return;
  }
  if (targets.some((t) => t.policy === 'spool') && !c.spoolDir)
    issue('spoolDir', 'an output with policy spool needs --spool-dir');
  if (targets.filter((t) => t.kind === 'stdout').length > 1)
    issue('output', 'stdout can be an output only once');
  if (c.kafkaSaslMechanism && (!c.kafkaSaslUsername || !c.kafkaSaslPasswordFile))
    issue('kafkaSaslMechanism', 'SASL needs --kafka-sasl-username and --kafka-sasl-password-file');
  if (!!c.kafkaTlsCert !== !!c.kafkaTlsKey)
    issue('kafkaTlsCert', '--kafka-tls-cert and --kafka-tls-key go together');
  for (const [path, file] of [
    ['httpHeadersFile', c.httpHeadersFile],
    ['httpTlsCa', c.httpTlsCa],
    ['httpTlsCert', c.httpTlsCert],
    ['httpTlsKey', c.httpTlsKey],
    ['kafkaTlsCa', c.kafkaTlsCa],
    ['kafkaTlsCert', c.kafkaTlsCert],
    ['kafkaTlsKey', c.kafkaTlsKey],
    ['kafkaSaslPasswordFile', c.kafkaSaslPasswordFile],
  ] as const) {
    if (typeof file === 'string' && file && !readable(file)) issue(path, `cannot read ${file}`);
  }
  if (!!c.httpTlsCert !== !!c.httpTlsKey)
    issue('httpTlsCert', '--http-tls-cert and --http-tls-key go together');
  if (c.httpHeadersFile && readable(c.httpHeadersFile)) {
    const bad = readHeaderLines(c.httpHeadersFile).find((l) => !HEADER.test(l));
    if (bad !== undefined) issue('httpHeadersFile', 'every line must be "Name: value"');
  }
}

const isTargets = (t: OutputTarget[] | Array<{ path: string; message: string }>): t is OutputTarget[] =>
  t.length === 0 || 'kind' in t[0]!;

function readable(file: string): boolean {
  try {
    accessSync(file, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

/** The non-empty, non-comment lines of a headers file. */
export function readHeaderLines(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/** `Name: value` strings as a header object. */
export function headerObject(lines: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const h of lines)
    out[h.slice(0, h.indexOf(':')).trim().toLowerCase()] = h.slice(h.indexOf(':') + 1).trim();
  return out;
}
