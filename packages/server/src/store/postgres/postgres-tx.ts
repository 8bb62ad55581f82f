import type { PromiseRecord, PromiseState, ScheduleRecord, Value } from "@resonate-compat/protocol";
import { TAG } from "@resonate-compat/protocol";
import type { PoolClient, QueryConfig, QueryResult, QueryResultRow } from "pg";
import type { Op } from "../op";
import { PendingOutbox } from "../pending-outbox";
import { type ClaimedRows, mergeClaimed } from "../claimed-outgoing";
import { page, promiseBytes } from "../page";
import { type PromiseSqlRow, type ScheduleSqlRow, type TaskSqlRow, toPromise, toSchedule, toTask } from "../rows";
import type {
  Forward,
  Outgoing,
  Page,
  PromiseQuery,
  ScheduleQuery,
  StoreSnapshot,
  StoredTaskEvent,
  TaskEvent,
  TaskGroupCounts,
  TaskQuery,
  TaskRow,
  Tx,
} from "../store";
import { isRetryable } from "./errors";
import { TASK_EVENT_COLUMNS, type TaskEventSqlRow, taskEventValues, toTaskEvent } from "../task-events";
import { TxLog } from "../tx-log";

// One PostgreSQL transaction: the store verbs over a pooled connection. Each verb is one round
// trip, yielded to the runner (see op.ts). Hot statements are named, so that each connection
// parses and plans them once.
//
// Concurrency (transactions run at READ COMMITTED, see postgres-store.ts): every read of a promise,
// task or schedule row locks it (FOR NO KEY UPDATE) until the transaction ends, and the domain reads
// every row it acts on before it writes. Two transactions touching one id therefore run one after
// the other, and the second sees what the first committed — as with SQLite's single writer. The
// background passes take due rows with SKIP LOCKED: a row a request holds is handled next pass.
// Two inserts of one new id meet at the primary key, and the loser is run again (errors.ts).

