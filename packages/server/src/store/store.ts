import type { PromiseRecord, PromiseState, ScheduleRecord, TaskState, Value } from "@resonate-compat/protocol";
import type { Op } from "./op";

// The storage boundary: a set of semantic verbs, always used inside one transaction (`transact`).
// The domain never sees SQL, connections or statement handles: SQLite and PostgreSQL implement
// this interface and nothing above it changes.

/** A task as stored: the record fields plus its one timeout (retry while pending, lease while acquired). */
export interface TaskRow {
  id: string;
  state: TaskState;
  version: number;
  /** Lease holder, only while acquired. */
  pid?: string;
  /** Lease length given at acquire, only while acquired. */
  ttl?: number;
  /** 0 = retry (pending), 1 = lease (acquired); absent when the task has no timeout. */
  timeoutType?: 0 | 1;
  timeoutAt?: number;
}

export interface OutgoingExecute {
  kind: "execute";
  taskId: string;
  version: number;
  address: string;
}

export interface OutgoingUnblock {
  kind: "unblock";
  /** The promise as stored when the message is claimed for sending (it is settled by then). */
  promise: PromiseRecord;
  address: string;
}

export type Outgoing = OutgoingExecute | OutgoingUnblock;

export interface Page<T> {
  items: T[];
  /** Present when more rows exist: the last id of this page. */
  cursor?: string;
}

/** A group's tasks as `taskGroups` counts them. */
export interface TaskGroupCounts {
  group: string;
  pending: number;
  acquired: number;
  /** created_at of the group's oldest pending task's promise; absent with no pending task. */
  oldestPendingAt?: number;
}

/**
 * One entry of a task's dispatch history: an event that decided where and how often it ran,
 * written in the transaction of the change it describes.
 */
export interface TaskEvent {
  taskId: string;
  /** When (ms): the change's `now`. */
  at: number;
  event: TaskEventKind;
  /** The task's version after the event (a refused write: the current one; its stale one is in detail). */
  version?: number;
  /** The process it concerns (offered to, acquired by, held by…). */
  pid?: string;
  /** The replica that wrote it (the one serving the request, or holding the stream offered to). */
  replica?: string;
  /** What else explains it (an offer's load, a refused write's versions…); small, JSON. */
  detail?: Record<string, unknown>;
}

export type TaskEventKind =
  | "created"
  | "offered"
  | "reoffered"
  | "unrouted"
  | "retried"
  | "acquired"
  | "extended"
  | "lapsed"
  | "recovered"
  | "released"
  | "refused"
  | "suspended"
  | "resumed"
  | "fulfilled"
  | "halted"
  | "continued";

/** A stored event: its order, and for a run of lease extensions their count and the last one's time. */
export interface StoredTaskEvent extends TaskEvent {
  seq: number;
  /** How many events this row stands for (lease extensions are counted on one row). */
  count: number;
  lastAt?: number;
}

export interface PromiseQuery {
  state?: PromiseState;
  tags?: Record<string, string>;
  /** Ids starting with this (the admin API's search; the protocol's search has none). */
  idPrefix?: string;
  /** created_at within [createdFrom, createdTo) (ms). */
  createdFrom?: number;
  createdTo?: number;
  limit: number;
  cursor?: string;
}

export interface TaskQuery {
  state?: TaskState;
  limit: number;
  cursor?: string;
}

export interface ScheduleQuery {
  tags?: Record<string, string>;
  limit: number;
  cursor?: string;
}

/** What `debug.snap` shows of the stored state (spec §6.4). */
export interface StoreSnapshot {
  promises: PromiseRecord[];
  callbacks: { awaiter: string; awaited: string }[];
  listeners: { id: string; address: string }[];
  tasks: (TaskRow & { resumes: number })[];
  executes: { taskId: string; version: number; address: string }[];
  unblocks: { promise: PromiseRecord; address: string }[];
}

/** A message for a poll stream held by another server replica, written with the change that caused it. */
export interface Forward {
  /** The replica holding the stream. */
  replica: string;
  /** That replica's number for the stream (it may have closed meanwhile: then it is routed again there). */
  stream: number;
  /** The stream's process, and the address the message was for (to route it again if need be). */
  pid: string;
  address: string;
  kind: "execute" | "unblock";
  /** Execute: the task id; unblock: the promise id. */
  id: string;
  /** The serialised message, as the stream sends it. */
  message: string;
}

// Every verb is an Op (see op.ts): SQLite's complete at once, PostgreSQL's yield their round trips.
// Domain code calls them as `yield* tx.verb(…)`.

export interface Tx {
  /**
   * Runs `fn` as a savepoint: if it throws, its writes are undone and the error is returned, while
   * the enclosing transaction goes on. Lets a background pass skip one bad row instead of failing.
   */
  attempt(fn: () => Op<void>): Op<Error | undefined>;
  /**
   * Takes a lock held until this transaction ends, if nobody holds it; false if somebody does.
   * Background work that must run once across server replicas (the timeout pass) takes one first.
   */
  tryLock(name: string): Op<boolean>;

  // Promises
  getPromise(id: string): Op<PromiseRecord | undefined>;
  insertPromise(promise: PromiseRecord): Op<void>;
  settlePromise(id: string, state: Exclude<PromiseState, "pending">, value: Value, settledAt: number): Op<void>;
  /** Promises of the branch (tag resonate:branch) other than `exceptId`, by id: a task's preload. */
  branchSiblings(branch: string, exceptId: string): Op<PromiseRecord[]>;
  /**
   * Pending promises whose deadline is at or before `now`, oldest deadline first; with
   * `onlyWithTarget`, only those with a resonate:target (strict mode, spec §13 C1).
   */
  duePromises(now: number, limit: number, onlyWithTarget?: boolean): Op<PromiseRecord[]>;
  searchPromises(query: PromiseQuery): Op<Page<PromiseRecord>>;
  /** Promises rejected or timed out at or after `since`, the latest settled first (an index walk). */
  recentFailures(since: number, limit: number): Op<PromiseRecord[]>;

