import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, run } from '@dds/test-support';
import { describe, expect, it } from 'vitest';

/** The packages that are programs: those with a `dds-*` bin. */
const components = readdirSync(join(ROOT, 'packages')).filter(
  (p) => JSON.parse(readFileSync(join(ROOT, 'packages', p, 'package.json'), 'utf8')).bin !== undefined,
);

/**
 * Every default port a component listens on, read from its --help: address defaults such as
 * "(default 0.0.0.0:8443)" and bare numbers of flags named *port* (nutcracker's -s stats port).
 * Upstream URLs (http://...) are where it connects, not where it listens, and are skipped.
 */
async function defaultPorts(pkg: string): Promise<number[]> {
  const help = await run(process.execPath, [join(ROOT, 'packages', pkg, 'dist/main.js'), '--help']);
  expect(help.code, `${pkg} --help: ${help.stderr}`).toBe(0);
  const ports: number[] = [];
  for (const line of help.stdout.split('\n')) {
    const addr = /\(default (?![a-z]+:\/\/)[\w.[\]:]*:(\d{2,5})\)/.exec(line);
    const bare = /--[\w-]*port[\w-]*\s.*\(default (\d{2,5})\)/.exec(line);
    const m = addr ?? bare;
    if (m) ports.push(Number(m[1]));
  }
  return [...new Set(ports)];
}

describe('default ports', () => {
  it('no two components share a default listen or admin port, so all fit in one pod', async () => {
    const owner = new Map<number, string>();
    const clashes: string[] = [];
    for (const pkg of components) {
      const ports = await defaultPorts(pkg);
      expect(ports.length, `${pkg} shows no default port in --help`).toBeGreaterThan(0);
      for (const p of ports) {
        const other = owner.get(p);
        if (other) clashes.push(`${p}: ${other} and ${pkg}`);
        owner.set(p, pkg);
      }
    }
    expect(clashes).toEqual([]);
    expect(owner.size).toBeGreaterThanOrEqual(components.length * 2 - 1);
  });
});

describe('bins', () => {
  it('every component answers `npx dds-<component> --version` from the repository root', async () => {
    for (const pkg of components) {
      const r = await run('npx', ['--no-install', `dds-${pkg}`, '--version']);
      expect(r.stdout.trim(), `${pkg}: ${r.stderr}`).toBe(`dds-${pkg} 0.1.0`);
    }
  });
});
