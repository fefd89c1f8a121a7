import { appendFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '@dds/test-support';
import { describe, expect, it } from 'vitest';
import { Spool } from './spool.js';

const lines = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => `{"n":${from + i}}\n`).join('');

async function drain(s: Spool, max = 64): Promise<string> {
  let out = '';
  for (;;) {
    const b = await s.peek(max);
    if (b === '') return out;
    out += b;
    await s.commit();
  }
}

describe('disk spool', () => {
  it('delivers what was appended in order, in whole lines, and reports its size', async () => {
    const s = new Spool(tempDir('spool'), 1 << 20);
    await s.append(lines(0, 10));
    await s.append(lines(10, 20));
    expect(s.size()).toBe(Buffer.byteLength(lines(0, 20)));
    const first = await s.peek(30);
    expect(first.endsWith('\n')).toBe(true);
    expect(lines(0, 20).startsWith(first)).toBe(true);
    await s.commit();
    expect(`${first}${await drain(s)}`).toBe(lines(0, 20));
    expect(s.size()).toBe(0);
    await s.close();
  });

  it('a restart resumes at the cursor; a torn last line (crash mid-append) is cut', async () => {
    const dir = tempDir('spool-restart');
    const a = new Spool(dir, 1 << 20);
    await a.append(lines(0, 10));
    const got = await a.peek(40);
    await a.commit();
    await a.close();
    const seg = readdirSync(dir).find((f) => f.endsWith('.ndjson'))!;
    appendFileSync(join(dir, seg), '{"n":99'); // never acknowledged: no newline
    const b = new Spool(dir, 1 << 20);
    expect(b.size()).toBe(Buffer.byteLength(lines(0, 10)) - Buffer.byteLength(got));
    expect(`${got}${await drain(b)}`).toBe(lines(0, 10));
    await b.append(lines(10, 12));
    expect(await drain(b)).toBe(lines(10, 12));
    await b.close();
  });

  it('a line longer than one read is delivered whole; full() follows the bound', async () => {
    const s = new Spool(tempDir('spool-long'), 100);
    const long = `{"x":"${'y'.repeat(300)}"}\n`;
    await s.append(long);
    expect(s.full()).toBe(true);
    expect(await s.peek(64)).toBe(long);
    await s.commit();
    expect(s.full()).toBe(false);
    await s.close();
  });

  it('rolls over to new segments and deletes the delivered ones', async () => {
    const dir = tempDir('spool-segments');
    const s = new Spool(dir, 64 << 20);
    const chunk = (k: number) => `${`{"k":${k},"pad":"${'p'.repeat(1000)}"}\n`.repeat(3500)}`;
    for (let k = 0; k < 4; k++) await s.append(chunk(k)); // ~14 MB: the 4th append starts a new segment
    expect(readdirSync(dir).filter((f) => f.endsWith('.ndjson')).length).toBe(2);
    expect((await drain(s, 1 << 20)) === chunk(0) + chunk(1) + chunk(2) + chunk(3)).toBe(true);
    await s.append('{"last":1}\n');
    expect(await drain(s)).toBe('{"last":1}\n');
    expect(readdirSync(dir).filter((f) => f.endsWith('.ndjson')).length).toBe(1);
    await s.close();
  });
});