  // Tasks
  getTask(id: string): Op<TaskRow | undefined>;
  /** Inserts or replaces the whole row. */
  putTask(task: TaskRow): Op<void>;
  /** Tasks whose timeout (retry or lease) is due at `now`. */
  dueTasks(now: number, limit: number): Op<TaskRow[]>;
  /** Acquired tasks whose lease is held by `pid`. */
  tasksHeldBy(pid: string): Op<TaskRow[]>;
  /** Pushes every acquired task's lease deadline `by` ms later; returns how many. */
  shiftLeases(by: number): Op<number>;
  /**
   * How many leases each process holds (processes holding none are absent). Used to route work to
   * the least loaded worker: a hint, which a store may read outside the transaction.
   */
  leaseCounts(): Op<Map<string, number>>;
  /** The same, exactly, read inside the transaction (for the admin API, not the routing path). */
  countLeases(): Op<Map<string, number>>;
  /**
   * Pending tasks whose target routes `any` into `group` (poll://any@group or poll://any@group/…),
   * with their current version and target, up to `limit`, oldest first.
   */
  pendingTasksForGroup(group: string, limit: number): Op<{ id: string; version: number; target: string; tags: Record<string, string> }[]>;
  searchTasks(query: TaskQuery): Op<Page<TaskRow>>;
  /**
   * Pending and acquired tasks counted by the group of their target (poll://any@<group>[/…]), with
   * the creation time of each group's oldest pending task. Reads at most `limit` tasks of each
   * state, through the partial indexes on pending and held tasks: the counts stop there.
   */
  taskGroups(limit: number): Op<TaskGroupCounts[]>;

  // Callbacks: "when `awaited` settles, resume the task of `awaiter`".
  addCallback(awaited: string, awaiter: string, ready: boolean): Op<void>;
  /** Marks every callback on `awaited` ready; returns their awaiters. */
  markCallbacksReady(awaited: string): Op<string[]>;
  countReadyCallbacks(awaiter: string): Op<number>;
  deleteCallbacksOfAwaiter(awaiter: string): Op<void>;
  deleteReadyCallbacksOfAwaiter(awaiter: string): Op<void>;

  // Listeners: "when `promiseId` settles, send an unblock to `address`".
  addListener(promiseId: string, address: string): Op<void>;
  /** Removes and returns the listeners of a promise. */
  takeListeners(promiseId: string): Op<string[]>;

  // Outbox: written with the change that causes it, claimed before commit.
  /** At most one queued execute per task: a new one replaces the old (spec §3.5). */
  enqueueExecute(taskId: string, version: number, address: string): Op<void>;
  /**
   * `settled` is the promise's settled record when the caller has it: a claim in this transaction
   * sends it rather than reading the promise again (a settled promise never changes).
   */
  enqueueUnblock(promiseId: string, address: string, settled?: PromiseRecord): Op<void>;
  /** Removes and returns up to `limit` executes, then up to `limit` unblocks. */
  claimOutgoing(limit: number): Op<Outgoing[]>;
  /** Hands messages to the replicas holding their streams (only stores shared by replicas). */
  forward(messages: Forward[]): Op<void>;

  // Dispatch history (observability): append-only, bounded by pruning.
  /**
   * Writes events as part of this transaction. Stores may hold them until the commit and insert
   * them all in one statement then: a rolled-back savepoint drops its own, and the verbs below that
   * read or count on the table see every event written before them.
   */
  appendTaskEvents(events: TaskEvent[]): Op<void>;
  /**
   * A lease extension: counted on the task's last event when that is an extension at the same
   * version (one row per lease however many heartbeats it gets), else appended.
   */
  noteExtension(event: TaskEvent): Op<void>;
  /** The task's events, oldest first, at most `limit`. */
  taskEvents(taskId: string, limit: number): Op<StoredTaskEvent[]>;
  /**
   * Deletes, among the `limit` oldest events, those before `before`, and, beyond them, events
   * beyond the newest `keep`. Returns how many it deleted (a full `limit`: call again).
   */
  pruneTaskEvents(before: number, keep: number, limit: number): Op<number>;

  // Schedules
  getSchedule(id: string): Op<ScheduleRecord | undefined>;
  insertSchedule(schedule: ScheduleRecord): Op<void>;
  deleteSchedule(id: string): Op<boolean>;
  dueSchedules(now: number, limit: number): Op<ScheduleRecord[]>;
  markScheduleRun(id: string, lastRunAt: number, nextRunAt: number): Op<void>;
  searchSchedules(query: ScheduleQuery): Op<Page<ScheduleRecord>>;

  // Server state that outlives a process (e.g. when the timeout pass last ran).
  getMarker(name: string): Op<number | undefined>;
  setMarker(name: string, value: number): Op<void>;

  // Debug
  reset(): Op<void>;
  snapshot(): Op<StoreSnapshot>;
}

export interface Store {
  readonly kind: "sqlite" | "postgres";
  /**
   * Runs `op` in one transaction: all of its writes commit together, or none if it throws. A store
   * with concurrent writers (PostgreSQL) runs it serialisably and, on a conflict, again from the
   * start: `op` must have no effects outside the transaction.
   */
  transact<T>(op: (tx: Tx) => Op<T>): Promise<T>;
  /** A trivial query, for readiness. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