const SQL = {
  getPromise: "SELECT * FROM promises WHERE id = $1 FOR NO KEY UPDATE",
  insertPromise: `INSERT INTO promises (id, state, param, value, tags, timeout_at, created_at, settled_at, target, branch)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
  settlePromise: "UPDATE promises SET state = $2, value = $3, settled_at = $4 WHERE id = $1 AND state = 'pending'",
  branchSiblings: "SELECT * FROM promises WHERE branch = $1 AND id <> $2 ORDER BY id",
  duePromises: "SELECT * FROM promises WHERE state = 'pending' AND timeout_at <= $1 ORDER BY timeout_at, id LIMIT $2 FOR NO KEY UPDATE SKIP LOCKED",
  dueTargetedPromises: "SELECT * FROM promises WHERE state = 'pending' AND timeout_at <= $1 AND target IS NOT NULL ORDER BY timeout_at, id LIMIT $2 FOR NO KEY UPDATE SKIP LOCKED",
  getTask: "SELECT * FROM tasks WHERE id = $1 FOR NO KEY UPDATE",
  putTask: `INSERT INTO tasks (id, state, version, pid, ttl, timeout_type, timeout_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
    ON CONFLICT (id) DO UPDATE SET state = excluded.state, version = excluded.version, pid = excluded.pid,
      ttl = excluded.ttl, timeout_type = excluded.timeout_type, timeout_at = excluded.timeout_at`,
  dueTasks: "SELECT * FROM tasks WHERE timeout_at IS NOT NULL AND timeout_at <= $1 ORDER BY timeout_at, id LIMIT $2 FOR NO KEY UPDATE SKIP LOCKED",
  tasksHeldBy: "SELECT * FROM tasks WHERE pid = $1 AND state = 'acquired' ORDER BY id FOR NO KEY UPDATE",
  shiftLeases: "UPDATE tasks SET timeout_at = timeout_at + $1 WHERE state = 'acquired' AND timeout_at IS NOT NULL",
  pendingTasksForGroup: `SELECT t.id, t.version, p.target, p.tags FROM tasks t JOIN promises p ON p.id = t.id
    WHERE t.state = 'pending' AND (p.target = $1 OR left(p.target, $2) = $3)
    ORDER BY p.created_at, t.id LIMIT $4`,
  // Each half walks one partial index (tasks_pending, tasks_holder) and stops at its limit.
  taskGroups: `SELECT grp AS "group", count(*) FILTER (WHERE state = 'pending')::int AS pending,
      count(*) FILTER (WHERE state = 'acquired')::int AS acquired,
      min(created_at) FILTER (WHERE state = 'pending') AS oldest
    FROM (
      SELECT state, created_at, split_part(substr(target, 12), '/', 1) AS grp FROM (
        (SELECT t.state, p.created_at, p.target FROM tasks t JOIN promises p ON p.id = t.id
          WHERE t.state = 'pending' AND left(p.target, 11) = 'poll://any@' LIMIT $1)
        UNION ALL
        (SELECT t.state, p.created_at, p.target FROM tasks t JOIN promises p ON p.id = t.id
          WHERE t.state = 'acquired' AND left(p.target, 11) = 'poll://any@' LIMIT $1)
      ) live
    ) grouped
    GROUP BY grp ORDER BY grp`,
  countLeases: "SELECT pid, count(*)::int AS n FROM tasks WHERE state = 'acquired' GROUP BY pid",
  countExtension: `UPDATE task_events SET n = n + 1, last_at = $1
    WHERE seq = (SELECT max(seq) FROM task_events WHERE task_id = $2) AND event = 'extended' AND version IS NOT DISTINCT FROM $3`,
  recentFailures: `SELECT * FROM promises WHERE state IN ('rejected', 'rejected_timedout') AND settled_at >= $1
    ORDER BY settled_at DESC LIMIT $2`,
  taskEvents: "SELECT * FROM task_events WHERE task_id = $1 ORDER BY seq LIMIT $2",
  // Only the $1 oldest rows are looked at: pruning never scans the table.
  pruneOld: `DELETE FROM task_events WHERE seq IN
    (SELECT seq FROM (SELECT seq, at FROM task_events ORDER BY seq LIMIT $1) oldest WHERE at < $2)`,
  pruneExcess: `DELETE FROM task_events WHERE seq IN
    (SELECT seq FROM task_events WHERE seq <= (SELECT max(seq) FROM task_events) - $1 ORDER BY seq LIMIT $2)`,
  addCallback: `INSERT INTO callbacks (awaited, awaiter, ready) VALUES ($1, $2, $3)
    ON CONFLICT (awaited, awaiter) DO UPDATE SET ready = callbacks.ready OR excluded.ready`,
  markCallbacksReady: "UPDATE callbacks SET ready = true WHERE awaited = $1 RETURNING awaiter",
  countReady: "SELECT count(*)::int AS n FROM callbacks WHERE awaiter = $1 AND ready",
  deleteCallbacksOfAwaiter: "DELETE FROM callbacks WHERE awaiter = $1",
  deleteReadyCallbacksOfAwaiter: "DELETE FROM callbacks WHERE awaiter = $1 AND ready",
  addListener: "INSERT INTO listeners (promise_id, address) VALUES ($1, $2) ON CONFLICT DO NOTHING",
  takeListeners: "DELETE FROM listeners WHERE promise_id = $1 RETURNING address",
  enqueueExecute: `INSERT INTO outgoing_execute (task_id, version, address) VALUES ($1, $2, $3)
    ON CONFLICT (task_id) DO UPDATE SET version = excluded.version, address = excluded.address`,
  enqueueUnblock: "INSERT INTO outgoing_unblock (promise_id, address) VALUES ($1, $2) ON CONFLICT DO NOTHING",
  claimExecutes: `DELETE FROM outgoing_execute WHERE seq IN (SELECT seq FROM outgoing_execute ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED)
    RETURNING seq, task_id, version, address`,
  claimUnblocks: `DELETE FROM outgoing_unblock WHERE seq IN (SELECT seq FROM outgoing_unblock ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED)
    RETURNING seq, promise_id, address`,
  forward: `INSERT INTO forwards (replica, stream, pid, address, kind, target_id, message)
    SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])`,
  notifyForward: "SELECT pg_notify('resonate_forward', r) FROM unnest($1::text[]) AS r",
  getSchedule: "SELECT * FROM schedules WHERE id = $1 FOR NO KEY UPDATE",
  insertSchedule: `INSERT INTO schedules (id, cron, promise_id, promise_timeout, promise_param, promise_tags, created_at, next_run_at, last_run_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
  deleteSchedule: "DELETE FROM schedules WHERE id = $1",
  dueSchedules: "SELECT * FROM schedules WHERE next_run_at <= $1 ORDER BY next_run_at, id LIMIT $2 FOR NO KEY UPDATE SKIP LOCKED",
  markScheduleRun: "UPDATE schedules SET last_run_at = $2, next_run_at = $3 WHERE id = $1",
  getMarker: "SELECT value FROM markers WHERE name = $1",
  setMarker: "INSERT INTO markers (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
  tryLock: "SELECT pg_try_advisory_xact_lock(hashtext($1)) AS locked",
} as const;

