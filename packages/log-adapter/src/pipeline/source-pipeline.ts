import { ContainerLine } from '../container/container-line.js';
import { unwrapCri } from '../container/cri.js';
import { unwrapDockerJson } from '../container/docker-json.js';
import type { ParseContext } from '../parsers/context.js';
import type { RegexParser } from '../parsers/custom/regex-parser.js';
import { AUTO, F, FORMAT_CHOICES, type FormatChoice, parseAs, parseAuto, RAW } from '../parsers/formats.js';
import { K, LogRecord, toJsonLine } from '../record.js';
import { resourceMember } from '../resource.js';
import { continues, isExceptionHeader, nameException } from './stack-trace.js';
import type { PipelineStats } from './stats.js';

export interface PipelineOptions {
  format: FormatChoice;
  /** name of the format or custom parser (metrics label of records no parser understood) */
  label: string;
  /** a user-defined regex parser, tried instead of the format */
  custom?: RegexParser;
  /** multiline rule: a line matching this starts a record; other lines join the one before */
  multilineStart?: RegExp;
  /** how long a held record waits for more lines when the input pauses */
  multilineTimeout: number;
  /** join stack traces and other continuation lines into the record before them */
  multiline: boolean;
  /** most lines one record may join */
  multilineMaxLines: number;
  /** longest record body / joined record, in characters */
  maxLineLength: number;
  ctx: ParseContext;
  /** resource attributes of every record (the pod's) */
  resource: Record<string, string>;
  /** the same as the constant `,"resource":{...}` member, or '' */
  resourceJson: string;
  stats: PipelineStats;
}

const CUSTOM = -3;
const PY_TRACEBACK = 'Traceback (most recent call last):';

/**
 * Per output stream of a source (stdout/stderr in container logs): partial chunks and the last
 * record, held until the next line shows whether it continues. Each held item remembers where
 * its first raw line starts (chunk text + char index, turned into a byte offset only on demand),
 * so the position file never moves past a line that has not been written out.
 */
class StreamState {
  partial = '';
  pending: LogRecord | null = null;
  // start of the held partial chunks
  qText = '';
  qChar = 0;
  qBase = 0;
  // start of the pending record
  pText = '';
  pChar = 0;
  pBase = 0;
  /** lines joined so far by a start-pattern multiline rule (null: none held) */
  mlText: string | null = null;
  mlLines = 0;
}

const offsetOf = (text: string, char: number, base: number): number =>
  base + (char === 0 ? 0 : Buffer.byteLength(text.slice(0, char)));

/**
 * Everything between a source's raw lines and JSON lines: container unwrapping (CRI, Docker
 * json-file, joining partial chunks), parsing, multi-line joining, serialization. One per
 * source, because partial chunks and stack traces must not mix across files.
 */
export class SourcePipeline {
  /** read time of the lines being processed (set per chunk: one clock read per chunk) */
  observed = '';
  private out = '';
  private readonly streams = new Map<string, StreamState>();
  private readonly plain = new StreamState();
  private readonly cl = new ContainerLine();
  private readonly formatId: number;
  private readonly container: 'auto' | 'cri' | 'docker';
  private readonly failLabel: string;

  private readonly resource: string;

  constructor(
    readonly opts: PipelineOptions,
    /** source attributes as JSON members with a leading comma (`,"log.file.path":"..."`) */
    private readonly sourceAttrs: string,
    /** resource attributes of this source beyond the pod's (a kubelet log path names its container) */
    sourceResource: Record<string, string> = {},
  ) {
    this.formatId = opts.custom ? CUSTOM : FORMAT_CHOICES[opts.format];
    this.container = opts.format === 'cri' ? 'cri' : opts.format === 'docker' ? 'docker' : 'auto';
    this.failLabel = opts.label;
    this.resource = Object.keys(sourceResource).length
      ? resourceMember({ ...opts.resource, ...sourceResource })
      : opts.resourceJson;
  }

  private chunkText = '';
  private chunkBase = 0;

  /** Lines that follow come from `text`, which starts at byte `base` of the source. */
  beginChunk(text: string, base: number, observed: string): void {
    this.chunkText = text;
    this.chunkBase = base;
    this.observed = observed;
  }

