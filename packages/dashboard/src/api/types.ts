// The shapes the dashboard reads: the server's admin API (docs/admin-api.md) and the protocol's
// records (PROTOCOL.md §3). Written out here because the browser bundle depends on no server code.

export type PromiseState = "pending" | "resolved" | "rejected" | "rejected_canceled" | "rejected_timedout";
export const PROMISE_STATES: PromiseState[] = ["pending", "resolved", "rejected", "rejected_canceled", "rejected_timedout"];

export interface Value {
  headers?: Record<string, string>;
  data?: string;
}

export interface PromiseRecord {
  id: string;
  state: PromiseState;
  param: Value;
  value: Value;
  tags: Record<string, string>;
  timeoutAt: number;
  createdAt: number;
  settledAt?: number;
}

export interface ScheduleRecord {
  id: string;
  cron: string;
  promiseId: string;
  promiseTimeout: number;
  promiseParam: Value;
  promiseTags: Record<string, string>;
  createdAt: number;
  nextRunAt: number;
  lastRunAt?: number;
}

export interface WorkerView {
  pid: string;
  replica: string;
  streams: number;
  tasks: number;
  connectedSince: number;
}

export interface GroupView {
  group: string;
  workers: WorkerView[];
  pending: number;
  acquired: number;
  oldestPendingAgeMs?: number;
}

export interface MinuteCounts {
  at: number;
  dispatched: number;
  finished: number;
  takenBack: number;
}

export interface FailureView {
  id: string;
  state: "rejected" | "rejected_timedout";
  createdAt: number;
  settledAt?: number;
  target?: string;
}

export interface Overview {
  at: number;
  groups: GroupView[];
  throughput: { minutes: MinuteCounts[]; scope: "replica" };
  failures: FailureView[];
}

export interface TreeNode {
  id: string;
  state: PromiseState;
  createdAt: number;
  settledAt?: number;
  target?: string;
  children: TreeNode[];
}

export interface CallTree {
  root: TreeNode;
  nodes: number;
  truncated: boolean;
}

// The dispatch history's shapes are shared with the CLI (one definition, in the protocol package).
export type { TaskHistory, TaskHistoryEvent as TaskEvent } from "@resonate-compat/protocol/admin-history";
