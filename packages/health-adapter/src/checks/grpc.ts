import type * as z from '@dds/core/config/zod';
import { type Address, parseAddress } from '@dds/core/net/host-port';
import { decodeHealthResponse, encodeHealthRequest, SERVING_STATUS } from '@dds/core/protobuf/grpc-health';
import { Client, credentials, status as grpcStatus, Metadata, type ServiceError } from '@grpc/grpc-js';
import type { grpcCheck } from './check-spec.js';
import { CheckFailure, type Probe } from './probe.js';
import { readCa } from './tls-options.js';

const METHOD = '/grpc.health.v1.Health/Check';

/**
 * gRPC health (grpc.health.v1.Health/Check, what grpc_health_probe and the kubelet's grpc probe
 * ask): SERVING passes; NOT_SERVING, SERVICE_UNKNOWN, an RPC error or the deadline fail. The
 * channel is kept between runs, as an app's would be; grpc-js reconnects it.
 */
export function grpcProbe(spec: z.infer<typeof grpcCheck> & { timeout: number }): Probe {
  const a = parseAddress(spec.address) as Address;
  const target =
    a.kind === 'tcp'
      ? a.host.includes(':')
        ? `[${a.host}]:${a.port}`
        : `${a.host}:${a.port}`
      : `unix:${a.path}`;
  // the channel is kept between runs; a changed CA file (rotation) gets a new one
  let client: Client | undefined;
  let clientCa: string | undefined;
  const channel = (): Client => {
    const ca = spec.tls && spec.tlsCa ? readCa(spec.tlsCa) : undefined;
    if (client && ca === clientCa) return client;
    client?.close();
    clientCa = ca;
    const creds = spec.tls
      ? credentials.createSsl(ca ? Buffer.from(ca) : null)
      : credentials.createInsecure();
    client = new Client(target, creds, {
      'grpc.enable_retries': 0,
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': Math.max(1000, spec.timeout),
    });
    return client;
  };
  const request = encodeHealthRequest(spec.service);
  return {
    componentType: 'component',
    run(signal) {
      const c = channel();
      return new Promise((resolve, reject) => {
        const call = c.makeUnaryRequest<Buffer, number>(
          METHOD,
          (b: Buffer) => b,
          decodeHealthResponse,
          request,
          new Metadata(),
          { deadline: Date.now() + spec.timeout },
          (err: ServiceError | null, value?: number) => {
            signal.removeEventListener('abort', onAbort);
            if (err) return reject(failure(err));
            const name = SERVING_STATUS[value ?? 0] ?? `status ${value}`;
            if (value === 1) resolve('SERVING');
            else reject(new CheckFailure('unhealthy', `${spec.service || 'server'} is ${name}`));
          },
        );
        const onAbort = () => call.cancel();
        signal.addEventListener('abort', onAbort, { once: true });
      });
    },
    close: () => client?.close(),
  };
}

function failure(err: ServiceError): CheckFailure {
  const what = `${grpcStatus[err.code] ?? err.code}: ${err.details || err.message}`;
  switch (err.code) {
    case grpcStatus.DEADLINE_EXCEEDED:
    case grpcStatus.CANCELLED:
      return new CheckFailure('timeout', what);
    case grpcStatus.UNAVAILABLE:
      return new CheckFailure(/certificate|handshake|SSL/i.test(what) ? 'tls' : 'connect', what);
    case grpcStatus.UNAUTHENTICATED:
    case grpcStatus.PERMISSION_DENIED:
      return new CheckFailure('auth', what);
    case grpcStatus.UNIMPLEMENTED:
      return new CheckFailure('unhealthy', `${what} (the server has no grpc.health.v1 service)`);
    case grpcStatus.INTERNAL:
      return new CheckFailure('protocol', what);
    default:
      return new CheckFailure('unhealthy', what);
  }
}
