// The shapes the dashboard reads: the protocol's records (PROTOCOL.md §3, from the protocol package's
// dependency-free records module) and the server's admin API (docs/admin-api.md).

import type { PromiseState } from "@resonate-compat/protocol/records";

export { PROMISE_STATES } from "@resonate-compat/protocol/records";
export type { PromiseRecord, PromiseState, ScheduleRecord, Value } from "@resonate-compat/protocol/records";

export type { FailureView, GroupView, MinuteCounts, Overview, WorkerView } from "@resonate-compat/protocol/admin-overview";

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
