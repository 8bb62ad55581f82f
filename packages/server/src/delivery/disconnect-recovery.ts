import type { Logger } from "pino";
import type { Clock } from "../clock";
import { lapseLeasesHeldBy } from "../domain/leases";
import type { Store } from "../store/store";
import type { PollConnection } from "./connection";
import type { PollRegistry } from "./registry";

export interface DisconnectRecoveryDeps {
  store: Store;
  registry: PollRegistry;
  clock: Clock;
  logger: Logger;
  retryTimeout: number;
  /** How long a process may stay disconnected before its leases are taken back. */
  graceMs: number;
  onCommit: () => void;
}

/**
 * A SIGKILLed worker's poll stream closes at once, long before its leases would lapse. When a
 * process's last stream closes and it does not reconnect within the grace period (longer than the
 * SDKs' first reconnect back-off of 1 s), its leases are treated as lapsed and its tasks go to
 * other workers. A worker that is connected but hung still loses its leases only by ttl.
 */
export class DisconnectRecovery {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private stopped = false;

  constructor(private readonly deps: DisconnectRecoveryDeps) {}

  opened(connection: PollConnection): void {
    const timer = this.timers.get(connection.id);
    if (timer) {
      clearTimeout(timer);
      this.timers.delete(connection.id);
    }
  }

  closed(connection: PollConnection): void {
    if (this.stopped || this.deps.graceMs <= 0 || this.deps.registry.hasId(connection.id)) return;
    clearTimeout(this.timers.get(connection.id));
    const timer = setTimeout(() => this.reclaim(connection.id), this.deps.graceMs);
    timer.unref();
    this.timers.set(connection.id, timer);
  }

  /** Takes back the leases of `pid` unless it has reconnected meanwhile. */
  reclaim(pid: string): string[] {
    this.timers.delete(pid);
    if (this.stopped || this.deps.registry.hasId(pid)) return [];
    const now = this.deps.clock.now();
    const ids = this.deps.store.transact((tx) =>
      lapseLeasesHeldBy({ tx, now, retryTimeout: this.deps.retryTimeout, corrId: "" }, pid),
    );
    if (ids.length > 0) {
      this.deps.logger.info({ pid, tasks: ids.length }, "process gone: its leases were taken back and its tasks re-dispatched");
      this.deps.onCommit();
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
