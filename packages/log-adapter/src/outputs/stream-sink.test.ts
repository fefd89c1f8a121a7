import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '@dds/test-support';
import { describe, expect, it } from 'vitest';
import { StreamSink } from './stream-sink.js';

describe('file output', () => {
  it('cuts a record torn by a crash back to the last complete line, then appends', async () => {
    const file = join(tempDir('log-adapter-out'), 'out.ndjson');
    writeFileSync(file, '{"a":1}\n{"b":2}\n{"c":');
    const out = new StreamSink({ path: file });
    expect(await out.send('{"c":3}\n')).toEqual({ ok: true });
    await out.close();
    expect(readFileSync(file, 'utf8')).toBe('{"a":1}\n{"b":2}\n{"c":3}\n');
  });

  it('a file that is only a torn line is emptied; a clean file is left alone', async () => {
    const dir = tempDir('log-adapter-out2');
    const torn = join(dir, 'torn.ndjson');
    const clean = join(dir, 'clean.ndjson');
    writeFileSync(torn, 'x'.repeat(200_000));
    writeFileSync(clean, '{"a":1}\n');
    for (const f of [torn, clean]) await new StreamSink({ path: f }).close();
    expect(readFileSync(torn, 'utf8')).toBe('');
    expect(readFileSync(clean, 'utf8')).toBe('{"a":1}\n');
  });
});
