import { Counter, Gauge, METRIC_PREFIX, type Registry } from '@dds/core/metrics';
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

export interface OutputMetrics {
  sent: Counter<'output'>;
  dropped: Counter<'reason'>;
  retries: Counter;
  fileEvents: Counter<'event'>;
}

export function registerMetrics(
  registry: Registry,
  stats: PipelineStats,
  lag: () => { bytes: number; seconds: number; files: number },
): OutputMetrics {
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
  return {
    sent: new Counter({
      name: `${P}records_sent_total`,
      help: 'Records the output accepted (written, or delivered to the HTTP endpoint).',
      labelNames: ['output'],
      registers: [registry],
    }),
    dropped: new Counter({
      name: `${P}records_dropped_total`,
      help: 'Records given up on: endpoint rejected them, retries exhausted, or buffer full with --http-overflow drop.',
      labelNames: ['reason'],
      registers: [registry],
    }),
    retries: new Counter({
      name: `${P}http_retries_total`,
      help: 'HTTP batch retries.',
      registers: [registry],
    }),
    fileEvents: new Counter({
      name: `${P}file_events_total`,
      help: 'Files opened, rotated away, truncated (copytruncate) and closed.',
      labelNames: ['event'],
      registers: [registry],
    }),
  };
}
