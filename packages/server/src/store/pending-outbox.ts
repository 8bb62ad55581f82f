// The messages a transaction queued, held in memory until it either claims them or commits.
//
// Most messages are claimed by the very transaction that queued them (a request batch claims the
// outbox before it commits, and sends after the commit). Writing them to the outbox tables only to
// delete them again before COMMIT changes nothing on disk but costs two inserts, two deletes and the
// pages they dirty; so they wait here, and only what is still unclaimed at commit time (dispatch
// paused, or a background pass that leaves the claim to the dispatcher's next drain) is written to
// the tables. Delivery is at most once either way: the durable record of pending work is the task
// and its retry timeout, not the outbox row.

import type { PromiseRecord } from "@resonate-compat/protocol";
import { TxLog } from "./tx-log";

export type PendingMessage =
  | { kind: "execute"; taskId: string; version: number; address: string }
  | { kind: "unblock"; promiseId: string; address: string; settled?: PromiseRecord };

/** One unblock per (promise, address), in the tables and here alike. */
export const unblockKey = (promiseId: string, address: string): string => `${promiseId}\u0000${address}`;

export class PendingOutbox extends TxLog<PendingMessage> {
  /**
   * Takes everything queued, with the outbox tables' rules applied: one execute per task (a later
   * one replaces the version and address but keeps the first one's place, like the table's upsert)
   * and one unblock per (promise, address) (the first one, like INSERT OR IGNORE).
   */
  override drain(): PendingMessage[] {
    const log = super.drain();
    if (log.length <= 1) return log;
    const executes = new Map<string, Extract<PendingMessage, { kind: "execute" }>>();
    const unblocks = new Set<string>();
    const out: PendingMessage[] = [];
    for (const message of log) {
      if (message.kind === "execute") {
        const earlier = executes.get(message.taskId);
        if (earlier) {
          earlier.version = message.version;
          earlier.address = message.address;
          continue;
        }
        const copy = { ...message };
        executes.set(message.taskId, copy);
        out.push(copy);
      } else {
        const key = unblockKey(message.promiseId, message.address);
        if (unblocks.has(key)) continue;
        unblocks.add(key);
        out.push(message);
      }
    }
    return out;
  }
}
