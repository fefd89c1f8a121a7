import { describe, expect, it } from 'vitest';
import { checkShardKey, shardKey } from './shard-key.js';

const req = (url: string, headers: Record<string, string> = {}) => ({ url, headers });

describe('shard keys', () => {
  it('reads uri, path and query', () => {
    expect(shardKey('uri')(req('/a/b?x=1'))).toBe('/a/b?x=1');
    expect(shardKey('path')(req('/a/b?x=1'))).toBe('/a/b');
    expect(shardKey('query:x')(req('/a/b?x=1&y=2'))).toBe('1');
    expect(shardKey('query:z')(req('/a/b?x=1'))).toBe('/a/b?x=1');
  });

  it('reads headers and cookies as core does: a quoted cookie is the same key as an unquoted one', () => {
    const cookie = shardKey('cookie:session');
    expect(cookie(req('/', { cookie: 'a=1; session="abc"' }))).toBe('abc');
    expect(cookie(req('/', { cookie: 'session=abc' }))).toBe('abc');
    expect(cookie(req('/x', { cookie: 'session=' }))).toBe('/x');
    expect(shardKey('header:X-User')(req('/', { 'x-user': 'u1' }))).toBe('u1');
    expect(shardKey('header:x-user')(req('/y', { 'x-user': '' }))).toBe('/y');
  });

  it('names what is wrong in a spec', () => {
    for (const ok of ['uri', 'path', 'query:q', 'header:x-user', 'cookie:sid'])
      expect(checkShardKey(ok)).toBeUndefined();
    expect(checkShardKey('ip')).toMatch(/unknown key "ip": expected uri, path/);
    expect(checkShardKey('header:a b')).toBe('"a b" is not a header name');
    expect(checkShardKey('cookie:')).toMatch(/needs a name/);
    expect(checkShardKey('query:')).toMatch(/needs a name/);
    expect(checkShardKey('host')).toMatch(/unknown key "host"/);
  });
});
