// Bundles dds entry points the way the images ship them: one directory per entry with main.mjs,
// the chunks it loads on demand (chunks/), the native addons esbuild cannot bundle (node_modules/)
// and package.json (with the component's version). Used by scripts/images.sh and the footprint benchmark.
//
//   node scripts/bundle.mjs OUTDIR COMPONENT...     -> OUTDIR/<component>/app/main.mjs (+ chunks/)
//
// - ESM with code splitting: a dynamic import() (undici for https upstreams, the YAML parser, a
//   database client, cluster mode) becomes its own chunk, read from disk only when first used.
// - Node built-ins are taken with process.getBuiltinModule() instead of ESM imports: an ESM import of
//   a built-in builds its whole namespace, and for node:http that loads Node's internal undici
//   (about 4 MB of RSS for a process that never uses fetch); util, fs and process pull in streams,
//   worker_threads and readline the same way.
// - The createRequire banner gives bundled CommonJS dependencies (pino, prom-client) `require`.
// - Then Rollup re-chunks esbuild's output: esbuild splits out every module shared between the
//   entry and a lazy chunk, so a start read some 30 small files; Rollup knows the entry is loaded
//   whenever a lazy chunk is, keeps those modules in main.mjs, and start reads about half as many
//   files (tls-sidecar: 28 -> 16, 15-30 ms sooner, 0.4 MB less idle RSS).
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { rollup } from 'rollup';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Native addons: shipped as files beside the bundle, with the packages they require. */
const ADDONS = { farmhash: ['farmhash', 'detect-libc'] };

const BUILTINS = new Set(builtinModules);

const lazyBuiltins = {
  name: 'dds-lazy-builtins',
  setup(build) {
    build.onResolve({ filter: /^(node:)?[a-z_][a-z0-9_/]*$/ }, (args) => {
      const prefixed = args.path.startsWith('node:');
      const name = prefixed ? args.path.slice(5) : args.path;
      if (!prefixed && !BUILTINS.has(name)) return undefined;
      return { path: `node:${name}`, namespace: 'dds-builtin' };
    });
    build.onLoad({ filter: /.*/, namespace: 'dds-builtin' }, (args) => ({
      contents: `module.exports = process.getBuiltinModule(${JSON.stringify(args.path)});`,
      loader: 'js',
    }));
  },
};

const BANNER =
  "import { createRequire as __ddsCreateRequire } from 'node:module'; const require = __ddsCreateRequire(import.meta.url);";

/**
 * Bundles one entry (a built dist/*.js) into dir: main.mjs, chunks/, package.json, addons.
 */
export async function bundle(entry, dir) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const split = `${dir}.esbuild`;
  rmSync(split, { recursive: true, force: true });
  const result = await esbuild.build({
    entryPoints: { main: entry },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node24',
    external: Object.keys(ADDONS),
    minify: true,
    keepNames: true,
    legalComments: 'none',
    logLevel: 'warning',
    banner: { js: BANNER },
    outdir: split,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    metafile: true,
    plugins: [lazyBuiltins],
    // @platformatic/wasm-utils (the log-adapter's Kafka client) reads native.wasm beside its module;
    // its ./bundled entry carries the same wasm inline, which is what a bundle needs
    alias: { '@platformatic/wasm-utils': '@platformatic/wasm-utils/bundled' },
  });
  // the component's version, where core's packageVersion() finds it from the bundle's modules
  const { version } = JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8'));
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ type: 'module', version })}\n`);
  dropUnusedRequire(Object.keys(result.metafile.outputs));
  await rechunk(join(split, 'main.mjs'), dir);
  rmSync(split, { recursive: true, force: true });
  const imports = Object.values(result.metafile.outputs).flatMap((o) => o.imports.map((i) => i.path));
  for (const [addon, packages] of Object.entries(ADDONS)) {
    if (!imports.includes(addon)) continue;
    for (const p of packages) shipPackage(p, join(dir, 'node_modules', p));
  }
}

/**
 * esbuild's chunks, re-chunked by Rollup into dir (main.mjs, chunks/): what start needs in as
 * few files as the lazy imports allow. Rollup takes the code as it is (no tree-shaking, no
 * transform): esbuild has already bundled, minified and shaken it.
 */
async function rechunk(main, dir) {
  const build = await rollup({
    input: main,
    external: (id) => id.startsWith('node:') || BUILTINS.has(id) || Object.hasOwn(ADDONS, id),
    treeshake: false,
    onwarn(warning, warn) {
      // esbuild's chunks import each other in cycles that ESM evaluates correctly
      if (warning.code !== 'CIRCULAR_DEPENDENCY') warn(warning);
    },
  });
  await build.write({
    dir,
    format: 'es',
    entryFileNames: '[name].mjs',
    // esbuild's names already carry a content hash
    chunkFileNames: 'chunks/[name].mjs',
    compact: true,
    // a lazy chunk's own imports stay its own: hoisting them would read them at start again
    hoistTransitiveImports: false,
  });
  await build.close();
}

/**
 * Takes the createRequire banner out of the files that never say `require` (most chunks): each
 * createRequire at load is a CommonJS Module and path resolutions, and with some 30 chunks those
 * made Node's path normalisation hot enough at start for V8 to load its optimising compiler
 * (about 5 MB of RSS, measured on the tls-sidecar bundle).
 */
function dropUnusedRequire(files) {
  for (const f of files) {
    if (!f.endsWith('.mjs')) continue;
    const text = readFileSync(f, 'utf8');
    if (!text.startsWith(BANNER)) continue;
    const rest = text.slice(BANNER.length);
    if (!/\brequire\b/.test(rest)) writeFileSync(f, rest.replace(/^\n/, ''));
  }
}

/** An installed package's runtime files: its JS, lib/, and prebuilt Linux binaries only. */
function shipPackage(name, dest) {
  const src = join(ROOT, 'node_modules', name);
  mkdirSync(dest, { recursive: true });
  cpSync(src, dest, {
    recursive: true,
    filter: (from) => {
      const rel = from.slice(src.length + 1);
      if (rel === '' || rel === 'lib' || rel.startsWith('lib/') || rel === 'build') return true;
      if (rel.startsWith('build/')) return /-linux[^/]*\.node$/.test(rel);
      return !rel.includes('/') && (/\.(js|json)$/.test(rel) || rel.startsWith('LICENSE'));
    },
  });
}

/** The dist entry of a component (packages/<c>/dist/main.js). */
export const entryOf = (component) => join(ROOT, 'packages', component, 'dist', 'main.js');

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [out, ...components] = process.argv.slice(2);
  if (!out || components.length === 0) {
    console.error('usage: node scripts/bundle.mjs OUTDIR COMPONENT...');
    process.exit(2);
  }
  let failed = false;
  for (const c of components) {
    if (!existsSync(entryOf(c))) {
      console.error(`${c}: ${entryOf(c)} missing (run npm run build)`);
      failed = true;
      continue;
    }
    try {
      await bundle(entryOf(c), join(out, c, 'app'));
    } catch (err) {
      console.error(`${c}: ${err.message}`);
      failed = true;
    }
  }
  process.exit(failed ? 1 : 0);
}
