import type { Op } from "../op";
import type { Store, Tx } from "../store";
import type { CommitHooks, Committer } from "./committer";

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
  ) {}

  async submit<T>(job: (tx: Tx) => Op<T>): Promise<T> {
    const hooks = this.hooks;
    const { value, finished } = await this.store.transact(function* (tx) {
      const value = yield* job(tx);
      const finished = yield* hooks.beforeCommit(tx);
      return { value, finished };
    });
    hooks.afterCommit(finished);
    return value;
  }
}
