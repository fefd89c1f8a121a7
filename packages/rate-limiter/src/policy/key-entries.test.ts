import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CompiledPolicy, collectChecks, compilePolicy } from './compile.js';
import { type KeyEntry, parseEntry, redactEntry } from './key-entries.js';
import { type KeyPart, parseKeyPart } from './key-spec.js';
import type { PolicyRequest } from './matcher.js';
import { zPolicies, zPolicy } from './schema.js';

const req = (headers: Record<string, string>): PolicyRequest =>
  ({ headers, method: 'GET', url: '/' }) as PolicyRequest;
const parts = (...specs: string[]) => specs.map((s) => parseKeyPart(s) as KeyPart);
const compile = (p: object) => compilePolicy(zPolicy.parse(p));

/** What a request gets from one policy: skipped (why), or the names of the limits it must pass. */
function outcome(p: CompiledPolicy, headers: Record<string, string>, ip = '198.51.100.9'): string {
  let skipped = '';
  const checks = collectChecks([p], req(headers), { ip }, false, (_p, why) => (skipped = why));
  return skipped || checks.map((c) => c.limit.name).join(',');
}

describe('allow-list and override entries', () => {
  it('parse into conditions on named parts, or name what is wrong', () => {
    const composite = parts('header:X-API-Key', 'ip');
    expect(parseEntry('header:x-api-key=internal-batch-key', composite)).toEqual([
      { part: 0, value: 'internal-batch-key' },
    ]);
    // a value may itself contain '='
    expect(parseEntry('header:x-api-key=abc==', composite)).toEqual([{ part: 0, value: 'abc==' }]);
    expect(parseEntry('10.0.0.0/8', composite)).toEqual([{ part: 'ip', cidr: '10.0.0.0/8' }]);
    expect(parseEntry('ip=203.0.113.7', composite)).toEqual([{ part: 'ip', cidr: '203.0.113.7' }]);
    expect(parseEntry({ 'header:x-api-key': 'k1', ip: '203.0.113.0/24' }, composite)).toEqual([
      { part: 0, value: 'k1' },
      { part: 'ip', cidr: '203.0.113.0/24' },
    ]);
    expect(parseEntry('internal-batch-key', composite)).toBe(
      'the key has 2 parts (header:x-api-key, ip): name the one this value is, as header:x-api-key=internal-batch-key, or give several as {header:x-api-key: ..., ip: ...}',
    );
    expect(parseEntry('cookie:sid=x', composite)).toBe(
      `"cookie:sid" is not a part of this policy's key (header:x-api-key, ip)`,
    );
    expect(parseEntry('ip=somewhere', composite)).toBe('"somewhere" is not an IP address or CIDR');
    expect(parseEntry('10.0.0.0/40', composite)).toBe('"10.0.0.0/40" has an invalid prefix length');
    expect(parseEntry('header:x-api-key=', composite)).toBe('header:x-api-key= needs a value');
    expect(parseEntry({}, composite)).toBe('an entry needs at least one part');
    // a key of one part: a bare value is that part; jwt parts are named as in `key`
    expect(parseEntry('k1', parts('header:x-api-key'))).toEqual([{ part: 0, value: 'k1' }]);
    expect(parseEntry('jwt:org.id=42', parts('jwt:org.id', 'ip'))).toEqual([{ part: 0, value: '42' }]);
    expect(parseEntry('jwt:sub@x-token=bob', parts('jwt:sub@X-Token'))).toEqual([{ part: 0, value: 'bob' }]);
    expect(parseEntry('not-an-ip', parts('ip'))).toBe('"not-an-ip" is not an IP address or CIDR');
  });

  it('never throw, whatever the entry (property)', () => {
    const keys = [parts('ip'), parts('header:a'), parts('header:a', 'ip'), parts('jwt:sub', 'cookie:c')];
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.dictionary(fc.string(), fc.string())),
        fc.constantFrom(...keys),
        (entry, key) => {
          const r = parseEntry(entry as KeyEntry, key);
          expect(typeof r === 'string' || Array.isArray(r)).toBe(true);
        },
      ),
    );
  });

  it('the README example: a composite key, one allow-listed API key from anywhere', () => {
    const p = compile({
      name: 'api',
      key: ['header:x-api-key', 'ip'],
      limits: [{ rate: '10/s' }],
      allow: ['header:x-api-key=internal-batch-key', '10.1.0.0/16'],
      overrides: [
        {
          keys: [{ 'header:x-api-key': 'paid-key-1', ip: '203.0.113.0/24' }],
          limits: [{ name: 'paid', rate: '100/s' }],
        },
        { keys: ['header:x-api-key=gold'], limits: [{ name: 'gold', rate: '1000/s' }] },
      ],
    });
    expect(outcome(p, { 'x-api-key': 'internal-batch-key' })).toBe('allowlisted');
    expect(outcome(p, { 'x-api-key': 'internal-batch-key' }, '192.0.2.1')).toBe('allowlisted');
    expect(outcome(p, { 'x-api-key': 'someone' })).toBe('api');
    expect(outcome(p, {}, '10.1.2.3')).toBe('allowlisted'); // the client range, even without a key
    expect(outcome(p, {})).toBe('no_key');
    // the override needs both its parts
    expect(outcome(p, { 'x-api-key': 'paid-key-1' }, '203.0.113.7')).toBe('paid');
    expect(outcome(p, { 'x-api-key': 'paid-key-1' }, '198.51.100.1')).toBe('api');
    expect(outcome(p, { 'x-api-key': 'gold' })).toBe('gold');
  });

  it('the first override in config order wins when several name a request', () => {
    const p = compile({
      name: 'p',
      key: ['header:k', 'ip'],
      limits: [{ rate: '1/s' }],
      overrides: [
        { keys: ['192.0.2.0/24'], limits: [{ name: 'by-client', rate: '2/s' }] },
        { keys: ['header:k=a'], limits: [{ name: 'by-key', rate: '3/s' }] },
        { keys: [{ 'header:k': 'b', ip: '192.0.2.0/24' }], limits: [{ name: 'both', rate: '4/s' }] },
      ],
    });
    expect(outcome(p, { k: 'a' }, '192.0.2.1')).toBe('by-client');
    expect(outcome(p, { k: 'a' }, '198.51.100.1')).toBe('by-key');
    expect(outcome(p, { k: 'b' }, '192.0.2.1')).toBe('by-client');
    const q = compile({
      name: 'q',
      key: ['header:k', 'ip'],
      limits: [{ rate: '1/s' }],
      overrides: [
        { keys: [{ 'header:k': 'b', ip: '192.0.2.0/24' }], limits: [{ name: 'both', rate: '4/s' }] },
        { keys: ['header:k=b'], limits: [{ name: 'by-key', rate: '3/s' }] },
      ],
    });
    expect(outcome(q, { k: 'b' }, '192.0.2.1')).toBe('both');
    expect(outcome(q, { k: 'b' }, '198.51.100.1')).toBe('by-key');
  });

  it('match long values by their hash, as the key does', () => {
    const long = 'k'.repeat(1000);
    const p = compile({ name: 'p', key: 'header:k', limits: [{ rate: '1/s' }], allow: [long] });
    expect(outcome(p, { k: long })).toBe('allowlisted');
    expect(outcome(p, { k: `${long}x` })).toBe('p');
  });

  it('invalid entries are config errors naming the entry', () => {
    const r = zPolicies.safeParse([
      {
        name: 'api',
        key: ['header:x-api-key', 'ip'],
        limits: [{ rate: '1/s' }],
        allow: ['internal-batch-key'],
      },
      {
        name: 'b',
        key: 'ip',
        limits: [{ rate: '1/s' }],
        overrides: [{ keys: ['cookie:x=1'], limits: [{ rate: '2/s' }] }],
      },
    ]);
    const issues = r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(issues).toEqual([
      expect.stringMatching(/^0\.allow\.0: the key has 2 parts \(header:x-api-key, ip\)/),
      `1.overrides.0.keys.0: "cookie:x" is not a part of this policy's key (ip)`,
    ]);
  });
});

describe('redactEntry', () => {
  it('keeps addresses and part names, never key values', () => {
    expect(redactEntry('10.0.0.0/8')).toBe('10.0.0.0/8');
    expect(redactEntry('ip=203.0.113.7')).toBe('ip=203.0.113.7');
    expect(redactEntry('header:x-api-key=sk_live_123')).toBe('header:x-api-key=<redacted>');
    expect(redactEntry('sk_live_123')).toBe('<redacted>');
    expect(redactEntry('abc==')).toBe('<redacted>');
    expect(redactEntry({ 'header:x-api-key': 'sk_live_123', ip: '203.0.113.0/24' })).toEqual({
      'header:x-api-key': '<redacted>',
      ip: '203.0.113.0/24',
    });
  });
});
