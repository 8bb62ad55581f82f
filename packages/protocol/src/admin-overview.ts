// The shapes of the admin API's group and overview answers (GET /admin/groups, GET /admin/overview
// and its stream; this server's own API, not the Resonate protocol), one definition for the server
// that answers them and the CLI and dashboard that read them. Types only: nothing here runs.

/** One worker process of a group: the replica holding its oldest stream, its streams and leases. */
export interface WorkerView {
  pid: string;
  replica: string;
  streams: number;
  /** Leases it holds, in any group. */
  tasks: number;
  connectedSince: number;
}

export interface GroupView {
  group: string;
  workers: WorkerView[];
  pending: number;
  acquired: number;
  /** Age of the oldest pending task, ms (absent with none pending). */
  oldestPendingAgeMs?: number;
}

/** One minute of work: executes dispatched, tasks finished, leases taken back from workers. */
export interface MinuteCounts {
  /** Start of the minute, epoch ms. */
  at: number;
  /** Execute messages claimed for delivery (first offers, re-offers and retries). */
  dispatched: number;
  /** task.fulfill requests answered 200: invocations finished. */
  finished: number;
  /** Leases that lapsed without a heartbeat, or taken back after the holder's stream closed. */
  takenBack: number;
}

/** A promise rejected or timed out lately. */
export interface FailureView {
  id: string;
  state: "rejected" | "rejected_timedout";
  createdAt: number;
  settledAt?: number;
  /** Where its task was dispatched (tag resonate:target), if it had one. */
  target?: string;
}

export interface Overview {
  at: number;
  groups: GroupView[];
  /** This replica's own counts: with several replicas each counts what it served. */
  throughput: { minutes: MinuteCounts[]; scope: "replica" };
  failures: FailureView[];
}
