import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type CallOptions,
  type ChannelCredentials,
  type Client,
  credentials,
  Metadata,
  makeGenericClientConstructor,
  type ServiceError,
  type StatusObject,
} from '@grpc/grpc-js';
import { freePort, type Proc, ROOT, start } from '../index.js';
import { echoService } from './grpc-echo.mjs';
import type { Issued } from './pki.js';

/** The test gRPC server (grpc-echo.mjs beside this file) as its own process. */
export async function startGrpcEcho(
  opts: { tls?: Issued; clientCa?: string } = {},
): Promise<{ port: number; proc: Proc }> {
  const port = await freePort();
  const args = [join(ROOT, 'packages/test-support/src/tls-sidecar/grpc-echo.mjs'), String(port)];
  if (opts.tls) args.push('--tls', opts.tls.cert, opts.tls.key);
  if (opts.clientCa) args.push('--client-ca', opts.clientCa);
  const proc = start(process.execPath, args);
  await proc.waitFor(`listening ${port}`, 20_000);
  return { port, proc };
}

const EchoClientClass = makeGenericClientConstructor(echoService, 'Echo');

/** TLS (optionally mTLS) channel credentials trusting `ca`. */
export const tlsCredentials = (ca: string, client?: Issued): ChannelCredentials =>
  credentials.createSsl(
    readFileSync(ca),
    client ? readFileSync(client.key) : null,
    client ? readFileSync(client.cert) : null,
  );

/** A client of the echo service at 127.0.0.1:port (TLS names checked against `servername`). */
export type EchoClient = Client & Record<string, (...args: unknown[]) => unknown>;

export function echoClient(
  port: number,
  creds: ChannelCredentials = credentials.createInsecure(),
  servername = 'localhost',
): EchoClient {
  return new EchoClientClass(`127.0.0.1:${port}`, creds, {
    'grpc.ssl_target_name_override': servername,
    'grpc.default_authority': servername,
    'grpc.enable_retries': 0,
  }) as EchoClient;
}

export interface UnaryResult {
  value?: { text: string; metadata: Record<string, string>; peer: string };
  error?: ServiceError;
  status?: StatusObject;
}

/** One unary call; resolves with the answer or the error, and the final status (trailers). */
export function unary(
  client: EchoClient,
  req: object,
  opts: { metadata?: Metadata; deadlineMs?: number } = {},
): Promise<UnaryResult> {
  return new Promise((resolve) => {
    const result: UnaryResult = {};
    const callOpts: CallOptions = opts.deadlineMs ? { deadline: Date.now() + opts.deadlineMs } : {};
    let pending = 2;
    const done = () => --pending === 0 && resolve(result);
    const call = client.Unary!(
      req,
      opts.metadata ?? new Metadata(),
      callOpts,
      (err: ServiceError | null, value: UnaryResult['value']) => {
        if (err) result.error = err;
        else result.value = value;
        done();
      },
    ) as { on(e: 'status', f: (s: StatusObject) => void): void };
    call.on('status', (s) => {
      result.status = s;
      done();
    });
  });
}
