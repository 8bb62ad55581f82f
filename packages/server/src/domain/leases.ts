import type { Op } from "../store/op";
import type { TaskRow } from "../store/store";
import type { OpContext } from "./context";
import { note } from "./history";
import { makePending } from "./settlement";

/** A task whose lease was taken back, and where its execute went again (its target). */
export interface TakenBack {
  id: string;
  target: string | undefined;
}

/**
 * Treats the leases `pid` held when its last stream closed (at `closedAt`) as lapsed now: each
 * task goes back to pending at its version and its execute is queued. Safe even if the process is
 * alive but cut off, because the next acquire bumps the version and fences it out. A lease taken or
 * renewed after `closedAt` stays: that request proved the process alive after its stream went (an
 * in-process run, task.create, right after a blip of the stream), and its ttl still applies.
 * Returns the tasks taken back.
 */
export function* lapseLeasesHeldBy(ctx: OpContext, pid: string, closedAt: number): Op<TakenBack[]> {
  const tasks = yield* ctx.tx.tasksHeldBy(pid);
  const taken: TakenBack[] = [];
  for (const task of tasks) {
    if (leaseTakenAt(task) > closedAt) continue;
    taken.push({ id: task.id, target: yield* makePending(ctx, task) });
    yield* note(ctx, { taskId: task.id, event: "recovered", version: task.version, pid, detail: { why: "stream closed" } });
  }
  return taken;
}

/**
 * When a held task's lease was last taken or renewed: both set its timeout to now + ttl. (After a
 * downtime the leases are shifted by its length, which keeps this inside the downtime.)
 */
function leaseTakenAt(task: TaskRow): number {
  return task.timeoutAt !== undefined && task.ttl !== undefined ? task.timeoutAt - task.ttl : Number.NEGATIVE_INFINITY;
}
