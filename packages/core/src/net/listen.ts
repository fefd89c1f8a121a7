import type { Server } from 'node:net';
import { ListenError } from '../errors.js';
import { type Address, formatAddress, listenOptions } from './host-port.js';

/** Binds a server; a busy or forbidden address becomes a ListenError naming it. */
export function listen(server: Server, address: Address, backlog?: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      reject(new ListenError(formatAddress(address), err.code ?? err.message, { cause: err }));
    };
    server.once('error', onError);
    server.listen({ ...listenOptions(address), backlog }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
