import { accessSync, constants, readFileSync } from 'node:fs';
import { type CommonConfig, commonSchema } from '@dds/core/config/common-flags';
import type { FlagSpec } from '@dds/core/config/flags';
import { zDuration } from '@dds/core/config/schemas';
import * as z from '@dds/core/config/zod';
import { TCHAR } from '@dds/core/http/field-syntax';
import { type OutputTarget, resolveTargets } from './outputs/targets.js';
import { compileTimeFormat } from './parsers/custom/time-format.js';
import { FORMAT_CHOICES, type FormatChoice } from './parsers/formats.js';

const FORMATS = Object.keys(FORMAT_CHOICES) as [FormatChoice, ...FormatChoice[]];
const IN = 'Input';
const PARSE = 'Parsing';
const OUT = 'Output';
const HTTP = 'HTTP and OTLP outputs';
const KAFKA = 'Kafka output';

export const flags: FlagSpec[] = [
  {
    name: 'input',
    short: 'i',
    type: 'list',
    help: 'files to follow: globs (quote them), comma-separated or repeated; "-" reads stdin',
    metavar: 'GLOB',
    default: ['-'],
    group: IN,
  },
  {
    name: 'exclude',
    type: 'list',
    help: 'paths matched by --input to skip',
    metavar: 'PATH',
    default: [],
    group: IN,
  },
  {
    name: 'position-file',
    type: 'string',
    help: 'where read offsets are kept across restarts (put it on the shared volume); empty = none',
    metavar: 'FILE',
    default: '',
    group: IN,
  },
  {
    name: 'position-sync',
    type: 'duration',
    help: 'how often accepted offsets are saved',
    default: 1000,
    group: IN,
  },
  {
    name: 'poll-interval',
    type: 'duration',
    help: 'how often globs and files are checked',
    default: 250,
    group: IN,
  },
  {
    name: 'read-from',
    type: 'string',
    help: 'files present at the first start without a saved position: head|tail',
    default: 'head',
    group: IN,
  },
  {
    name: 'rotate-wait',
    type: 'duration',
    help: 'keep reading a rotated-away or deleted file this long for late writes',
    default: 5000,
    group: IN,
  },
  {
    name: 'fingerprint-size',
    type: 'number',
    help: 'bytes at the start of a file hashed to recognise it',
    default: 1024,
    group: IN,
  },
  {
    name: 'allowed-root',
    type: 'list',
    help: 'follow only files whose real path (symlinks resolved) is under one of these directories',
    metavar: 'DIR',
    default: [],
    group: IN,
  },
  {
    name: 'input-format',
    type: 'list',
    help: 'format or custom parser per input: GLOB=NAME (first match wins; others use --format)',
    metavar: 'GLOB=NAME',
    default: [],
    group: PARSE,
  },
  {
    name: 'format',
    short: 'f',
    type: 'string',
    help: `line format: ${FORMATS.join('|')}, or a parser defined under parsers: in the config file`,
    default: 'auto',
    group: PARSE,
  },
  {
    name: 'max-line-length',
    type: 'number',
    help: 'longer lines (and joined records) are cut and marked dds.truncated',
    default: 65536,
    group: PARSE,
  },
  {
    name: 'multiline',
    type: 'boolean',
    help: 'join stack traces into the record before them',
    default: true,
    group: PARSE,
  },
  {
    name: 'multiline-timeout',
    type: 'duration',
    help: 'how long a warning/error record waits for stack-trace lines at the end of input',
    default: 500,
    group: PARSE,
  },
  {
    name: 'multiline-max-lines',
    type: 'number',
    help: 'most lines joined into one record',
    default: 1000,
    group: PARSE,
  },
  {
    name: 'timezone',
    type: 'string',
    help: 'IANA zone of timestamps written without one (Redis, MariaDB, nginx error, syslog)',
    default: 'UTC',
    group: PARSE,
  },
  {
    name: 'resource',
    type: 'list',
    help: 'extra resource attributes key=value (besides the Downward API env and OTEL_RESOURCE_ATTRIBUTES)',
    metavar: 'K=V',
    default: [],
    group: OUT,
  },
  {
    name: 'output',
    short: 'o',
    type: 'list',
    separator: ' ',
    help: 'where records go; repeat for several (env: space-separated): stdout, file:PATH, http(s)://URL (NDJSON), otlp-http(s)://HOST:PORT, kafka://BROKER[,BROKER]/TOPIC; NAME=TARGET names one',
    metavar: 'TARGET',
    default: ['stdout'],
    group: OUT,
  },
  {
    name: 'output-policy',
    type: 'list',
    help: 'what an output does when it cannot keep up: block (pause inputs), spool (disk spool), drop (count); POLICY for all or NAME=POLICY',
    metavar: '[NAME=]POLICY',
    default: [],
    group: OUT,
  },
  {
    name: 'batch-size',
    type: 'number',
    help: 'most bytes of records per send',
    default: 1_048_576,
    group: OUT,
  },
  {
    name: 'flush-interval',
    type: 'duration',
    help: 'longest wait before a partial batch is sent (HTTP, OTLP, Kafka)',
    default: 1000,
    group: OUT,
  },
  {
    name: 'buffer-size',
    type: 'number',
    help: 'bytes queued in memory per output before inputs pause (block) or batches drop (drop)',
    default: 16_777_216,
    group: OUT,
  },
  {
    name: 'retry-limit',
    type: 'number',
    help: 'attempts per batch before it goes to the dead-letter file (or is dropped, policy drop); 0 = retry forever',
    default: 0,
    group: OUT,
  },
  {
    name: 'retry-base',
    type: 'duration',
    help: 'first retry backoff (doubles, with jitter)',
    default: 200,
    group: OUT,
  },
  { name: 'retry-max', type: 'duration', help: 'longest retry backoff', default: 30_000, group: OUT },
  {
    name: 'spool-dir',
    type: 'string',
    help: 'directory of the disk spools of spool-policy outputs (one subdirectory each)',
    metavar: 'DIR',
    default: '',
    group: OUT,
  },
  {
    name: 'spool-max-size',
    type: 'number',
    help: 'most bytes each output spools on disk before inputs pause',
    default: 268_435_456,
    group: OUT,
  },
  {
    name: 'dead-letter-dir',
    type: 'string',
    help: 'batches refused for good (4xx) or out of retries are appended to DIR/<output>.ndjson; empty = hold and retry them',
    metavar: 'DIR',
    default: '',
    group: OUT,
  },
  {
    name: 'dead-letter-max-size',
    type: 'number',
    help: 'most bytes per dead-letter file; past it batches are held and retried',
    default: 1_073_741_824,
    group: OUT,
  },
  {
    name: 'http-timeout',
    type: 'duration',
    help: 'request timeout (HTTP and OTLP)',
    default: 10_000,
    group: HTTP,
  },
  {
    name: 'http-header',
    type: 'list',
    help: 'extra request header "Name: value" (repeat for more; HTTP and OTLP)',
    metavar: 'HEADER',
    default: [],
    secret: true,
    group: HTTP,
  },
  {
    name: 'http-headers-file',
    type: 'string',
    help: 'file of "Name: value" lines added to every request (tokens); watched: a rotated token applies at once',
    metavar: 'FILE',
    default: '',
    group: HTTP,
  },
  {
    name: 'http-tls-ca',
    type: 'string',
    help: 'CA bundle (PEM) to verify https:// and otlp-https:// endpoints (default: the system CAs)',
    metavar: 'FILE',
    default: '',
    group: HTTP,
  },
  {
    name: 'http-tls-cert',
    type: 'string',
    help: 'client certificate (PEM) for mutual TLS to HTTP and OTLP endpoints',
    metavar: 'FILE',
    default: '',
    group: HTTP,
  },
  {
    name: 'http-tls-key',
    type: 'string',
    help: 'client key (PEM) for mutual TLS to HTTP and OTLP endpoints',
    metavar: 'FILE',
    default: '',
    group: HTTP,
  },
  {
    name: 'otlp-encoding',
    type: 'string',
    help: 'OTLP/HTTP body: protobuf|json',
    default: 'protobuf',
    group: HTTP,
  },
  {
    name: 'otlp-compression',
    type: 'string',
    help: 'OTLP/HTTP body compression: gzip|none',
    default: 'gzip',
    group: HTTP,
  },
  {
    name: 'kafka-key',
    type: 'string',
    help: 'record field whose value keys each message, e.g. attributes.k8s.pod.name (empty = no key)',
    metavar: 'FIELD',
    default: '',
    group: KAFKA,
  },
  {
    name: 'kafka-compression',
    type: 'string',
    help: 'none|gzip|snappy|lz4|zstd',
    default: 'lz4',
    group: KAFKA,
  },
  {
    name: 'kafka-client-id',
    type: 'string',
    help: 'client id sent to the brokers',
    default: 'dds-log-adapter',
    group: KAFKA,
  },
  {
    name: 'kafka-timeout',
    type: 'duration',
    help: 'connect and request timeout',
    default: 10_000,
    group: KAFKA,
  },
  {
    name: 'kafka-tls',
    type: 'boolean',
    help: 'connect to the brokers over TLS',
    default: false,
    group: KAFKA,
  },
  {
    name: 'kafka-tls-ca',
    type: 'string',
    help: 'CA bundle for the brokers (PEM); implies --kafka-tls',
    metavar: 'FILE',
    default: '',
    group: KAFKA,
  },
  {
    name: 'kafka-tls-cert',
    type: 'string',
    help: 'client certificate (PEM) for mutual TLS',
    metavar: 'FILE',
    default: '',
    group: KAFKA,
  },
  {
    name: 'kafka-tls-key',
    type: 'string',
    help: 'client key (PEM) for mutual TLS',
    metavar: 'FILE',
    default: '',
    group: KAFKA,
  },
  {
    name: 'kafka-tls-server-name',
    type: 'string',
    help: 'TLS server name (SNI) to verify',
    default: '',
    group: KAFKA,
  },
  {
    name: 'kafka-sasl-mechanism',
    type: 'string',
    help: 'SASL: plain|scram-sha-256|scram-sha-512 (empty = none)',
    default: '',
    group: KAFKA,
  },
  { name: 'kafka-sasl-username', type: 'string', help: 'SASL user name', default: '', group: KAFKA },
  {
    name: 'kafka-sasl-password-file',
    type: 'string',
    help: 'file holding the SASL password (read at each connection)',
    metavar: 'FILE',
    default: '',
    group: KAFKA,
  },
];

