import type { PromiseRecord, RequestData, TaskRecord } from "@resonate-compat/protocol";
import {
  PROTOCOL_VERSION,
  TAG,
  describeIssues,
  promiseCreateSchema,
  promiseSettleSchema,
} from "@resonate-compat/protocol";
import type { Op } from "../store/op";
import type { TaskRow } from "../store/store";
import { type OpContext, type Reply, fail, ok } from "./context";
import { createPromise, createRuleViolation } from "./create";
import { note, noteExtension, noteRefused } from "./history";
import { heartbeatOriginViolation, suspendOriginViolation } from "./lineage";
import { preload, taskRecord } from "./records";
import { expireAllDue, expireIfDue, makePending, settle } from "./settlement";

// Task operations (spec §6.2). Only acquire (and task.create) bump the version: every other fenced
// operation compares the caller's version with the stored one, which fences out stale holders.

/** Takes the lease: version + 1, lease until now + ttl, ready callbacks forgotten. */
function* acquire(ctx: OpContext, task: TaskRow, promise: PromiseRecord, pid: string, ttl: number): Op<Reply> {
  const acquired: TaskRow = {
    id: task.id,
    state: "acquired",
    version: task.version + 1,
    pid,
    ttl,
    timeoutType: 1,
    timeoutAt: ctx.now + ttl,
  };
  yield* ctx.tx.putTask(acquired);
  yield* note(ctx, { taskId: task.id, event: "acquired", version: acquired.version, pid, detail: { ttl } });
  yield* ctx.tx.deleteReadyCallbacksOfAwaiter(task.id);
  // Its ready callbacks were just deleted: no resumes to count.
  const record: TaskRecord = { id: task.id, state: "acquired", version: acquired.version, resumes: 0, ttl, pid };
  return ok({ task: record, promise, preload: yield* preload(ctx.tx, promise) });
}

function isHeldAt(task: TaskRow | undefined, version: number): task is TaskRow {
  return task !== undefined && task.state === "acquired" && task.version === version;
}

export function* taskGet(ctx: OpContext, data: RequestData<"task.get">): Op<Reply> {
  yield* expireIfDue(ctx, data.id);
  const task = yield* ctx.tx.getTask(data.id);
  return task ? ok({ task: yield* taskRecord(ctx.tx, task) }) : fail(404, "Task not found");
}

export function* taskCreate(ctx: OpContext, data: RequestData<"task.create">): Op<Reply> {
  const create = data.action.data;
  if (create.tags[TAG.target] === undefined) return fail(400, "Action must have a resonate:target tag");
  if (create.tags[TAG.delay] !== undefined) return fail(400, "Action must not have a resonate:delay tag");
  const violation = createRuleViolation(create, ctx.strict);
  if (violation) return fail(400, violation);

  const { tx } = ctx;
  const existing = yield* expireIfDue(ctx, create.id);
  if (!existing) {
    // Create the promise, then take its task at once: the caller is the executor, so no execute.
    const { promise } = yield* createPromise(ctx, create, { dispatch: false });
    const task = (yield* tx.getTask(create.id))!;
    if (promise.state !== "pending") return ok({ task: yield* taskRecord(tx, task), promise, preload: [] });
    return yield* acquire(ctx, task, promise, data.pid, data.ttl);
  }
  const task = yield* tx.getTask(create.id);
  if (!task) return fail(422, "The promise does not have a resonate:target tag");
  if (task.state === "fulfilled") return ok({ task: yield* taskRecord(tx, task), promise: existing, preload: [] });
  if (task.state === "pending") return yield* acquire(ctx, task, existing, data.pid, data.ttl);
  return fail(409, "Already exists");
}

export function* taskAcquire(ctx: OpContext, data: RequestData<"task.acquire">): Op<Reply> {
  const promise = yield* expireIfDue(ctx, data.id);
  const task = yield* ctx.tx.getTask(data.id);
  if (!task || !promise) return fail(404, "Task not found");
  if (task.state !== "pending" || task.version !== data.version) {
    yield* noteRefused(ctx, "task.acquire", data.id, task as TaskRow, data.version, data.pid);
    return fail(409, task.state !== "pending" ? "Task is not pending" : "Version mismatch");
  }
  return yield* acquire(ctx, task, promise, data.pid, data.ttl);
}

