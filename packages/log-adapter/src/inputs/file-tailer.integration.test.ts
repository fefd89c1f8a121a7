import {
  appendFileSync,
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { type Proc, sleep, startComponent, tempDir } from '@dds/test-support';
import { afterEach, describe, expect, it } from 'vitest';

// Real files, a real adapter process: rotation by rename and by copytruncate, and restarts, must
// neither lose nor duplicate a line. Lines carry their number in the URL path, so the output
// can be checked for the exact set 0..n-1, each once.

const line = (n: number) =>
  `192.0.2.1 - - [28/Nov/2026:15:49:08 +0000] "GET /n/${n} HTTP/1.1" 200 1 "-" "t"\n`;
const lines = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => line(from + i)).join('');

let procs: Proc[] = [];
afterEach(async () => {
  for (const p of procs) await p.kill('SIGKILL');
  procs = [];
});

function startAdapter(dir: string, extra: string[] = []): Proc {
  const p = startComponent('log-adapter', [
    ...extra,
    '--input',
    join(dir, 'logs/*.log'),
    '--output',
    `file:${join(dir, 'out.ndjson')}`,
    '--position-file',
    join(dir, 'positions.json'),
    '--poll-interval',
    '30ms',
    '--rotate-wait',
    '300ms',
    '--position-sync',
    '50ms',
    '--admin',
    'off',
  ]);
  procs.push(p);
  return p;
}

/** Lines written so far; a batch being written right now may end mid-line (read it next time). */
const completeLines = (text: string): string[] => text.slice(0, text.lastIndexOf('\n') + 1).split('\n');

function outputNumbers(dir: string): number[] {
  const f = join(dir, 'out.ndjson');
  if (!existsSync(f)) return [];
  return completeLines(readFileSync(f, 'utf8'))
    .filter(Boolean)
    .map((l) =>
      Number((JSON.parse(l) as { attributes: { 'url.path': string } }).attributes['url.path'].slice(3)),
    );
}

async function waitForCount(dir: string, n: number, timeoutMs = 15_000): Promise<number[]> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const got = outputNumbers(dir);
    if (got.length >= n || Date.now() > until) return got;
    await sleep(50);
  }
}

function expectExactly(got: number[], n: number): void {
  const sorted = [...got].sort((a, b) => a - b);
  expect(sorted.length).toBe(n);
  expect(new Set(sorted).size).toBe(n); // no duplicates
  expect(sorted[0]).toBe(0);
  expect(sorted[n - 1]).toBe(n - 1); // with n distinct values in 0..n-1: nothing missing
}

