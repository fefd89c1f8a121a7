import { constants } from 'node:http2';

/** gRPC status codes the proxy answers with (grpc/doc/statuscodes.md). */
export const GrpcStatus = {
  CANCELLED: 1,
  DEADLINE_EXCEEDED: 4,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  INTERNAL: 13,
  UNAVAILABLE: 14,
} as const;

/** A gRPC request or response: `application/grpc`, alone or with a `+proto`-like suffix or `;` parameters. */
export function isGrpc(contentType: string | string[] | undefined): boolean {
  return (
    typeof contentType === 'string' &&
    contentType.startsWith('application/grpc') &&
    (contentType.length === 16 || contentType[16] === '+' || contentType[16] === ';')
  );
}

const UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 };

/**
 * The deadline of a `grpc-timeout` header in milliseconds (at most 8 digits and a unit: H M S m u
 * n); undefined when absent or malformed (a malformed value is ignored, as servers do).
 */
export function grpcTimeoutMs(value: string | undefined): number | undefined {
  if (value === undefined || value.length < 2 || value.length > 9) return undefined;
  const unit = UNIT_MS[value[value.length - 1]!];
  const digits = value.slice(0, -1);
  if (unit === undefined || !/^\d+$/.test(digits)) return undefined;
  return Math.ceil(Number(digits) * unit);
}

/** The gRPC status for a stream the upstream reset (gRPC's HTTP/2 error-code mapping). */
export function grpcStatusOfReset(code: number): number {
  switch (code) {
    case constants.NGHTTP2_REFUSED_STREAM:
      return GrpcStatus.UNAVAILABLE;
    case constants.NGHTTP2_CANCEL:
      return GrpcStatus.CANCELLED;
    case constants.NGHTTP2_ENHANCE_YOUR_CALM:
      return GrpcStatus.RESOURCE_EXHAUSTED;
    case constants.NGHTTP2_INADEQUATE_SECURITY:
      return GrpcStatus.PERMISSION_DENIED;
    default:
      return GrpcStatus.INTERNAL;
  }
}

/** grpc-message is percent-encoded UTF-8 (printable ASCII other than % stays as is). */
export function grpcMessage(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    out +=
      byte >= 0x20 && byte <= 0x7e && byte !== 0x25
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * The head of a trailers-only gRPC answer from the proxy itself, flat [name, value, ...]:
 * content-type first (the rest are the trailers of a call that had started).
 */
export function grpcAnswer(status: number, message: string): string[] {
  return [
    'content-type',
    'application/grpc',
    'grpc-status',
    String(status),
    'grpc-message',
    grpcMessage(message),
  ];
}
