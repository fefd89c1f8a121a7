import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '@dds/test-support';
import { describe, expect, it } from 'vitest';
import { CHARTED, DOCUMENTED, flagsOf, stale } from '../../scripts/config-docs.mjs';

// Each setting is declared once (its component's config.ts); the README flag tables, the charts'
// values schemas and their appVersion are generated from it by scripts/config-docs.mjs.
describe('generated from the settings', () => {
  it('README flag tables, chart values schemas and appVersions are up to date', async () => {
    const files = (await stale()).map((s) => s.file);
    expect(files, 'stale: run `node scripts/config-docs.mjs` (after npm run build) and commit').toEqual([]);
  });

  it.each(DOCUMENTED)(
    '%s: its README table has a row for every flag of --help, and no other',
    async (name) => {
      const { flags } = await flagsOf(name);
      const readme = readFileSync(join(ROOT, 'packages', name, 'README.md'), 'utf8');
      const table = readme.slice(readme.indexOf('<!-- flags:begin'), readme.indexOf('<!-- flags:end -->'));
      const rows = [...table.matchAll(/^\| `(?:-\w, )?--([a-z0-9-]+)/gm)].map((m) => m[1]);
      // grouped as --help groups them, so compared as sets; each once
      expect(rows.length).toBe(new Set(rows).size);
      expect(rows.sort()).toEqual(flags.map((f) => f.name).sort());
    },
  );

  it.each(CHARTED)('%s: its chart takes every flag by name and refuses others', async (name) => {
    const { flags } = await flagsOf(name);
    const schema = JSON.parse(readFileSync(join(ROOT, 'k8s/charts', name, 'values.schema.json'), 'utf8'));
    const flagValues = schema.properties.flags;
    expect(flagValues.additionalProperties).toBe(false);
    expect(Object.keys(flagValues.properties)).toEqual(flags.filter((f) => !f.action).map((f) => f.name));
  });
});
