import type pg from "pg";
import type { Logger } from "pino";
import type { PollConnection } from "../delivery/connection";
import type { PollRegistry } from "../delivery/registry";
import type { ClusterDirectory, RemoteStream } from "./directory";
import { inTransaction } from "./in-transaction";

export const STREAMS_CHANNEL = "resonate_streams";

/** What one replica tells the others about its streams (NOTIFY payload, JSON). */
export type StreamNotice =
  | ({ op: "open" } & RemoteStream)
  | { op: "close"; replica: string; seq: number }
  | { op: "gone"; replica: string };

export interface PresenceDeps {
  pool: pg.Pool;
  replica: string;
  registry: PollRegistry;
  directory: ClusterDirectory;
  logger: Pick<Logger, "info" | "warn" | "error">;
  /** A replica silent for this long is taken for dead. */
  replicaTimeout: number;
  /** Streams that were held by a replica found dead (their processes may come back elsewhere). */
  onStreamsGone: (pids: string[]) => void;
  /** Messages forwarded to a dead replica were put back in the outbox: route them again. */
  onOutboxRows: () => void;
}

/**
 * This replica's presence in the cluster: its row in `replicas`, renewed every beat; its streams in
 * `streams`, announced as they open and close (and written anew after a failure); and the others':
 * read whole every beat and kept current between beats by notifications. Whoever notices first
 * that a replica stopped renewing its row removes it, hands its streams' processes to disconnect
 * recovery, and puts back in the outbox what had been forwarded to it and not delivered.
 */
export class Presence {
  private timer: NodeJS.Timeout | undefined;
  /** Announcements in order (an open must reach the table before its close). */
  private announcing: Promise<void> = Promise.resolve();
  /** An announcement failed: the table must be written anew from the registry. */
  private dirty = false;
  private stopped = false;

  constructor(private readonly deps: PresenceDeps) {}

  async start(): Promise<void> {
    const { pool, replica } = this.deps;
    await pool.query(
      `INSERT INTO replicas (id) VALUES ($1)
       ON CONFLICT (id) DO UPDATE SET started_at = now(), last_seen = now()`,
      [replica],
    );
    await pool.query("DELETE FROM streams WHERE replica = $1", [replica]); // a previous life's
    await this.beat();
    const every = Math.max(100, Math.floor(this.deps.replicaTimeout / 5));
    this.timer = setInterval(() => void this.beat(), every);
    this.timer.unref();
  }

  /** Renews this replica, reaps dead ones, and reads the others' streams whole. */
  async beat(): Promise<void> {
    if (this.stopped) return;
    const { pool, replica, logger } = this.deps;
    try {
      const renewed = await pool.query("UPDATE replicas SET last_seen = now() WHERE id = $1", [replica]);
      if (renewed.rowCount === 0) {
        // Others took this replica for dead (it was silent too long): come back, streams and all.
        logger.warn({ replica }, "this replica had been taken for dead by the others; announcing it again");
        await pool.query("INSERT INTO replicas (id) VALUES ($1) ON CONFLICT (id) DO NOTHING", [replica]);
        this.dirty = true;
      }
      if (this.dirty) await this.rewriteStreams();
      await this.reap();
      const { rows } = await pool.query<{ replica: string; seq: number; grp: string; pid: string; opened_at: number }>(
        `SELECT s.replica, s.seq, s.grp, s.pid, s.opened_at FROM streams s JOIN replicas r ON r.id = s.replica
         WHERE r.id <> $1 AND r.last_seen > now() - make_interval(secs => $2)`,
        [replica, this.deps.replicaTimeout / 1000],
      );
      this.deps.directory.replaceRemote(rows.map((r) => ({ replica: r.replica, seq: r.seq, group: r.grp, pid: r.pid, openedAt: r.opened_at })));
    } catch (error) {
      logger.warn({ err: error }, "cluster presence beat failed; retrying next beat");
    }
  }

