import type { Server as HttpServer } from 'node:http';
import type { Server, Socket } from 'node:net';

/**
 * Tracks the open connections of a listener so drain can stop accepting, let in-flight work
 * finish, and close what is left at the deadline. Works for raw TCP and for HTTP servers (where
 * idle keep-alive connections are closed first and busy ones after their response).
 */
export class ConnectionTracker {
  private readonly sockets = new Set<Socket>();
  private closing = false;

  constructor(private readonly server: Server) {
    server.on('connection', (s: Socket) => this.add(s));
    server.on('secureConnection', (s: Socket) => this.add(s));
  }

  add(s: Socket): void {
    if (this.sockets.has(s)) return;
    this.sockets.add(s);
    s.once('close', () => this.sockets.delete(s));
  }

  get size(): number {
    return this.sockets.size;
  }

  get draining(): boolean {
    return this.closing;
  }

  /** Stops accepting; resolves once every connection has closed or the deadline has passed. */
  async drain(deadline: number): Promise<void> {
    this.closing = true;
    await new Promise<void>((resolve) => {
      if (!this.server.listening && this.sockets.size === 0) return resolve();
      // Done when the tracked connections are: the close callback alone is not enough, since a
      // server may hand its accepted sockets over to others (core's lean HTTP/1.1 server does).
      if (this.server.listening) this.server.close();
      const http = this.server as HttpServer;
      const tick = setInterval(() => {
        if (typeof http.closeIdleConnections === 'function') http.closeIdleConnections();
        if (this.sockets.size === 0 || Date.now() >= deadline) {
          clearInterval(tick);
          for (const s of this.sockets) s.destroy();
          resolve();
        }
      }, 25);
      tick.unref?.();
    });
  }
}
