import type { Logger } from "pino";
import type { Clock } from "../clock";
import type { PollRegistry } from "../delivery/registry";
import type { StreamDirectory } from "../delivery/streams";
import type { Store } from "../store/store";
import type { Metrics } from "./metrics";

/** Tasks of each state read per scrape at most (each through a partial index): the gauges stop there. */
export const GROUP_SCRAPE_LIMIT = 100_000;

export interface GroupGaugeDeps {
  metrics: Metrics;
  store: Store;
  registry: PollRegistry;
  /** Every stream of the cluster (this replica's alone on SQLite). */
  directory: () => StreamDirectory;
  clock: Clock;
  logger: Logger;
}

/**
 * Per-group gauges, computed at scrape time rather than kept in step by hand: the backlog, the
 * tasks in flight and the oldest pending task come from the database (one index-backed, bounded
 * query), so every replica of a shared database reports the same; the workers come from this
 * replica's streams and from the stream directory (the whole cluster's).
 */
export function registerGroupGauges(deps: GroupGaugeDeps): void {
  const { metrics } = deps;
  const local = metrics.gauge("resonate_workers_connected", "Worker processes with an open poll stream on this replica, by group", ["group"]);
  const cluster = metrics.gauge(
    "resonate_cluster_workers_connected",
    "Worker processes with an open poll stream on any live replica, by group (equals the local figure on SQLite)",
    ["group"],
  );
  const backlog = metrics.gauge("resonate_tasks_pending", "Pending tasks (the backlog) whose target is poll://any@<group>, by group", ["group"]);
  const inFlight = metrics.gauge("resonate_tasks_acquired", "Acquired tasks (in flight) whose target is poll://any@<group>, by group", ["group"]);
  const oldest = metrics.gauge(
    "resonate_oldest_pending_task_age_seconds",
    "Age of the group's oldest pending task (since its promise was created), by group",
    ["group"],
  );

  metrics.onScrape(async () => {
    for (const gauge of [local, cluster, backlog, inFlight, oldest]) gauge.reset();

    for (const [group, pids] of distinctPids(deps.registry.all().map((c) => ({ group: c.group, id: c.id })))) local.set({ group }, pids);
    for (const [group, pids] of distinctPids(deps.directory().all())) cluster.set({ group }, pids);

    let groups;
    try {
      groups = await deps.store.transact((tx) => tx.taskGroups(GROUP_SCRAPE_LIMIT));
    } catch (error) {
      // The scrape still answers (the counters are worth having); the task gauges are absent.
      deps.logger.warn({ err: error }, "metrics: reading the task groups failed");
      return;
    }
    const now = deps.clock.now();
    for (const g of groups) {
      backlog.set({ group: g.group }, g.pending);
      inFlight.set({ group: g.group }, g.acquired);
      if (g.oldestPendingAt !== undefined) oldest.set({ group: g.group }, Math.max(0, now - g.oldestPendingAt) / 1000);
    }
  });
}

/** Distinct process ids per group: a worker with two streams (a reconnect racing) counts once. */
function distinctPids(streams: { group: string; id: string }[]): Map<string, number> {
  const sets = new Map<string, Set<string>>();
  for (const s of streams) {
    const set = sets.get(s.group) ?? new Set<string>();
    set.add(s.id);
    sets.set(s.group, set);
  }
  return new Map([...sets].map(([group, set]) => [group, set.size]));
}
