import { getHeapSpaceStatistics } from 'node:v8';
import { afterEach, describe, expect, it } from 'vitest';
import { FAST_PATHS, fastPathSummary, resetFastPaths } from './fast-paths.js';
import { compactHeap } from './startup-compaction.js';

const newSpace = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!.space_size;

afterEach(() => {
  delete process.env.DDS_FAST_PATHS_OFF;
  resetFastPaths();
});

describe('startup compaction', () => {
  it('gives back the young generation that start grew', () => {
    const hadGc = typeof (globalThis as { gc?: unknown }).gc === 'function';
    resetFastPaths();
    // what start does: objects that survive scavenges while they are made grow the semi-spaces
    let kept: object[] = [];
    for (let i = 0; i < 400_000; i++) kept.push({ i, s: `v${i}` });
    const grown = newSpace();
    kept = [];
    expect(kept.length).toBe(0);
    expect(compactHeap()).toBe(true);
    expect(fastPathSummary()[FAST_PATHS.startupCompaction]).toBe(true);
    expect(newSpace()).toBeLessThan(grown);
    // the gc() it made is not left on the process's global
    if (!hadGc) expect((globalThis as { gc?: unknown }).gc).toBeUndefined();
  });

  it('does not run when DDS_FAST_PATHS_OFF names it, and says so', () => {
    process.env.DDS_FAST_PATHS_OFF = 'startup-compaction';
    resetFastPaths();
    expect(compactHeap()).toBe(false);
    expect(fastPathSummary()[FAST_PATHS.startupCompaction]).toMatch(/switched off/);
  });
});
