import { connect } from 'node:net';

/** Where the probe connects: an HTTP upstream, or a TCP one. */
export interface ProbeTarget {
  readonly url: string;
  readonly connect: { host: string; port: number } | { path: string };
}

/**
 * Readiness of the upstream: a TCP (or unix socket) connect every interval. A pod whose app
 * does not accept connections should be taken out of its Service instead of answering 502s.
 */
export class UpstreamProbe {
  private state: true | string = 'upstream not probed yet';
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private upstream: ProbeTarget,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    this.probe();
    this.timer = setInterval(() => this.probe(), this.intervalMs);
    this.timer.unref();
  }

  retarget(upstream: ProbeTarget): void {
    this.upstream = upstream;
    this.probe();
  }

  get status(): true | string {
    return this.state;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private probe(): void {
    const c = this.upstream.connect;
    const url = this.upstream.url;
    const sock = 'path' in c ? connect(c.path) : connect(c.port, c.host);
    sock.setTimeout(Math.min(this.intervalMs, 2000));
    sock.once('connect', () => {
      this.state = true;
      sock.destroy();
    });
    sock.once('timeout', () => {
      this.state = `upstream ${url} did not accept a connection in time`;
      sock.destroy();
    });
    sock.once('error', (err: NodeJS.ErrnoException) => {
      this.state = `upstream ${url} unreachable: ${err.code ?? err.message}`;
    });
  }
}
