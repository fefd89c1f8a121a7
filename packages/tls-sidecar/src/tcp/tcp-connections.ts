import type { Socket } from 'node:net';
import { splice } from './splice.js';
import type { TcpMetrics, TcpOutcome } from './tcp-metrics.js';

export interface ConnectionPlan {
  /** the upstream socket being dialled */
  upstream: Socket;
  /** the event that says it is usable: 'connect' (TCP) or 'secureConnect' (TLS) */
  ready: 'connect' | 'secureConnect';
  /** time for `ready` (connect and, for TLS, the handshake) */
  connectTimeout: number;
  idleTimeout: number;
  /** which socket carries plain text, for the byte counters */
  plainSide: 'upstream' | 'client';
  /** written to the upstream before the client's bytes (PROXY protocol) */
  header?: () => Buffer | undefined;
  /** the upstream failed before `ready`: count and log it, and say how the connection ended */
  failed(err: Error & { code?: string }, timedOut: boolean): TcpOutcome;
  /** an error after `ready` (e.g. the server refused our certificate after a TLS 1.3 handshake) */
  brokeAfterReady?(err: Error & { code?: string }): void;
  /** `ready` happened */
  connected?(): void;
}

interface Entry {
  client: Socket;
  upstream: Socket;
  drained: boolean;
}

/**
 * The connections of a TCP-mode listener: each client connection waits (paused, its bytes held)
 * until its upstream connection is ready, then the two are spliced; every connection is counted
 * once, by how it ended, with its duration. drain() lets them finish until the deadline and then
 * closes the rest.
 */
export class TcpConnections {
  private readonly live = new Set<Entry>();

  constructor(private readonly metrics: TcpMetrics) {}

  get size(): number {
    return this.live.size;
  }

  /** Takes a client connection (paused or not yet read from) and its upstream plan. */
  run(client: Socket, plan: ConnectionPlan): void {
    client.pause();
    const started = performance.now();
    const { upstream } = plan;
    const entry: Entry = { client, upstream, drained: false };
    this.live.add(entry);
    let ended = false;
    const end = (outcome: TcpOutcome) => {
      if (ended) return;
      ended = true;
      this.live.delete(entry);
      this.metrics.ended(entry.drained ? 'drained' : outcome, (performance.now() - started) / 1000);
    };
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      upstream.destroy(Object.assign(new Error('upstream connect timeout'), { code: 'ETIMEDOUT' }));
    }, plan.connectTimeout);
    const onUpstreamError = (err: Error) => {
      cleanup();
      client.destroy();
      upstream.destroy();
      end(plan.failed(err, timedOut));
    };
    const onClientGone = () => {
      // the client left (or reset) before the upstream was ready
      cleanup();
      upstream.destroy();
      client.destroy();
      end('closed');
    };
    const cleanup = () => {
      clearTimeout(timer);
      upstream.removeListener('error', onUpstreamError);
      upstream.removeListener(plan.ready, onReady);
      client.removeListener('error', onClientGone);
      client.removeListener('close', onClientGone);
    };
    const onReady = () => {
      cleanup();
      plan.connected?.();
      const header = plan.header?.();
      if (header) upstream.write(header);
      const untrack = this.metrics.track(
        plan.plainSide === 'upstream' ? upstream : client,
        plan.plainSide === 'upstream',
        header?.length ?? 0,
      );
      splice(client, upstream, plan.idleTimeout, (how, err) => {
        untrack();
        if (how === 'error' && err) plan.brokeAfterReady?.(err as Error & { code?: string });
        end(how);
      });
    };
    upstream.once('error', onUpstreamError);
    upstream.once(plan.ready, onReady);
    client.once('error', onClientGone);
    client.once('close', onClientGone);
  }

  /**
   * Waits for every connection to end, until the deadline; then closes what is left. `accepted`
   * counts the listener's open sockets, so one still in its TLS handshake is waited for too.
   */
  async drain(deadline: number, accepted: () => number): Promise<void> {
    while ((this.live.size > 0 || accepted() > 0) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 25));
    for (const e of this.live) {
      e.drained = true;
      e.client.destroy();
      e.upstream.destroy();
    }
  }
}
