import type { PromiseRecord, TaskRecord } from "@resonate-compat/protocol";
import { TAG } from "@resonate-compat/protocol";
import type { Op } from "../store/op";
import type { TaskRow, Tx } from "../store/store";

/** The wire record of a task: `ttl`/`pid` only while acquired; `resumes` counts ready callbacks. */
export function* taskRecord(tx: Tx, task: TaskRow): Op<TaskRecord> {
  const record: TaskRecord = {
    id: task.id,
    state: task.state,
    version: task.version,
    resumes: yield* tx.countReadyCallbacks(task.id),
  };
  if (task.state === "acquired") {
    if (task.ttl !== undefined) record.ttl = task.ttl;
    if (task.pid !== undefined) record.pid = task.pid;
  }
  return record;
}

/** The other promises of the task promise's branch (tag resonate:branch), sorted by id. */
export function* preload(tx: Tx, promise: PromiseRecord): Op<PromiseRecord[]> {
  const branch = promise.tags[TAG.branch];
  return branch === undefined ? [] : yield* tx.branchSiblings(branch, promise.id);
}

export function targetOf(promise: PromiseRecord): string | undefined {
  return promise.tags[TAG.target];
}
