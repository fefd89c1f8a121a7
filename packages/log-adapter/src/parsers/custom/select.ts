import { matchesGlob, resolve } from 'node:path';
import type { LogAdapterConfig, ParserConfig } from '../../config.js';
import type { PipelineOptions } from '../../pipeline/source-pipeline.js';
import type { PipelineStats } from '../../pipeline/stats.js';
import { resourceMember } from '../../resource.js';
import { ZoneClock } from '../../time/zone-clock.js';
import { ParseContext } from '../context.js';
import { FORMAT_CHOICES, type FormatChoice } from '../formats.js';
import { RegexParser } from './regex-parser.js';
import { compileTimeFormat, type TimeReader } from './time-format.js';

/** Compiles a `parsers:` entry (validated by the config schema, so compiling cannot fail here). */
function compile(p: ParserConfig): Pick<PipelineOptions, 'format' | 'custom' | 'multilineStart'> & {
  timeout?: number;
  maxLines?: number;
} {
  return {
    format: (p.format ?? 'raw') as FormatChoice,
    custom: p.regex
      ? new RegexParser({
          regex: new RegExp(p.regex, 's'),
          timeKey: p.timeKey,
          time: compileTimeFormat(p.timeFormat) as TimeReader,
          severityKey: p.severityKey,
          messageKey: p.messageKey,
          types: p.types,
          rename: p.rename,
        })
      : undefined,
    multilineStart: p.multiline ? new RegExp(p.multiline.start) : undefined,
    timeout: p.multiline?.timeout,
    maxLines: p.multiline?.maxLines,
  };
}

/**
 * Which pipeline options a source gets: the first `--input-format GLOB=NAME` whose glob matches
 * the file's path picks a built-in format or a custom parser; otherwise `--format`.
 */
export function pipelineSelector(
  c: LogAdapterConfig,
  stats: PipelineStats,
  resource: Record<string, string>,
): (path: string) => PipelineOptions {
  const ctx = new ParseContext(new ZoneClock(c.timezone));
  const base = {
    multiline: c.multiline,
    multilineMaxLines: c.multilineMaxLines,
    multilineTimeout: c.multilineTimeout,
    maxLineLength: c.maxLineLength,
    ctx,
    resource,
    resourceJson: resourceMember(resource),
    stats,
  };
  const byName = (name: string): PipelineOptions => {
    if (name in FORMAT_CHOICES) return { ...base, format: name as FormatChoice, label: name };
    const p = compile(c.parsers[name]!);
    return {
      ...base,
      ...p,
      label: name,
      multilineTimeout: p.timeout ?? c.multilineTimeout,
      multilineMaxLines: p.maxLines ?? c.multilineMaxLines,
    };
  };
  const rules = c.inputFormat.map((r) => {
    const eq = r.lastIndexOf('=');
    return { glob: resolve(r.slice(0, eq)), options: byName(r.slice(eq + 1)) };
  });
  const fallback = byName(c.format);
  return (path) => {
    if (path === '-') return fallback;
    for (const r of rules) if (matchesGlob(path, r.glob)) return r.options;
    return fallback;
  };
}