type Statement = keyof typeof SQL;

/** What a transaction needs from its store besides its connection. */
export interface PostgresTxHost {
  /** Lease counts per process, read outside the transaction (a routing hint; see Tx.leaseCounts). */
  leaseCounts(): Promise<Map<string, number>>;
  /** The outbox tables may hold rows (only then does a claim read them). */
  outboxMayHaveRows: boolean;
}

export class PostgresTx implements Tx {
  /** Messages queued by this transaction, not yet claimed nor written (see pending-outbox.ts). */
  private readonly pending = new PendingOutbox();
  /** History events written by this transaction, inserted in one statement before it commits. */
  private readonly events = new TxLog<TaskEvent>();
  private savepoints = 0;

  constructor(
    private readonly client: PoolClient,
    private readonly host: PostgresTxHost,
  ) {}

  /** One named statement's round trip, yielded to the runner; returns its rows. */
  private *q<R extends QueryResultRow>(statement: Statement, values: unknown[]): Op<R[]> {
    const config: QueryConfig = { name: statement, text: SQL[statement], values };
    const result = (yield this.client.query<R>(config)) as QueryResult<R>;
    return result.rows;
  }

  /** An unnamed statement (built per call, e.g. a search with a variable number of filters). */
  private *raw<R extends QueryResultRow>(text: string, values: unknown[] = []): Op<QueryResult<R>> {
    return (yield this.client.query<R>(text, values)) as QueryResult<R>;
  }

  *attempt(fn: () => Op<void>): Op<Error | undefined> {
    const name = `sp${++this.savepoints}`;
    const mark = this.pending.mark();
    const eventsMark = this.events.mark();
    yield* this.raw(`SAVEPOINT ${name}`);
    try {
      yield* fn();
    } catch (error) {
      // A conflict with another transaction dooms this one: it must be retried whole, not skipped.
      if (isRetryable(error)) throw error;
      yield* this.raw(`ROLLBACK TO SAVEPOINT ${name}`);
      this.pending.rollbackTo(mark);
      this.events.rollbackTo(eventsMark);
      return error instanceof Error ? error : new Error(String(error));
    }
    yield* this.raw(`RELEASE SAVEPOINT ${name}`);
    return undefined;
  }

  *tryLock(name: string): Op<boolean> {
    const [row] = yield* this.q<{ locked: boolean }>("tryLock", [name]);
    return row?.locked === true;
  }

  // ---- promises

  *getPromise(id: string): Op<PromiseRecord | undefined> {
    const [row] = yield* this.q<PromiseSqlRow>("getPromise", [id]);
    return row && toPromise(row);
  }

  *insertPromise(promise: PromiseRecord): Op<void> {
    yield* this.q("insertPromise", [
      promise.id,
      promise.state,
      JSON.stringify(promise.param),
      JSON.stringify(promise.value),
      JSON.stringify(promise.tags),
      promise.timeoutAt,
      promise.createdAt,
      promise.settledAt ?? null,
      promise.tags[TAG.target] ?? null,
      promise.tags[TAG.branch] ?? null,
    ]);
  }

  *settlePromise(id: string, state: Exclude<PromiseState, "pending">, value: Value, settledAt: number): Op<void> {
    yield* this.q("settlePromise", [id, state, JSON.stringify(value), settledAt]);
  }

  *branchSiblings(branch: string, exceptId: string): Op<PromiseRecord[]> {
    return (yield* this.q<PromiseSqlRow>("branchSiblings", [branch, exceptId])).map(toPromise);
  }

  *duePromises(now: number, limit: number, onlyWithTarget = false): Op<PromiseRecord[]> {
    return (yield* this.q<PromiseSqlRow>(onlyWithTarget ? "dueTargetedPromises" : "duePromises", [now, limit])).map(toPromise);
  }

  *recentFailures(since: number, limit: number): Op<PromiseRecord[]> {
    return (yield* this.q<PromiseSqlRow>("recentFailures", [since, limit])).map(toPromise);
  }

