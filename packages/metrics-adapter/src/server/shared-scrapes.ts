import type { MetricSet } from '../exposition/metric-set.js';
import { type Format, render } from '../exposition/text-format.js';

/** A finished scrape, rendered once per format however many requests it answers. */
export class ScrapeAnswer {
  private readonly bodies = new Map<Format, Buffer>();
  constructor(readonly set: MetricSet) {}

  body(format: Format): Buffer {
    let b = this.bodies.get(format);
    if (!b) {
      b = Buffer.from(render(this.set, format));
      this.bodies.set(format, b);
    }
    return b;
  }
}

interface InFlight {
  deadline: number;
  answer: Promise<ScrapeAnswer>;
}

/**
 * At most one scrape of a target in flight: requests that arrive while it runs share its answer
 * (50 concurrent scrapers cost one connection to the target and one conversion, as a single
 * scraper does). A request whose own deadline (a shorter X-Prometheus-Scrape-Timeout-Seconds) is
 * earlier than the running scrape's gets `late()` when its deadline passes.
 */
export class SharedScrapes {
  private readonly inFlight = new Map<string, InFlight>();

  get size(): number {
    return this.inFlight.size;
  }

  answer(
    key: string,
    timeoutMs: number,
    scrape: () => Promise<MetricSet>,
    late: (waitedMs: number) => MetricSet,
  ): Promise<ScrapeAnswer> {
    const deadline = performance.now() + timeoutMs;
    const running = this.inFlight.get(key);
    if (!running) {
      const answer = scrape().then((set) => new ScrapeAnswer(set));
      const entry = { deadline, answer };
      this.inFlight.set(key, entry);
      const done = () => {
        if (this.inFlight.get(key) === entry) this.inFlight.delete(key);
      };
      answer.then(done, done);
      return answer;
    }
    if (running.deadline <= deadline) return running.answer;
    return new Promise<ScrapeAnswer>((resolve, reject) => {
      const started = performance.now();
      const timer = setTimeout(() => resolve(new ScrapeAnswer(late(performance.now() - started))), timeoutMs);
      running.answer.then(
        (a) => {
          clearTimeout(timer);
          resolve(a);
        },
        (err) => {
          clearTimeout(timer);
          reject(err);
        },
      );
    });
  }
}
