import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { commonFlags, commonSchema } from './common-flags.js';
import type { FlagSpec } from './flags.js';
import { loadConfig, WRITTEN_AS } from './load.js';
import { redact } from './redact.js';
import { zAddress } from './schemas.js';
import * as z from './zod.js';

const flags: FlagSpec[] = [
  { name: 'listen', type: 'string', help: '', default: '0.0.0.0:8080' },
  { name: 'percent', type: 'number', help: '', default: 10 },
  { name: 'redis-password', type: 'string', help: '', secret: true },
  ...commonFlags({ admin: '0.0.0.0:9999' }),
];
const schema = z.strictObject({
  ...commonSchema,
  listen: zAddress,
  percent: z.number().check(z.minimum(0), z.maximum(100)),
  redisPassword: z.optional(z.string()),
  routes: z._default(
    z.array(z.strictObject({ prefix: z.string(), weight: z.number().check(z.minimum(0)) })),
    [],
  ),
});

const file = (text: string) => {
  const dir = mkdtempSync(join(tmpdir(), 'dds-cfg-'));
  const f = join(dir, 'config.yaml');
  writeFileSync(f, text);
  return f;
};

describe('loadConfig', () => {
  it('merges defaults < file < env < flags', async () => {
    const f = file('listen: 127.0.0.1:1000\npercent: 20\nlogLevel: debug\n');
    const base = { flags, schema, env: {} };
    expect((await loadConfig({ ...base, argv: [] })).config).toMatchObject({
      listen: '0.0.0.0:8080',
      percent: 10,
      admin: '0.0.0.0:9999',
      drainTimeout: 30000,
    });
    expect((await loadConfig({ ...base, argv: ['--config', f] })).config).toMatchObject({
      listen: '127.0.0.1:1000',
      percent: 20,
      logLevel: 'debug',
    });
    const env = { DDS_PERCENT: '30', DDS_CONFIG: f };
    expect((await loadConfig({ ...base, env, argv: [] })).config).toMatchObject({
      listen: '127.0.0.1:1000',
      percent: 30,
    });
    expect((await loadConfig({ ...base, env, argv: ['--percent', '40'] })).config).toMatchObject({
      percent: 40,
      logLevel: 'debug',
    });
  });

  it('freezes the result', async () => {
    const { config } = await loadConfig({ flags, schema, env: {}, argv: [] });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.routes)).toBe(true);
  });

  it('names the field, the expectation, the value and its source', async () => {
    const f = file('percent: 20\nroutes:\n  - prefix: /a\n    weight: -1\n  - prefix: /b\n    wieght: 2\n');
    let err: ConfigError | undefined;
    try {
      await loadConfig({
        flags,
        schema,
        env: { DDS_LISTEN: 'nowhere' },
        argv: ['--config', f, '--percent', '101'],
      });
    } catch (e) {
      err = e as ConfigError;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const byPath = Object.fromEntries(err!.issues.map((i) => [i.path, i]));
    expect(byPath.listen?.source).toBe('env DDS_LISTEN');
    expect(byPath.listen?.received).toBe('nowhere');
    expect(byPath.percent?.source).toBe('flag --percent');
    expect(byPath.percent?.message).toMatch(/100/);
    expect(byPath['routes.0.weight']?.source).toBe(`file ${f}`);
    expect(byPath['routes.0.weight']?.received).toBe(-1);
    // an unknown key is reported at its own path, from its own source, with the closest known key
    expect(byPath['routes.1.wieght']).toEqual({
      path: 'routes.1.wieght',
      message: 'unknown key (did you mean "weight"?)',
      source: `file ${f}`,
    });
    expect(err!.message).toContain('percent:');
  });

  it('reports each unknown top-level key from the file, with the closest setting', async () => {
    const f = file('listen: 127.0.0.1:1\nprecent: 5\nzzz: 1\n');
    const err = await loadConfig({ flags, schema, env: {}, argv: ['--config', f] }).catch((e) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message.split('\n')).toEqual([
      `precent: unknown key (did you mean "percent"?) [from file ${f}]`,
      `zzz: unknown key [from file ${f}]`,
    ]);
  });

  it('a key the file wrote elsewhere (fromFile, WRITTEN_AS) is named as written; a flag value is not', async () => {
    const f = file('settings:\n  listen: nowhere\n  precent: 5\n');
    const fromFile = (doc: unknown) => {
      const { settings } = doc as { settings: Record<string, unknown> };
      return { ...settings, [WRITTEN_AS]: new Map(Object.keys(settings).map((k) => [k, `settings.${k}`])) };
    };
    const err = await loadConfig({ flags, schema, env: {}, argv: ['--config', f], fromFile }).catch((e) => e);
    expect((err as ConfigError).message.split('\n')).toEqual([
      `settings.listen: invalid address: expected host:port or a unix socket path (got "nowhere") [from file ${f}]`,
      `settings.precent: unknown key (did you mean "percent"?) [from file ${f}]`,
    ]);
    const flag = await loadConfig({
      flags,
      schema,
      env: {},
      argv: ['--config', f, '--listen', 'nowhere'],
      fromFile: (doc) => {
        const shaped = fromFile(doc) as Record<string, unknown>;
        delete shaped.precent;
        return shaped;
      },
    }).catch((e) => e);
    expect((flag as ConfigError).message).toBe(
      'listen: invalid address: expected host:port or a unix socket path (got "nowhere") [from flag --listen]',
    );
  });

  it('lists DDS_* variables no flag reads, with the closest one', async () => {
    const { unknownEnv } = await loadConfig({
      flags,
      schema,
      argv: [],
      env: {
        DDS_PRECENT: '5',
        DDS_LISTEN: '127.0.0.1:1',
        DDS_SOMETHING_ELSE: 'x',
        DDS_TEST_PORT_SLICE: '3',
        DDS_NODE_VERSION: '24',
        DDS_WORKER_OF: '1',
        OTHER: 'x',
      },
    });
    expect(unknownEnv).toEqual([
      { name: 'DDS_PRECENT', suggestion: 'DDS_PERCENT' },
      { name: 'DDS_SOMETHING_ELSE' },
    ]);
  });

  it('reports YAML syntax errors and unreadable files', async () => {
    await expect(
      loadConfig({ flags, schema, env: {}, argv: ['--config', file('listen: [unclosed\n')] }),
    ).rejects.toThrow(/YAML/);
    await expect(
      loadConfig({ flags, schema, env: {}, argv: ['--config', '/nonexistent/x.yaml'] }),
    ).rejects.toThrow(/ENOENT/);
    await expect(
      loadConfig({ flags, schema, env: {}, argv: ['--config', file('- a\n- b\n')] }),
    ).rejects.toThrow(/mapping/);
  });

  it('redacts secrets for printing', async () => {
    const { config } = await loadConfig({ flags, schema, env: { DDS_REDIS_PASSWORD: 'hunter2' }, argv: [] });
    const shown = redact(config, new Set(['redisPassword'])) as Record<string, unknown>;
    expect(shown.redisPassword).toBe('<redacted>');
    expect(JSON.stringify(shown)).not.toContain('hunter2');
    expect(redact({ nested: { apiToken: 'x', keyFile: '/k' } })).toEqual({
      nested: { apiToken: '<redacted>', keyFile: '/k' },
    });
  });
});

describe('config errors never print secrets', () => {
  it('masks URL credentials and values of secret-named fields', async () => {
    const secretSchema = z.strictObject({
      ...commonSchema,
      target: z.url(),
      redisPassword: z.string().check(z.minLength(20)),
    });
    let err: ConfigError | undefined;
    try {
      await loadConfig({
        flags: [
          ...flags.filter((f) => f.name !== 'listen' && f.name !== 'percent'),
          { name: 'target', type: 'string', help: '' },
        ],
        schema: secretSchema,
        env: { DDS_REDIS_PASSWORD: 'hunter2' },
        argv: ['--target', 'mysql://app:s3cret@db:3306 x'],
      });
    } catch (e) {
      err = e as ConfigError;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect(err!.message).toContain('redisPassword');
    expect(err!.message).toContain('mysql://app:<redacted>@db');
    expect(err!.message).not.toContain('s3cret');
    expect(err!.message).not.toContain('hunter2');
  });
});
