import type { RequestData } from "@resonate-compat/protocol";
import { TAG } from "@resonate-compat/protocol";
import type { Op } from "../store/op";
import { type OpContext, type Reply, ok } from "./context";
import { taskRecord } from "./records";
import { tick } from "./tick";

// Debug operations over stored state (spec §6.4). Pausing the loops (debug.start/stop) is not
// stored state: the API layer handles those two.

export function* debugReset(ctx: OpContext): Op<Reply> {
  yield* ctx.tx.reset();
  return ok({});
}

export function* debugTick(ctx: OpContext, data: RequestData<"debug.tick">): Op<Reply> {
  yield* tick({ ...ctx, now: data.time });
  return ok([]);
}

export function* debugSnap(ctx: OpContext): Op<Reply> {
  const snap = yield* ctx.tx.snapshot();
  const tasks = [];
  for (const task of snap.tasks) tasks.push(yield* taskRecord(ctx.tx, task));
  return ok({
    promises: snap.promises,
    // The promises the timeout pass would expire: in strict mode only those with a target (C1).
    promiseTimeouts: snap.promises
      .filter((p) => p.state === "pending" && (!ctx.strict || p.tags[TAG.target] !== undefined))
      .map((p) => ({ id: p.id, timeout: p.timeoutAt })),
    callbacks: snap.callbacks,
    listeners: snap.listeners,
    tasks,
    taskTimeouts: snap.tasks
      .filter((t) => t.timeoutAt !== undefined)
      .map((t) => ({ id: t.id, type: t.timeoutType ?? 0, timeout: t.timeoutAt })),
    messages: [
      ...snap.executes.map((e) => ({
        address: e.address,
        message: { kind: "execute", head: {}, data: { task: { id: e.taskId, version: e.version } } },
      })),
      ...snap.unblocks.map((u) => ({ address: u.address, message: { kind: "unblock", head: {}, data: { promise: u.promise } } })),
    ],
  });
}
