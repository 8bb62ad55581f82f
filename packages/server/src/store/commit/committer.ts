import type { Op } from "../op";
import type { Tx } from "../store";

/** What a commit does last inside its transaction, and with the outcome after the commit. */
export interface CommitHooks<F> {
  /** Runs inside the transaction after the job(s) (e.g. claim and route the messages they queued). */
  beforeCommit(tx: Tx): Op<F>;
  /** Runs after the commit, before any job's promise settles (e.g. hand the claimed messages out). */
  afterCommit(finished: F): void;
}

/**
 * Runs jobs in write transactions and resolves each after its transaction committed, so that
 * nothing is acknowledged before it is durable. Every change to the stored state — a request, the
 * timeout pass, a lease taken back — goes through one, so that the messages it queued are claimed
 * in the same transaction and leave right after the commit.
 */
export interface Committer {
  submit<T>(job: (tx: Tx) => Op<T>): Promise<T>;
}

/** Told of every committed transaction: how many jobs it ran and how long it took (metrics). */
export type CommitObserver = (jobs: number, seconds: number) => void;
