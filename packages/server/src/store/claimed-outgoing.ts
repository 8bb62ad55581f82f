import type { PromiseRecord } from "@resonate-compat/protocol";
import type { Op } from "./op";
import { type PendingMessage, unblockKey } from "./pending-outbox";
import type { Outgoing, OutgoingExecute } from "./store";

// What a claim hands the dispatcher, whatever the store: the rows it took from the outbox tables
// and the messages the open transaction queued, merged by the tables' own rules.

/** Rows deleted from the outbox tables by a claim (in any order: they are sorted here). */
export interface ClaimedRows {
  executes: { seq: number; task_id: string; version: number; address: string }[];
  unblocks: { seq: number; promise_id: string; address: string }[];
}

/**
 * Table rows first (oldest first), then the queued messages: a queued execute for a task already
 * claimed from the table replaces that row's version and address, a queued unblock already claimed
 * from the table is dropped. An unblock carries its promise as it is now: read in the transaction,
 * or the settled record its queued message brought (a settled promise does not change).
 */
export function* mergeClaimed(
  rows: ClaimedRows | undefined,
  queued: PendingMessage[],
  readPromise: (id: string) => Op<PromiseRecord | undefined>,
): Op<Outgoing[]> {
  const out: Outgoing[] = [];
  const tableExecutes = new Map<string, OutgoingExecute>();
  const tableUnblocks = new Set<string>();
  if (rows) {
    for (const e of rows.executes.sort((a, b) => a.seq - b.seq)) {
      const message: OutgoingExecute = { kind: "execute", taskId: e.task_id, version: e.version, address: e.address };
      tableExecutes.set(e.task_id, message);
      out.push(message);
    }
    for (const u of rows.unblocks.sort((a, b) => a.seq - b.seq)) {
      tableUnblocks.add(unblockKey(u.promise_id, u.address));
      const promise = yield* readPromise(u.promise_id);
      if (promise) out.push({ kind: "unblock", promise, address: u.address });
    }
  }
  for (const m of queued) {
    if (m.kind === "execute") {
      const row = tableExecutes.get(m.taskId);
      if (row) {
        row.version = m.version;
        row.address = m.address;
      } else {
        out.push(m);
      }
    } else if (!tableUnblocks.has(unblockKey(m.promiseId, m.address))) {
      const promise = m.settled ?? (yield* readPromise(m.promiseId));
      if (promise) out.push({ kind: "unblock", promise, address: m.address });
    }
  }
  return out;
}
