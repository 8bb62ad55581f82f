import type { Op } from "../op";
import type { Store, Tx } from "../store";
import type { CommitHooks, CommitObserver, Committer } from "./committer";

/**
 * A committer for a store with concurrent writers (PostgreSQL): each job runs in a transaction of
 * its own, many at once over the store's connection pool. The store runs it serialisably and, on a
 * conflict with a concurrent transaction (another request, another replica), runs the job and the
 * hook again from the start; `afterCommit` sees only the attempt that committed.
 */
export class TransactionPerJob<F> implements Committer {
  constructor(
    private readonly store: Store,
    private readonly hooks: CommitHooks<F>,
    private readonly observe?: CommitObserver,
  ) {}

  async submit<T>(job: (tx: Tx) => Op<T>): Promise<T> {
    const hooks = this.hooks;
    // Includes the waits for a pooled connection and for row locks, and any retries.
    const started = this.observe ? performance.now() : 0;
    const { value, finished } = await this.store.transact((tx) => jobThenHook(tx, job, hooks));
    this.observe?.(1, (performance.now() - started) / 1000);
    hooks.afterCommit(finished);
    return value;
  }
}

/** The job, then the commit hook, in one transaction (declared once: see store/op.ts). */
function* jobThenHook<T, F>(tx: Tx, job: (tx: Tx) => Op<T>, hooks: CommitHooks<F>): Op<{ value: T; finished: F }> {
  const value = yield* job(tx);
  const finished = yield* hooks.beforeCommit(tx);
  return { value, finished };
}
