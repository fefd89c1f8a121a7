import { loadOtlpProto } from '@dds/test-support/log-adapter/otlp-proto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { exportRequest } from './otlp-encode.js';
import { decodeLogsResponse, encodeLogsRequest } from './otlp-wire.js';

// The adapter's own OTLP protobuf writer against protobufjs's reflection codec built from the
// same field numbers: whatever the records, protobufjs decodes exactly what the plain-object
// encoding says. (The real collector checks the field numbers themselves: otlp.integration.test.ts.)

const stamp = fc
  .date({ min: new Date('1971-01-01'), max: new Date('2200-01-01'), noInvalidDate: true })
  .chain((d) =>
    fc.stringMatching(/^\d{0,9}$/).map((frac) => `${d.toISOString().slice(0, 19)}${frac ? `.${frac}` : ''}Z`),
  );
const scalar = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc.string({ maxLength: 200 }),
  fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
);
const value = fc.letrec((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    scalar,
    fc.array(tie('v'), { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 10 }), tie('v'), { maxKeys: 3 }),
  ),
})).v;
const record = fc.record(
  {
    timestamp: stamp,
    observed_timestamp: stamp,
    severity_text: fc.constantFrom('INFO', 'warn', 'ERROR', ''),
    severity_number: fc.integer({ min: 0, max: 24 }),
    body: fc.string({ maxLength: 100 }),
    trace_id: fc.oneof(fc.stringMatching(/^[0-9a-f]{32}$/), fc.constant('not-a-trace-id')),
    span_id: fc.stringMatching(/^[0-9a-f]{16}$/),
    attributes: fc.dictionary(fc.string({ maxLength: 20 }), value, { maxKeys: 8 }),
    resource: fc.dictionary(
      fc.constantFrom('k8s.pod.name', 'service.name', 'k8s.namespace.name'),
      fc.string({ maxLength: 10 }),
      {
        maxKeys: 3,
      },
    ),
  },
  { requiredKeys: ['observed_timestamp', 'body', 'attributes'] },
);

describe('OTLP protobuf writer', () => {
  it('property: protobufjs decodes what the plain-object request holds, for any records', async () => {
    const proto = await loadOtlpProto();
    fc.assert(
      fc.property(fc.array(record, { minLength: 1, maxLength: 12 }), (recs) => {
        const ndjson = `${recs.map((r) => JSON.stringify(r)).join('\n')}\n`;
        const ours = proto.decodeRequest(encodeLogsRequest(ndjson));
        const reference = proto.decodeRequest(proto.encodeRequest(exportRequest(ndjson, false).request));
        expect(ours).toEqual(reference);
      }),
      { numRuns: 200 },
    );
  });

  it('keeps nanoseconds, groups by resource, and puts ids in bytes fields', async () => {
    const proto = await loadOtlpProto();
    const ndjson = [
      '{"timestamp":"2026-11-28T15:49:09.123456789Z","observed_timestamp":"2026-11-28T15:49:10Z","body":"a","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7","attributes":{"n":-5},"resource":{"k8s.pod.name":"p1"}}',
      '{"observed_timestamp":"2026-11-28T15:49:10Z","body":"b","attributes":{},"resource":{"k8s.pod.name":"p2"}}',
      '{"observed_timestamp":"2026-11-28T15:49:10Z","body":"c","attributes":{},"resource":{"k8s.pod.name":"p1"}}',
      '',
    ].join('\n');
    const req = proto.decodeRequest(encodeLogsRequest(ndjson)) as {
      resourceLogs: Array<{ scopeLogs: Array<{ logRecords: Array<Record<string, unknown>> }> }>;
    };
    expect(req.resourceLogs.length).toBe(2);
    const first = req.resourceLogs[0]!.scopeLogs[0]!.logRecords;
    expect(first.map((r) => (r.body as { stringValue: string }).stringValue)).toEqual(['a', 'c']);
    expect(first[0]!.timeUnixNano).toBe('1795880949123456789');
    expect(Buffer.from(first[0]!.traceId as string, 'base64').toString('hex')).toBe(
      '4bf92f3577b34da6a3ce929d0e0e4736',
    );
    expect(first[0]!.attributes).toEqual([{ key: 'n', value: { intValue: '-5' } }]);
  });

  it('reads partial_success from a response, and an empty response as all accepted', async () => {
    const proto = await loadOtlpProto();
    expect(decodeLogsResponse(new Uint8Array())).toEqual({ rejected: 0, message: '' });
    expect(decodeLogsResponse(proto.encodeResponse(7, 'bad severity'))).toEqual({
      rejected: 7,
      message: 'bad severity',
    });
    expect(() => decodeLogsResponse(Uint8Array.from([0x0a, 0x05, 0x08]))).toThrow();
  });
});
