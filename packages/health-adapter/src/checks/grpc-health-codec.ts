/**
 * The two messages of grpc.health.v1 encoded by hand (protobuf wire format), so no .proto file or
 * proto-loader is needed at run time:
 *   message HealthCheckRequest  { string service = 1; }
 *   message HealthCheckResponse { ServingStatus status = 1; }
 */
export const SERVING_STATUS = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'] as const;

export function encodeHealthRequest(service: string): Buffer {
  const name = Buffer.from(service, 'utf8');
  if (name.length === 0) return Buffer.alloc(0);
  return Buffer.concat([Buffer.from([0x0a]), varint(name.length), name]);
}

export function decodeHealthRequest(buf: Buffer): string {
  for (let i = 0; i < buf.length; ) {
    const [tag, a] = readVarint(buf, i);
    const [len, b] = (tag & 7) === 2 ? readVarint(buf, a) : [0, a];
    if (tag === 0x0a) return buf.toString('utf8', b, b + len);
    i = skip(buf, tag, a);
  }
  return '';
}

export function encodeHealthResponse(status: number): Buffer {
  return status === 0 ? Buffer.alloc(0) : Buffer.concat([Buffer.from([0x08]), varint(status)]);
}

/** The status number of a HealthCheckResponse (0 UNKNOWN when absent, as proto3 defaults). */
export function decodeHealthResponse(buf: Buffer): number {
  let status = 0;
  for (let i = 0; i < buf.length; ) {
    const [tag, a] = readVarint(buf, i);
    if (tag === 0x08) {
      const [v, b] = readVarint(buf, a);
      status = v;
      i = b;
    } else i = skip(buf, tag, a);
  }
  return status;
}

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return Buffer.from(out);
}

function readVarint(buf: Buffer, at: number): [number, number] {
  let v = 0;
  for (let shift = 0, i = at; i < buf.length && shift < 35; shift += 7, i++) {
    const b = buf[i]!;
    v += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return [v, i + 1];
  }
  throw new Error('malformed protobuf varint');
}

/** Skips an unknown field (proto3 forward compatibility). */
function skip(buf: Buffer, tag: number, at: number): number {
  switch (tag & 7) {
    case 0:
      return readVarint(buf, at)[1];
    case 1:
      return at + 8;
    case 2: {
      const [len, b] = readVarint(buf, at);
      if (b + len > buf.length) throw new Error('malformed protobuf length');
      return b + len;
    }
    case 5:
      return at + 4;
    default:
      throw new Error(`unsupported protobuf wire type ${tag & 7}`);
  }
}
