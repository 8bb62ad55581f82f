import { parseAddress } from "@resonate-compat/protocol";
import { Counter, Gauge, Registry } from "prom-client";
import { type CounterSeries, type HistogramSeries, LiveCounter, LiveHistogram } from "./live-series";

// The server's Prometheus metrics. One Registry per server instance (tests start several servers in
// one process; the global registry would mix them). Names follow the reference server where it has
// them (resonate_request_total, resonate_messages_total, …); base units in names, `_total` for
// counters, and labels with few values only (kind, status, group — never an id).
//
// What is counted as it happens lives here; what describes the stored state (backlog, tasks in
// flight, oldest pending task) is read from the database at scrape time (group-gauges.ts), so that
// every replica of a shared database reports the same figures.

/** Request durations: protocol requests take from tens of microseconds (SQLite) to a second under load. */
const REQUEST_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
/** Commit latencies: one SQLite batch commits in well under a millisecond; PostgreSQL in a few. */
const COMMIT_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
/** Jobs per commit: 1 for PostgreSQL, up to the group commit's 256 for SQLite. */
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256];

/** Where a claimed message went (resonate_deliveries_total{status}). */
export type DeliveryStatus = "sent" | "forwarded" | "http" | "dropped";

export class Metrics {
  readonly registry = new Registry();
  private readonly scrapeHooks: (() => Promise<void>)[] = [];

  // The series the request path and the commits touch: plain numbers, read when scraped.
  private readonly requests = new LiveCounter(this.registry, {
    name: "resonate_request_total",
    help: "Protocol requests answered, by kind and response status",
    labelNames: ["kind", "status"] as const,
  });
  private readonly requestDuration = new LiveHistogram(this.registry, {
    name: "resonate_request_duration_seconds",
    help: "Time to answer a protocol request (parse, transaction, commit), by kind",
    labelName: "kind",
    buckets: REQUEST_BUCKETS,
  });
  private readonly messages = new LiveCounter(this.registry, {
    name: "resonate_messages_total",
    help: "Execute and unblock messages claimed from the outbox for delivery, by kind",
    labelNames: ["kind"] as const,
  });
  private readonly deliveries = new LiveCounter(this.registry, {
    name: "resonate_deliveries_total",
    help: "Claimed messages by outcome: sent on a stream of this replica, forwarded to another replica, pushed over http, or dropped",
    labelNames: ["status"] as const,
  });
  private readonly batchSize = new LiveHistogram(this.registry, {
    name: "resonate_store_batch_size",
    help: "Jobs (requests, background passes) per committed transaction: the group commit's batch on SQLite, 1 on PostgreSQL",
    buckets: BATCH_BUCKETS,
  }).series();
  private readonly commitDuration = new LiveHistogram(this.registry, {
    name: "resonate_store_commit_duration_seconds",
    help: "Time from the start of a write transaction to its commit, with its jobs and the claim of its messages",
    buckets: COMMIT_BUCKETS,
  }).series();
  private readonly schedulePromises = new Counter({
    name: "resonate_schedule_promises_total",
    help: "Promises created by schedules firing",
    registers: [this.registry],
  });
  private readonly leaseLapses = new Counter({
    name: "resonate_lease_lapses_total",
    help: "Leases that lapsed without a heartbeat and were taken back by the timeout pass, by the group of the task's target",
    labelNames: ["group"] as const,
    registers: [this.registry],
  });
  private readonly recoveries = new Counter({
    name: "resonate_disconnect_recoveries_total",
    help: "Leases taken back because their process's stream closed and it did not reconnect within the grace, by the group of the task's target",
    labelNames: ["group"] as const,
    registers: [this.registry],
  });
  private readonly reoffers = new Counter({
    name: "resonate_reoffers_total",
    help: "Executes nobody acquired in time, offered again to another stream of the group",
    labelNames: ["group"] as const,
    registers: [this.registry],
  });
  // Each label set's series, found once (label values are few, so these maps stay small).
  private readonly requestSeries = new Map<string, Map<number, { count: CounterSeries; duration: HistogramSeries }>>();
  private readonly messageSeries = new Map<string, CounterSeries>();
  private readonly deliverySeries = new Map<string, CounterSeries>();

  /** One protocol request answered. `kind` must be a known kind (or "unknown"): it is a label. */
  request(kind: string, status: number, seconds: number): void {
    const ofKind = child(this.requestSeries, kind, () => new Map<number, { count: CounterSeries; duration: HistogramSeries }>());
    const series = child(ofKind, status, () => ({ count: this.requests.series({ kind, status: String(status) }), duration: this.requestDuration.series(kind) }));
    series.count.value++;
    series.duration.observe(seconds);
  }

  message(kind: "execute" | "unblock"): void {
    child(this.messageSeries, kind, () => this.messages.series({ kind })).value++;
  }

  delivery(status: DeliveryStatus): void {
    child(this.deliverySeries, status, () => this.deliveries.series({ status })).value++;
  }

  schedulesFired(n: number): void {
    if (n > 0) this.schedulePromises.inc(n);
  }

  /** Leases the timeout pass took back; each task's target names its group. */
  leasesLapsed(targets: (string | undefined)[]): void {
    for (const target of targets) this.leaseLapses.inc({ group: groupOf(target) });
  }

  /** Leases taken back from a process whose stream closed; each task's target names its group. */
  leasesRecovered(targets: (string | undefined)[]): void {
    for (const target of targets) this.recoveries.inc({ group: groupOf(target) });
  }

  reoffered(group: string): void {
    this.reoffers.inc({ group });
  }

  /** One transaction committed with `jobs` jobs in `seconds`. */
  committed(jobs: number, seconds: number): void {
    this.batchSize.observe(jobs);
    this.commitDuration.observe(seconds);
  }

  /** A counter read from elsewhere at scrape time (e.g. the PostgreSQL store's retries). */
  counterFrom(name: string, help: string, read: () => number): void {
    let last = 0;
    const registry = this.registry;
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        const value = read();
        if (value > last) this.inc(value - last);
        last = value;
      },
    });
  }

  /** A gauge with labels, filled at scrape time by `fill` (the previous scrape's series are dropped first). */
  gauge<L extends string>(name: string, help: string, labelNames: readonly L[]): Gauge<L> {
    return new Gauge({ name, help, labelNames, registers: [this.registry] });
  }

  /** Runs before every scrape, e.g. to read the stored state into gauges; awaited in order. */
  onScrape(hook: () => Promise<void>): void {
    this.scrapeHooks.push(hook);
  }

  /** The Prometheus text exposition of every metric, after the scrape hooks ran. */
  async render(): Promise<string> {
    for (const hook of this.scrapeHooks) await hook();
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/** The group of a poll:// target; "" for a task dispatched elsewhere (http) or without a target. */
function groupOf(target: string | undefined): string {
  const address = target === undefined ? undefined : parseAddress(target);
  return address?.scheme === "poll" ? address.group : "";
}

function child<K, C>(cache: Map<K, C>, key: K, make: () => C): C {
  let found = cache.get(key);
  if (found === undefined) {
    found = make();
    cache.set(key, found);
  }
  return found;
}
