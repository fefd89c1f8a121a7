/**
 * A sink delivers one batch of NDJSON records (whole lines) to a backend and says how it went;
 * the output queue in front of it owns batching, retries, spooling and dead letters, so a sink is
 * only its protocol.
 */
export type SendResult =
  /** accepted; `rejected` records of it were refused for good by the backend (OTLP partial success) */
  | { ok: true; rejected?: number; message?: string }
  | {
      ok: false;
      /** worth retrying as it is (overload, outage, network error) */
      retry: boolean;
      /** the batch is too big for the backend (HTTP 413): send it in smaller pieces */
      tooLarge?: boolean;
      /** the backend's Retry-After, in ms */
      retryAfter?: number;
      status?: number;
      reason: string;
    };

export interface Sink {
  send(body: string, records: number): Promise<SendResult>;
  close(): Promise<void>;
}

/** The Retry-After header (delay-seconds or an HTTP date) in ms, or undefined. */
export function retryAfterMs(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}