  /**
   * One raw line (without its `\n`; a `\r` before it is removed here) starting at char `at` of
   * the current chunk text; `originalSize` > 0 when the reader already cut it.
   */
  line(raw: string, at = 0, originalSize = 0): void {
    const stats = this.opts.stats;
    stats.linesRead++;
    let text = raw.charCodeAt(raw.length - 1) === 13 ? raw.slice(0, -1) : raw;
    let st = this.plain;
    let ctime = '';
    let stream = '';
    let joinedPartial = false;
    if (this.unwrap(text)) {
      const cl = this.cl;
      st = this.streamState(cl.stream);
      if (cl.partial && st.partial.length + cl.message.length < this.opts.maxLineLength) {
        if (st.partial === '') {
          st.qText = this.chunkText;
          st.qChar = at;
          st.qBase = this.chunkBase;
        }
        st.partial += cl.message;
        return;
      }
      text = st.partial + cl.message;
      if (st.partial !== '') {
        st.partial = '';
        joinedPartial = true;
      }
      ctime = cl.time;
      stream = cl.stream;
    }
    if (this.opts.multilineStart) {
      this.startPatternLine(text, st, at, joinedPartial, originalSize);
      return;
    }
    const prev = st.pending;
    if (prev !== null && prev.lines < this.opts.multilineMaxLines && continues(text, prev)) {
      if (prev.stack.length + text.length < this.opts.maxLineLength) {
        prev.stack = prev.stack === '' ? text : `${prev.stack}\n${text}`;
      } else if (!prev.attrs.includes(K.truncated)) prev.raw(K.truncated, true);
      prev.lines++;
      return;
    }
    const rec = this.parse(text, originalSize);
    if (ctime !== '' && rec.time === '') rec.time = ctime;
    if (stream !== '') rec.str(K.iostream, stream);
    if (prev !== null) this.emit(prev, st);
    if (this.opts.multiline && rec.holdable) {
      st.pending = rec;
      this.holdFrom(st, at, joinedPartial);
    } else this.emit(rec, st);
  }

  /** Multiline by a start pattern: a matching line begins a record, the others join it. */
  private startPatternLine(
    text: string,
    st: StreamState,
    at: number,
    joinedPartial: boolean,
    cut: number,
  ): void {
    if (
      st.mlText !== null &&
      !this.opts.multilineStart!.test(text) &&
      st.mlLines < this.opts.multilineMaxLines &&
      st.mlText.length + text.length < this.opts.maxLineLength
    ) {
      st.mlText += `\n${text}`;
      st.mlLines++;
      return;
    }
    if (st.mlText !== null) this.emitJoined(st);
    if (cut > 0) {
      // a line cut at --max-line-length is a record of its own, marked as such
      this.emit(this.parse(text, cut), st);
      return;
    }
    st.mlText = text;
    st.mlLines = 1;
    this.holdFrom(st, at, joinedPartial);
  }

  /** Remembers where the held record's first raw line starts (its partial chunks' start, if joined). */
  private holdFrom(st: StreamState, at: number, joinedPartial: boolean): void {
    if (joinedPartial) {
      st.pText = st.qText;
      st.pChar = st.qChar;
      st.pBase = st.qBase;
    } else {
      st.pText = this.chunkText;
      st.pChar = at;
      st.pBase = this.chunkBase;
    }
  }

  private emitJoined(st: StreamState): void {
    const rec = this.parse(st.mlText!, 0);
    rec.lines = st.mlLines;
    st.mlText = null;
    this.emit(rec, st);
  }

  private unwrap(text: string): boolean {
    const c = text.charCodeAt(0);
    const ctx = this.opts.ctx;
    if (this.container === 'auto') {
      if (c === 123) return text.startsWith('{"log":') && unwrapDockerJson(text, this.cl, ctx);
      return (
        c >= 48 &&
        c <= 57 &&
        text.charCodeAt(10) === 84 &&
        text.charCodeAt(4) === 45 &&
        unwrapCri(text, this.cl, ctx)
      );
    }
    return this.container === 'cri' ? unwrapCri(text, this.cl, ctx) : unwrapDockerJson(text, this.cl, ctx);
  }

