import { Counter, type Metric, type Registry } from "prom-client";

// Counters and histograms for the request path, read by prom-client only when scraped.
//
// prom-client hashes a label object on every inc() and observe(), even through a labelled child,
// and allocates while doing it: at a few thousand requests a second that was about 2.5 % of the
// server's CPU (a CPU profile of the server under the bench's no-SDK client). Here the hot path
// finds its series once per label set and adds to plain numbers; the registry reads the numbers
// when /metrics is scraped, and prom-client still writes the exposition.

/** One counter series: the hot path adds to `value`. */
export interface CounterSeries {
  value: number;
}

/** A counter with labels whose series are plain numbers, reported through prom-client at scrape. */
export class LiveCounter<L extends string> {
  private readonly all = new Map<string, { labels: Record<L, string>; series: CounterSeries }>();

  constructor(registry: Registry, options: { name: string; help: string; labelNames: readonly L[] }) {
    const all = this.all;
    new Counter<L>({
      ...options,
      registers: [registry],
      collect() {
        this.reset();
        for (const { labels, series } of all.values()) this.inc(labels as Partial<Record<L, string>>, series.value);
      },
    });
  }

  /** The series of these label values (made on first use; keep it rather than asking per event). */
  series(labels: Record<L, string>): CounterSeries {
    const key = Object.values(labels).join("\u0000");
    let found = this.all.get(key);
    if (!found) {
      found = { labels, series: { value: 0 } };
      this.all.set(key, found);
    }
    return found.series;
  }
}

/** One histogram series: counts per bucket (the last is +Inf), their sum and their count. */
export class HistogramSeries {
  private readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }

  observe(value: number): void {
    const { bounds } = this;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++; // a bucket counts values ≤ its bound
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }

  /** Cumulative counts per upper bound, +Inf last, as the exposition has them. */
  cumulative(): number[] {
    let total = 0;
    return this.counts.map((c) => (total += c));
  }

  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }
}

/**
 * A histogram with at most one label whose series are plain numbers. Registered with prom-client
 * as a metric of its own: the registry calls get() when scraped and formats what it returns.
 */
export class LiveHistogram {
  readonly type = "histogram";
  readonly aggregator = "sum";
  readonly name: string;
  readonly help: string;
  private readonly bounds: readonly number[];
  private readonly labelName: string | undefined;
  private readonly all = new Map<string, HistogramSeries>();

  constructor(registry: Registry, options: { name: string; help: string; buckets: readonly number[]; labelName?: string }) {
    this.name = options.name;
    this.help = options.help;
    this.bounds = [...options.buckets].sort((a, b) => a - b);
    this.labelName = options.labelName;
    registry.registerMetric(this as unknown as Metric);
  }

  /** The series of this label value ("" for a histogram without a label). */
  series(labelValue = ""): HistogramSeries {
    let found = this.all.get(labelValue);
    if (!found) {
      found = new HistogramSeries(this.bounds);
      this.all.set(labelValue, found);
    }
    return found;
  }

  /** What prom-client's registry reads at scrape: the samples of every series. */
  get(): { name: string; help: string; type: string; aggregator: string; values: { metricName: string; labels: Record<string, string | number>; value: number }[] } {
    const values: { metricName: string; labels: Record<string, string | number>; value: number }[] = [];
    for (const [labelValue, series] of this.all) {
      const labels: Record<string, string> = this.labelName === undefined ? {} : { [this.labelName]: labelValue };
      const cumulative = series.cumulative();
      cumulative.forEach((value, i) => {
        const le = i < this.bounds.length ? this.bounds[i]! : "+Inf";
        values.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le }, value });
      });
      values.push({ metricName: `${this.name}_sum`, labels, value: series.sum });
      values.push({ metricName: `${this.name}_count`, labels, value: series.count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** Registry.resetMetrics() calls this. */
  reset(): void {
    for (const series of this.all.values()) series.reset();
  }
}
