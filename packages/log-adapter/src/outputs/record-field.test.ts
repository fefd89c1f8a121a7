import { describe, expect, it } from 'vitest';
import { fieldText, recordField } from './record-field.js';

describe('record fields by dotted path', () => {
  const rec = {
    body: 'b',
    attributes: { 'k8s.pod.name': 'attr-pod', user: { id: 7 }, 'http.response.status_code': 200 },
    resource: { 'k8s.namespace.name': 'shop', 'service.name': 'web' },
  };

  it('dotted keys and nested objects both resolve, the longest key first', () => {
    expect(recordField(rec, 'attributes.k8s.pod.name')).toBe('attr-pod');
    expect(recordField(rec, 'attributes.user.id')).toBe(7);
    expect(recordField(rec, 'resource.service.name')).toBe('web');
    expect(recordField(rec, 'attributes.nope')).toBeUndefined();
    expect(recordField(rec, 'body.x')).toBeUndefined();
  });

  it('key text: strings as they are, other values as JSON; attributes.X falls back to the resource', () => {
    expect(fieldText(rec, 'attributes.http.response.status_code')).toBe('200');
    expect(fieldText(rec, 'attributes.user')).toBe('{"id":7}');
    expect(fieldText(rec, 'attributes.k8s.namespace.name')).toBe('shop');
    expect(fieldText(rec, 'attributes.missing')).toBeUndefined();
    expect(fieldText({ attributes: { 'k8s.pod.name': null } }, 'attributes.k8s.pod.name')).toBeUndefined();
  });
});
