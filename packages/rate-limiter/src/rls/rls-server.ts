import type { Logger } from '@dds/core/logger';
import {
  decodeHealthRequest,
  encodeHealthResponse,
  HEALTH_CHECK_PATH,
  HEALTH_WATCH_PATH,
} from '@dds/core/protobuf/grpc-health';
import type { ProtobufError } from '@dds/core/protobuf/wire';
import type * as Grpc from '@grpc/grpc-js';
import {
  decodeRequest,
  encodeResponse,
  RLS_PATH,
  RLS_SERVICE,
  type RlsRequest,
  type RlsResponse,
} from './rls-codec.js';
import type { RlsMetrics } from './rls-metrics.js';
import { RlsRequestError, type RlsService } from './rls-service.js';

export interface RlsServer {
  /** the bound port (useful with port 0) */
  readonly port: number;
  /** tells health watchers the serving status changed */
  healthChanged(): void;
  close(deadline: number): Promise<void>;
}

export interface RlsServerOptions {
  host: string;
  port: number;
  service: RlsService;
  metrics: RlsMetrics;
  logger: Logger;
  /** true when the service can answer (config loaded, store usable, not draining) */
  serving: () => boolean;
}

const SERVING = 1;
const NOT_SERVING = 2;

/**
 * The gRPC listener: envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit and
 * grpc.health.v1.Health (Check and Watch, for Envoy's gRPC health checks and Kubernetes' grpc
 * probes; service "" and the RLS service name). grpc-js is imported here, so a limiter without
 * --rls-config never loads it.
 */
export async function startRlsServer(o: RlsServerOptions): Promise<RlsServer> {
  // a CommonJS package: its module.exports is the default export, in Node and in the split bundle alike
  const grpc = (await import('@grpc/grpc-js')).default as unknown as typeof Grpc;
  const server = new grpc.Server({
    'grpc.max_receive_message_length': 1 << 20,
    'grpc.max_concurrent_streams': 1000,
    'grpc.keepalive_permit_without_calls': 1,
  });
  const identity = (b: Buffer) => b;
  // an object, not the bare name: grpc-js takes a falsy message ('' for the server) as none
  const healthRequest = (b: Buffer) => ({ service: decodeHealthRequest(b) });
  const watchers = new Set<Grpc.ServerWritableStream<Buffer, Buffer>>();
  const statusOf = (service: string): number | undefined =>
    service === '' || service === RLS_SERVICE ? (o.serving() ? SERVING : NOT_SERVING) : undefined;

  server.addService(
    {
      ShouldRateLimit: {
        path: RLS_PATH,
        requestStream: false,
        responseStream: false,
        requestSerialize: identity,
        requestDeserialize: identity,
        responseSerialize: encodeResponse,
        responseDeserialize: identity,
      },
    } as unknown as Grpc.ServiceDefinition,
    {
      ShouldRateLimit(
        call: Grpc.ServerUnaryCall<Buffer, RlsResponse>,
        done: Grpc.sendUnaryData<RlsResponse>,
      ) {
        const started = performance.now();
        let req: RlsRequest;
        try {
          req = decodeRequest(call.request);
        } catch (err) {
          o.metrics.requests.labels('unknown', 'error').inc();
          return done({
            code: grpc.status.INVALID_ARGUMENT,
            details: `malformed request: ${(err as ProtobufError).message}`,
          });
        }
        o.service.shouldRateLimit(req).then(
          (res) => {
            o.metrics.duration.observe((performance.now() - started) / 1000);
            done(null, res);
          },
          (err: Error) => {
            o.metrics.requests
              .labels(o.service.settings.config.domains.has(req.domain) ? req.domain : 'unknown', 'error')
              .inc();
            if (err instanceof RlsRequestError)
              return done({ code: grpc.status.INVALID_ARGUMENT, details: err.message });
            o.logger.error({ err }, 'ShouldRateLimit failed');
            done({ code: grpc.status.INTERNAL, details: 'internal error' });
          },
        );
      },
    },
  );
  server.addService(
    {
      Check: {
        path: HEALTH_CHECK_PATH,
        requestStream: false,
        responseStream: false,
        requestSerialize: identity,
        requestDeserialize: healthRequest,
        responseSerialize: encodeHealthResponse,
        responseDeserialize: identity,
      },
      Watch: {
        path: HEALTH_WATCH_PATH,
        requestStream: false,
        responseStream: true,
        requestSerialize: identity,
        requestDeserialize: healthRequest,
        responseSerialize: encodeHealthResponse,
        responseDeserialize: identity,
      },
    } as unknown as Grpc.ServiceDefinition,
    {
      Check(call: Grpc.ServerUnaryCall<{ service: string }, number>, done: Grpc.sendUnaryData<number>) {
        const s = statusOf(call.request.service);
        if (s === undefined)
          return done({ code: grpc.status.NOT_FOUND, details: `unknown service "${call.request.service}"` });
        done(null, s);
      },
      Watch(call: Grpc.ServerWritableStream<{ service: string }, number>) {
        const w = call as unknown as Grpc.ServerWritableStream<Buffer, Buffer> & { last?: number };
        const send = () => {
          const s = statusOf(call.request.service) ?? 3; // SERVICE_UNKNOWN, as the protocol says for Watch
          if (s !== w.last) {
            w.last = s;
            call.write(s);
          }
        };
        send();
        (w as unknown as { send: () => void }).send = send;
        watchers.add(w);
        call.on('cancelled', () => watchers.delete(w));
        call.on('error', () => watchers.delete(w));
      },
    },
  );

  const port = await new Promise<number>((resolve, reject) => {
    const host = o.host.includes(':') ? `[${o.host}]` : o.host;
    server.bindAsync(`${host}:${o.port}`, grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    );
  });
  const healthChanged = () => {
    for (const w of watchers) (w as unknown as { send: () => void }).send();
  };
  return {
    port,
    healthChanged,
    close(deadline) {
      healthChanged();
      for (const w of watchers) w.end();
      watchers.clear();
      return new Promise<void>((resolve) => {
        const force = setTimeout(
          () => {
            server.forceShutdown();
            resolve();
          },
          Math.max(0, deadline - Date.now()),
        );
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
    },
  };
}
