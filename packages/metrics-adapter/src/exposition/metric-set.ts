/** Prometheus metric types we emit; `untyped` renders as `unknown` in OpenMetrics. */
export type MetricType = 'counter' | 'gauge' | 'untyped' | 'summary';

export type Labels = Readonly<Record<string, string>>;

export interface Sample {
  labels: Labels;
  value: number;
}

export interface SummarySample {
  labels: Labels;
  quantiles: ReadonlyArray<readonly [number, number]>;
  sum: number;
  count: number;
}

export interface Family {
  name: string;
  help: string;
  type: MetricType;
  samples: Sample[];
  summaries: SummarySample[];
  /** series already present (label values joined), so a target repeating a field cannot make a duplicate */
  seen: Set<string>;
}

const NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

const seriesKey = (labels: Labels): string => {
  let k = '';
  for (const n in labels) k += `${n}\u0000${labels[n]}\u0001`;
  return k;
};

/**
 * The metrics of one scrape. Built fresh for every request (like a per-scrape registry), so
 * nothing from a previous scrape or another target can leak into the answer. Duplicate series,
 * invalid names and a family re-declared with another type are dropped and counted instead of
 * producing an exposition Prometheus would reject.
 */
export class MetricSet {
  readonly families = new Map<string, Family>();
  /** samples refused (invalid name or label, type clash, duplicate series) */
  rejected = 0;

  private family(name: string, type: MetricType, help: string): Family | undefined {
    let f = this.families.get(name);
    if (f) {
      if (f.type !== type) {
        this.rejected++;
        return undefined;
      }
      return f;
    }
    if (!NAME_RE.test(name)) {
      this.rejected++;
      return undefined;
    }
    f = { name, help, type, samples: [], summaries: [], seen: new Set() };
    this.families.set(name, f);
    return f;
  }

  private admit(f: Family, labels: Labels): boolean {
    for (const n in labels) {
      if (!LABEL_RE.test(n) || n.startsWith('__')) {
        this.rejected++;
        return false;
      }
    }
    const key = seriesKey(labels);
    if (f.seen.has(key)) {
      this.rejected++;
      return false;
    }
    f.seen.add(key);
    return true;
  }

  add(
    name: string,
    type: Exclude<MetricType, 'summary'>,
    help: string,
    value: number,
    labels: Labels = {},
  ): void {
    const f = this.family(name, type, help);
    if (f && this.admit(f, labels)) f.samples.push({ labels, value });
  }

  gauge(name: string, help: string, value: number, labels?: Labels): void {
    this.add(name, 'gauge', help, value, labels);
  }

  counter(name: string, help: string, value: number, labels?: Labels): void {
    this.add(name, 'counter', help, value, labels);
  }

  summary(name: string, help: string, s: SummarySample): void {
    const f = this.family(name, 'summary', help);
    if (f && this.admit(f, s.labels)) f.summaries.push(s);
  }

  has(name: string): boolean {
    return this.families.has(name);
  }

  /** value of the first sample of a family (tests, diagnostics) */
  value(name: string, labels: Labels = {}): number | undefined {
    const f = this.families.get(name);
    const key = seriesKey(labels);
    return f?.samples.find((s) => seriesKey(s.labels) === key)?.value;
  }
}
