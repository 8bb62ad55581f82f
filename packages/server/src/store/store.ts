import type { PromiseRecord, PromiseState, ScheduleRecord, TaskState, Value } from "@resonate-compat/protocol";

// The storage boundary: a set of semantic verbs, always used inside one transaction (`transact`).
// The domain never sees SQL, connections or statement handles, so another backend (PostgreSQL)
// implements this interface and nothing above it changes.

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

export interface PromiseQuery {
  state?: PromiseState;
  tags?: Record<string, string>;
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

export interface Tx {
  /**
   * Runs `fn` as a savepoint: if it throws, its writes are undone and the error is returned, while
   * the enclosing transaction goes on. Lets a background pass skip one bad row instead of failing.
   */
  attempt(fn: () => void): Error | undefined;

  // Promises
  getPromise(id: string): PromiseRecord | undefined;
  insertPromise(promise: PromiseRecord): void;
  settlePromise(id: string, state: Exclude<PromiseState, "pending">, value: Value, settledAt: number): void;
  /** Promises of the branch (tag resonate:branch) other than `exceptId`, by id: a task's preload. */
  branchSiblings(branch: string, exceptId: string): PromiseRecord[];
  /** Pending promises whose deadline is at or before `now`, oldest deadline first. */
  duePromises(now: number, limit: number): PromiseRecord[];
  searchPromises(query: PromiseQuery): Page<PromiseRecord>;

  // Tasks
  getTask(id: string): TaskRow | undefined;
  /** Inserts or replaces the whole row. */
  putTask(task: TaskRow): void;
  /** Tasks whose timeout (retry or lease) is due at `now`. */
  dueTasks(now: number, limit: number): TaskRow[];
  /** Acquired tasks whose lease is held by `pid`. */
  tasksHeldBy(pid: string): TaskRow[];
  /** How many leases each process holds (processes holding none are absent). */
  leaseCounts(): Map<string, number>;
  /**
   * Pending tasks whose target routes `any` into `group` (poll://any@group or poll://any@group/…),
   * with their current version and target, up to `limit`, oldest first.
   */
  pendingTasksForGroup(group: string, limit: number): { id: string; version: number; target: string; tags: Record<string, string> }[];
  searchTasks(query: TaskQuery): Page<TaskRow>;

  // Callbacks: "when `awaited` settles, resume the task of `awaiter`".
  addCallback(awaited: string, awaiter: string, ready: boolean): void;
  /** Marks every callback on `awaited` ready; returns their awaiters. */
  markCallbacksReady(awaited: string): string[];
  countReadyCallbacks(awaiter: string): number;
  deleteCallbacksOfAwaiter(awaiter: string): void;
  deleteReadyCallbacksOfAwaiter(awaiter: string): void;

  // Listeners: "when `promiseId` settles, send an unblock to `address`".
  addListener(promiseId: string, address: string): void;
  /** Removes and returns the listeners of a promise. */
  takeListeners(promiseId: string): string[];

  // Outbox: written with the change that causes it, claimed after commit.
  /** At most one queued execute per task: a new one replaces the old (spec §3.5). */
  enqueueExecute(taskId: string, version: number, address: string): void;
  enqueueUnblock(promiseId: string, address: string): void;
  /** Removes and returns up to `limit` executes, then up to `limit` unblocks. */
  claimOutgoing(limit: number): Outgoing[];

  // Schedules
  getSchedule(id: string): ScheduleRecord | undefined;
  insertSchedule(schedule: ScheduleRecord): void;
  deleteSchedule(id: string): boolean;
  dueSchedules(now: number, limit: number): ScheduleRecord[];
  markScheduleRun(id: string, lastRunAt: number, nextRunAt: number): void;
  searchSchedules(query: ScheduleQuery): Page<ScheduleRecord>;

  // Debug
  reset(): void;
  snapshot(): StoreSnapshot;
}

export interface Store {
  /** Runs `fn` in one transaction: all of its writes commit together, or none if it throws. */
  transact<T>(fn: (tx: Tx) => T): T;
  /** A trivial query, for readiness. */
  ping(): boolean;
  close(): void;
}
