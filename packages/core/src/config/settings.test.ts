import { describe, expect, it } from 'vitest';
import { loadConfig } from './load.js';
import { flagsOf, setting, shapeOf } from './settings.js';
import * as z from './zod.js';

const settings = {
  listen: setting.string({ help: 'where', metavar: 'HOST:PORT', default: '0.0.0.0:1' }),
  maxConnections: setting.number({ help: 'most', default: 10, schema: z.int().check(z.minimum(1)) }),
  idCookie: {
    enabled: setting.boolean({ flag: 'id-cookie', help: 'issue one', default: true }),
    maxAge: setting.duration({ help: 'its Max-Age', default: 60_000, group: 'Cookie' }),
  },
  allow: setting.list({ help: 'who', default: [], secret: true, env: 'DDS_WHO' }),
  /** YAML only */
  rules: z._default(z.array(z.string()), []),
};

describe('settings', () => {
  it('give flags named after their key path, in declaration order, a group where it stands', () => {
    expect(flagsOf(settings)).toEqual([
      { type: 'string', name: 'listen', help: 'where', metavar: 'HOST:PORT', default: '0.0.0.0:1' },
      { type: 'number', name: 'max-connections', help: 'most', default: 10 },
      { type: 'boolean', name: 'id-cookie', path: 'idCookie.enabled', help: 'issue one', default: true },
      {
        type: 'duration',
        name: 'id-cookie-max-age',
        path: 'idCookie.maxAge',
        help: 'its Max-Age',
        default: 60_000,
        group: 'Cookie',
      },
      { type: 'list', name: 'allow', help: 'who', default: [], secret: true, env: 'DDS_WHO' },
    ]);
  });

  it('give a schema shape: a group is a strict object, a bare schema a YAML-only key', async () => {
    const schema = z.strictObject(shapeOf(settings));
    const { config } = await loadConfig({
      flags: flagsOf(settings),
      schema,
      argv: ['--id-cookie-max-age', '2m', '--no-id-cookie', '--allow', 'a,b'],
      env: { DDS_MAX_CONNECTIONS: '3', DDS_WHO: 'c' },
    });
    expect(config).toEqual({
      listen: '0.0.0.0:1',
      maxConnections: 3,
      idCookie: { enabled: false, maxAge: 120_000 },
      allow: ['a', 'b'],
      rules: [],
    });
    expect(schema.safeParse({ ...config, idCookie: { ...config.idCookie, extra: 1 } }).success).toBe(false);
    expect(schema.safeParse({ ...config, maxConnections: 0 }).success).toBe(false);
  });

  it('infer the config type from the schemas', () => {
    const schema = z.strictObject(shapeOf(settings));
    const parsed: {
      listen: string;
      maxConnections: number;
      idCookie: { enabled: boolean; maxAge: number };
      allow: string[];
      rules: string[];
    } = schema.parse({
      listen: 'x',
      maxConnections: 1,
      idCookie: { enabled: true, maxAge: '1s' },
      allow: [],
    });
    expect(parsed.idCookie.maxAge).toBe(1000);
  });

  it('give CLI-only flags (actions, the config file) a flag and no config key', () => {
    const cli = {
      confFile: setting.cli({ type: 'string', short: 'c', help: 'the file', metavar: 'FILE' }),
      testConf: setting.cli({ type: 'boolean', short: 't', help: 'check and exit', action: true }),
      verbose: setting.number({ help: 'level', default: 5 }),
    };
    expect(flagsOf(cli).map((f) => [f.name, f.action ?? false])).toEqual([
      ['conf-file', false],
      ['test-conf', true],
      ['verbose', false],
    ]);
    expect(Object.keys(shapeOf(cli))).toEqual(['verbose']);
  });
});