describe('file tailing (real process)', () => {
  it('rename rotation with late writes to the old file, copytruncate, a new file, and restarts', async () => {
    const dir = tempDir('log-adapter-rot');
    const logs = join(dir, 'logs');
    mkdirSync(logs);
    const app = join(logs, 'app.log');
    appendFileSync(app, lines(0, 500));
    let p = startAdapter(dir);
    expect((await waitForCount(dir, 500)).length).toBe(500);

    // rotation by rename: the app still holds the old fd and writes a little more before reopening
    const oldFd = openSync(app, 'a');
    renameSync(app, join(logs, 'app.log.1'));
    writeSync(oldFd, lines(500, 600));
    closeSync(oldFd);
    appendFileSync(app, lines(600, 800));
    expect((await waitForCount(dir, 800)).length).toBe(800);

    // copytruncate: the copy (app.log.2) does not match the glob; the original restarts at 0
    copyFileSync(app, join(logs, 'app.log.2'));
    truncateSync(app, 0);
    await p.waitFor('file truncated (copytruncate)');
    appendFileSync(app, lines(800, 850));
    expect((await waitForCount(dir, 850)).length).toBe(850);

    // copytruncate followed by growth past the old offset before the next poll: caught by the fingerprint
    truncateSync(app, 0);
    appendFileSync(app, lines(850, 1500));
    expect((await waitForCount(dir, 1500)).length).toBe(1500);

    // a new file appears
    appendFileSync(join(logs, 'other.log'), lines(1500, 1600));
    expect((await waitForCount(dir, 1600)).length).toBe(1600);

    // graceful restart, with writes and a rename rotation while the adapter is down
    expect(await p.kill('SIGTERM')).toBe(0);
    appendFileSync(app, lines(1600, 1700));
    renameSync(app, join(logs, 'app.log.3'));
    appendFileSync(app, lines(1700, 1800));
    appendFileSync(join(logs, 'other.log'), lines(1800, 1900));
    p = startAdapter(dir);
    await p.waitFor('finishing a file rotated while stopped');
    expectExactly(await waitForCount(dir, 1900), 1900);

    // a file is deleted after it was read: nothing breaks, others keep flowing
    rmSync(join(logs, 'other.log'));
    appendFileSync(app, lines(1900, 2000));
    expectExactly(await waitForCount(dir, 2000), 2000);
    // after --rotate-wait, the rotated and the deleted file are let go
    await p.waitFor(/"path":"[^"]*app\.log\.3"[^\n]*stopped following a rotated file/);
    await p.waitFor(/"path":"[^"]*other\.log"[^\n]*stopped following a rotated file/);
    expect(await p.kill('SIGTERM')).toBe(0);
    expectExactly(outputNumbers(dir), 2000);
    const positions = JSON.parse(readFileSync(join(dir, 'positions.json'), 'utf8'));
    expect(Object.values(positions.files).map((f) => (f as { path: string }).path)).toEqual([app]);
  }, 60_000);

  it('SIGKILL mid-stream: a restart loses nothing (at-least-once, duplicates bounded by the sync interval)', async () => {
    const dir = tempDir('log-adapter-kill');
    mkdirSync(join(dir, 'logs'));
    const app = join(dir, 'logs/app.log');
    let p = startAdapter(dir);
    for (let i = 0; i < 20; i++) {
      appendFileSync(app, lines(i * 200, (i + 1) * 200));
      await sleep(10);
    }
    await waitForCount(dir, 1000);
    while (!existsSync(join(dir, 'positions.json'))) await sleep(20);
    await p.kill('SIGKILL');
    // what was delivered, and where the saved position says delivery got to, at the moment of the kill
    const delivered = outputNumbers(dir).length;
    const saved = JSON.parse(readFileSync(join(dir, 'positions.json'), 'utf8')) as {
      files: Record<string, { offset: number }>;
    };
    const offset = Object.values(saved.files)[0]?.offset ?? 0;
    const linesBefore = readFileSync(app).subarray(0, offset).toString().split('\n').length - 1;
    appendFileSync(app, lines(4000, 5000));
    p = startAdapter(dir);
    await waitForCount(dir, 5000);
    await p.kill('SIGTERM');
    const all = outputNumbers(dir);
    expect(new Set(all).size).toBe(5000);
    expect(Math.min(...all)).toBe(0);
    expect(Math.max(...all)).toBe(4999);
    // the restart resends exactly what was delivered after the saved position: never less (a
    // loss), never more (duplicates beyond the at-least-once window)
    expect(linesBefore).toBeLessThanOrEqual(delivered);
    expect(all.length - 5000).toBe(delivered - linesBefore);
  }, 60_000);

  it('--read-from tail skips what was there at the first start; a corrupt position file is reported, not fatal', async () => {
    const dir = tempDir('log-adapter-tail');
    mkdirSync(join(dir, 'logs'));
    const app = join(dir, 'logs/app.log');
    appendFileSync(app, lines(0, 100));
    writeFileSync(join(dir, 'positions.json'), '{ this is not json');
    const p = startAdapter(dir, ['--read-from', 'tail']);
    await p.waitFor('position file unreadable');
    await p.waitFor('following log file');
    appendFileSync(app, lines(100, 150));
    const got = await waitForCount(dir, 50);
    expect([...got].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => 100 + i));
    expect(await p.kill('SIGTERM')).toBe(0);
    const saved = JSON.parse(readFileSync(join(dir, 'positions.json'), 'utf8'));
    expect(Object.values(saved.files)).toEqual([
      expect.objectContaining({ path: app, offset: Buffer.byteLength(lines(0, 150)) }),
    ]);
  }, 30_000);

  it('a stack trace held for continuation lines is not lost by SIGKILL: the position stays before it', async () => {
    const dir = tempDir('log-adapter-held');
    mkdirSync(join(dir, 'logs'));
    const app = join(dir, 'logs/app.log');
    const out = join(dir, 'out.ndjson');
    const start = () => {
      const p = startComponent('log-adapter', [
        '--input',
        join(dir, 'logs/*.log'),
        '--output',
        `file:${out}`,
        '--position-file',
        join(dir, 'positions.json'),
        '--poll-interval',
        '30ms',
        '--position-sync',
        '50ms',
        '--multiline-timeout',
        '60s',
        '--admin',
        'off',
      ]);
      procs.push(p);
      return p;
    };
    const records = () =>
      existsSync(out)
        ? completeLines(readFileSync(out, 'utf8'))
            .filter(Boolean)
            .map((l) => JSON.parse(l) as Record<string, unknown>)
        : [];
    appendFileSync(app, '2026-11-28 10:00:00.000 INFO [main] started\n');
    let p = start();
    await p.waitFor('following log file');
    const until = Date.now() + 10_000;
    while (records().length < 1 && Date.now() < until) await sleep(30);
    appendFileSync(
      app,
      '2026-11-28 10:00:01.000 ERROR [main] failed\njava.lang.IllegalStateException: x\n\tat a.B.c(B.java:1)\n',
    );
    await sleep(500); // read, held (waiting for more frames), positions synced several times
    expect(records()).toHaveLength(1);
    await p.kill('SIGKILL');
    appendFileSync(app, '\tat d.E.f(E.java:2)\n2026-11-28 10:00:02.000 INFO [main] next\n');
    p = start();
    const until2 = Date.now() + 10_000;
    while (records().length < 3 && Date.now() < until2) await sleep(30);
    const r = records();
    expect(r.map((x) => x.body)).toEqual(['[main] started', '[main] failed', '[main] next']);
    expect((r[1]!.attributes as Record<string, string>)['exception.stacktrace']).toBe(
      'java.lang.IllegalStateException: x\n\tat a.B.c(B.java:1)\n\tat d.E.f(E.java:2)',
    );
    await p.kill('SIGTERM');
  }, 30_000);
});
