import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeHealthRequest,
  decodeHealthResponse,
  encodeHealthRequest,
  encodeHealthResponse,
} from './grpc-health.js';

describe('grpc.health.v1 codec', () => {
  it('matches the protobuf wire bytes', () => {
    expect(encodeHealthRequest('')).toEqual(Buffer.alloc(0));
    expect(encodeHealthRequest('db')).toEqual(Buffer.from([0x0a, 2, 0x64, 0x62]));
    expect(encodeHealthResponse(1)).toEqual(Buffer.from([0x08, 1]));
    expect(decodeHealthResponse(Buffer.from([0x08, 2]))).toBe(2);
    expect(decodeHealthResponse(Buffer.alloc(0))).toBe(0);
  });

  it('skips unknown fields (a newer server may add some)', () => {
    const withExtra = Buffer.from([0x12, 3, 0x61, 0x62, 0x63, 0x08, 1, 0x18, 0x96, 0x01]);
    expect(decodeHealthResponse(withExtra)).toBe(1);
  });

  it('round-trips any service name and status', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), fc.nat(1000), (name, status) => {
        expect(decodeHealthRequest(encodeHealthRequest(name))).toBe(name);
        expect(decodeHealthResponse(encodeHealthResponse(status))).toBe(status);
      }),
    );
  });

  it('on garbage either decodes a number or throws an Error, never hangs', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          expect(typeof decodeHealthResponse(Buffer.from(bytes))).toBe('number');
        } catch (e) {
          expect(e).toBeInstanceOf(Error);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('protobuf wire reader', () => {
  it('never reads past a length or a message end, whatever the bytes', async () => {
    const { ProtoReader } = await import('./wire.js');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const r = new ProtoReader(bytes);
        try {
          while (!r.done) r.skip(r.tag()[1]);
          expect(r.pos).toBe(bytes.length);
        } catch (e) {
          expect((e as Error).name).toBe('ProtobufError');
        }
      }),
      { numRuns: 3000 },
    );
  });
});
