// After `turbo run build`: makes every workspace's bin targets executable and links them into
// node_modules/.bin. turbo's cache replay restores dist/ files without their executable bit, so a
// second build left `npx dds-<component>` answering "Permission denied".
// Usage: node scripts/bin-modes.mjs [--root DIR] [--no-link]   (the options are for its test)
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const rootAt = args.indexOf('--root');
const root = rootAt >= 0 ? args[rootAt + 1] : join(import.meta.dirname, '..');
for (const dir of readdirSync(join(root, 'packages'))) {
  const manifest = join(root, 'packages', dir, 'package.json');
  if (!existsSync(manifest)) continue;
  const { bin } = JSON.parse(readFileSync(manifest, 'utf8'));
  for (const target of Object.values(typeof bin === 'string' ? { bin } : (bin ?? {}))) {
    const file = join(root, 'packages', dir, target);
    if (existsSync(file)) chmodSync(file, 0o755);
  }
}
if (!args.includes('--no-link'))
  execFileSync('npm', ['rebuild', '--ignore-scripts', '--loglevel=error'], { cwd: root, stdio: 'inherit' });
