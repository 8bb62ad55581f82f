import type { Op } from "../store/op";
import type { TaskEvent } from "../store/store";
import type { OpContext } from "./context";

// The dispatch history: the events that decided where and how often a task ran, each written in
// the transaction of the change it describes (so it is exactly as durable as the change, and a
// rolled-back change leaves none). Nothing is written when the history is off.

/** Events pruned per timeout pass at most: pruning stays a small, bounded part of the pass. */
export const PRUNE_BATCH = 500;

type Note = Omit<TaskEvent, "at" | "replica">;

/** Writes one task event at the change's time, if the history is on. */
export function* note(ctx: OpContext, event: Note): Op<void> {
  if (!ctx.history) return;
  yield* ctx.tx.appendTaskEvents([{ at: ctx.now, replica: ctx.history.replica, ...event }]);
}

/**
 * A lease extended by a heartbeat. Heartbeats come every few seconds per task for as long as it
 * runs: one row per heartbeat would make the history of a long task mostly heartbeats (and cost a
 * row per task per beat). The first extension after an acquire is a row; later ones at the same
 * version count on it (count, time of the last).
 */
export function* noteExtension(ctx: OpContext, taskId: string, version: number, pid: string): Op<void> {
  if (!ctx.history) return;
  yield* ctx.tx.noteExtension({ taskId, at: ctx.now, event: "extended", version, pid, replica: ctx.history.replica });
}

/** A write refused because the caller's version is not the task's (or the task is not where it thinks). */
export function* noteRefused(ctx: OpContext, op: string, taskId: string, current: { version: number; state: string }, stale: number, pid?: string): Op<void> {
  yield* note(ctx, { taskId, event: "refused", version: current.version, ...(pid !== undefined && { pid }), detail: { op, staleVersion: stale, state: current.state } });
}

/** Deletes old events beyond the retention, a batch at a time (part of the timeout pass). */
export function* pruneHistory(ctx: OpContext): Op<number> {
  if (!ctx.history) return 0;
  return yield* ctx.tx.pruneTaskEvents(ctx.now - ctx.history.retentionMs, ctx.history.maxEvents, PRUNE_BATCH);
}
