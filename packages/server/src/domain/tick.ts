import type { Logger } from "pino";
import type { Op } from "../store/op";
import type { TaskRow } from "../store/store";
import type { OpContext } from "./context";
import { note, pruneHistory } from "./history";
import { fireSchedule } from "./schedules";
import { enqueueExecute, makePending, settleAll, timeoutSettlement } from "./settlement";

/** How many rows of each kind one pass handles, so that a backlog cannot stall the server. */
export const TICK_BATCH = 1000;

/** The marker the pass leaves in the store: when it last ran (see resumeAfterDowntime). */
export const LAST_TICK = "last_tick_at";

/** What one pass did, by kind of row (the loop reports it to the metrics). */
export interface TickResult {
  /** Promises whose deadline passed. */
  promises: number;
  /** Pending tasks whose execute was sent again. */
  retries: number;
  /** Acquired tasks whose lease lapsed, taken back. */
  lapsed: number;
  /** Their targets, where their executes went again (for per-group counts). */
  lapsedTargets: (string | undefined)[];
  /** Schedules fired (each created a promise). */
  schedules: number;
  /** Dispatch history events pruned. */
  pruned: number;
  /** Rows handled in all: a full batch of any kind means a backlog. */
  handled: number;
}

/**
 * One timeout pass at `ctx.now` (spec §8.1), inside the caller's transaction: expire promises,
 * re-send executes of pending tasks whose retry is due, take back lapsed leases, fire schedules.
 * Returns what it handled, so that a caller can run again at once after a full batch.
 *
 * With several server replicas on one database each runs the pass; a lock taken in the
 * transaction lets one of them do it at a time, so that nothing is done twice.
 *
 * One bad row must not stop the pass for everybody: each row (and the promise batch as a whole)
 * runs in a savepoint; a failing row is logged and skipped, the rest commits.
 */
export function* tick(ctx: OpContext, log?: Pick<Logger, "error">): Op<TickResult> {
  const { tx, now } = ctx;
  const result: TickResult = { promises: 0, retries: 0, lapsed: 0, lapsedTargets: [], schedules: 0, pruned: 0, handled: 0 };
  if (!(yield* tx.tryLock("timeouts"))) return result;
  const skip = (what: string, id: string, error: Error | undefined) => {
    if (error) log?.error({ err: error, [what]: id }, "timeout pass skipped a row it could not process");
  };

  // Strict mode times out only promises with a target, as the reference's latest revision (spec
  // §13 C1); the others then settle only when a request touches them (lazy timeout, §5.4).
  const due = yield* tx.duePromises(now, TICK_BATCH, ctx.strict === true);
  const batchError = due.length === 0 ? undefined : yield* tx.attempt(() => settleAll(ctx, due.map(timeoutSettlement)));
  if (batchError) {
    // Settle them one by one, so that only the bad one is left behind.
    for (const promise of due) {
      const error = yield* tx.attempt(() => settleAll(ctx, [timeoutSettlement(promise)]));
      skip("promise", promise.id, error);
      if (!error) result.promises++;
    }
  } else {
    result.promises = due.length;
  }

  const tasks = yield* tx.dueTasks(now, TICK_BATCH);
  for (const task of tasks) {
    const outcome: { target?: string } = {};
    const error = yield* tx.attempt(() => timeOutTask(ctx, task, outcome));
    skip("task", task.id, error);
    if (!error && task.state === "pending") result.retries++;
    if (!error && task.state === "acquired") {
      result.lapsed++;
      result.lapsedTargets.push(outcome.target);
    }
  }

  const schedules = yield* tx.dueSchedules(now, TICK_BATCH);
  for (const schedule of schedules) {
    const error = yield* tx.attempt(() => fireSchedule(ctx, schedule));
    skip("schedule", schedule.id, error);
    if (!error) result.schedules++;
  }
  const pruneError = yield* tx.attempt(() => pruneInto(ctx, result));
  if (pruneError) log?.error({ err: pruneError }, "timeout pass could not prune the dispatch history");
  yield* tx.setMarker(LAST_TICK, now);
  result.handled = due.length + tasks.length + schedules.length;
  return result;
}

/**
 * A task past its timeout: a pending one is retried (its execute sent again), an acquired one whose
 * holder stopped heartbeating goes back in line at the same version, so that the next acquire bumps
 * it and fences the old holder out (its target lands in `outcome`).
 */
function* timeOutTask(ctx: OpContext, task: TaskRow, outcome: { target?: string }): Op<void> {
  const { tx, now } = ctx;
  if (task.state === "pending") {
    yield* tx.putTask({ ...task, timeoutAt: now + ctx.retryTimeout });
    yield* note(ctx, { taskId: task.id, event: "retried", version: task.version });
    yield* enqueueExecute(ctx, task.id, task.version);
  } else if (task.state === "acquired") {
    outcome.target = yield* makePending(ctx, task);
    yield* note(ctx, { taskId: task.id, event: "lapsed", version: task.version, ...(task.pid !== undefined && { pid: task.pid }), detail: { ttl: task.ttl } });
  } else {
    yield* tx.putTask({ id: task.id, state: task.state, version: task.version });
  }
}

function* pruneInto(ctx: OpContext, result: { pruned: number }): Op<void> {
  result.pruned = yield* pruneHistory(ctx);
}

/**
 * When the server starts after a time during which no server ran the timeout pass (it was stopped
 * or crashed), that time does not count against the leases: workers could not heartbeat while
 * nobody answered, and would otherwise lose every lease at the first pass and run their tasks
 * twice. Each acquired task's lease deadline moves later by the time nobody ran the pass, beyond
 * two intervals. Workers that are alive then heartbeat as usual; dead ones lose their leases after
 * what remained of their ttl. Returns how long the pause was (0: none) and how many leases moved.
 */
export function* resumeAfterDowntime(ctx: OpContext, interval: number): Op<{ downtime: number; leases: number }> {
  const { tx, now } = ctx;
  const last = yield* tx.getMarker(LAST_TICK);
  // Whoever comes first after a pause moves the leases and the marker, in one transaction: a
  // second replica starting at the same moment then finds no pause.
  yield* tx.setMarker(LAST_TICK, Math.max(now, last ?? 0));
  if (last === undefined || now - last <= 2 * interval) return { downtime: 0, leases: 0 };
  const downtime = now - last;
  return { downtime, leases: yield* tx.shiftLeases(downtime) };
}
