import type { StoredTaskEvent, TaskEvent } from "./store";

// The task_events row shape both stores read back (see Tx.taskEvents).

export interface TaskEventSqlRow {
  seq: number;
  task_id: string;
  at: number;
  event: string;
  version: number | null;
  pid: string | null;
  replica: string | null;
  n: number;
  last_at: number | null;
  detail: string | Record<string, unknown> | null;
}

/** A task_events row (SQLite or PostgreSQL) as a StoredTaskEvent. */
export function toTaskEvent(r: TaskEventSqlRow): StoredTaskEvent {
  return {
    seq: Number(r.seq),
    taskId: r.task_id,
    at: Number(r.at),
    event: r.event as StoredTaskEvent["event"],
    count: r.n,
    ...(r.version !== null && { version: r.version }),
    ...(r.pid !== null && { pid: r.pid }),
    ...(r.replica !== null && { replica: r.replica }),
    ...(r.last_at !== null && { lastAt: Number(r.last_at) }),
    ...(r.detail !== null && { detail: typeof r.detail === "string" ? (JSON.parse(r.detail) as Record<string, unknown>) : r.detail }),
  };
}

/** The columns both stores insert for an event, in the order of TASK_EVENT_COLUMNS. */
export const TASK_EVENT_COLUMNS = "task_id, at, event, version, pid, replica, detail";

export function taskEventValues(e: TaskEvent): unknown[] {
  return [e.taskId, e.at, e.event, e.version ?? null, e.pid ?? null, e.replica ?? null, e.detail ? JSON.stringify(e.detail) : null];
}

