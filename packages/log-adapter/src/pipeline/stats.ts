import { FORMAT_NAMES } from '../parsers/formats.js';

/**
 * Hot-path counters as plain numbers; the metrics module publishes them on scrape, so a line
 * costs an array increment, not a prom-client call.
 */
export class PipelineStats {
  linesRead = 0;
  bytesRead = 0;
  records = 0;
  truncated = 0;
  /** records per detected format (index = format id) */
  readonly parsed: number[] = FORMAT_NAMES.map(() => 0);
  /** records no parser understood, by configured format */
  readonly failed = new Map<string, number>();
  /** epoch ms of the newest record's own timestamp, for lag in seconds */
  lastRecordTime = 0;

  fail(format: string): void {
    this.failed.set(format, (this.failed.get(format) ?? 0) + 1);
  }
}
