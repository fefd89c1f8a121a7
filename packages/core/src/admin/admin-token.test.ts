import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSecretFile } from '../config/secret-file.js';
import * as z from '../config/zod.js';
import { adminTokenSchema, authorizeAction } from './admin-token.js';

const dir = mkdtempSync(join(tmpdir(), 'dds-admin-token-'));
const file = (name: string, text: string) => {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
};

describe('admin actions', () => {
  const token = 'c2VjcmV0LXRva2VuLWZvci1hZG1pbg';
  const good = file('token', `${token}\n`);

  it('are refused when no token file is configured', () => {
    expect(authorizeAction(`Bearer ${token}`, undefined)).toEqual({
      ok: false,
      status: 403,
      error: 'admin actions are off: start with --admin-token-file FILE',
    });
  });

  it('need the exact token as a Bearer credential (the file may end in a newline)', () => {
    expect(authorizeAction(`Bearer ${token}`, good)).toEqual({ ok: true });
    expect(authorizeAction(`bearer  ${token} `, good)).toEqual({ ok: true });
    for (const bad of [
      undefined,
      '',
      token,
      `Bearer ${token}x`,
      `Bearer ${token.slice(1)}`,
      `Basic ${token}`,
    ])
      expect(authorizeAction(bad, good)).toMatchObject({ ok: false, status: 401 });
  });

  it('follow the file: a rotated token applies to the next action', () => {
    const f = file('rotating', 'first-token-0123456789');
    expect(authorizeAction('Bearer first-token-0123456789', f).ok).toBe(true);
    writeFileSync(f, 'second-token-0123456789');
    expect(authorizeAction('Bearer first-token-0123456789', f).ok).toBe(false);
    expect(authorizeAction('Bearer second-token-0123456789', f).ok).toBe(true);
  });

  it('are unavailable (503), not open, when the file goes missing or holds no usable token', () => {
    expect(authorizeAction(`Bearer ${token}`, join(dir, 'missing'))).toMatchObject({
      ok: false,
      status: 503,
    });
    expect(authorizeAction('Bearer short', file('short', 'short'))).toMatchObject({ ok: false, status: 503 });
  });

  it('a token file is checked with the config: readable, long enough, one word', () => {
    const schema = z.strictObject(adminTokenSchema);
    expect(schema.safeParse({ adminTokenFile: '' }).success).toBe(true);
    expect(schema.safeParse({ adminTokenFile: good }).success).toBe(true);
    const issue = (f: string) => schema.safeParse({ adminTokenFile: f }).error?.issues[0]?.message;
    expect(issue(join(dir, 'missing'))).toMatch(/cannot read .*missing: ENOENT/);
    expect(issue(file('empty', '\n'))).toMatch(/holds 0 characters; at least 16 are needed/);
    expect(issue(file('two', 'one-token-0123456789 two'))).toMatch(/one secret without spaces/);
    expect(readSecretFile(good, 16)).toEqual({ secret: token });
  });
});
