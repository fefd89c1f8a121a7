/**
 * The protobuf wire format for the few small messages dds speaks over gRPC (grpc.health.v1,
 * Envoy's rate-limit service), encoded and decoded by hand so no .proto parsing or code
 * generator runs in the process: a reader over one buffer and a writer of one message.
 * Unknown fields are skipped (proto3 forward compatibility); malformed input throws.
 */

export class ProtobufError extends Error {
  override name = 'ProtobufError';
}

/** Wire types. */
export const VARINT = 0;
export const FIXED64 = 1;
export const BYTES = 2;
export const FIXED32 = 5;

export class ProtoReader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** A varint as a number (exact up to 2^53; uint64 values above are clamped). */
  varint(): number {
    let v = 0;
    for (let shift = 0; shift < 70; shift += 7) {
      if (this.pos >= this.end) throw new ProtobufError('truncated varint');
      const b = this.buf[this.pos++]!;
      if (shift < 53) v += (b & 0x7f) * 2 ** shift;
      else if (b & 0x7f) v = Number.MAX_SAFE_INTEGER;
      if (b < 0x80) return v;
    }
    throw new ProtobufError('varint longer than 10 bytes');
  }

  /** The next field's tag: [field number, wire type]. */
  tag(): [number, number] {
    const t = this.varint();
    const field = Math.floor(t / 8);
    if (field === 0) throw new ProtobufError('field number 0');
    return [field, t & 7];
  }

  /** The bounds of a length-delimited field's content, and moves past it. */
  delimited(): [number, number] {
    const len = this.varint();
    const start = this.pos;
    if (len > this.end - start) throw new ProtobufError('length past the end of the message');
    this.pos = start + len;
    return [start, start + len];
  }

  string(): string {
    const [a, b] = this.delimited();
    return Buffer.from(this.buf.buffer, this.buf.byteOffset + a, b - a).toString('utf8');
  }

  /** A reader over an embedded message. */
  message(): ProtoReader {
    const [a, b] = this.delimited();
    return new ProtoReader(this.buf, a, b);
  }

  skip(wire: number): void {
    switch (wire) {
      case VARINT:
        this.varint();
        return;
      case FIXED64:
        this.advance(8);
        return;
      case BYTES:
        this.delimited();
        return;
      case FIXED32:
        this.advance(4);
        return;
      default:
        throw new ProtobufError(`unsupported wire type ${wire}`);
    }
  }

  /** Reads a field's value as a varint, insisting on the wire type. */
  expect(wire: number, want: number, what: string): void {
    if (wire !== want) throw new ProtobufError(`${what}: wire type ${wire}, expected ${want}`);
  }

  private advance(n: number): void {
    if (this.pos + n > this.end) throw new ProtobufError('truncated fixed-width field');
    this.pos += n;
  }
}

/** Builds one message; embedded messages are encoded first and written as bytes. */
export class ProtoWriter {
  private buf = Buffer.allocUnsafe(64);
  private len = 0;

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  rawVarint(v: number): this {
    this.room(10);
    let n = v;
    while (n > 0x7f) {
      this.buf[this.len++] = (n % 128) | 0x80;
      n = Math.floor(n / 128);
    }
    this.buf[this.len++] = n;
    return this;
  }

  /** A varint field; proto3 leaves out zero. */
  uint(field: number, v: number): this {
    if (v === 0) return this;
    return this.rawVarint(field * 8 + VARINT).rawVarint(v);
  }

  bytes(field: number, data: Uint8Array): this {
    this.rawVarint(field * 8 + BYTES).rawVarint(data.length);
    this.room(data.length);
    this.buf.set(data, this.len);
    this.len += data.length;
    return this;
  }

  /** A string field; proto3 leaves out the empty string. */
  string(field: number, s: string): this {
    if (s === '') return this;
    const n = Buffer.byteLength(s);
    this.rawVarint(field * 8 + BYTES).rawVarint(n);
    this.room(n);
    this.len += this.buf.write(s, this.len, 'utf8');
    return this;
  }

  /** An embedded message, written even when empty (presence matters for messages). */
  message(field: number, m: ProtoWriter): this {
    return this.bytes(field, m.finish());
  }

  finish(): Buffer {
    return this.buf.subarray(0, this.len);
  }
}
