import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, run, tempDir } from '@dds/test-support';
import { describe, expect, it } from 'vitest';

// Issue 19: turbo's cache replay restores dist/main.js without its executable bit, so after a
// second `npm run build` (the demo runs one) `npx dds-<component>` answered "Permission denied".
// The build ends with scripts/bin-modes.mjs, which sets the bit again.

const programs = readdirSync(join(ROOT, 'packages'))
  .map((p) => ({
    dir: p,
    manifest: JSON.parse(readFileSync(join(ROOT, 'packages', p, 'package.json'), 'utf8')),
  }))
  .filter((p) => p.manifest.bin !== undefined)
  .flatMap((p) =>
    Object.entries(p.manifest.bin as Record<string, string>).map(([name, target]) => ({
      name,
      file: join(ROOT, 'packages', p.dir, target),
    })),
  );

describe('bins stay executable', () => {
  it('bin-modes.mjs makes the bin target a cache replay wrote 0644 executable again', async () => {
    const root = tempDir('bin-modes');
    const pkg = join(root, 'packages', 'x');
    mkdirSync(join(pkg, 'dist'), { recursive: true });
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'x', bin: { 'dds-x': 'dist/main.js' } }));
    writeFileSync(join(pkg, 'dist', 'main.js'), '#!/usr/bin/env node\nconsole.log("ran")\n');
    chmodSync(join(pkg, 'dist', 'main.js'), 0o644); // as turbo's replay leaves it
    const denied = await run(join(pkg, 'dist', 'main.js'), []).catch((e: Error) => ({
      code: -1,
      stderr: e.message,
    }));
    expect(denied.code).not.toBe(0);
    const r = await run(process.execPath, ['scripts/bin-modes.mjs', '--root', root, '--no-link']);
    expect(r.code, r.stderr).toBe(0);
    expect(statSync(join(pkg, 'dist', 'main.js')).mode & 0o777).toBe(0o755);
    expect((await run(join(pkg, 'dist', 'main.js'), [])).stdout).toBe('ran\n');
  });

  it('after the build, every dds-* bin is executable and runs through npx', async () => {
    expect(programs.length).toBeGreaterThan(8);
    for (const p of programs) expect(statSync(p.file).mode & 0o111, p.file).toBe(0o111);
    for (const p of programs) {
      const r = await run('npx', ['--no-install', p.name, '--version']);
      expect(r.code, `${p.name}: ${r.stderr}`).toBe(0);
      expect(r.stdout).toMatch(/\d+\.\d+\.\d+/);
    }
  }, 60_000);
});