  *searchPromises(query: PromiseQuery): Op<Page<PromiseRecord>> {
    const rows = yield* this.searchRows<PromiseSqlRow>("promises", "tags", query);
    return page(rows.map(toPromise), query.limit, promiseBytes);
  }

  // ---- tasks

  *getTask(id: string): Op<TaskRow | undefined> {
    const [row] = yield* this.q<TaskSqlRow>("getTask", [id]);
    return row && toTask(row);
  }

  *putTask(task: TaskRow): Op<void> {
    yield* this.q("putTask", [task.id, task.state, task.version, task.pid ?? null, task.ttl ?? null, task.timeoutType ?? null, task.timeoutAt ?? null]);
  }

  *dueTasks(now: number, limit: number): Op<TaskRow[]> {
    return (yield* this.q<TaskSqlRow>("dueTasks", [now, limit])).map(toTask);
  }

  *tasksHeldBy(pid: string): Op<TaskRow[]> {
    return (yield* this.q<TaskSqlRow>("tasksHeldBy", [pid])).map(toTask);
  }

  *shiftLeases(by: number): Op<number> {
    return (yield* this.raw(SQL.shiftLeases, [by])).rowCount ?? 0;
  }

  *leaseCounts(): Op<Map<string, number>> {
    return (yield this.host.leaseCounts()) as Map<string, number>;
  }

  *countLeases(): Op<Map<string, number>> {
    const rows = yield* this.q<{ pid: string; n: number }>("countLeases", []);
    return new Map(rows.map((r) => [r.pid, r.n]));
  }

  *pendingTasksForGroup(group: string, limit: number): Op<{ id: string; version: number; target: string; tags: Record<string, string> }[]> {
    const exact = `poll://any@${group}`;
    const prefix = `${exact}/`;
    return yield* this.q<{ id: string; version: number; target: string; tags: Record<string, string> }>("pendingTasksForGroup", [exact, prefix.length, prefix, limit]);
  }

  *taskGroups(limit: number): Op<TaskGroupCounts[]> {
    const rows = yield* this.q<{ group: string; pending: number; acquired: number; oldest: string | number | null }>("taskGroups", [limit]);
    return rows.map((r) => ({ group: r.group, pending: r.pending, acquired: r.acquired, ...(r.oldest !== null && { oldestPendingAt: Number(r.oldest) }) }));
  }

  *searchTasks(query: TaskQuery): Op<Page<TaskRow>> {
    const rows = yield* this.searchRows<TaskSqlRow>("tasks", undefined, query);
    return page(rows.map(toTask), query.limit, (t) => t.id.length + 100);
  }

  // ---- dispatch history

  *appendTaskEvents(events: TaskEvent[]): Op<void> {
    for (const e of events) this.events.push(e);
  }

  *noteExtension(event: TaskEvent): Op<void> {
    yield* this.writeEvents(); // the extension counts on the task's last event, which may be waiting here
    const counted = (yield this.client.query({ name: "countExtension", text: SQL.countExtension, values: [event.at, event.taskId, event.version ?? null] })) as QueryResult;
    if (counted.rowCount === 0) this.events.push(event);
  }

  *taskEvents(taskId: string, limit: number): Op<StoredTaskEvent[]> {
    yield* this.writeEvents();
    return (yield* this.q<TaskEventSqlRow & QueryResultRow>("taskEvents", [taskId, limit])).map(toTaskEvent);
  }

  /** Inserts the events this transaction wrote so far: one round trip for all of them. */
  *writeEvents(): Op<void> {
    if (this.events.size === 0) return;
    const values: unknown[] = [];
    const rows = this.events.drain().map((e, i) => {
      values.push(...taskEventValues(e));
      const b = i * 7;
      return `($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5}, $${b + 6}, $${b + 7}::jsonb)`;
    });
    yield* this.raw(`INSERT INTO task_events (${TASK_EVENT_COLUMNS}) VALUES ${rows.join(", ")}`, values);
  }

  *pruneTaskEvents(before: number, keep: number, limit: number): Op<number> {
    yield* this.writeEvents();
    const old = ((yield this.client.query({ name: "pruneOld", text: SQL.pruneOld, values: [limit, before] })) as QueryResult).rowCount ?? 0;
    if (old >= limit) return old;
    const excess = ((yield this.client.query({ name: "pruneExcess", text: SQL.pruneExcess, values: [keep, limit - old] })) as QueryResult).rowCount ?? 0;
    return old + excess;
  }

