import type { Logger } from "pino";
import type { Clock } from "../clock";
import { type TakenBack, lapseLeasesHeldBy } from "../domain/leases";
import type { Metrics } from "../observability/metrics";
import type { HistoryOptions } from "../domain/context";
import type { Committer } from "../store/commit/committer";
import type { StreamDirectory } from "./streams";

export interface DisconnectRecoveryDeps {
  commits: Committer;
  directory: StreamDirectory;
  clock: Clock;
  logger: Logger;
  retryTimeout: number;
  /** How long a process may stay disconnected before its leases are taken back. */
  graceMs: number;
  /** Present when the dispatch history is on. */
  history?: HistoryOptions | undefined;
  /** Counts the leases taken back. */
  metrics?: Metrics | undefined;
}

/**
 * A SIGKILLed worker's poll stream closes at once, long before its leases would lapse. When a
 * process's last stream closes and it does not reconnect within the grace period (longer than the
 * SDKs' first reconnect back-off of 1 s) — to this server or, with several replicas, to any of
 * them — its leases are treated as lapsed and its tasks go to other workers. A worker that is
 * connected but hung still loses its leases only by ttl.
 */
export class DisconnectRecovery {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private stopped = false;

  constructor(private readonly deps: DisconnectRecoveryDeps) {}

  opened(pid: string): void {
    const timer = this.timers.get(pid);
    if (timer) {
      clearTimeout(timer);
      this.timers.delete(pid);
    }
  }

  /**
   * A stream of `pid` closed (here, or on a replica that died). Starts its grace period unless the
   * process still has a stream somewhere. The leases it holds now are the ones taken back after it.
   */
  closed(pid: string): void {
    if (this.stopped || this.deps.graceMs <= 0 || this.deps.directory.isConnected(pid)) return;
    clearTimeout(this.timers.get(pid));
    const closedAt = this.deps.clock.now();
    const timer = setTimeout(() => void this.reclaim(pid, closedAt), this.deps.graceMs);
    timer.unref();
    this.timers.set(pid, timer);
  }

  /**
   * Takes back the leases `pid` held when its stream closed at `closedAt`, unless it has reconnected
   * meanwhile. Leases it took or renewed since stay (see lapseLeasesHeldBy).
   */
  async reclaim(pid: string, closedAt: number): Promise<string[]> {
    this.timers.delete(pid);
    if (this.stopped || this.deps.directory.isConnected(pid)) return [];
    const now = this.deps.clock.now();
    const { retryTimeout, history } = this.deps;
    let taken: TakenBack[];
    try {
      taken = await this.deps.commits.submit((tx) => lapseLeasesHeldBy({ tx, now, retryTimeout, corrId: "", history }, pid, closedAt));
    } catch (error) {
      this.deps.logger.error({ err: error, pid }, "taking back a gone process's leases failed; its ttl still applies");
      return [];
    }
    this.deps.metrics?.leasesRecovered(taken.map((t) => t.target));
    const ids = taken.map((t) => t.id);
    if (ids.length > 0) {
      this.deps.logger.info({ pid, tasks: ids.length }, "process gone: its leases were taken back and its tasks re-dispatched");
    }
    return ids;
  }

  /** On shutdown the server closes every stream itself: that is no sign that workers died. */
  stop(): void {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
