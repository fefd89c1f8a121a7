import { Counter, Gauge, METRIC_PREFIX, type Registry } from '@dds/core/metrics';
import type { OutputStats } from './outputs/output-queue.js';
import { FORMAT_NAMES } from './parsers/formats.js';
import type { PipelineStats } from './pipeline/stats.js';

const P = `${METRIC_PREFIX}log_adapter_`;

/** A counter mirrored from a plain number on each scrape (the hot path never calls prom-client). */
function mirrored(registry: Registry, name: string, help: string, read: () => number): void {
  let last = 0;
  new Counter({
    name: P + name,
    help,
    registers: [registry],
    collect() {
      const v = read();
      if (v > last) this.inc(v - last);
      last = v;
    },
  });
}

export interface AdapterMetrics {
  fileEvents: Counter<'event'>;
  /** the stats one output reports into, labelled with its name */
  forOutput(name: string, pending: () => number): OutputStats;
  positionWriteFailures: Counter;
  skippedFiles: Counter<'reason'>;
}

export function registerMetrics(
  registry: Registry,
  stats: PipelineStats,
  lag: () => { bytes: number; seconds: number; files: number },
): AdapterMetrics {
  mirrored(
    registry,
    'lines_read_total',
    'Lines read from all inputs (physical lines, before joining).',
    () => stats.linesRead,
  );
  mirrored(registry, 'bytes_read_total', 'Bytes read from all inputs.', () => stats.bytesRead);
  mirrored(
    registry,
    'records_total',
    'Records produced (after joining partial chunks and stack traces).',
    () => stats.records,
  );
  mirrored(
    registry,
    'lines_truncated_total',
    'Lines or records cut at --max-line-length.',
    () => stats.truncated,
  );
  const parsedLast = FORMAT_NAMES.map(() => 0);
  new Counter({
    name: `${P}lines_parsed_total`,
    help: 'Records parsed, by the format that understood them.',
    labelNames: ['format'],
    registers: [registry],
    collect() {
      FORMAT_NAMES.forEach((f, i) => {
        const v = stats.parsed[i]!;
        this.inc({ format: f }, v - parsedLast[i]!);
        parsedLast[i] = v;
      });
    },
  });
  const failedLast = new Map<string, number>();
  new Counter({
    name: `${P}lines_failed_total`,
    help: 'Records no parser understood (passed through with dds.parse_error), by configured format.',
    labelNames: ['format'],
    registers: [registry],
    collect() {
      for (const [f, v] of stats.failed) {
        this.inc({ format: f }, v - (failedLast.get(f) ?? 0));
        failedLast.set(f, v);
      }
    },
  });
  new Gauge({
    name: `${P}lag_bytes`,
    help: 'Bytes of followed files not yet accepted by the output.',
    registers: [registry],
    collect() {
      this.set(lag().bytes);
    },
  });
  new Gauge({
    name: `${P}lag_seconds`,
    help: 'Seconds since the slowest followed file with unread data was last read to its end.',
    registers: [registry],
    collect() {
      this.set(lag().seconds);
    },
  });
  new Gauge({
    name: `${P}files_followed`,
    help: 'Files currently followed (including rotated files still being read).',
    registers: [registry],
    collect() {
      this.set(lag().files);
    },
  });
  const sent = new Counter({
    name: `${P}records_sent_total`,
    help: 'Records an output delivered (written, or accepted by the backend).',
    labelNames: ['output'],
    registers: [registry],
  });
  const dropped = new Counter({
    name: `${P}records_dropped_total`,
    help: 'Records an output with policy drop gave up on: queue_full, rejected (refused for good), retries_exhausted.',
    labelNames: ['output', 'reason'],
    registers: [registry],
  });
  const deadLettered = new Counter({
    name: `${P}records_dead_lettered_total`,
    help: 'Records written to the dead-letter file: rejected (refused for good) or retries_exhausted.',
    labelNames: ['output', 'reason'],
    registers: [registry],
  });
  const rejected = new Counter({
    name: `${P}records_rejected_total`,
    help: 'Records the backend refused inside an accepted batch (OTLP partial_success); not retried.',
    labelNames: ['output'],
    registers: [registry],
  });
  const retries = new Counter({
    name: `${P}output_retries_total`,
    help: 'Batch send retries.',
    labelNames: ['output'],
    registers: [registry],
  });
  const blocked = new Gauge({
    name: `${P}output_blocked`,
    help: '1 while an output holds a batch it can neither deliver nor dead-letter (inputs wait).',
    labelNames: ['output'],
    registers: [registry],
  });
  const pendingFns = new Map<string, () => number>();
  new Gauge({
    name: `${P}output_pending_bytes`,
    help: 'Bytes of records waiting in an output (memory queue and disk spool).',
    labelNames: ['output'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [name, fn] of pendingFns) this.set({ output: name }, fn());
    },
  });
  return {
    fileEvents: new Counter({
      name: `${P}file_events_total`,
      help: 'Files opened, rotated away, truncated (copytruncate) and closed.',
      labelNames: ['event'],
      registers: [registry],
    }),
    positionWriteFailures: new Counter({
      name: `${P}position_write_failures_total`,
      help: 'Failed writes of the position file (retried at the next sync).',
      registers: [registry],
    }),
    skippedFiles: new Counter({
      name: `${P}files_skipped_total`,
      help: 'Files matched by --input but not followed: outside_allowed_roots.',
      labelNames: ['reason'],
      registers: [registry],
    }),
    forOutput(output, pending) {
      pendingFns.set(output, pending);
      // every series an output can move is exported from the start, at 0 (a scrape, an alert or
      // a test reads 0, not a missing series)
      sent.inc({ output }, 0);
      for (const reason of ['queue_full', 'rejected', 'retries_exhausted'])
        dropped.inc({ output, reason }, 0);
      retries.inc({ output }, 0);
      blocked.set({ output }, 0);
      return {
        sent: (n) => sent.inc({ output }, n),
        dropped: (n, reason) => dropped.inc({ output, reason }, n),
        deadLettered: (n, reason) => deadLettered.inc({ output, reason }, n),
        rejected: (n) => rejected.inc({ output }, n),
        retried: () => retries.inc({ output }),
        blocked: (on) => blocked.set({ output }, on ? 1 : 0),
      };
    },
  };
}
