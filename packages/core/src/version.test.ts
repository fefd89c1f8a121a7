import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { packageVersion } from './version.js';

describe('packageVersion', () => {
  it("is the version of the module's own package.json", () => {
    const own = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;
    expect(packageVersion(import.meta.url)).toBe(own);
    expect(own).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('finds the nearest package.json, as a bundle beside its own', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dds-version-'));
    writeFileSync(join(dir, 'package.json'), '{"type":"module","version":"9.8.7"}');
    expect(packageVersion(pathToFileURL(join(dir, 'chunks', 'x.mjs')).href)).toBe('9.8.7');
  });

  it('throws when the package.json has no version', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dds-version-'));
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
    expect(() => packageVersion(pathToFileURL(join(dir, 'main.mjs')).href)).toThrow(/no version in/);
  });
});
