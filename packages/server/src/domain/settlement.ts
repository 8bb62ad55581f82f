import type { PromiseRecord, Value } from "@resonate-compat/protocol";
import { TAG } from "@resonate-compat/protocol";
import type { Op } from "../store/op";
import type { TaskRow } from "../store/store";
import type { OpContext } from "./context";
import { note } from "./history";

// The settlement chain (spec §5.3) and the transitions it shares with other operations.

export interface Settlement {
  /** The pending promise, as read in this transaction. */
  promise: PromiseRecord;
  state: "resolved" | "rejected" | "rejected_canceled" | "rejected_timedout";
  value: Value;
  settledAt: number;
  /** The promise's task, when the caller has just read it in this transaction (it is not read again). */
  task?: TaskRow;
}

/** The record a settlement leaves, field for field what reading it back would give. */
export function settledRecord(s: Settlement): PromiseRecord {
  const { id, param, tags, timeoutAt, createdAt } = s.promise;
  return { id, state: s.state, param, value: s.value, tags, timeoutAt, createdAt, settledAt: s.settledAt };
}

/**
 * Settles pending promises and runs the chain in phases over the whole batch: store the new states,
 * fulfil their own tasks, then resume awaiters and notify listeners. The phases matter when several
 * promises settle together (a timeout tick): a task fulfilled by this batch is never resumed by it.
 */
export function* settleAll(ctx: OpContext, settlements: Settlement[]): Op<void> {
  const { tx } = ctx;
  for (const s of settlements) yield* tx.settlePromise(s.promise.id, s.state, s.value, s.settledAt);
  for (const s of settlements) yield* fulfillOwnTask(ctx, s);
  for (const s of settlements) {
    const id = s.promise.id;
    for (const awaiter of yield* tx.markCallbacksReady(id)) {
      const task = yield* tx.getTask(awaiter);
      if (task?.state === "suspended") {
        yield* makePending(ctx, task);
        yield* note(ctx, { taskId: task.id, event: "resumed", version: task.version, detail: { settled: id } });
      }
    }
    const listeners = yield* tx.takeListeners(id);
    if (listeners.length === 0) continue;
    const settled = settledRecord(s); // a settled promise never changes again: the unblock can carry it
    for (const address of listeners) yield* tx.enqueueUnblock(id, address, settled);
  }
}

/** Settles one pending promise; returns its settled record (built, not read back). */
export function* settle(ctx: OpContext, settlement: Settlement): Op<PromiseRecord> {
  yield* settleAll(ctx, [settlement]);
  return settledRecord(settlement);
}

/** How a promise ends when its deadline passes: timers resolve, everything else times out. */
export function timeoutSettlement(promise: PromiseRecord): Settlement {
  return {
    promise,
    state: promise.tags[TAG.timer] === "true" ? "resolved" : "rejected_timedout",
    value: {},
    settledAt: promise.timeoutAt,
  };
}

/**
 * Lazy timeout (spec §5.4): returns the promise as it must be seen at `ctx.now`, settling it first
 * when it is pending past its deadline, so that no read or write ever sees it pending.
 */
export function* expireIfDue(ctx: OpContext, id: string): Op<PromiseRecord | undefined> {
  // Every request starts here: the common case (not due) reads one row and allocates nothing else.
  const promise = yield* ctx.tx.getPromise(id);
  if (promise === undefined || promise.state !== "pending" || ctx.now < promise.timeoutAt) return promise;
  return yield* settle(ctx, timeoutSettlement(promise));
}

/**
 * Lazy timeouts of several ids as one batch, like a tick: a task fulfilled because its own
 * promise expired is not resumed by another promise of the same batch. Returns each promise as
 * seen at `ctx.now` (absent ids are absent).
 */
export function* expireAllDue(ctx: OpContext, ids: readonly string[]): Op<Map<string, PromiseRecord>> {
  const seen = new Map<string, PromiseRecord>();
  const due: PromiseRecord[] = [];
  for (const id of new Set(ids)) {
    const promise = yield* ctx.tx.getPromise(id);
    if (promise === undefined) continue;
    seen.set(id, promise);
    if (promise.state === "pending" && ctx.now >= promise.timeoutAt) due.push(promise);
  }
  if (due.length === 0) return seen;
  const settlements = due.map(timeoutSettlement);
  yield* settleAll(ctx, settlements);
  for (const s of settlements) seen.set(s.promise.id, settledRecord(s));
  return seen;
}

function* fulfillOwnTask(ctx: OpContext, s: Settlement): Op<void> {
  const id = s.promise.id;
  const task = s.task ?? (yield* ctx.tx.getTask(id));
  if (task === undefined || task.state === "fulfilled") return;
  yield* ctx.tx.putTask({ id, state: "fulfilled", version: task.version });
  yield* ctx.tx.deleteCallbacksOfAwaiter(id);
  yield* note(ctx, { taskId: id, event: "fulfilled", version: task.version, ...(task.pid !== undefined && { pid: task.pid }), detail: { promise: s.state } });
}

/**
 * Puts a task back in line: pending at the same version, retried after RETRY, and its execute
 * queued to the promise's target now; returns that target. Used by release, resume, continue and
 * lapsed leases.
 */
export function* makePending(ctx: OpContext, task: TaskRow): Op<string | undefined> {
  yield* ctx.tx.putTask({ id: task.id, state: "pending", version: task.version, timeoutType: 0, timeoutAt: ctx.now + ctx.retryTimeout });
  return yield* enqueueExecute(ctx, task.id, task.version);
}

/**
 * Queues the task's execute for its promise's target; returns that target (none: nothing queued).
 * A caller that has the promise's target at hand passes it, and the promise is not read again.
 */
export function* enqueueExecute(ctx: OpContext, taskId: string, version: number, knownTarget?: string): Op<string | undefined> {
  const target = knownTarget ?? (yield* ctx.tx.getPromise(taskId))?.tags[TAG.target];
  if (target !== undefined) yield* ctx.tx.enqueueExecute(taskId, version, target);
  return target;
}
