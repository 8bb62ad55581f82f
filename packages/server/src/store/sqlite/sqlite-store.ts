import type Database from "better-sqlite3";
import type { PromiseRecord, PromiseState, ScheduleRecord, Value } from "@resonate-compat/protocol";
import { TAG } from "@resonate-compat/protocol";
import { type Op, runSync } from "../op";
import { page, promiseBytes } from "../page";
import { type PromiseSqlRow, type ScheduleSqlRow, type TaskSqlRow, toPromise, toSchedule, toTask } from "../rows";
import type {
  Forward,
  Outgoing,
  Page,
  PromiseQuery,
  ScheduleQuery,
  Store,
  StoreSnapshot,
  StoredTaskEvent,
  TaskEvent,
  TaskGroupCounts,
  TaskQuery,
  TaskRow,
  Tx,
} from "../store";
import { Checkpointer } from "./checkpointer";
import { openDatabase } from "./open";
import { PendingOutbox } from "../pending-outbox";
import { type ClaimedRows, mergeClaimed } from "../claimed-outgoing";
import { TASK_EVENT_COLUMNS, type TaskEventSqlRow, taskEventValues, toTaskEvent } from "../task-events";
import { TxLog } from "../tx-log";

/** History events per INSERT statement at most (7 parameters each, well under SQLite's limit). */
const EVENTS_PER_INSERT = 64;

/** `AND EXISTS (…)` per tag, so that every given key/value must be present. */
function tagFilter(column: string, tags: Record<string, string> | undefined, params: unknown[]): string {
  let sql = "";
  for (const [key, value] of Object.entries(tags ?? {})) {
    sql += ` AND EXISTS (SELECT 1 FROM json_each(${column}) WHERE json_each.key = ? AND json_each.value = ?)`;
    params.push(key, value);
  }
  return sql;
}

/** The SQLite store: one connection, prepared statements, synchronous transactions. */
export class SqliteStore implements Store, Tx {
  private readonly db: Database.Database;
  private readonly s;
  /** Messages queued by the open transaction, not yet claimed nor written (see pending-outbox.ts). */
  private readonly pending = new PendingOutbox();
  /**
   * History events written by the open transaction, inserted in one statement when it commits:
   * four rows per invocation cost four statements otherwise (see Tx.appendTaskEvents).
   */
  private readonly events = new TxLog<TaskEvent>();
  /** `INSERT INTO task_events` statements by their number of rows, prepared when first needed. */
  private readonly insertEvents = new Map<number, Database.Statement>();
  /**
   * False only when the outbox tables are certainly empty: set whenever rows are written to them
   * and by any rolled-back transaction (a claim that rolled back put its rows back), cleared by a
   * claim that emptied them. An empty claim is two DELETEs that still cost ~80 µs, so most claims
   * (every request batch makes one) skip the tables.
   */
  private outboxMayHaveRows = true;

  private readonly lock: Database.Database | undefined;
  private readonly checkpointer: Checkpointer | undefined;
  /**
   * Runs its argument in a transaction: `.immediate(fn)` opens one with BEGIN IMMEDIATE, a call
   * inside an open one is a SAVEPOINT. Built once: better-sqlite3 assembles four wrapper functions
   * for every db.transaction() call, ~4 µs that every request (and every savepoint of a batch) paid.
   */
  private readonly inTransaction: Database.Transaction<(fn: () => unknown) => unknown>;

  /**
   * Opens the file (see open.ts) and, for a file on disk, starts the checkpoint thread.
   * `onCheckpointError` hears about checkpoints that failed (they are retried).
   */
  static open(
    path: string,
    options: { synchronous?: "normal" | "full"; onCheckpointError?: (message: string) => void } = {},
  ): SqliteStore {
    const { db, lock } = openDatabase(path, options);
    const checkpointer = lock
      ? new Checkpointer(path, options.synchronous === "full" ? "FULL" : "NORMAL", options.onCheckpointError ?? (() => {}))
      : undefined;
    return new SqliteStore(db, lock, checkpointer);
  }

