import type { FailureView, Overview } from "@resonate-compat/protocol/admin-overview";
import { type AdminDeps, groups } from "../admin";
import { recentFailures } from "./recent-failures";
import { ThroughputRecorder } from "./throughput";
import type { FastifyBaseLogger } from "fastify";
import type { Metrics } from "../../observability/metrics";

// What the dashboard's overview shows, in one answer: every group with its workers and backlog
// (as GET /admin/groups), this replica's throughput per minute, and recent failures. The feed builds
// it for every watcher of the stream at once, on one timer that runs only while somebody watches.

export interface OverviewOptions {
  /** How often the stream pushes a fresh overview (ms). */
  pushEveryMs: number;
  /** How often the throughput counters are sampled (ms). */
  sampleEveryMs: number;
  /** How long the list of recent failures stays fresh (ms): one index walk, see recent-failures.ts. */
  failuresEveryMs: number;
}

export const OVERVIEW_DEFAULTS: OverviewOptions = { pushEveryMs: 2000, sampleEveryMs: 5000, failuresEveryMs: 5000 };

type Watcher = (overview: Overview) => void;

export class OverviewFeed {
  readonly throughput: ThroughputRecorder;
  private readonly watchers = new Set<Watcher>();
  private pushTimer: NodeJS.Timeout | undefined;
  private readonly sampleTimer: NodeJS.Timeout;
  private failures: { at: number; list: FailureView[] } | undefined;

  constructor(
    private readonly deps: AdminDeps,
    metrics: Metrics,
    private readonly options: OverviewOptions,
    private readonly log: FastifyBaseLogger,
  ) {
    this.throughput = new ThroughputRecorder(metrics);
    // Sampled whether or not anybody watches, so that a dashboard opened later has the past minutes.
    const sample = () => void this.throughput.sample(deps.clock.now()).catch(() => undefined);
    sample();
    this.sampleTimer = setInterval(sample, options.sampleEveryMs).unref();
  }

  /** The overview now. */
  async current(): Promise<Overview> {
    const now = this.deps.clock.now();
    await this.throughput.sample(now);
    if (!this.failures || now - this.failures.at >= this.options.failuresEveryMs || now < this.failures.at) {
      this.failures = { at: now, list: await recentFailures(this.deps.store, now) };
    }
    return {
      at: now,
      groups: (await groups(this.deps, undefined)).groups,
      throughput: { minutes: this.throughput.minutes(now), scope: "replica" },
      failures: this.failures.list,
    };
  }

  /** Calls `watcher` with a fresh overview now and every pushEveryMs until the returned function is called. */
  watch(watcher: Watcher): () => void {
    this.watchers.add(watcher);
    void this.current().then(watcher, (error: unknown) => this.log.warn({ err: error }, "overview failed"));
    if (!this.pushTimer) this.pushTimer = setInterval(() => void this.push(), this.options.pushEveryMs);
    return () => {
      this.watchers.delete(watcher);
      if (this.watchers.size === 0) this.stopPushing();
    };
  }

  close(): void {
    clearInterval(this.sampleTimer);
    this.stopPushing();
    this.watchers.clear();
  }

  /** One overview for every watcher; a failed read (database gone a moment) is logged and skipped. */
  private async push(): Promise<void> {
    try {
      const overview = await this.current();
      for (const watcher of this.watchers) watcher(overview);
    } catch (error) {
      this.log.warn({ err: error }, "overview failed");
    }
  }

  private stopPushing(): void {
    clearInterval(this.pushTimer);
    this.pushTimer = undefined;
  }
}
