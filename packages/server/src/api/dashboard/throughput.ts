import type { MinuteCounts } from "@resonate-compat/protocol/admin-overview";
import type { Metrics } from "../../observability/metrics";

// Throughput per minute for the dashboard's chart, from this replica's own Prometheus counters: a
// sample every few seconds keeps, for each minute, the counters' totals at its last sample; a
// minute's figure is its total less the previous minute's. Counting happens on the request path
// already (metrics.ts), so this costs one read of a few counters per sample and no database work.
// With several replicas each counts what it served: the figures are the answering replica's.

type Totals = Omit<MinuteCounts, "at">;

const MINUTE = 60_000;
/** Minutes kept (and shown). */
export const THROUGHPUT_MINUTES = 15;

export class ThroughputRecorder {
  /** minute index → totals at the last sample taken in that minute. */
  private readonly totals = new Map<number, Totals>();
  /** Totals at the end of the newest minute dropped from `totals`; zero before anything was (the counters start at zero with the server). */
  private before: Totals = { dispatched: 0, finished: 0, takenBack: 0 };

  constructor(private readonly metrics: Metrics) {}

  /** Reads the counters now and files them under the current minute. */
  async sample(now: number): Promise<void> {
    const minute = Math.floor(now / MINUTE);
    this.totals.set(minute, await this.read());
    for (const [m, totals] of [...this.totals].sort(([a], [b]) => a - b)) {
      if (m >= minute - THROUGHPUT_MINUTES) break;
      this.before = totals;
      this.totals.delete(m);
    }
  }

  /** The last minutes, oldest first, the current (partial) one last; minutes without samples count 0. */
  minutes(now: number): MinuteCounts[] {
    const current = Math.floor(now / MINUTE);
    const out: MinuteCounts[] = [];
    let previous = this.before;
    for (const [m, totals] of this.totals) if (m <= current - THROUGHPUT_MINUTES) previous = totals;
    for (let m = current - THROUGHPUT_MINUTES + 1; m <= current; m++) {
      const totals = this.totals.get(m);
      const delta = (key: keyof Totals) => (totals ? Math.max(0, totals[key] - previous[key]) : 0);
      out.push({ at: m * MINUTE, dispatched: delta("dispatched"), finished: delta("finished"), takenBack: delta("takenBack") });
      if (totals) previous = totals;
    }
    return out;
  }

  private async read(): Promise<Totals> {
    return {
      dispatched: await this.counter("resonate_messages_total", { kind: "execute" }),
      finished: await this.counter("resonate_request_total", { kind: "task.fulfill", status: "200" }),
      takenBack: (await this.counter("resonate_lease_lapses_total")) + (await this.counter("resonate_disconnect_recoveries_total")),
    };
  }

  /** The sum of a counter's series whose labels include `labels`. */
  private async counter(name: string, labels: Record<string, string> = {}): Promise<number> {
    const metric = this.metrics.registry.getSingleMetric(name);
    if (!metric) return 0;
    const { values } = await metric.get();
    let sum = 0;
    for (const v of values) {
      if (Object.entries(labels).every(([key, value]) => String(v.labels[key]) === value)) sum += v.value;
    }
    return sum;
  }
}
