import type { PromiseRecord, PromiseState, ScheduleRecord, TaskState, Value } from "@resonate-compat/protocol";
import type { TaskRow } from "./store";

// The rows both SQL stores read back, and their records. Values are stored as JSON text (presence of
// fields preserved); tags are JSON text in SQLite and jsonb (already parsed) in PostgreSQL.

type Tags = Record<string, string>;

export interface PromiseSqlRow {
  id: string;
  state: string;
  param: string;
  value: string;
  tags: string | Tags;
  timeout_at: number;
  created_at: number;
  settled_at: number | null;
}

export interface TaskSqlRow {
  id: string;
  state: string;
  version: number;
  pid: string | null;
  ttl: number | null;
  timeout_type: number | null;
  timeout_at: number | null;
}

export interface ScheduleSqlRow {
  id: string;
  cron: string;
  promise_id: string;
  promise_timeout: number;
  promise_param: string;
  promise_tags: string | Tags;
  created_at: number;
  next_run_at: number;
  last_run_at: number | null;
}

const tagsOf = (tags: string | Tags): Tags => (typeof tags === "string" ? (JSON.parse(tags) as Tags) : tags);

export function toPromise(row: PromiseSqlRow): PromiseRecord {
  const record: PromiseRecord = {
    id: row.id,
    state: row.state as PromiseState,
    param: JSON.parse(row.param) as Value,
    value: JSON.parse(row.value) as Value,
    tags: tagsOf(row.tags),
    timeoutAt: row.timeout_at,
    createdAt: row.created_at,
  };
  if (row.settled_at !== null) record.settledAt = row.settled_at;
  return record;
}

export function toTask(row: TaskSqlRow): TaskRow {
  const task: TaskRow = { id: row.id, state: row.state as TaskState, version: row.version };
  if (row.pid !== null) task.pid = row.pid;
  if (row.ttl !== null) task.ttl = row.ttl;
  if (row.timeout_type !== null) task.timeoutType = row.timeout_type as 0 | 1;
  if (row.timeout_at !== null) task.timeoutAt = row.timeout_at;
  return task;
}

export function toSchedule(row: ScheduleSqlRow): ScheduleRecord {
  const schedule: ScheduleRecord = {
    id: row.id,
    cron: row.cron,
    promiseId: row.promise_id,
    promiseTimeout: row.promise_timeout,
    promiseParam: JSON.parse(row.promise_param) as Value,
    promiseTags: tagsOf(row.promise_tags),
    createdAt: row.created_at,
    nextRunAt: row.next_run_at,
  };
  if (row.last_run_at !== null) schedule.lastRunAt = row.last_run_at;
  return schedule;
}
