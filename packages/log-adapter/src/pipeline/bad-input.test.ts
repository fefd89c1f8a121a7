import { runPipeline } from '@dds/test-support/log-adapter/pipeline';
import { describe, expect, it } from 'vitest';
import { type LineSink, LineSplitter } from './line-splitter.js';

describe('bad input', () => {
  it('cuts an over-long line at --max-line-length and records its original size', () => {
    const long = `${'x'.repeat(1000)}`;
    const { lines, stats } = runPipeline(`short\n${long}\nafter\n`, { maxLineLength: 300, format: 'raw' });
    expect(lines).toHaveLength(3);
    const rec = JSON.parse(lines[1]!);
    expect(rec.body).toBe('x'.repeat(300));
    expect(rec.attributes).toEqual({ 'dds.truncated': true, 'dds.original_size': 1000 });
    expect(JSON.parse(lines[2]!).body).toBe('after');
    expect(stats.truncated).toBe(1);
  });

  it('an unterminated line across many chunks holds at most max bytes, then comes out whole-marked', () => {
    const split = new LineSplitter(1024);
    const got: Array<[string, number]> = [];
    const sink: LineSink = { beginChunk() {}, line: (raw, _at, size) => got.push([raw, size]) };
    const chunk = Buffer.alloc(64 * 1024, 0x41);
    for (let i = 0; i < 64; i++) split.push(chunk, i * chunk.length, sink, '');
    expect(got).toHaveLength(0);
    expect(split.pendingBytes()).toBe(64 * chunk.length);
    split.push(Buffer.from('B\nnext\n'), 64 * chunk.length, sink, '');
    expect(got).toEqual([
      ['A'.repeat(1024), 64 * chunk.length + 1],
      ['next', 0],
    ]);
    expect(split.consumed).toBe(64 * chunk.length + 7);
  });

  it('a UTF-8 character split across reads is decoded whole', () => {
    const split = new LineSplitter(1024);
    const got: string[] = [];
    const sink: LineSink = { beginChunk() {}, line: (raw) => got.push(raw) };
    const bytes = Buffer.from('héllo wörld\n');
    split.push(bytes.subarray(0, 2), 0, sink, '');
    split.push(bytes.subarray(2), 2, sink, '');
    expect(got).toEqual(['héllo wörld']);
  });

  it('binary bytes and NULs become valid JSON strings (invalid UTF-8 -> U+FFFD)', () => {
    const { lines } = runPipeline(Buffer.from([0x00, 0xff, 0xfe, 0x1b, 0x5b, 0x31, 0x6d, 0x0a]));
    const rec = JSON.parse(lines[0]!);
    expect(rec.body).toBe('\u0000\ufffd\ufffd\u001b[1m');
    expect(rec.attributes['dds.parse_error']).toBe('no known format');
  });

  it('a fixed format that does not match passes the line through with a parse error', () => {
    const { lines, stats } = runPipeline('not an access log\n', { format: 'nginx-combined' });
    expect(JSON.parse(lines[0]!)).toMatchObject({
      body: 'not an access log',
      attributes: { 'dds.parse_error': 'not nginx-combined' },
    });
    expect(stats.failed.get('nginx-combined')).toBe(1);
  });

  it('CRI partial chunks beyond the limit are cut, not accumulated forever', () => {
    const p = '2026-11-28T15:49:09.000000000Z stdout P ';
    const input = `${`${p}${'y'.repeat(200)}\n`.repeat(50)}2026-11-28T15:49:09.1Z stdout F end\n`;
    const { lines } = runPipeline(input, { maxLineLength: 1000 });
    expect(lines.length).toBeGreaterThan(1);
    for (const l of lines) expect(JSON.parse(l).body.length).toBeLessThanOrEqual(1000);
  });
});

describe('time zones', () => {
  it('zone-less stamps are read in the configured IANA zone, DST included', () => {
    const redis = '1:M 28 Nov 2026 15:49:08.732 * x\n';
    expect(JSON.parse(runPipeline(redis).lines[0]!).timestamp).toBe('2026-11-28T15:49:08.732Z');
    expect(JSON.parse(runPipeline(redis, { zone: 'Europe/Berlin' }).lines[0]!).timestamp).toBe(
      '2026-11-28T14:49:08.732Z',
    );
    const summer = '2026/07/01 12:00:00 [warn] 1#1: x\n';
    const winter = '2026/01/15 12:00:00 [warn] 1#1: x\n';
    expect(JSON.parse(runPipeline(summer, { zone: 'America/New_York' }).lines[0]!).timestamp).toBe(
      '2026-07-01T16:00:00Z',
    );
    expect(JSON.parse(runPipeline(winter, { zone: 'America/New_York' }).lines[0]!).timestamp).toBe(
      '2026-01-15T17:00:00Z',
    );
    expect(
      JSON.parse(runPipeline('2026-11-28 15:49:25 0 [Note] x\n', { zone: 'Asia/Kolkata' }).lines[0]!)
        .timestamp,
    ).toBe('2026-11-28T10:19:25Z');
  });

  it('stamps with an explicit offset ignore the configured zone', () => {
    const line = '203.0.113.7 - - [28/Nov/2026:15:49:08 -0530] "GET / HTTP/1.1" 200 1\n';
    expect(JSON.parse(runPipeline(line, { zone: 'Europe/Berlin' }).lines[0]!).timestamp).toBe(
      '2026-11-28T21:19:08Z',
    );
  });
});