  // ---- callbacks

  *addCallback(awaited: string, awaiter: string, ready: boolean): Op<void> {
    yield* this.q("addCallback", [awaited, awaiter, ready]);
  }

  *markCallbacksReady(awaited: string): Op<string[]> {
    return (yield* this.q<{ awaiter: string }>("markCallbacksReady", [awaited])).map((r) => r.awaiter);
  }

  *countReadyCallbacks(awaiter: string): Op<number> {
    const [row] = yield* this.q<{ n: number }>("countReady", [awaiter]);
    return row?.n ?? 0;
  }

  *deleteCallbacksOfAwaiter(awaiter: string): Op<void> {
    yield* this.q("deleteCallbacksOfAwaiter", [awaiter]);
  }

  *deleteReadyCallbacksOfAwaiter(awaiter: string): Op<void> {
    yield* this.q("deleteReadyCallbacksOfAwaiter", [awaiter]);
  }

  // ---- listeners

  *addListener(promiseId: string, address: string): Op<void> {
    yield* this.q("addListener", [promiseId, address]);
  }

  *takeListeners(promiseId: string): Op<string[]> {
    return (yield* this.q<{ address: string }>("takeListeners", [promiseId])).map((r) => r.address);
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
   * then every message queued by this transaction, merged by the tables' rules (claimed-outgoing.ts).
   */
  *claimOutgoing(limit: number): Op<Outgoing[]> {
    let rows: ClaimedRows | undefined;
    if (this.host.outboxMayHaveRows) {
      rows = {
        executes: yield* this.q<ClaimedRows["executes"][number]>("claimExecutes", [limit]),
        unblocks: yield* this.q<ClaimedRows["unblocks"][number]>("claimUnblocks", [limit]),
      };
      if (rows.executes.length < limit && rows.unblocks.length < limit) this.host.outboxMayHaveRows = false;
    }
    return yield* mergeClaimed(rows, this.pending.drain(), (id) => this.getPromise(id));
  }

  /** Writes the forward rows and wakes their replicas (NOTIFY is delivered at commit). */
  *forward(messages: Forward[]): Op<void> {
    if (messages.length === 0) return;
    yield* this.q("forward", [
      messages.map((m) => m.replica),
      messages.map((m) => m.stream),
      messages.map((m) => m.pid),
      messages.map((m) => m.address),
      messages.map((m) => m.kind),
      messages.map((m) => m.id),
      messages.map((m) => m.message),
    ]);
    yield* this.q("notifyForward", [[...new Set(messages.map((m) => m.replica))]]);
  }

  /** Writes what this transaction kept in memory (history events, messages nobody claimed), before the commit. */
  *writePending(): Op<void> {
    yield* this.writeEvents();
    if (this.pending.size === 0) return;
    for (const m of this.pending.drain()) {
      if (m.kind === "execute") yield* this.q("enqueueExecute", [m.taskId, m.version, m.address]);
      else yield* this.q("enqueueUnblock", [m.promiseId, m.address]);
    }
    this.host.outboxMayHaveRows = true;
  }

  // ---- schedules

  *getSchedule(id: string): Op<ScheduleRecord | undefined> {
    const [row] = yield* this.q<ScheduleSqlRow>("getSchedule", [id]);
    return row && toSchedule(row);
  }

  *insertSchedule(schedule: ScheduleRecord): Op<void> {
    yield* this.q("insertSchedule", [
      schedule.id,
      schedule.cron,
      schedule.promiseId,
      schedule.promiseTimeout,
      JSON.stringify(schedule.promiseParam),
      JSON.stringify(schedule.promiseTags),
      schedule.createdAt,
      schedule.nextRunAt,
      schedule.lastRunAt ?? null,
    ]);
  }

  *deleteSchedule(id: string): Op<boolean> {
    return ((yield* this.raw(SQL.deleteSchedule, [id])).rowCount ?? 0) > 0;
  }

  *dueSchedules(now: number, limit: number): Op<ScheduleRecord[]> {
    return (yield* this.q<ScheduleSqlRow>("dueSchedules", [now, limit])).map(toSchedule);
  }

  *markScheduleRun(id: string, lastRunAt: number, nextRunAt: number): Op<void> {
    yield* this.q("markScheduleRun", [id, lastRunAt, nextRunAt]);
  }

  *searchSchedules(query: ScheduleQuery): Op<Page<ScheduleRecord>> {
    const rows = yield* this.searchRows<ScheduleSqlRow>("schedules", "promise_tags", query);
    return page(rows.map(toSchedule), query.limit, (sc) => sc.id.length + (sc.promiseParam.data?.length ?? 0) + JSON.stringify(sc.promiseTags).length);
  }

  // ---- markers

  *getMarker(name: string): Op<number | undefined> {
    const [row] = yield* this.q<{ value: number }>("getMarker", [name]);
    return row?.value;
  }

  *setMarker(name: string, value: number): Op<void> {
    yield* this.q("setMarker", [name, value]);
  }

  /** One search page in id order (byte-wise: the id columns use the "C" collation). */
  private *searchRows<Row extends QueryResultRow>(
    table: "promises" | "tasks" | "schedules",
    tagColumn: string | undefined,
    query: { state?: string; tags?: Record<string, string>; cursor?: string; limit: number; idPrefix?: string; createdFrom?: number; createdTo?: number },
  ): Op<Row[]> {
    const values: unknown[] = [];
    let sql = `SELECT * FROM ${table} WHERE true`;
    if (query.idPrefix !== undefined && query.idPrefix !== "") {
      values.push(query.idPrefix);
      sql += ` AND starts_with(id, $${values.length})`;
    }
    if (query.createdFrom !== undefined) {
      values.push(query.createdFrom);
      sql += ` AND created_at >= $${values.length}`;
    }
    if (query.createdTo !== undefined) {
      values.push(query.createdTo);
      sql += ` AND created_at < $${values.length}`;
    }
    if (query.state !== undefined) {
      values.push(query.state);
      sql += ` AND state = $${values.length}`;
    }
    if (query.cursor !== undefined) {
      values.push(query.cursor);
      sql += ` AND id > $${values.length}`;
    }
    if (tagColumn !== undefined && query.tags !== undefined && Object.keys(query.tags).length > 0) {
      values.push(JSON.stringify(query.tags));
      sql += ` AND ${tagColumn} @> $${values.length}::jsonb`;
    }
    values.push(query.limit + 1);
    sql += ` ORDER BY id LIMIT $${values.length}`;
    return (yield* this.raw<Row>(sql, values)).rows;
  }

  // ---- debug

  *reset(): Op<void> {
    this.pending.clear();
    this.events.clear();
    yield* this.raw(
      "TRUNCATE outgoing_execute, outgoing_unblock, listeners, callbacks, tasks, promises, schedules, markers, forwards, task_events",
    );
  }

  *snapshot(): Op<StoreSnapshot> {
    yield* this.writePending(); // what this transaction queued so far is part of the state shown
    const promises = (yield* this.raw<PromiseSqlRow>("SELECT * FROM promises ORDER BY id")).rows.map(toPromise);
    const tasks = (yield* this.raw<TaskSqlRow & { resumes: number }>(
      `SELECT t.*, (SELECT count(*)::int FROM callbacks c WHERE c.awaiter = t.id AND c.ready) AS resumes
       FROM tasks t ORDER BY t.id`,
    )).rows.map((row) => ({ ...toTask(row), resumes: row.resumes }));
    const callbacks = (yield* this.raw<{ awaiter: string; awaited: string }>(
      "SELECT awaiter, awaited FROM callbacks WHERE NOT ready ORDER BY awaiter, awaited",
    )).rows;
    const listeners = (yield* this.raw<{ id: string; address: string }>(
      "SELECT promise_id AS id, address FROM listeners ORDER BY promise_id, address",
    )).rows;
    const executes = (yield* this.raw<{ taskId: string; version: number; address: string }>(
      `SELECT task_id AS "taskId", version, address FROM outgoing_execute ORDER BY task_id`,
    )).rows;
    const unblockRows = (yield* this.raw<{ promise_id: string; address: string }>(
      "SELECT promise_id, address FROM outgoing_unblock ORDER BY promise_id, address",
    )).rows;
    const unblocks: StoreSnapshot["unblocks"] = [];
    for (const u of unblockRows) {
      const promise = yield* this.getPromise(u.promise_id);
      if (promise) unblocks.push({ promise, address: u.address });
    }
    return { promises, tasks, callbacks, listeners, executes, unblocks };
  }
}