export function* taskRelease(ctx: OpContext, data: RequestData<"task.release">): Op<Reply> {
  yield* expireIfDue(ctx, data.id);
  const task = yield* ctx.tx.getTask(data.id);
  if (!task) return fail(404, "Task not found");
  if (!isHeldAt(task, data.version)) {
    yield* noteRefused(ctx, "task.release", data.id, task as TaskRow, data.version);
    return fail(409, "Task version mismatch or invalid state");
  }
  yield* makePending(ctx, task);
  yield* note(ctx, { taskId: task.id, event: "released", version: task.version, ...(task.pid !== undefined && { pid: task.pid }) });
  return ok({});
}

export function* taskSuspend(ctx: OpContext, data: RequestData<"task.suspend">): Op<Reply> {
  const { tx } = ctx;
  const awaitedIds = [...new Set(data.actions.map((a) => a.data.awaited))];
  const crossOrigin = ctx.strict ? suspendOriginViolation(data.id, awaitedIds) : undefined;
  if (crossOrigin) return fail(400, crossOrigin);
  const expired = yield* expireAllDue(ctx, [data.id, ...awaitedIds]);
  const promise = expired.get(data.id);
  const awaited = awaitedIds.map((id) => expired.get(id));
  const task = yield* tx.getTask(data.id);
  if (!task || !promise) return fail(404, "Task not found");
  if (!isHeldAt(task, data.version)) {
    yield* noteRefused(ctx, "task.suspend", data.id, task as TaskRow, data.version);
    return fail(409, "Task is not acquired or version mismatch");
  }
  if (awaited.some((p) => p === undefined)) return fail(422, "Awaited promise not found");

  yield* tx.deleteReadyCallbacksOfAwaiter(task.id);
  if (awaited.some((p) => p!.state !== "pending")) {
    // Something it waits for is done already: keep the lease and keep going (300).
    return { status: 300, data: { preload: yield* preload(tx, promise) } };
  }
  for (const id of awaitedIds) yield* tx.addCallback(id, task.id, false);
  yield* tx.putTask({ id: task.id, state: "suspended", version: task.version });
  yield* note(ctx, { taskId: task.id, event: "suspended", version: task.version, ...(task.pid !== undefined && { pid: task.pid }), detail: { awaiting: awaitedIds.length } });
  return ok({});
}

export function* taskFulfill(ctx: OpContext, data: RequestData<"task.fulfill">): Op<Reply> {
  const promise = yield* expireIfDue(ctx, data.id);
  const task = yield* ctx.tx.getTask(data.id);
  if (!task || !promise) return fail(404, "Task not found");
  if (!isHeldAt(task, data.version)) {
    yield* noteRefused(ctx, "task.fulfill", data.id, task as TaskRow, data.version);
    return fail(409, "Task version mismatch or invalid state");
  }
  // A held task's promise is pending (its settlement fulfils the task); were it not, nothing changes.
  if (promise.state !== "pending") return ok({ promise });
  const { state, value } = data.action.data;
  // Settling the promise fulfils its task through the settlement chain.
  return ok({ promise: yield* settle(ctx, { promise, task, state, value, settledAt: ctx.now }) });
}

export function* taskFence(ctx: OpContext, data: RequestData<"task.fence">): Op<Reply> {
  const { tx } = ctx;
  const { action } = data;

  // Lazy timeouts first (they stand even when the inner action turns out invalid), then the inner
  // action is validated, then the fence is checked — the reference's order.
  const innerId = (action.data as { id?: unknown } | null)?.id;
  const expired = yield* expireAllDue(ctx, typeof innerId === "string" ? [data.id, innerId] : [data.id]);
  const promise = expired.get(data.id);

  let run: () => Op<{ status: number; data: unknown }>;
  if (action.kind === "promise.create") {
    const parsed = promiseCreateSchema.safeParse(action.data);
    if (!parsed.success) return fail(400, describeIssues(parsed.error, "Invalid action data"));
    const violation = createRuleViolation(parsed.data, ctx.strict);
    if (violation) return fail(400, violation);
    run = () => fencedCreate(ctx, parsed.data);
  } else if (action.kind === "promise.settle") {
    const parsed = promiseSettleSchema.safeParse(action.data);
    if (!parsed.success) return fail(400, describeIssues(parsed.error, "Invalid action data"));
    run = () => fencedSettle(ctx, parsed.data);
  } else {
    return fail(400, "Invalid fence action kind");
  }

  const task = yield* tx.getTask(data.id);
  if (!task || !promise) return fail(404, "Task not found");
  if (!isHeldAt(task, data.version)) {
    yield* noteRefused(ctx, "task.fence", data.id, task as TaskRow, data.version);
    return fail(409, "Version mismatch");
  }

  const inner = yield* run();
  return ok({
    action: { kind: action.kind, head: { corrId: ctx.corrId, status: inner.status, version: PROTOCOL_VERSION }, data: inner.data },
    preload: yield* preload(tx, promise),
  });
}

