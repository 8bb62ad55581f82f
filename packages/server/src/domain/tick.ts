import type { Logger } from "pino";
import type { OpContext } from "./context";
import { fireSchedule } from "./schedules";
import { makePending, settleAll, timeoutSettlement, enqueueExecute } from "./settlement";

/** How many rows of each kind one pass handles, so that a backlog cannot stall the server. */
const BATCH = 1000;

/**
 * One timeout pass at `ctx.now` (spec §8.1), inside the caller's transaction: expire promises,
 * re-send executes of pending tasks whose retry is due, take back lapsed leases, fire schedules.
 * Returns how many rows it handled, so that a caller can run again at once after a full batch.
 *
 * One bad row must not stop the pass for everybody: each row (and the promise batch as a whole)
 * runs in a savepoint; a failing row is logged and skipped, the rest commits.
 */
export function tick(ctx: OpContext, log?: Pick<Logger, "error">): number {
  const { tx, now } = ctx;
  const skip = (what: string, id: string, error: Error | undefined) => {
    if (error) log?.error({ err: error, [what]: id }, "timeout pass skipped a row it could not process");
  };

  const due = tx.duePromises(now, BATCH);
  const batchError = tx.attempt(() => settleAll(ctx, due.map(timeoutSettlement)));
  if (batchError) {
    // Settle them one by one, so that only the bad one is left behind.
    for (const promise of due) skip("promise", promise.id, tx.attempt(() => settleAll(ctx, [timeoutSettlement(promise)])));
  }

  const tasks = tx.dueTasks(now, BATCH);
  for (const task of tasks) {
    skip("task", task.id, tx.attempt(() => {
      if (task.state === "pending") {
        tx.putTask({ ...task, timeoutAt: now + ctx.retryTimeout });
        enqueueExecute(ctx, task.id, task.version);
      } else if (task.state === "acquired") {
        // The holder stopped heartbeating: the task goes back in line at the same version, so the
        // next acquire bumps it and fences the old holder out.
        makePending(ctx, task);
      } else {
        tx.putTask({ id: task.id, state: task.state, version: task.version });
      }
    }));
  }

  const schedules = tx.dueSchedules(now, BATCH);
  for (const schedule of schedules) skip("schedule", schedule.id, tx.attempt(() => fireSchedule(ctx, schedule)));
  return due.length + tasks.length + schedules.length;
}
