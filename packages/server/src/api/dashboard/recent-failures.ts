import { TAG } from "@resonate-compat/protocol";
import type { FailureView } from "@resonate-compat/protocol/admin-overview";
import type { Store } from "../../store/store";

// The overview's "recent failures": the promises rejected or timed out in the last hour, the latest
// settled first. A cancellation (rejected_canceled) is an operator's decision, not a failure. One
// walk of a partial index (promises_failed) that holds failed promises only, by settlement time.

const WINDOW_MS = 3_600_000;
const SHOWN = 10;

export async function recentFailures(store: Store, now: number): Promise<FailureView[]> {
  const failed = await store.transact((tx) => tx.recentFailures(now - WINDOW_MS, SHOWN));
  return failed.map((p) => ({
    id: p.id,
    state: p.state as FailureView["state"],
    createdAt: p.createdAt,
    ...(p.settledAt !== undefined && { settledAt: p.settledAt }),
    ...(p.tags[TAG.target] !== undefined && { target: p.tags[TAG.target] }),
  }));
}
