import type { Op } from "../op";
import type { Tx } from "../store";
import type { CommitHooks, CommitObserver, Committer } from "./committer";

/** A store whose transactions run to their end synchronously (SQLite). */
export interface SyncTransactor {
  transactSync<T>(op: (tx: Tx) => Op<T>): T;
}

/** The most jobs one transaction takes; more wait for the next batch, so no commit grows unbounded. */
const MAX_BATCH = 256;

/** A job of a batch run without savepoints threw (as opposed to the commit failing). */
class JobFailed extends Error {
  constructor(override readonly cause: unknown) {
    super("a job of the batch threw");
  }
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

interface Job {
  run: (tx: Tx) => Op<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit, for SQLite's single writer: the jobs submitted within one turn of the event loop
 * run in one write transaction, in the order they arrived, and their promises settle only after
 * that transaction has committed — nothing is acknowledged before it is durable, but N concurrent
 * requests share one BEGIN/COMMIT and one write of the pages they touch instead of N.
 *
 * A job that throws is rolled back alone and only its caller sees the error; a failed commit fails
 * every job of the batch (none of their writes happened). Jobs rarely throw (answers such as 404 or
 * 409 are replies, not errors), so a batch first runs without savepoints — SQLite copies every page
 * a savepoint changes again into its statement journal, and a batch's jobs touch the same few index
 * pages over and over. Only when a job threw is the batch rolled back and run again, each job in a
 * savepoint of its own. Running a job twice is safe: as on PostgreSQL, where a conflicting
 * transaction is retried, a job changes nothing outside its transaction.
 */
export class GroupCommit<F = void> implements Committer {
  private queue: Job[] = [];
  private scheduled = false;
  /** Batches committed and jobs run: how many requests shared a transaction (read by the tests). */
  readonly stats = { batches: 0, jobs: 0 };

  constructor(
    private readonly store: SyncTransactor,
    private readonly hooks?: CommitHooks<F>,
    private readonly observe?: CommitObserver,
  ) {}

  /** Runs `run` in the next batch; resolves with its result once the batch has committed. */
  submit<T>(run: (tx: Tx) => Op<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ run, resolve: resolve as (value: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        // setImmediate runs after the I/O callbacks of this loop turn: every request whose body
        // arrived in the same poll phase joins the same batch, at the cost of no extra wait.
        setImmediate(() => this.flush());
      }
    });
  }

  /** Runs what is queued now (also called by the scheduled turn). */
  flush(): void {
    this.scheduled = false;
    while (this.queue.length > 0) {
      const batch = this.queue.length <= MAX_BATCH ? this.queue : this.queue.slice(0, MAX_BATCH);
      this.queue = this.queue.length <= MAX_BATCH ? [] : this.queue.slice(MAX_BATCH);
      this.commit(batch);
    }
  }

  private commit(batch: Job[]): void {
    const started = this.observe ? performance.now() : 0;
    let done: { outcomes: Outcome[]; finished: F | undefined };
    try {
      try {
        done = this.run(batch, false);
      } catch (error) {
        if (!(error instanceof JobFailed)) throw error;
        // A lone job's error is its own; in a batch, find whose it was, each job in a savepoint.
        if (batch.length === 1) throw error.cause;
        done = this.run(batch, true);
      }
    } catch (error) {
      // The transaction rolled back (a failed commit, or the lone job threw): nobody's writes exist.
      for (const job of batch) job.reject(error);
      return;
    }
    const { outcomes, finished } = done;
    this.stats.batches++;
    this.stats.jobs += batch.length;
    this.observe?.(batch.length, (performance.now() - started) / 1000);
    this.hooks?.afterCommit(finished as F);
    batch.forEach((job, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) job.resolve(outcome.value);
      else job.reject(outcome.error);
    });
  }

  /** The batch in one transaction; with `isolate`, each job in a savepoint, so that one may fail alone. */
  private run(batch: Job[], isolate: boolean): { outcomes: Outcome[]; finished: F | undefined } {
    const outcomes: Outcome[] = [];
    const finished = this.store.transactSync((tx) => runBatch(tx, batch, isolate, outcomes, this.hooks));
    return { outcomes, finished };
  }
}

// The batch's generators are declared once, here, not as closures per batch (see store/op.ts).

function* runBatch<F>(tx: Tx, batch: Job[], isolate: boolean, outcomes: Outcome[], hooks: CommitHooks<F> | undefined): Op<F | undefined> {
  for (const job of batch) {
    if (!isolate) {
      try {
        outcomes.push({ ok: true, value: yield* job.run(tx) });
      } catch (error) {
        throw new JobFailed(error);
      }
      continue;
    }
    const box: { value?: unknown } = {};
    const error = yield* tx.attempt(() => runInto(box, job, tx));
    outcomes.push(error === undefined ? { ok: true, value: box.value } : { ok: false, error });
  }
  return hooks ? yield* hooks.beforeCommit(tx) : undefined;
}

function* runInto(box: { value?: unknown }, job: Job, tx: Tx): Op<void> {
  box.value = yield* job.run(tx);
}
