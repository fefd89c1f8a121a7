import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '@dds/test-support';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadRlsConfig } from './rls-config.js';
import { findRule } from './rls-lookup.js';

function config(yaml: string) {
  const dir = tempDir('rls-lookup');
  writeFileSync(join(dir, 'c.yaml'), yaml);
  return loadRlsConfig(dir);
}
const d = (...kv: string[]) => ({
  entries: Array.from({ length: kv.length / 2 }, (_, i) => ({ key: kv[2 * i]!, value: kv[2 * i + 1]! })),
});

describe('RLS rule lookup (envoyproxy/ratelimit semantics)', () => {
  const c = config(`
domain: d
descriptors:
  - key: path
    value: /api/*
    rate_limit: { unit: second, requests_per_unit: 1 }
  - key: path
    value: /api/admin
    rate_limit: { unit: second, requests_per_unit: 2 }
  - key: path
    rate_limit: { unit: second, requests_per_unit: 3 }
  - key: user
    value_to_metric: true
    descriptors:
      - key: op
        value: write
        rate_limit: { unit: minute, requests_per_unit: 4 }
`);

  it('exact value first, then the first wildcard, then the bare key', () => {
    expect(findRule(c, 'd', d('path', '/api/admin'))?.rule.requestsPerUnit).toBe(2);
    expect(findRule(c, 'd', d('path', '/api/users'))?.rule.requestsPerUnit).toBe(1);
    expect(findRule(c, 'd', d('path', '/other'))?.rule.requestsPerUnit).toBe(3);
    expect(findRule(c, 'd', d('path', '/api/users'))?.metricKey).toBe('d.path_/api/*');
  });

  it('a rule applies only where the descriptor ends; value_to_metric labels with the value', () => {
    expect(findRule(c, 'd', d('user', 'u1'))).toBeUndefined();
    expect(findRule(c, 'd', d('user', 'u1', 'op', 'read'))).toBeUndefined();
    const m = findRule(c, 'd', d('user', 'u1', 'op', 'write'));
    expect([m?.rule.requestsPerUnit, m?.metricKey]).toEqual([4, 'd.user_u1.op_write']);
    expect(findRule(c, 'd', d('path', '/x', 'extra', 'y'))).toBeUndefined();
    expect(findRule(c, 'other', d('path', '/x'))).toBeUndefined();
  });

  it('never throws on any descriptor', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('path', 'user', 'op', 'x'), fc.string({ maxLength: 12 })), {
          maxLength: 5,
        }),
        (kv) => {
          const r = findRule(c, 'd', d(...kv.flat()));
          if (r) expect(r.rule.requestsPerUnit).toBeGreaterThan(0);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
