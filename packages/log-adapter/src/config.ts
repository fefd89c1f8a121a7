import type { FlagSpec } from '@dds/core/config/flags';
import { type CommonConfig, commonSchema, zDuration } from '@dds/core/config/schemas';
import { z } from 'zod';
import { FORMAT_CHOICES, type FormatChoice } from './parsers/formats.js';

const FORMATS = Object.keys(FORMAT_CHOICES) as [FormatChoice, ...FormatChoice[]];
const IN = 'Input';
const PARSE = 'Parsing';
const OUT = 'Output';
const HTTP = 'HTTP output';

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
    name: 'format',
    short: 'f',
    type: 'string',
    help: `line format: ${FORMATS.join('|')}`,
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
    type: 'string',
    help: 'stdout, file:PATH, or an http(s):// URL that takes NDJSON POSTs',
    metavar: 'TARGET',
    default: 'stdout',
    group: OUT,
  },
  { name: 'http-batch-size', type: 'number', help: 'most bytes per POST', default: 1_048_576, group: HTTP },
  {
    name: 'http-flush-interval',
    type: 'duration',
    help: 'longest wait before a partial batch is sent',
    default: 1000,
    group: HTTP,
  },
  {
    name: 'http-buffer-size',
    type: 'number',
    help: 'bytes queued for the endpoint before inputs pause (or batches drop)',
    default: 16_777_216,
    group: HTTP,
  },
  {
    name: 'http-overflow',
    type: 'string',
    help: 'full buffer: block (pause inputs, lose nothing) or drop (count in dds_log_adapter_records_dropped_total)',
    default: 'block',
    group: HTTP,
  },
  {
    name: 'http-retry-limit',
    type: 'number',
    help: 'attempts per batch before it is dropped; 0 = forever',
    default: 10,
    group: HTTP,
  },
  {
    name: 'http-retry-base',
    type: 'duration',
    help: 'first retry backoff (doubles, with jitter)',
    default: 200,
    group: HTTP,
  },
  { name: 'http-retry-max', type: 'duration', help: 'longest retry backoff', default: 30_000, group: HTTP },
  { name: 'http-timeout', type: 'duration', help: 'request timeout', default: 10_000, group: HTTP },
  {
    name: 'http-header',
    type: 'list',
    help: 'extra request header "Name: value" (repeat for more)',
    metavar: 'HEADER',
    default: [],
    secret: true,
    group: HTTP,
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

export const schema = z.strictObject({
  ...commonSchema,
  input: z.array(z.string().min(1)).min(1),
  exclude: z.array(z.string()),
  positionFile: z.string(),
  positionSync: zDuration,
  pollInterval: zDuration.refine((v) => v >= 10, 'at least 10ms'),
  readFrom: z.enum(['head', 'tail']),
  rotateWait: zDuration,
  fingerprintSize: z
    .number()
    .int()
    .min(16)
    .max(1 << 20),
  format: z.enum(FORMATS),
  maxLineLength: z
    .number()
    .int()
    .min(256)
    .max(64 << 20),
  multiline: z.boolean(),
  multilineTimeout: zDuration,
  multilineMaxLines: z.number().int().min(1),
  timezone: z.string().refine(validZone, 'unknown IANA time zone'),
  resource: z.array(z.string().regex(/^[^=]+=.*$/, 'expected key=value')),
  output: z
    .string()
    .refine(
      (s) => s === 'stdout' || /^file:.+/.test(s) || /^https?:\/\/[^/\s]+/.test(s),
      'expected stdout, file:PATH or http(s)://URL',
    ),
  httpBatchSize: z.number().int().min(1024),
  httpFlushInterval: zDuration,
  httpBufferSize: z.number().int().min(1024),
  httpOverflow: z.enum(['block', 'drop']),
  httpRetryLimit: z.number().int().min(0),
  httpRetryBase: zDuration,
  httpRetryMax: zDuration,
  httpTimeout: zDuration,
  httpHeader: z.array(z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+:\s*.*$/, 'expected "Name: value"')),
});

export type LogAdapterConfig = z.infer<typeof schema> & CommonConfig;
