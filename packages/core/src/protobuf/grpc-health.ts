import { BYTES, ProtoReader, ProtoWriter, VARINT } from './wire.js';

/**
 * grpc.health.v1 (the gRPC health-checking protocol Envoy's and Kubernetes' gRPC probes use):
 *   message HealthCheckRequest  { string service = 1; }
 *   message HealthCheckResponse { ServingStatus status = 1; }
 */
export const HEALTH_CHECK_PATH = '/grpc.health.v1.Health/Check';
export const HEALTH_WATCH_PATH = '/grpc.health.v1.Health/Watch';
export const SERVING_STATUS = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'] as const;
export type ServingStatus = (typeof SERVING_STATUS)[number];

export function encodeHealthRequest(service: string): Buffer {
  return new ProtoWriter().string(1, service).finish();
}

export function decodeHealthRequest(buf: Uint8Array): string {
  const r = new ProtoReader(buf);
  let service = '';
  while (!r.done) {
    const [field, wire] = r.tag();
    if (field === 1 && wire === BYTES) service = r.string();
    else r.skip(wire);
  }
  return service;
}

export function encodeHealthResponse(status: number): Buffer {
  return new ProtoWriter().uint(1, status).finish();
}

/** The status number of a HealthCheckResponse (0 UNKNOWN when absent, as proto3 defaults). */
export function decodeHealthResponse(buf: Uint8Array): number {
  const r = new ProtoReader(buf);
  let status = 0;
  while (!r.done) {
    const [field, wire] = r.tag();
    if (field === 1 && wire === VARINT) status = r.varint();
    else r.skip(wire);
  }
  return status;
}
