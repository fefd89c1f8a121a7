import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePorts, run, start, tempDir } from '@dds/test-support';
import { selfSignedCert } from '@dds/test-support/self-signed';
import { beforeAll, describe, expect, it } from 'vitest';
import { bundle, entryOf } from '../../scripts/bundle.mjs';

// The bundles the images ship (scripts/bundle.mjs: code splitting, built-ins through
// process.getBuiltinModule): what loads on first use must still load from its chunk. A CommonJS
// package imported with import() has only a default export there (its module.exports), so dds
// code takes `(await import('yaml')).default`, which also holds under plain Node.
const dir = tempDir('bundle');
const tls = selfSignedCert();

beforeAll(async () => {
  await bundle(entryOf('tls-sidecar'), join(dir, 'tls-sidecar'));
  await bundle(entryOf('metrics-adapter'), join(dir, 'metrics-adapter'));
  await bundle(entryOf('pod'), join(dir, 'pod'));
}, 120_000);

describe('bundles', () => {
  it('keep undici and the YAML parser out of main.mjs, in chunks read on first use', () => {
    const chunksWith = (c: string, text: string) =>
      readdirSync(join(dir, c, 'chunks')).filter((f) =>
        readFileSync(join(dir, c, 'chunks', f), 'utf8').includes(text),
      );
    for (const c of ['tls-sidecar', 'metrics-adapter']) {
      const main = readFileSync(join(dir, c, 'main.mjs'), 'utf8');
      expect(main).not.toMatch(/yaml\.document/);
      expect(main).not.toMatch(/undici\.error\.UND_ERR/);
      expect(chunksWith(c, 'yaml.document').length).toBeGreaterThan(0);
      expect(statSync(join(dir, c, 'main.mjs')).size).toBeLessThan(400_000);
    }
    // the JSON source's client; the tls-sidecar's upstreams use core's transports, and undici only
    // as the llhttp fast path's fallback (upstream-pool/undici-transport.ts): one chunk, read then
    expect(chunksWith('metrics-adapter', 'undici.error.UND_ERR').length).toBeGreaterThan(0);
    expect(chunksWith('tls-sidecar', 'undici.error.UND_ERR')).toHaveLength(1);
  });

  it('keep the createRequire banner in the files that call require, and out of most others', () => {
    for (const c of ['tls-sidecar', 'metrics-adapter']) {
      const files = ['main.mjs', ...readdirSync(join(dir, c, 'chunks')).map((f) => join('chunks', f))];
      let kept = 0;
      for (const f of files) {
        const text = readFileSync(join(dir, c, f), 'utf8');
        // Rollup's re-chunking may rename it (`const require$1 = createRequire(import.meta.url)`)
        const banner = /const (require(?:\$\d+)?) ?= ?\w+\(import\.meta\.url\);/.exec(text);
        if (banner) kept++;
        const rest = banner ? text.replace(banner[0], '') : text;
        const name = banner?.[1] ?? 'require';
        // a file that calls require has the banner (else it throws at load); a banner the word
        // `require` in a string kept costs one createRequire, and most files have none
        const uses = new RegExp(`(?<![\\w$.])${name.replace('$', '\\$')}\\(`).test(rest);
        if (uses) expect(banner, `${c}/${f}`).not.toBeNull();
      }
      expect(kept).toBeLessThan(files.length / 2);
    }
  });

  it('read a YAML config file and print the config (the YAML chunk loads)', async () => {
    const file = join(dir, 'tls.yaml');
    writeFileSync(file, `listen: 127.0.0.1:1\ncert: ${tls.cert}\nkey: ${tls.key}\n`);
    const check = await run(process.execPath, [
      join(dir, 'tls-sidecar', 'main.mjs'),
      '--config',
      file,
      '--check-config',
    ]);
    expect(check.stdout + check.stderr).toContain('is valid');
    expect(check.code).toBe(0);
    const printed = await run(process.execPath, [
      join(dir, 'tls-sidecar', 'main.mjs'),
      '--config',
      file,
      '--print-config',
    ]);
    expect(printed.code).toBe(0);
    expect(printed.stdout).toMatch(/^listen: 127\.0\.0\.1:1$/m);
    const pod = join(dir, 'pod.yaml');
    writeFileSync(
      pod,
      `components:\n  tls-sidecar: { listen: "127.0.0.1:1", cert: "${tls.cert}", key: "${tls.key}", upstream: "https://127.0.0.1:2" }\n`,
    );
    const podCheck = await run(process.execPath, [
      join(dir, 'pod', 'main.mjs'),
      '--config',
      pod,
      '--check-config',
    ]);
    expect(podCheck.stdout + podCheck.stderr).toContain('is valid');
    expect(podCheck.code).toBe(0);
  });

  it('start and serve: dds-pod with four components, whose lazy chunks import from the entry', async () => {
    // the entry has no top-level await: Rollup keeps modules the lazy chunks share in main.mjs,
    // and a chunk importing from an entry still awaiting at top level would never evaluate
    const [admin, listen, limiter, redis, redisListen] = await freePorts(5);
    const log = join(dir, 'app.log');
    writeFileSync(log, '');
    const pod = join(dir, 'pod-four.yaml');
    writeFileSync(
      pod,
      [
        `admin: 127.0.0.1:${admin}`,
        'components:',
        `  tls-sidecar: { listen: "127.0.0.1:${listen}", cert: "${tls.cert}", key: "${tls.key}", upstream: "internal:rate-limiter" }`,
        `  rate-limiter: { listen: "off", upstream: "http://127.0.0.1:${limiter}", rate: "100/s" }`,
        `  metrics-adapter: { redis: "redis://127.0.0.1:${redis}", redisListen: "127.0.0.1:${redisListen}" }`,
        `  log-adapter: { input: ["${log}"], output: stdout, readFrom: tail }`,
      ].join('\n'),
    );
    const proc = start(process.execPath, [join(dir, 'pod', 'main.mjs'), '--config', pod]);
    try {
      await proc.waitFor('dds-pod 0.1.0 started', 20_000);
      // live; ready waits for the metrics-adapter's Redis, which this test does not run
      expect((await fetch(`http://127.0.0.1:${admin}/healthz`)).status).toBe(200);
      expect(proc.stderr()).not.toContain('unsettled top-level await');
    } finally {
      await proc.kill();
    }
  });
});