const validZone = (z: string): boolean => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: z });
    return true;
  } catch {
    return false;
  }
};

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

const HEADER = new RegExp(`^${TCHAR}+:\\s*.*$`);

const base = z.strictObject({
  ...commonSchema,
  input: z.array(z.string().check(z.minLength(1))).check(z.minLength(1)),
  exclude: z.array(z.string()),
  positionFile: z.string(),
  positionSync: zDuration,
  pollInterval: zDuration.check(z.refine((v) => v >= 10, 'at least 10ms')),
  readFrom: z.enum(['head', 'tail']),
  rotateWait: zDuration,
  fingerprintSize: z.number().check(z.int(), z.minimum(16), z.maximum(1 << 20)),
  allowedRoot: z.array(z.string().check(z.minLength(1))),
  inputFormat: z.array(z.string().check(z.regex(/^.+=[A-Za-z0-9_-]+$/, 'expected GLOB=NAME'))),
  format: z.string(),
  parsers: z._default(
    z.record(
      z.string().check(z.regex(/^[A-Za-z0-9_-]+$/, 'parser names use letters, digits, _ and -')),
      zParser,
    ),
    {},
  ),
  maxLineLength: z.number().check(z.int(), z.minimum(256), z.maximum(64 << 20)),
  multiline: z.boolean(),
  multilineTimeout: zDuration,
  multilineMaxLines: z.number().check(z.int(), z.minimum(1)),
  timezone: z.string().check(z.refine(validZone, 'unknown IANA time zone')),
  resource: z.array(z.string().check(z.regex(/^[^=]+=.*$/, 'expected key=value'))),
  // one target may be written as a string in the config file
  output: z.pipe(
    z.transform((v: unknown) => (typeof v === 'string' ? [v] : v)),
    z.array(z.string().check(z.minLength(1))).check(z.minLength(1)),
  ),
  outputPolicy: z.array(z.string()),
  batchSize: z.number().check(z.int(), z.minimum(1024)),
  flushInterval: zDuration,
  bufferSize: z.number().check(z.int(), z.minimum(1024)),
  retryLimit: z.number().check(z.int(), z.minimum(0)),
  retryBase: zDuration.check(z.refine((v) => v > 0, 'must be above 0')),
  retryMax: zDuration.check(z.refine((v) => v > 0, 'must be above 0')),
  spoolDir: z.string(),
  spoolMaxSize: z.number().check(z.int(), z.minimum(1 << 16)),
  deadLetterDir: z.string(),
  deadLetterMaxSize: z.number().check(z.int(), z.minimum(1024)),
  httpTimeout: zDuration,
  httpHeader: z.array(z.string().check(z.regex(HEADER, 'expected "Name: value"'))),
  httpHeadersFile: z.string(),
  httpTlsCa: z.string(),
  httpTlsCert: z.string(),
  httpTlsKey: z.string(),
  otlpEncoding: z.enum(['protobuf', 'json']),
  otlpCompression: z.enum(['gzip', 'none']),
  kafkaKey: z.string(),
  kafkaCompression: z.enum(['none', 'gzip', 'snappy', 'lz4', 'zstd']),
  kafkaClientId: z.string().check(z.minLength(1)),
  kafkaTimeout: zDuration,
  kafkaTls: z.boolean(),
  kafkaTlsCa: z.string(),
  kafkaTlsCert: z.string(),
  kafkaTlsKey: z.string(),
  kafkaTlsServerName: z.string(),
  kafkaSaslMechanism: z.enum(['', 'plain', 'scram-sha-256', 'scram-sha-512']),
  kafkaSaslUsername: z.string(),
  kafkaSaslPasswordFile: z.string(),
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
