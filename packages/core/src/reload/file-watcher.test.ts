import { mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { watchFiles } from './file-watcher.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function tempFile(content: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'dds-watch-')), 'config.yaml');
  writeFileSync(file, content);
  return file;
}

describe('watchFiles', () => {
  it('reports a content change once, and not a touch that leaves the content as it was', async () => {
    const file = tempFile('a: 1\n');
    const seen: string[][] = [];
    const w = watchFiles([file], (changed) => seen.push(changed), 100);
    try {
      const now = new Date();
      utimesSync(file, now, now);
      await sleep(300);
      expect(seen).toEqual([]);
      writeFileSync(file, 'a: 2\n');
      for (let i = 0; i < 40 && seen.length === 0; i++) await sleep(25);
      await sleep(250);
      expect(seen).toEqual([[file]]);
    } finally {
      w.close();
    }
  });

  it('a watcher that takes over from another reports a change made between the two', async () => {
    // the runner replaces its watcher after every reload; a write that lands while the reload
    // reads the file must not become the new watcher's starting point
    const file = tempFile('a: 1\n');
    const first = watchFiles([file], () => {}, 60_000);
    first.close();
    writeFileSync(file, 'a: 2\n');
    const unseeded: string[][] = [];
    const fresh = watchFiles([file], (c) => unseeded.push(c), 60_000);
    const seeded: string[][] = [];
    const next = watchFiles([file], (c) => seeded.push(c), 60_000, first.digests);
    try {
      for (let i = 0; i < 40 && seeded.length === 0; i++) await sleep(25);
      expect(seeded).toEqual([[file]]);
      expect(unseeded).toEqual([]); // what the runner did before: the change was lost
    } finally {
      fresh.close();
      next.close();
    }
  });

  it('a file caught halfway through a write is not reported: only the content that holds still', async () => {
    const file = tempFile('a: 1\n');
    const contents: string[] = [];
    const w = watchFiles([file], () => contents.push(readFileSync(file, 'utf8')), 20);
    try {
      writeFileSync(file, ''); // a writer that truncated and has not written yet
      await sleep(50);
      writeFileSync(file, 'a: 2\n');
      for (let i = 0; i < 40 && contents.length === 0; i++) await sleep(25);
      await sleep(200);
      expect(contents).toEqual(['a: 2\n']);
    } finally {
      w.close();
    }
  });

  it('files that change one after the other within the settle time are reported as one batch', async () => {
    // a check that reads the cert before a `..data` swap and the key after it sees the key
    // change first: the cert's change must join the key's, not make a second reload
    const dir = mkdtempSync(join(tmpdir(), 'dds-watch-'));
    const cert = join(dir, 'tls.crt');
    const key = join(dir, 'tls.key');
    writeFileSync(cert, 'cert 1');
    writeFileSync(key, 'key 1');
    const seen: string[][] = [];
    const w = watchFiles([cert, key], (changed) => seen.push([...changed].sort()), 20);
    try {
      writeFileSync(key, 'key 2');
      await sleep(70); // polled at least twice: the key is pending, not yet settled
      writeFileSync(cert, 'cert 2');
      for (let i = 0; i < 40 && seen.length === 0; i++) await sleep(25);
      await sleep(300);
      expect(seen).toEqual([[cert, key].sort()]);
    } finally {
      w.close();
    }
  });
});
