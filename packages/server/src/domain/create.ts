import type { PromiseRecord, RequestData } from "@resonate-compat/protocol";
import { TAG, isValidAddress } from "@resonate-compat/protocol";
import type { Op } from "../store/op";
import type { OpContext } from "./context";
import { note } from "./history";
import { createLineageViolation } from "./lineage";
import { enqueueExecute, expireIfDue, timeoutSettlement } from "./settlement";

export type CreateData = RequestData<"promise.create">;

/**
 * The rules of promise.create that the schema cannot express (spec §6.1.2 steps 3–5; the lineage
 * rules of step 3 only in strict mode); shared by promise.create, task.create and fenced creates.
 * Returns the first broken rule, if any.
 */
export function createRuleViolation(data: CreateData, strict = false): string | undefined {
  if (strict) {
    const lineage = createLineageViolation(data.id, data.tags);
    if (lineage) return lineage;
  }
  const target = data.tags[TAG.target];
  const delay = data.tags[TAG.delay];
  if (delay !== undefined) {
    if (!/^\d+$/.test(delay)) return "resonate:delay must be a non-negative integer";
    if (Number(delay) >= data.timeoutAt) return "resonate:delay must be less than timeoutAt";
    if (target === undefined) return "resonate:delay requires a resonate:target tag";
  }
  if (target !== undefined && !isValidAddress(target)) return "Invalid resonate:target address";
  return undefined;
}

export interface CreateOutcome {
  promise: PromiseRecord;
  created: boolean;
}

export interface CreateOptions {
  /** Defaults to now; a schedule passes its firing time. */
  createdAt?: number;
  /** False for task.create, whose caller acquires the task at once: no timeout, no execute. */
  dispatch?: boolean;
  /** Schedule firings do not interpret resonate:delay (spec §6.1.2, as the reference). */
  ignoreDelay?: boolean;
}

/**
 * Creates a promise (and its pending task when it has a target) unless one with this id exists,
 * in which case the stored record is returned untouched: promise.create never conflicts.
 */
export function* createPromise(ctx: OpContext, data: CreateData, options: CreateOptions = {}): Op<CreateOutcome> {
  const createdAt = options.createdAt ?? ctx.now;
  const { tx, now } = ctx;
  const existing = yield* expireIfDue(ctx, data.id);
  if (existing) return { promise: existing, created: false };

  const target = data.tags[TAG.target];
  const base = { id: data.id, param: data.param, value: {}, tags: data.tags, timeoutAt: data.timeoutAt };

  if (now >= data.timeoutAt) {
    const timedOut = timeoutSettlement({ ...base, state: "pending", createdAt: data.timeoutAt });
    // Created already expired: createdAt is the deadline, except that a schedule firing keeps its
    // firing time (spec §3.2, §8.3).
    const promise: PromiseRecord = {
      ...base,
      state: timedOut.state,
      createdAt: options.createdAt ?? data.timeoutAt,
      settledAt: data.timeoutAt,
    };
    yield* tx.insertPromise(promise);
    if (target !== undefined) yield* tx.putTask({ id: data.id, state: "fulfilled", version: 0 });
    return { promise, created: true };
  }

  const promise: PromiseRecord = { ...base, state: "pending", createdAt };
  yield* tx.insertPromise(promise);
  if (target !== undefined) {
    const until = options.ignoreDelay ? undefined : delayedUntil(data.tags);
    if (options.dispatch === false) {
      yield* tx.putTask({ id: data.id, state: "pending", version: 0 });
      yield* note(ctx, { taskId: data.id, event: "created", version: 0, detail: { target, by: "task.create" } });
    } else if (until !== undefined && now < until) {
      // The first dispatch happens when this retry timeout fires (spec §6.1.2, C5).
      yield* tx.putTask({ id: data.id, state: "pending", version: 0, timeoutType: 0, timeoutAt: until });
      yield* note(ctx, { taskId: data.id, event: "created", version: 0, detail: { target, delayedUntil: until } });
    } else {
      yield* tx.putTask({ id: data.id, state: "pending", version: 0, timeoutType: 0, timeoutAt: now + ctx.retryTimeout });
      yield* note(ctx, { taskId: data.id, event: "created", version: 0, detail: { target } });
      yield* enqueueExecute(ctx, data.id, 0, target);
    }
  }
  return { promise, created: true };
}

/** The time before which a task must not be dispatched (tag resonate:delay), if any. */
export function delayedUntil(tags: Record<string, string>): number | undefined {
  const delay = tags[TAG.delay];
  return delay === undefined ? undefined : Number(delay);
}
