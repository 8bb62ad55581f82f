import type { RequestData } from "@resonate-compat/protocol";
import { TAG, isValidAddress } from "@resonate-compat/protocol";
import type { Op } from "../store/op";
import { type OpContext, type Reply, fail, ok } from "./context";
import { createPromise, createRuleViolation } from "./create";
import { callbackOriginViolation } from "./lineage";
import { expireAllDue, expireIfDue, makePending, settle } from "./settlement";

// Promise operations (spec §6.1).

export function* promiseGet(ctx: OpContext, data: RequestData<"promise.get">): Op<Reply> {
  const promise = yield* expireIfDue(ctx, data.id);
  return promise ? ok({ promise }) : fail(404, "Promise not found");
}

export function* promiseCreate(ctx: OpContext, data: RequestData<"promise.create">): Op<Reply> {
  const violation = createRuleViolation(data, ctx.strict);
  if (violation) return fail(400, violation);
  return ok({ promise: (yield* createPromise(ctx, data)).promise });
}

export function* promiseSettle(ctx: OpContext, data: RequestData<"promise.settle">): Op<Reply> {
  const promise = yield* expireIfDue(ctx, data.id);
  if (!promise) return fail(404, "Promise not found");
  // Settling a settled promise changes nothing and still answers 200 with the stored record.
  if (promise.state !== "pending") return ok({ promise });
  return ok({ promise: yield* settle(ctx, { promise, state: data.state, value: data.value, settledAt: ctx.now }) });
}

export function* promiseRegisterCallback(ctx: OpContext, data: RequestData<"promise.register_callback">): Op<Reply> {
  const { tx } = ctx;
  const crossOrigin = ctx.strict ? callbackOriginViolation(data.awaited, data.awaiter) : undefined;
  if (crossOrigin) return fail(400, crossOrigin);
  const expired = yield* expireAllDue(ctx, [data.awaited, data.awaiter]);
  const awaited = expired.get(data.awaited);
  const awaiter = expired.get(data.awaiter);
  if (!awaited) return fail(404, "Awaited promise not found");
  if (!awaiter) return fail(422, "Awaiter promise not found");
  if (awaiter.tags[TAG.target] === undefined) return fail(422, "Awaiter promise has no resonate:target tag");

  if (awaited.state === "pending") {
    if (awaiter.state === "pending") yield* tx.addCallback(awaited.id, awaiter.id, false);
    return ok({ promise: awaited });
  }
  // The awaited promise is settled already: wake a suspended awaiter now, and count the
  // resumption for an awaiter that is pending or running.
  let task = yield* tx.getTask(awaiter.id);
  if (task?.state === "suspended") {
    yield* makePending(ctx, task);
    task = yield* tx.getTask(awaiter.id);
  }
  if (task?.state === "pending" || task?.state === "acquired") yield* tx.addCallback(awaited.id, awaiter.id, true);
  return ok({ promise: awaited });
}

export function* promiseRegisterListener(ctx: OpContext, data: RequestData<"promise.register_listener">): Op<Reply> {
  if (!isValidAddress(data.address)) return fail(400, "Invalid listener address");
  const promise = yield* expireIfDue(ctx, data.awaited);
  if (!promise) return fail(404, "Awaited promise not found");
  // A settled promise gets no listener: the caller reads the state from this answer.
  if (promise.state === "pending") yield* ctx.tx.addListener(promise.id, data.address);
  return ok({ promise });
}

export function* promiseSearch(ctx: OpContext, data: RequestData<"promise.search">): Op<Reply> {
  const page = yield* ctx.tx.searchPromises({
    ...(data.state != null && { state: data.state }),
    ...(data.tags != null && { tags: data.tags }),
    ...(data.cursor != null && { cursor: data.cursor }),
    limit: data.limit ?? 100,
  });
  return ok({ promises: page.items, ...(page.cursor !== undefined && { cursor: page.cursor }) });
}
