// After `turbo run build`: makes every workspace's bin targets executable and links them into
// node_modules/.bin. turbo's cache replay restores dist/ files without their executable bit, so a
// second build left `npx dds-<component>` answering "Permission denied".
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
for (const dir of readdirSync(join(root, 'packages'))) {
  const manifest = join(root, 'packages', dir, 'package.json');
  if (!existsSync(manifest)) continue;
  const { bin } = JSON.parse(readFileSync(manifest, 'utf8'));
  for (const target of Object.values(typeof bin === 'string' ? { bin } : (bin ?? {}))) {
    const file = join(root, 'packages', dir, target);
    if (existsSync(file)) chmodSync(file, 0o755);
  }
}
execFileSync('npm', ['rebuild', '--ignore-scripts', '--loglevel=error'], { cwd: root, stdio: 'inherit' });
