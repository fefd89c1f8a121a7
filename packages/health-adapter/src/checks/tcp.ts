import { connect } from 'node:net';
import type * as z from '@dds/core/config/zod';
import { type Address, parseAddress } from '@dds/core/net/host-port';
import type { tcpCheck } from './check-spec.js';
import { CheckFailure, type Probe, toFailure } from './probe.js';

/** TCP: healthy when a connection is accepted (the kubelet's tcpSocket probe). */
export function tcpProbe(spec: z.infer<typeof tcpCheck>): Probe {
  const a = parseAddress(spec.address) as Address;
  const opts = a.kind === 'tcp' ? { host: a.host, port: a.port } : { path: a.path };
  return {
    componentType: 'component',
    run(signal) {
      return new Promise((resolve, reject) => {
        const socket = connect(opts);
        const onAbort = () => {
          socket.destroy();
          reject(new CheckFailure('timeout', 'connect timed out'));
        };
        signal.addEventListener('abort', onAbort, { once: true });
        socket.once('connect', () => {
          signal.removeEventListener('abort', onAbort);
          socket.destroy();
          resolve('connected');
        });
        socket.once('error', (err) => {
          signal.removeEventListener('abort', onAbort);
          reject(toFailure(err));
        });
      });
    },
  };
}
