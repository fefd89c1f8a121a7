import { ProtobufError } from '@dds/core/protobuf/wire';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Code,
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  type RlsRequest,
  type RlsResponse,
} from './rls-codec.js';

const uint32 = fc.integer({ min: 0, max: 0xffff_ffff });
const request: fc.Arbitrary<RlsRequest> = fc.record({
  domain: fc.string({ maxLength: 40 }),
  descriptors: fc.array(
    fc.record(
      {
        entries: fc.array(
          fc.record({ key: fc.string({ maxLength: 20 }), value: fc.string({ maxLength: 40 }) }),
          {
            maxLength: 5,
          },
        ),
        limit: fc.record({ requestsPerUnit: uint32, unit: fc.integer({ min: 0, max: 7 }) }),
        hitsAddend: fc.nat(),
      },
      { requiredKeys: ['entries'] },
    ),
    { maxLength: 8 },
  ),
  hitsAddend: uint32,
});

const response: fc.Arbitrary<RlsResponse> = fc.record({
  overallCode: fc.constantFrom(Code.UNKNOWN, Code.OK, Code.OVER_LIMIT),
  statuses: fc.array(
    fc.record(
      {
        code: fc.constantFrom(Code.UNKNOWN, Code.OK, Code.OVER_LIMIT),
        currentLimit: fc.record({
          name: fc.string({ maxLength: 20 }),
          requestsPerUnit: uint32,
          unit: fc.integer({ min: 0, max: 7 }),
        }),
        limitRemaining: uint32,
        durationUntilResetMs: fc.integer({ min: 0, max: 400 * 86_400_000 }),
      },
      { requiredKeys: ['code', 'limitRemaining'] },
    ),
    { maxLength: 8 },
  ),
  responseHeadersToAdd: fc.array(
    fc.tuple(fc.string({ minLength: 1, maxLength: 20 }), fc.string({ maxLength: 60 })),
    { maxLength: 3 },
  ),
});

describe('RLS messages (protobuf wire format)', () => {
  it('matches the wire bytes of a known request', () => {
    // domain "d", one descriptor {entries [{k, v}], hits_addend {value 2}}, hits_addend 3
    const bytes = Buffer.from([
      0x0a, 1, 0x64, 0x12, 12, 0x0a, 6, 0x0a, 1, 0x6b, 0x12, 1, 0x76, 0x1a, 2, 0x08, 2, 0x18, 3,
    ]);
    expect(decodeRequest(bytes)).toEqual({
      domain: 'd',
      descriptors: [{ entries: [{ key: 'k', value: 'v' }], hitsAddend: 2 }],
      hitsAddend: 3,
    });
    expect(encodeRequest(decodeRequest(bytes))).toEqual(bytes);
  });

  it('round-trips any request and any response', () => {
    fc.assert(
      fc.property(request, response, (req, res) => {
        expect(decodeRequest(encodeRequest(req))).toEqual(req);
        const back = decodeResponse(encodeResponse(res));
        expect(back).toEqual({
          ...res,
          statuses: res.statuses.map((s) => ({ ...s, durationUntilResetMs: s.durationUntilResetMs })),
        });
      }),
      { numRuns: 500 },
    );
  });

  it('on any bytes: a request or a ProtobufError, never anything else, never unbounded', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          const r = decodeRequest(bytes);
          expect(r.descriptors.length).toBeLessThanOrEqual(256);
        } catch (e) {
          expect(e).toBeInstanceOf(ProtobufError);
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('refuses more than 256 descriptors (a hostile caller cannot make one call cost much)', () => {
    const many = encodeRequest({
      domain: 'd',
      descriptors: Array.from({ length: 257 }, () => ({ entries: [] })),
      hitsAddend: 0,
    });
    expect(() => decodeRequest(many)).toThrow(/more than 256 descriptors/);
  });
});
