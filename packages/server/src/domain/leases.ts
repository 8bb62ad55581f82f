import type { Op } from "../store/op";
import type { OpContext } from "./context";
import { note } from "./history";
import { makePending } from "./settlement";

/** A task whose lease was taken back, and where its execute went again (its target). */
export interface TakenBack {
  id: string;
  target: string | undefined;
}

/**
 * Treats every lease held by `pid` as lapsed now: each task goes back to pending at its version
 * and its execute is queued. Safe even if the process is alive but cut off, because the next
 * acquire bumps the version and fences it out. Returns the tasks taken back.
 */
export function* lapseLeasesHeldBy(ctx: OpContext, pid: string): Op<TakenBack[]> {
  const tasks = yield* ctx.tx.tasksHeldBy(pid);
  const taken: TakenBack[] = [];
  for (const task of tasks) {
    taken.push({ id: task.id, target: yield* makePending(ctx, task) });
    yield* note(ctx, { taskId: task.id, event: "recovered", version: task.version, pid, detail: { why: "stream closed" } });
  }
  return taken;
}