  private parse(text: string, originalSize: number): LogRecord {
    let rec = new LogRecord();
    const stats = this.opts.stats;
    let id = -1;
    try {
      id =
        this.formatId === AUTO
          ? parseAuto(text, rec, this.opts.ctx)
          : this.formatId === RAW
            ? -1
            : this.formatId === CUSTOM
              ? this.opts.custom!.parse(text, rec, this.opts.ctx)
                ? F.custom
                : -1
              : parseAs(this.formatId, text, rec, this.opts.ctx);
    } catch (err) {
      // a parser bug must cost the line its fields, never the line itself or the process
      rec = new LogRecord();
      rec.str(K.parseError, `parser failed: ${(err as Error).message}`);
      stats.fail(this.failLabel);
    }
    // access logs, syslog, JSON, Redis... never continue on the next line: no need to hold them
    rec.holdable = id < 0 || id === F.appText || id === F.mysql;
    if (id >= 0) stats.parsed[id]!++;
    else if (rec.attrs !== '') rec.body = text;
    else {
      rec.body = text;
      if (text.startsWith(PY_TRACEBACK)) {
        // a traceback with no log line before it is a record of its own, up to its XxxError: line
        rec.stack = text;
        rec.pythonTraceback = true;
      } else if (isExceptionHeader(text)) rec.stack = text;
      else if (this.formatId !== RAW) {
        rec.str(K.parseError, this.formatId === AUTO ? 'no known format' : `not ${this.failLabel}`);
        stats.fail(this.failLabel);
      }
    }
    if (rec.body.length > this.opts.maxLineLength) {
      originalSize = originalSize || Buffer.byteLength(rec.body);
      rec.body = rec.body.slice(0, this.opts.maxLineLength);
    }
    if (originalSize > 0) {
      stats.truncated++;
      rec.raw(K.truncated, true);
      rec.raw(K.originalSize, originalSize);
    }
    return rec;
  }

  private streamState(stream: string): StreamState {
    let st = this.streams.get(stream);
    if (!st) {
      st = new StreamState();
      this.streams.set(stream, st);
    }
    return st;
  }

  private emit(rec: LogRecord, st: StreamState): void {
    if (rec.stack !== '') nameException(rec);
    this.out += toJsonLine(rec, this.observed, this.sourceAttrs, this.resource);
    this.opts.stats.records++;
    this.batchRecords++;
    st.pending = null;
    st.pText = '';
  }

  /**
   * Emits held records. `all` = false keeps records that may still get continuation lines
   * (warnings and errors, open stack traces): an info line rarely gets a stack trace, so it is
   * not held back waiting for one.
   */
  flush(all: boolean): void {
    for (const st of [this.plain, ...this.streams.values()]) {
      if (all && st.mlText !== null) this.emitJoined(st);
      if (all && st.partial !== '') {
        const text = st.partial;
        st.partial = '';
        if (st.pending) this.emit(st.pending, st);
        this.emit(this.parse(text, 0), st);
      }
      const p = st.pending;
      if (p && (all || !(p.severityNumber >= 13 || p.stack !== '' || p.attrs.includes(K.parseError))))
        this.emit(p, st);
    }
  }

  /** Anything held (partial chunks, a record awaiting continuation lines)? */
  holding(): boolean {
    for (const st of [this.plain, ...this.streams.values()])
      if (st.pending || st.partial || st.mlText !== null) return true;
    return false;
  }

  /** Byte offset of the first raw line still held (Infinity when none): positions stop there. */
  heldFrom(): number {
    let min = Number.POSITIVE_INFINITY;
    for (const st of [this.plain, ...this.streams.values()]) {
      if (st.pending || st.mlText !== null) min = Math.min(min, offsetOf(st.pText, st.pChar, st.pBase));
      if (st.partial !== '') min = Math.min(min, offsetOf(st.qText, st.qChar, st.qBase));
    }
    return min;
  }

  /** records in the batch `take()` returns next */
  batchRecords = 0;

  /** The JSON lines produced since the last call. */
  take(): string {
    const s = this.out;
    this.out = '';
    return s;
  }
}