  constructor(db: Database.Database, lock?: Database.Database, checkpointer?: Checkpointer) {
    this.db = db;
    this.lock = lock;
    this.checkpointer = checkpointer;
    this.inTransaction = db.transaction((fn: () => unknown) => fn());
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      getPromise: p("SELECT * FROM promises WHERE id = ?"),
      insertPromise: p(
        `INSERT INTO promises (id, state, param, value, tags, timeout_at, created_at, settled_at, target, branch)
         VALUES (@id, @state, @param, @value, @tags, @timeoutAt, @createdAt, @settledAt, @target, @branch)`,
      ),
      settlePromise: p("UPDATE promises SET state = ?, value = ?, settled_at = ? WHERE id = ? AND state = 'pending'"),
      recentFailures: p(
        `SELECT * FROM promises INDEXED BY promises_failed
         WHERE state IN ('rejected', 'rejected_timedout') AND settled_at >= ? ORDER BY settled_at DESC LIMIT ?`,
      ),
      branchSiblings: p("SELECT * FROM promises WHERE branch = ? AND id <> ? ORDER BY id"),
      duePromises: p("SELECT * FROM promises WHERE state = 'pending' AND timeout_at <= ? ORDER BY timeout_at, id LIMIT ?"),
      dueTargetedPromises: p("SELECT * FROM promises WHERE state = 'pending' AND timeout_at <= ? AND target IS NOT NULL ORDER BY timeout_at, id LIMIT ?"),

      getTask: p("SELECT * FROM tasks WHERE id = ?"),
      putTask: p(
        // An upsert, not INSERT OR REPLACE: REPLACE deletes and reinserts the row, touching every
        // index, where an update touches only the indexes of the columns that changed.
        `INSERT INTO tasks (id, state, version, pid, ttl, timeout_type, timeout_at)
         VALUES (@id, @state, @version, @pid, @ttl, @timeoutType, @timeoutAt)
         ON CONFLICT (id) DO UPDATE SET state = excluded.state, version = excluded.version, pid = excluded.pid,
           ttl = excluded.ttl, timeout_type = excluded.timeout_type, timeout_at = excluded.timeout_at`,
      ),
      dueTasks: p("SELECT * FROM tasks WHERE timeout_at IS NOT NULL AND timeout_at <= ? ORDER BY timeout_at, id LIMIT ?"),
      tasksHeldBy: p("SELECT * FROM tasks WHERE pid = ? AND state = 'acquired' ORDER BY id"),
      leaseCounts: p("SELECT pid, count(*) AS n FROM tasks WHERE pid IS NOT NULL AND state = 'acquired' GROUP BY pid"),
      pendingTasksForGroup: p(
        `SELECT t.id, t.version, p.target, p.tags FROM tasks t JOIN promises p ON p.id = t.id
         WHERE t.state = 'pending' AND (p.target = ? OR substr(p.target, 1, ?) = ?)
         ORDER BY p.created_at, t.id LIMIT ?`,
      ),

      // Each half walks one partial index (tasks_pending, tasks_holder) and stops at its limit.
      taskGroups: p(
        `SELECT grp AS "group", sum(state = 'pending') AS pending, sum(state = 'acquired') AS acquired,
                min(CASE WHEN state = 'pending' THEN created_at END) AS oldest
         FROM (
           SELECT state, created_at,
                  CASE WHEN instr(rest, '/') > 0 THEN substr(rest, 1, instr(rest, '/') - 1) ELSE rest END AS grp
           FROM (
             SELECT * FROM (SELECT t.state, p.created_at, substr(p.target, 12) AS rest
               FROM tasks t JOIN promises p ON p.id = t.id
               WHERE t.state = 'pending' AND substr(p.target, 1, 11) = 'poll://any@' LIMIT ?)
             UNION ALL
             SELECT * FROM (SELECT t.state, p.created_at, substr(p.target, 12) AS rest
               FROM tasks t INDEXED BY tasks_holder JOIN promises p ON p.id = t.id
               WHERE t.pid IS NOT NULL AND t.state = 'acquired' AND substr(p.target, 1, 11) = 'poll://any@' LIMIT ?)
           )
         )
         GROUP BY grp ORDER BY grp`,
      ),

      countExtension: p(
        `UPDATE task_events SET n = n + 1, last_at = ?
         WHERE seq = (SELECT max(seq) FROM task_events WHERE task_id = ?) AND event = 'extended' AND version IS ?`,
      ),
      taskEvents: p("SELECT * FROM task_events WHERE task_id = ? ORDER BY seq LIMIT ?"),
      // Only the `limit` oldest rows are looked at: pruning never scans the table.
      pruneOld: p(
        `DELETE FROM task_events WHERE seq IN
           (SELECT seq FROM (SELECT seq, at FROM task_events ORDER BY seq LIMIT ?) WHERE at < ?)`,
      ),
      pruneExcess: p(
        `DELETE FROM task_events WHERE seq IN
           (SELECT seq FROM task_events WHERE seq <= (SELECT max(seq) FROM task_events) - ? ORDER BY seq LIMIT ?)`,
      ),

      addCallback: p(
        `INSERT INTO callbacks (awaited, awaiter, ready) VALUES (?, ?, ?)
         ON CONFLICT (awaited, awaiter) DO UPDATE SET ready = max(ready, excluded.ready)`,
      ),
      markCallbacksReady: p("UPDATE callbacks SET ready = 1 WHERE awaited = ? RETURNING awaiter"),
      countReady: p("SELECT count(*) FROM callbacks WHERE awaiter = ? AND ready = 1").pluck(),
      deleteCallbacksOfAwaiter: p("DELETE FROM callbacks WHERE awaiter = ?"),
      deleteReadyCallbacksOfAwaiter: p("DELETE FROM callbacks WHERE awaiter = ? AND ready = 1"),

      addListener: p("INSERT OR IGNORE INTO listeners (promise_id, address) VALUES (?, ?)"),
      takeListeners: p("DELETE FROM listeners WHERE promise_id = ? RETURNING address").pluck(),

      enqueueExecute: p(
        `INSERT INTO outgoing_execute (task_id, version, address) VALUES (?, ?, ?)
         ON CONFLICT (task_id) DO UPDATE SET version = excluded.version, address = excluded.address`,
      ),
      enqueueUnblock: p("INSERT OR IGNORE INTO outgoing_unblock (promise_id, address) VALUES (?, ?)"),
      claimExecutes: p(
        `DELETE FROM outgoing_execute WHERE seq IN (SELECT seq FROM outgoing_execute ORDER BY seq LIMIT ?)
         RETURNING seq, task_id, version, address`,
      ),
      claimUnblocks: p(
        `DELETE FROM outgoing_unblock WHERE seq IN (SELECT seq FROM outgoing_unblock ORDER BY seq LIMIT ?)
         RETURNING seq, promise_id, address`,
      ),

      getSchedule: p("SELECT * FROM schedules WHERE id = ?"),
      insertSchedule: p(
        `INSERT INTO schedules (id, cron, promise_id, promise_timeout, promise_param, promise_tags, created_at, next_run_at, last_run_at)
         VALUES (@id, @cron, @promiseId, @promiseTimeout, @promiseParam, @promiseTags, @createdAt, @nextRunAt, @lastRunAt)`,
      ),
      deleteSchedule: p("DELETE FROM schedules WHERE id = ?"),
      dueSchedules: p("SELECT * FROM schedules WHERE next_run_at <= ? ORDER BY next_run_at, id LIMIT ?"),
      markScheduleRun: p("UPDATE schedules SET last_run_at = ?, next_run_at = ? WHERE id = ?"),

      shiftLeases: p("UPDATE tasks SET timeout_at = timeout_at + ? WHERE state = 'acquired' AND timeout_at IS NOT NULL"),
      getMarker: p("SELECT value FROM markers WHERE name = ?").pluck(),
      setMarker: p("INSERT INTO markers (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value"),

      ping: p("SELECT 1").pluck(),
    };
  }

  readonly kind = "sqlite" as const;

  /**
   * Runs `op` in one write transaction (BEGIN IMMEDIATE), synchronously: SQLite's verbs never wait
   * for a round trip, so nothing is awaited inside a transaction and no other request interleaves.
   */
  transactSync<T>(op: (tx: Tx) => Op<T>): T {
    try {
      return this.inTransaction.immediate(() => {
        const result = runSync(op(this));
        this.writePending(); // what no claim took is kept in the outbox tables, with this commit
        this.writeEvents();
        return result;
      }) as T;
    } catch (error) {
      this.pending.clear();
      this.events.clear();
      this.outboxMayHaveRows = true;
      throw error;
    }
  }

  transact<T>(op: (tx: Tx) => Op<T>): Promise<T> {
    try {
      return Promise.resolve(this.transactSync(op));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  *attempt(fn: () => Op<void>): Op<Error | undefined> {
    // Claims are never made inside an attempt, so undoing its messages is a truncation.
    const mark = this.pending.mark();
    const eventsMark = this.events.mark();
    try {
      this.inTransaction(() => runSync(fn())); // nested in the open transaction: a SAVEPOINT
      return undefined;
    } catch (error) {
      this.pending.rollbackTo(mark);
      this.events.rollbackTo(eventsMark);
      return error instanceof Error ? error : new Error(String(error));
    }
  }

  /** One server owns the file (see open.ts): every lock is its own. */
  *tryLock(_name: string): Op<boolean> {
    return true;
  }

  *forward(messages: Forward[]): Op<void> {
    if (messages.length > 0) throw new Error("a SQLite store has one server: there is no other replica to forward to");
  }

  *getMarker(name: string): Op<number | undefined> {
    return this.s.getMarker.get(name) as number | undefined;
  }

  *setMarker(name: string, value: number): Op<void> {
    this.s.setMarker.run(name, value);
  }

  ping(): Promise<boolean> {
    try {
      return Promise.resolve(this.s.ping.get() === 1);
    } catch {
      return Promise.resolve(false);
    }
  }

  close(): Promise<void> {
    if (!this.db.open) return Promise.resolve();
    this.checkpointer?.stop();
    // Fold the WAL back into the main file so the database is one self-contained file at rest.
    try {
      this.db.pragma("wal_checkpoint(TRUNCATE)");
    } finally {
      this.db.close();
      this.lock?.close(); // last: until now no other server may open the file
    }
    return Promise.resolve();
  }

  // ---- promises

  *getPromise(id: string): Op<PromiseRecord | undefined> {
    return this.readPromise(id);
  }

  private readPromise(id: string): PromiseRecord | undefined {
    const row = this.s.getPromise.get(id) as PromiseSqlRow | undefined;
    return row && toPromise(row);
  }

  *insertPromise(promise: PromiseRecord): Op<void> {
    this.s.insertPromise.run({
      id: promise.id,
      state: promise.state,
      param: JSON.stringify(promise.param),
      value: JSON.stringify(promise.value),
      tags: JSON.stringify(promise.tags),
      timeoutAt: promise.timeoutAt,
      createdAt: promise.createdAt,
      settledAt: promise.settledAt ?? null,
      target: promise.tags[TAG.target] ?? null,
      branch: promise.tags[TAG.branch] ?? null,
    });
  }

  *settlePromise(id: string, state: Exclude<PromiseState, "pending">, value: Value, settledAt: number): Op<void> {
    this.s.settlePromise.run(state, JSON.stringify(value), settledAt, id);
  }

  *branchSiblings(branch: string, exceptId: string): Op<PromiseRecord[]> {
    return (this.s.branchSiblings.all(branch, exceptId) as PromiseSqlRow[]).map(toPromise);
  }

  *duePromises(now: number, limit: number, onlyWithTarget = false): Op<PromiseRecord[]> {
    const statement = onlyWithTarget ? this.s.dueTargetedPromises : this.s.duePromises;
    return (statement.all(now, limit) as PromiseSqlRow[]).map(toPromise);
  }

  *recentFailures(since: number, limit: number): Op<PromiseRecord[]> {
    return (this.s.recentFailures.all(since, limit) as PromiseSqlRow[]).map(toPromise);
  }

  *searchPromises(query: PromiseQuery): Op<Page<PromiseRecord>> {
    const rows = this.searchRows<PromiseSqlRow>("promises", "promises.tags", query);
    return page(rows.map(toPromise), query.limit, promiseBytes);
  }

  // ---- tasks

  *getTask(id: string): Op<TaskRow | undefined> {
    const row = this.s.getTask.get(id) as TaskSqlRow | undefined;
    return row && toTask(row);
  }

  *putTask(task: TaskRow): Op<void> {
    this.s.putTask.run({
      id: task.id,
      state: task.state,
      version: task.version,
      pid: task.pid ?? null,
      ttl: task.ttl ?? null,
      timeoutType: task.timeoutType ?? null,
      timeoutAt: task.timeoutAt ?? null,
    });
  }

  *dueTasks(now: number, limit: number): Op<TaskRow[]> {
    return (this.s.dueTasks.all(now, limit) as TaskSqlRow[]).map(toTask);
  }

  *tasksHeldBy(pid: string): Op<TaskRow[]> {
    return (this.s.tasksHeldBy.all(pid) as TaskSqlRow[]).map(toTask);
  }

  *leaseCounts(): Op<Map<string, number>> {
    const rows = this.s.leaseCounts.all() as { pid: string; n: number }[];
    return new Map(rows.map((r) => [r.pid, r.n]));
  }

  *countLeases(): Op<Map<string, number>> {
    return yield* this.leaseCounts(); // read in the transaction already
  }

  *pendingTasksForGroup(group: string, limit: number): Op<{ id: string; version: number; target: string; tags: Record<string, string> }[]> {
    const exact = `poll://any@${group}`;
    const prefix = `${exact}/`;
    const rows = this.s.pendingTasksForGroup.all(exact, prefix.length, prefix, limit) as {
      id: string;
      version: number;
      target: string;
      tags: string;
    }[];
    return rows.map((r) => ({ id: r.id, version: r.version, target: r.target, tags: JSON.parse(r.tags) as Record<string, string> }));
  }

  *taskGroups(limit: number): Op<TaskGroupCounts[]> {
    const rows = this.s.taskGroups.all(limit, limit) as { group: string; pending: number; acquired: number; oldest: number | null }[];
    return rows.map((r) => ({ group: r.group, pending: r.pending, acquired: r.acquired, ...(r.oldest !== null && { oldestPendingAt: r.oldest }) }));
  }

  *searchTasks(query: TaskQuery): Op<Page<TaskRow>> {
    const rows = this.searchRows<TaskSqlRow>("tasks", undefined, query);
    return page(rows.map(toTask), query.limit, (t) => t.id.length + 100);
  }

  // ---- dispatch history

  *appendTaskEvents(events: TaskEvent[]): Op<void> {
    for (const e of events) this.events.push(e);
  }

  *noteExtension(event: TaskEvent): Op<void> {
    this.writeEvents(); // the extension counts on the task's last event, which may be waiting here
    if (this.s.countExtension.run(event.at, event.taskId, event.version ?? null).changes === 0) {
      this.events.push(event);
    }
  }

  *taskEvents(taskId: string, limit: number): Op<StoredTaskEvent[]> {
    this.writeEvents();
    return (this.s.taskEvents.all(taskId, limit) as TaskEventSqlRow[]).map(toTaskEvent);
  }

  /** Inserts the events this transaction wrote so far, up to EVENTS_PER_INSERT rows a statement. */
  private writeEvents(): void {
    if (this.events.size === 0) return;
    const events = this.events.drain();
    for (let from = 0; from < events.length; from += EVENTS_PER_INSERT) {
      const chunk = events.slice(from, from + EVENTS_PER_INSERT);
      this.insertEventsStatement(chunk.length).run(chunk.flatMap(taskEventValues));
    }
  }

  private insertEventsStatement(rows: number): Database.Statement {
    let statement = this.insertEvents.get(rows);
    if (!statement) {
      const values = Array.from({ length: rows }, () => "(?, ?, ?, ?, ?, ?, ?)").join(", ");
      statement = this.db.prepare(`INSERT INTO task_events (${TASK_EVENT_COLUMNS}) VALUES ${values}`);
      this.insertEvents.set(rows, statement);
    }
    return statement;
  }

  *pruneTaskEvents(before: number, keep: number, limit: number): Op<number> {
    this.writeEvents();
    const old = this.s.pruneOld.run(limit, before).changes;
    const excess = old < limit ? this.s.pruneExcess.run(keep, limit - old).changes : 0;
    return old + excess;
  }

  // ---- callbacks

  *addCallback(awaited: string, awaiter: string, ready: boolean): Op<void> {
    this.s.addCallback.run(awaited, awaiter, ready ? 1 : 0);
  }

  *markCallbacksReady(awaited: string): Op<string[]> {
    return (this.s.markCallbacksReady.all(awaited) as { awaiter: string }[]).map((r) => r.awaiter);
  }

  *countReadyCallbacks(awaiter: string): Op<number> {
    return this.s.countReady.get(awaiter) as number;
  }

  /** Pushes every acquired task's lease deadline `by` ms later. */
  *shiftLeases(by: number): Op<number> {
    return this.s.shiftLeases.run(by).changes;
  }

  *deleteCallbacksOfAwaiter(awaiter: string): Op<void> {
    this.s.deleteCallbacksOfAwaiter.run(awaiter);
  }

  *deleteReadyCallbacksOfAwaiter(awaiter: string): Op<void> {
    this.s.deleteReadyCallbacksOfAwaiter.run(awaiter);
  }

  // ---- listeners

  *addListener(promiseId: string, address: string): Op<void> {
    this.s.addListener.run(promiseId, address);
  }

  *takeListeners(promiseId: string): Op<string[]> {
    return this.s.takeListeners.all(promiseId) as string[];
  }

  // ---- outbox

  *enqueueExecute(taskId: string, version: number, address: string): Op<void> {
    this.pending.push({ kind: "execute", taskId, version, address });
  }

  *enqueueUnblock(promiseId: string, address: string, settled?: PromiseRecord): Op<void> {
    this.pending.push(settled ? { kind: "unblock", promiseId, address, settled } : { kind: "unblock", promiseId, address });
  }

  /**
   * Up to `limit` executes and `limit` unblocks from the outbox tables (when they may hold rows),
   * then every message queued by the open transaction, merged by the tables' rules (claimed-outgoing.ts).
   */
  *claimOutgoing(limit: number): Op<Outgoing[]> {
    let rows: ClaimedRows | undefined;
    if (this.outboxMayHaveRows) {
      rows = { executes: this.s.claimExecutes.all(limit) as ClaimedRows["executes"], unblocks: this.s.claimUnblocks.all(limit) as ClaimedRows["unblocks"] };
      if (rows.executes.length < limit && rows.unblocks.length < limit) this.outboxMayHaveRows = false;
    }
    return yield* mergeClaimed(rows, this.pending.drain(), (id) => this.getPromise(id));
  }

  /** Writes the messages nobody claimed to the outbox tables (inside the open transaction). */
  private writePending(): void {
    if (this.pending.size === 0) return;
    for (const m of this.pending.drain()) {
      if (m.kind === "execute") this.s.enqueueExecute.run(m.taskId, m.version, m.address);
      else this.s.enqueueUnblock.run(m.promiseId, m.address);
    }
    this.outboxMayHaveRows = true;
  }

  // ---- schedules

  *getSchedule(id: string): Op<ScheduleRecord | undefined> {
    const row = this.s.getSchedule.get(id) as ScheduleSqlRow | undefined;
    return row && toSchedule(row);
  }

  *insertSchedule(schedule: ScheduleRecord): Op<void> {
    this.s.insertSchedule.run({
      id: schedule.id,
      cron: schedule.cron,
      promiseId: schedule.promiseId,
      promiseTimeout: schedule.promiseTimeout,
      promiseParam: JSON.stringify(schedule.promiseParam),
      promiseTags: JSON.stringify(schedule.promiseTags),
      createdAt: schedule.createdAt,
      nextRunAt: schedule.nextRunAt,
      lastRunAt: schedule.lastRunAt ?? null,
    });
  }

  *deleteSchedule(id: string): Op<boolean> {
    return this.s.deleteSchedule.run(id).changes > 0;
  }

  *dueSchedules(now: number, limit: number): Op<ScheduleRecord[]> {
    return (this.s.dueSchedules.all(now, limit) as ScheduleSqlRow[]).map(toSchedule);
  }

  *markScheduleRun(id: string, lastRunAt: number, nextRunAt: number): Op<void> {
    this.s.markScheduleRun.run(lastRunAt, nextRunAt, id);
  }

  *searchSchedules(query: ScheduleQuery): Op<Page<ScheduleRecord>> {
    const rows = this.searchRows<ScheduleSqlRow>("schedules", "schedules.promise_tags", query);
    return page(rows.map(toSchedule), query.limit, (sc) => sc.id.length + (sc.promiseParam.data?.length ?? 0) + JSON.stringify(sc.promiseTags).length);
  }

  /**
   * One search page of a table in id order: rows after `cursor`, optionally of one state and
   * carrying every given tag (in the JSON column `tagColumn`), limit + 1 of them so that the page
   * knows whether a cursor is due.
   */
  private searchRows<Row>(
    table: "promises" | "tasks" | "schedules",
    tagColumn: string | undefined,
    query: { state?: string; tags?: Record<string, string>; cursor?: string; limit: number; idPrefix?: string; createdFrom?: number; createdTo?: number },
  ): Row[] {
    const params: unknown[] = [];
    let sql = `SELECT * FROM ${table} WHERE 1 = 1`;
    if (query.idPrefix !== undefined && query.idPrefix !== "") {
      // A range on the primary key (ids compare as UTF-8 bytes): the index finds the prefix.
      sql += " AND id >= ? AND id < ?";
      params.push(query.idPrefix, `${query.idPrefix}\u{10FFFF}`);
    }
    if (query.createdFrom !== undefined) {
      sql += " AND created_at >= ?";
      params.push(query.createdFrom);
    }
    if (query.createdTo !== undefined) {
      sql += " AND created_at < ?";
      params.push(query.createdTo);
    }
    if (query.state !== undefined) {
      sql += " AND state = ?";
      params.push(query.state);
    }
    if (query.cursor !== undefined) {
      sql += " AND id > ?";
      params.push(query.cursor);
    }
    if (tagColumn !== undefined) sql += tagFilter(tagColumn, query.tags, params);
    sql += " ORDER BY id LIMIT ?";
    params.push(query.limit + 1);
    return this.db.prepare(sql).all(...params) as Row[];
  }

  // ---- debug

  *reset(): Op<void> {
    this.pending.clear();
    this.events.clear();
    this.db.exec(`
      DELETE FROM markers;
      DELETE FROM outgoing_execute; DELETE FROM outgoing_unblock; DELETE FROM listeners;
      DELETE FROM callbacks; DELETE FROM tasks; DELETE FROM promises; DELETE FROM schedules;
      DELETE FROM task_events;
    `);
  }

  *snapshot(): Op<StoreSnapshot> {
    this.writePending(); // what this transaction queued so far is part of the state shown
    const promises = (this.db.prepare("SELECT * FROM promises ORDER BY id").all() as PromiseSqlRow[]).map(toPromise);
    const tasks = (this.db.prepare("SELECT * FROM tasks ORDER BY id").all() as TaskSqlRow[]).map((row) => ({
      ...toTask(row),
      resumes: this.s.countReady.get(row.id) as number,
    }));
    const callbacks = this.db
      .prepare("SELECT awaiter, awaited FROM callbacks WHERE ready = 0 ORDER BY awaiter, awaited")
      .all() as { awaiter: string; awaited: string }[];
    const listeners = this.db
      .prepare("SELECT promise_id AS id, address FROM listeners ORDER BY promise_id, address")
      .all() as { id: string; address: string }[];
    const executes = this.db
      .prepare("SELECT task_id AS taskId, version, address FROM outgoing_execute ORDER BY task_id")
      .all() as { taskId: string; version: number; address: string }[];
    const unblocks = (
      this.db.prepare("SELECT promise_id, address FROM outgoing_unblock ORDER BY promise_id, address").all() as {
        promise_id: string;
        address: string;
      }[]
    ).flatMap((u) => {
      const promise = this.readPromise(u.promise_id);
      return promise ? [{ promise, address: u.address }] : [];
    });
    return { promises, tasks, callbacks, listeners, executes, unblocks };
  }
}

