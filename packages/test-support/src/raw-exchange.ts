import { connect } from 'node:net';

/**
 * Writes raw bytes to 127.0.0.1:port and resolves with everything the server sent (latin1) once
 * it closed the connection, or the connection failed: for tests of what a server answers to
 * exact bytes (pipelining, malformed requests) where a client library would normalise them.
 */
export function readUntilClosed(port: number, bytes: string | Buffer): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let out = '';
    s.on('data', (d: Buffer) => (out += d.toString('latin1')));
    s.on('close', () => resolve(out));
    s.on('error', () => resolve(out));
    s.write(bytes);
  });
}
