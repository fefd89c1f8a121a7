import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ParseContext } from '../../../log-adapter/src/parsers/context.js';
import type { FormatChoice } from '../../../log-adapter/src/parsers/formats.js';
import { LineSplitter } from '../../../log-adapter/src/pipeline/line-splitter.js';
import { type PipelineOptions, SourcePipeline } from '../../../log-adapter/src/pipeline/source-pipeline.js';
import { PipelineStats } from '../../../log-adapter/src/pipeline/stats.js';
import { ZoneClock } from '../../../log-adapter/src/time/zone-clock.js';
import { ROOT } from '../process.js';

/** The log-adapter's real-format sample logs. */
export const FIXTURES = join(ROOT, 'packages/log-adapter/src/__fixtures__');

export interface RunOptions {
  format?: FormatChoice;
  zone?: string;
  maxLineLength?: number;
  multiline?: boolean;
  sourceAttrs?: string;
  now?: number;
  /** extra pipeline options (a custom parser, a multiline start pattern) */
  options?: Partial<PipelineOptions>;
}

/** Runs bytes through splitter + pipeline in-process; returns the JSON lines and the stats. */
export function runPipeline(
  input: Buffer | string,
  o: RunOptions = {},
): { lines: string[]; stats: PipelineStats } {
  const stats = new PipelineStats();
  const ctx = new ParseContext(new ZoneClock(o.zone ?? 'UTC'));
  if (o.now !== undefined) ctx.now = () => o.now!;
  const pipeline = new SourcePipeline(
    {
      format: o.format ?? 'auto',
      label: o.format ?? 'auto',
      multilineTimeout: 500,
      multiline: o.multiline ?? true,
      multilineMaxLines: 1000,
      maxLineLength: o.maxLineLength ?? 65536,
      ctx,
      resource: {},
      resourceJson: '',
      stats,
      ...o.options,
    },
    o.sourceAttrs ?? '',
  );
  const splitter = new LineSplitter(o.maxLineLength ?? 65536);
  const buf = typeof input === 'string' ? Buffer.from(input) : input;
  splitter.push(buf, 0, pipeline, '2026-11-28T16:00:00.000Z');
  splitter.flush(pipeline, '2026-11-28T16:00:00.000Z');
  pipeline.flush(true);
  const out = pipeline.take();
  return { lines: out === '' ? [] : out.slice(0, -1).split('\n'), stats };
}

/** Records of a fixture file, parsed, without the (run-dependent) observed_timestamp. */
export function fixtureRecords(name: string, o: RunOptions = {}): Array<Record<string, unknown>> {
  return runPipeline(readFileSync(join(FIXTURES, name)), o).lines.map((l) => {
    const r = JSON.parse(l) as Record<string, unknown>;
    delete r.observed_timestamp;
    return r;
  });
}