// The inner actions of task.fence, declared once rather than as a generator closure per request
// (see store/op.ts).

function* fencedCreate(ctx: OpContext, data: RequestData<"promise.create">): Op<{ status: number; data: unknown }> {
  return { status: 200, data: { promise: (yield* createPromise(ctx, data)).promise } };
}

function* fencedSettle(ctx: OpContext, data: RequestData<"promise.settle">): Op<{ status: number; data: unknown }> {
  const promise = yield* ctx.tx.getPromise(data.id);
  if (!promise) return { status: 404, data: "Promise not found" };
  if (promise.state !== "pending") return { status: 200, data: { promise } };
  return { status: 200, data: { promise: yield* settle(ctx, { promise, state: data.state, value: data.value, settledAt: ctx.now }) } };
}

export function* taskHeartbeat(ctx: OpContext, data: RequestData<"task.heartbeat">): Op<Reply> {
  const { tx } = ctx;
  if (ctx.strict) {
    // The reference's latest revision: an empty list is refused, whatever --empty-heartbeat says.
    if (data.tasks.length === 0) return fail(400, "Tasks array must not be empty");
    const crossOrigin = heartbeatOriginViolation(data.tasks.map((t) => t.id));
    if (crossOrigin) return fail(400, crossOrigin);
  }
  if (data.tasks.length === 0) {
    // SDK 0.10.0–0.11.4 (and the SDK's current source) never name their tasks: a process that
    // heartbeats is alive, so every lease it holds is renewed (spec §13 C2). Fencing is untouched:
    // writes still need the current version, and only leases this pid holds are extended.
    if ((ctx.emptyHeartbeat ?? "renew") === "renew") {
      for (const task of yield* tx.tasksHeldBy(data.pid)) {
        if (task.ttl === undefined) continue;
        yield* tx.putTask({ ...task, timeoutAt: ctx.now + task.ttl });
        yield* noteExtension(ctx, task.id, task.version, data.pid);
      }
    }
    return ok({});
  }
  for (const entry of data.tasks) {
    if (entry.id === "") continue;
    const task = yield* tx.getTask(entry.id);
    // Only the holder, at the version it holds, extends a lease; anything else is ignored silently.
    if (!isHeldAt(task, entry.version) || task.pid !== data.pid || task.ttl === undefined) continue;
    yield* tx.putTask({ ...task, timeoutAt: ctx.now + task.ttl });
    yield* noteExtension(ctx, task.id, task.version, data.pid);
  }
  return ok({});
}

export function* taskHalt(ctx: OpContext, data: RequestData<"task.halt">): Op<Reply> {
  yield* expireIfDue(ctx, data.id);
  const task = yield* ctx.tx.getTask(data.id);
  if (!task) return fail(404, "Task not found");
  if (task.state === "fulfilled") return fail(409, "Task is fulfilled");
  if (task.state !== "halted") {
    yield* ctx.tx.putTask({ id: task.id, state: "halted", version: task.version });
    yield* note(ctx, { taskId: task.id, event: "halted", version: task.version });
  }
  return ok({});
}

export function* taskContinue(ctx: OpContext, data: RequestData<"task.continue">): Op<Reply> {
  yield* expireIfDue(ctx, data.id);
  const task = yield* ctx.tx.getTask(data.id);
  if (!task) return fail(404, "Task not found");
  if (task.state !== "halted") return fail(409, "Task is not halted");
  yield* makePending(ctx, task);
  yield* note(ctx, { taskId: task.id, event: "continued", version: task.version });
  return ok({});
}

export function* taskSearch(ctx: OpContext, data: RequestData<"task.search">): Op<Reply> {
  const page = yield* ctx.tx.searchTasks({
    ...(data.state != null && { state: data.state }),
    ...(data.cursor != null && { cursor: data.cursor }),
    limit: data.limit ?? 100,
  });
  const tasks = [];
  for (const task of page.items) tasks.push(yield* taskRecord(ctx.tx, task));
  return ok({ tasks, ...(page.cursor !== undefined && { cursor: page.cursor }) });
}
