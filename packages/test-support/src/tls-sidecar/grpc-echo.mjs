// A gRPC server for the tls-sidecar tests, on @grpc/grpc-js, run as its own process (so a test
// can kill it mid-stream). Messages are JSON (no protobuf needed); the service:
//   Unary        {text, sleepMs?, fail?: {code, details}} -> {text, metadata, peer}, trailing
//                metadata x-echo-trailer: done; with sleepMs it waits, and prints "cancelled <text>"
//                if the call is cancelled meanwhile
//   ServerStream {count, size, delayMs?} -> count messages {i, pad}; prints "progress <n>" every 10
//                and "cancelled" when the client goes away
//   Bidi         each message {i} is answered {i, echo: true}
// Usage: node grpc-echo.mjs PORT [--tls CERT KEY] [--client-ca CA]   (plain h2c without --tls)
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import grpc from '@grpc/grpc-js';

const json = {
  serialize: (v) => Buffer.from(JSON.stringify(v)),
  deserialize: (b) => JSON.parse(b.toString()),
};
const method = (name, requestStream, responseStream) => ({
  path: `/dds.test.Echo/${name}`,
  requestStream,
  responseStream,
  requestSerialize: json.serialize,
  requestDeserialize: json.deserialize,
  responseSerialize: json.serialize,
  responseDeserialize: json.deserialize,
});

export const echoService = {
  Unary: method('Unary', false, false),
  ServerStream: method('ServerStream', false, true),
  Bidi: method('Bidi', true, true),
};

const log = (line) => process.stdout.write(`${line}\n`);

const impl = {
  Unary(call, callback) {
    const req = call.request;
    const answer = () => {
      if (req.fail) {
        callback({ code: req.fail.code, details: req.fail.details });
        return;
      }
      const trailer = new grpc.Metadata();
      trailer.set('x-echo-trailer', 'done');
      callback(null, { text: req.text, metadata: call.metadata.getMap(), peer: call.getPeer() }, trailer);
    };
    if (req.sleepMs) {
      const t = setTimeout(answer, req.sleepMs);
      call.on('cancelled', () => {
        clearTimeout(t);
        log(`cancelled ${req.text}`);
      });
    } else answer();
  },
  ServerStream(call) {
    const { count, size = 16, delayMs = 0 } = call.request;
    const pad = 'x'.repeat(size);
    let i = 0;
    let cancelled = false;
    call.on('cancelled', () => {
      cancelled = true;
      log('cancelled');
    });
    const next = () => {
      while (!cancelled && i < count) {
        const more = call.write({ i, pad });
        i++;
        if (i % 10 === 0) log(`progress ${i}`);
        if (delayMs > 0) {
          setTimeout(next, delayMs);
          return;
        }
        if (!more) {
          call.once('drain', next);
          return;
        }
      }
      if (!cancelled) call.end();
    };
    next();
  },
  Bidi(call) {
    call.on('data', (m) => call.write({ i: m.i, echo: true }));
    call.on('end', () => call.end());
    call.on('error', () => {});
  },
};

async function main(argv) {
  const port = Number(argv[0]);
  const tls = argv.indexOf('--tls');
  const ca = argv.indexOf('--client-ca');
  const creds =
    tls < 0
      ? grpc.ServerCredentials.createInsecure()
      : grpc.ServerCredentials.createSsl(
          ca < 0 ? null : readFileSync(argv[ca + 1]),
          [{ cert_chain: readFileSync(argv[tls + 1]), private_key: readFileSync(argv[tls + 2]) }],
          ca >= 0,
        );
  const server = new grpc.Server();
  server.addService(echoService, impl);
  await new Promise((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, creds, (err) => (err ? reject(err) : resolve())),
  );
  log(`listening ${port}`);
  process.on('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main(process.argv.slice(2));
