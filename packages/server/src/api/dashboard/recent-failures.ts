import { type PromiseRecord, TAG } from "@resonate-compat/protocol";
import type { Store } from "../../store/store";

// The overview's "recent failures": promises rejected or timed out among those created in the last
// ten minutes (the last hour when that finds fewer than SHOWN), newest settlement first. A search
// answers in id order, so among more than SHOWN failures of one window these are the first ids, not
// necessarily the newest. There is no index on creation time: each search is a scan of the promises
// table that stops once it has found enough, which is why the overview runs it at most every 30 s,
// and only while a dashboard is watching.

export interface FailureView {
  id: string;
  state: "rejected" | "rejected_timedout";
  createdAt: number;
  settledAt?: number;
  /** Where its task was dispatched (tag resonate:target), if it had one. */
  target?: string;
}

const WINDOWS_MS = [600_000, 3_600_000];
const SHOWN = 10;

export async function recentFailures(store: Store, now: number): Promise<FailureView[]> {
  const found = await store.transact(function* (tx) {
    let rows: PromiseRecord[] = [];
    for (const window of WINDOWS_MS) {
      rows = [];
      for (const state of ["rejected", "rejected_timedout"] as const) {
        rows.push(...(yield* tx.searchPromises({ state, createdFrom: now - window, limit: SHOWN })).items);
      }
      if (rows.length >= SHOWN) break;
    }
    return rows;
  });
  return found
    .sort((a, b) => (b.settledAt ?? b.createdAt) - (a.settledAt ?? a.createdAt))
    .slice(0, SHOWN)
    .map((p) => ({
      id: p.id,
      state: p.state as FailureView["state"],
      createdAt: p.createdAt,
      ...(p.settledAt !== undefined && { settledAt: p.settledAt }),
      ...(p.tags[TAG.target] !== undefined && { target: p.tags[TAG.target] }),
    }));
}