  /** Removes replicas silent past the timeout, with what they held. */
  private async reap(): Promise<void> {
    const { pool, replica, logger } = this.deps;
    let dead: string[] = [];
    let pids: string[] = [];
    let requeued = 0;
    await inTransaction(pool, async (client) => {
      const gone = await client.query<{ replica: string; pid: string | null }>(
        `WITH dead AS (
           DELETE FROM replicas WHERE id <> $1 AND last_seen < now() - make_interval(secs => $2) RETURNING id
         )
         SELECT dead.id AS replica, s.pid FROM dead LEFT JOIN streams s ON s.replica = dead.id`,
        [replica, this.deps.replicaTimeout / 1000],
      );
      dead = [...new Set(gone.rows.map((r) => r.replica))];
      pids = [...new Set(gone.rows.flatMap((r) => (r.pid === null ? [] : [r.pid])))];
      if (dead.length > 0) {
        const moved = await client.query<{ n: number }>(
          `WITH moved AS (
             DELETE FROM forwards WHERE replica = ANY($1) RETURNING seq, kind, target_id, address, message
           ), executes AS (
             INSERT INTO outgoing_execute (task_id, version, address)
             SELECT DISTINCT ON (target_id) target_id, (message::jsonb #>> '{data,task,version}')::int, address
             FROM moved WHERE kind = 'execute' ORDER BY target_id, seq DESC
             ON CONFLICT (task_id) DO UPDATE SET version = excluded.version, address = excluded.address
             RETURNING 1
           ), unblocks AS (
             INSERT INTO outgoing_unblock (promise_id, address)
             SELECT DISTINCT target_id, address FROM moved WHERE kind = 'unblock'
             ON CONFLICT DO NOTHING RETURNING 1
           )
           SELECT (SELECT count(*) FROM executes)::int + (SELECT count(*) FROM unblocks)::int AS n`,
          [dead],
        );
        requeued = moved.rows[0]?.n ?? 0;
        for (const id of dead) await client.query("SELECT pg_notify($1, $2)", [STREAMS_CHANNEL, JSON.stringify({ op: "gone", replica: id })]);
      }
    });
    if (dead.length === 0) return;
    logger.warn({ replicas: dead, streams: pids.length, requeued }, "replica gone: its streams' processes get the disconnect grace, its undelivered messages are routed again");
    for (const id of dead) this.deps.directory.removeReplica(id);
    this.deps.onStreamsGone(pids);
    if (requeued > 0) this.deps.onOutboxRows();
  }

  /** A notification from another replica about its streams. */
  heard(notice: StreamNotice): void {
    const { directory, replica } = this.deps;
    if (notice.replica === replica) return;
    if (notice.op === "open") directory.addRemote(notice);
    else if (notice.op === "close") {
      const pid = directory.removeRemote(notice.replica, notice.seq);
      if (pid !== undefined) this.deps.onStreamsGone([pid]);
    } else {
      this.deps.onStreamsGone(directory.removeReplica(notice.replica));
    }
  }

  opened(connection: PollConnection): void {
    const notice: StreamNotice = { op: "open", replica: this.deps.replica, seq: connection.seq, group: connection.group, pid: connection.id, openedAt: connection.openedAt };
    this.announce(
      `WITH row AS (INSERT INTO streams (replica, seq, grp, pid, opened_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (replica, seq) DO NOTHING RETURNING 1)
       SELECT pg_notify($6, $7)`,
      [this.deps.replica, connection.seq, connection.group, connection.id, connection.openedAt, STREAMS_CHANNEL, JSON.stringify(notice)],
    );
  }

  closed(connection: PollConnection): void {
    const notice: StreamNotice = { op: "close", replica: this.deps.replica, seq: connection.seq };
    this.announce(
      `WITH row AS (DELETE FROM streams WHERE replica = $1 AND seq = $2 RETURNING 1) SELECT pg_notify($3, $4)`,
      [this.deps.replica, connection.seq, STREAMS_CHANNEL, JSON.stringify(notice)],
    );
  }

  private announce(sql: string, values: unknown[]): void {
    this.announcing = this.announcing.then(
      () => this.deps.pool.query(sql, values).then(() => undefined),
    ).catch((error: unknown) => {
      this.dirty = true;
      this.deps.logger.warn({ err: error }, "announcing a stream to the cluster failed; the next beat writes them anew");
    });
  }

  /** Writes this replica's streams anew from its registry. */
  private async rewriteStreams(): Promise<void> {
    const { pool, replica, registry } = this.deps;
    const streams = registry.all();
    await inTransaction(pool, async (client) => {
      await client.query("DELETE FROM streams WHERE replica = $1", [replica]);
      if (streams.length > 0) {
        await client.query(
          `INSERT INTO streams (replica, seq, grp, pid, opened_at)
           SELECT $1, * FROM unnest($2::int[], $3::text[], $4::text[], $5::bigint[])`,
          [replica, streams.map((c) => c.seq), streams.map((c) => c.group), streams.map((c) => c.id), streams.map((c) => c.openedAt)],
        );
      }
    });
    this.dirty = false;
  }

  /** Leaves the cluster: the row and the streams go, and the others hear it at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.announcing;
    const { pool, replica } = this.deps;
    try {
      await pool.query(
        "WITH gone AS (DELETE FROM replicas WHERE id = $1 RETURNING 1) SELECT pg_notify($2, $3)",
        [replica, STREAMS_CHANNEL, JSON.stringify({ op: "gone", replica })],
      );
    } catch (error) {
      this.deps.logger.warn({ err: error }, "could not leave the cluster cleanly; the others will notice by the timeout");
    }
  }
}
