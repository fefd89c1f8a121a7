import { describe, expect, it } from 'vitest';
import type { DdsError } from '../errors.js';
import { type FlagSpec, parseArgv, renderHelp } from './flags.js';

const flags: FlagSpec[] = [
  { name: 'listen', type: 'string', help: 'listen address', default: '0.0.0.0:80' },
  { name: 'conf-file', short: 'c', type: 'string', help: 'config' },
  { name: 'verbose', short: 'v', type: 'number', help: 'verbosity' },
  { name: 'test-conf', short: 't', type: 'boolean', help: 'test' },
  { name: 'hsts', type: 'boolean', help: 'hsts', default: false },
  { name: 'timeout', type: 'duration', help: 'timeout', default: 1500 },
  { name: 'trusted', type: 'list', help: 'cidrs', default: [] },
  { name: 'daemonize', short: 'd', type: 'boolean', help: 'refused', refuse: 'dds never daemonizes' },
];

describe('parseArgv', () => {
  it('reads long, =, short, attached short, negated and list forms', () => {
    const { values, positionals } = parseArgv(
      [
        '--listen',
        ':8080',
        '-c',
        'x.yaml',
        '-v7',
        '-t',
        '--no-hsts',
        '--timeout=2s',
        '--trusted',
        '10.0.0.0/8,::1',
        '--trusted',
        '192.168.0.0/16',
        'extra',
      ],
      flags,
    );
    expect(Object.fromEntries(values)).toEqual({
      listen: ':8080',
      'conf-file': 'x.yaml',
      verbose: 7,
      'test-conf': true,
      hsts: false,
      timeout: 2000,
      trusted: ['10.0.0.0/8', '::1', '192.168.0.0/16'],
    });
    expect(positionals).toEqual(['extra']);
  });

  it('rejects unknown flags, bad numbers, bad durations, missing values and refused flags', () => {
    const err = (argv: string[]) => {
      try {
        parseArgv(argv, flags);
      } catch (e) {
        return e as DdsError;
      }
      throw new Error('expected an error');
    };
    expect(err(['--listn', 'x']).code).toBe('DDS_FLAG_UNKNOWN');
    expect(err(['--listn', 'x']).message).toBe('unknown flag --listn (did you mean --listen?) (see --help)');
    expect(err(['--zzzzzz', 'x']).message).toBe('unknown flag --zzzzzz (see --help)');
    expect(err(['-v', 'loud']).message).toBe('-v: expected a number, got "loud"');
    expect(err(['--timeout', 'soon']).message).toContain('expected a duration');
    expect(err(['--listen']).message).toBe('--listen: needs a value');
    expect(err(['-d']).message).toBe('-d: dds never daemonizes');
  });

  it('renders every flag with its default and env var in help', () => {
    const help = renderHelp({ bin: 'dds-x', summary: 's', usage: 'dds-x [flags]', flags });
    for (const f of flags) expect(help).toContain(`--${f.name}`);
    expect(help).toContain('(default 0.0.0.0:80) [env DDS_LISTEN]');
    expect(help).toContain('(default 1500ms)');
    expect(help).toContain('-c, --conf-file');
  });
});
