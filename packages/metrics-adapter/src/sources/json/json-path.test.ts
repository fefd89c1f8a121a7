import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileJsonPath, type Json, JsonPathError } from './json-path.js';

const doc: Json = {
  counter: 1234,
  values: [
    { id: 'id-A', count: 1, some_boolean: true, state: 'ACTIVE' },
    { id: 'id-B', count: 2, some_boolean: true, state: 'INACTIVE' },
    { id: 'id-C', count: 3, some_boolean: false, state: 'ACTIVE' },
  ],
  location: 'mars',
  queues: { emails: { size: 3, workers: { a: 1 } }, sms: { size: 5 } },
  'dotted.key': 7,
};

const values = (path: string, d: Json = doc) =>
  compileJsonPath(path)
    .evaluate(d)
    .map((m) => m.value);
const keys = (path: string, d: Json = doc) =>
  compileJsonPath(path)
    .evaluate(d)
    .map((m) => m.keys);

describe('JSONPath subset', () => {
  it('selects members, indexes and the root in every accepted spelling', () => {
    for (const p of [
      '{.counter}',
      '{ .counter }',
      '$.counter',
      '.counter',
      'counter',
      "$['counter']",
      '$["counter"]',
    ])
      expect(values(p)).toEqual([1234]);
    expect(values('$')).toEqual([doc]);
    expect(values('{.values[0].id}')).toEqual(['id-A']);
    expect(values('{.values[-1].id}')).toEqual(['id-C']);
    expect(values('{.values[5].id}')).toEqual([]);
    expect(values("$['dotted.key']")).toEqual([7]);
    expect(values('{.missing.deeper}')).toEqual([]);
    expect(values('{.counter.deeper}')).toEqual([]);
  });

  it('expands wildcards over arrays and objects and records the keys', () => {
    expect(values('{.values[*].count}')).toEqual([1, 2, 3]);
    expect(keys('{.values[*].count}')).toEqual([[0], [1], [2]]);
    expect(values('{.queues.*.size}')).toEqual([3, 5]);
    expect(keys('{.queues.*.size}')).toEqual([['emails'], ['sms']]);
    expect(keys('{.queues.*.workers.*}')).toEqual([['emails', 'a']]);
  });

  it('descends recursively', () => {
    expect(values('$..size')).toEqual([3, 5]);
    expect(values('$..id')).toEqual(['id-A', 'id-B', 'id-C']);
    expect(values('$.queues..*').length).toBe(6);
  });

  it('filters with comparisons and existence', () => {
    expect(values('{.values[?(@.state == "ACTIVE")].id}')).toEqual(['id-A', 'id-C']);
    expect(values("{.values[?(@.state != 'ACTIVE')].id}")).toEqual(['id-B']);
    expect(values('{.values[?(@.count > 1)].id}')).toEqual(['id-B', 'id-C']);
    expect(values('{.values[?(@.count<=2)].id}')).toEqual(['id-A', 'id-B']);
    expect(values('{.values[?(@.some_boolean == true)].id}')).toEqual(['id-A', 'id-B']);
    expect(values('{.values[?(@.some_boolean)].id}')).toEqual(['id-A', 'id-B']);
    expect(values('{.queues[?(@.size >= 5)].size}')).toEqual([5]);
    expect(keys('{.queues[?(@.size >= 5)].size}')).toEqual([['sms']]);
    expect(values('{.values[?(@.count > "1")].id}')).toEqual([]);
  });

  it('rejects invalid paths with a message naming the offset', () => {
    for (const p of ['{.values[}', '{.values[?(.x)]}', '{.a b}', "$['open", '{.values[?(@.x == )]}', '$.a]'])
      expect(() => compileJsonPath(p), p).toThrow(JsonPathError);
    expect(() => compileJsonPath('{.values[}')).toThrow(/offset \d+/);
  });

  it('never throws on evaluation of arbitrary JSON (property)', () => {
    const paths = ['$..*', '{.a[*].b}', '{.*.*}', '{[?(@.x > 1)]}', '{.a[-1]}', '$..x'].map(compileJsonPath);
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (v) => {
        for (const p of paths) expect(Array.isArray(p.evaluate(v as Json))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('evaluates a compiled path the same as a naive member walk (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.stringMatching(/^[a-z]{1,4}$/), { minLength: 1, maxLength: 4 }),
        fc.jsonValue({ maxDepth: 3 }),
        (names, leaf) => {
          let d: Json = leaf as Json;
          for (const n of [...names].reverse()) d = { [n]: d };
          expect(values(`{.${names.join('.')}}`, d)).toEqual([leaf]);
        },
      ),
    );
  });
});
