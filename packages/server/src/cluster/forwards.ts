import type pg from "pg";
import type { Logger } from "pino";
import { parseAddress } from "@resonate-compat/protocol";
import type { PollConnection } from "../delivery/connection";
import type { PollRegistry } from "../delivery/registry";
import { inTransaction } from "./in-transaction";

export const FORWARD_CHANNEL = "resonate_forward";

/** A forward found for a stream that closed in between is routed again for this long, then dropped. */
const REROUTE_WITHIN_MS = 5_000;

interface ForwardRow {
  seq: number;
  stream: number;
  pid: string;
  address: string;
  kind: "execute" | "unblock";
  target_id: string;
  message: string;
  age_ms: number;
}

export interface ForwardReceiverDeps {
  pool: pg.Pool;
  replica: string;
  registry: PollRegistry;
  logger: Pick<Logger, "debug" | "warn" | "error">;
  /** Rows were put back in the outbox: route them again. */
  onOutboxRows: () => void;
  /** Whether a forwarded execute should still be sent (false: this replica offered it already). */
  acceptExecute?: ((taskId: string, version: number) => boolean) | undefined;
}

/**
 * Delivers the messages other replicas forwarded to this one's streams: woken by NOTIFY
 * resonate_forward (payload: this replica's id), it deletes its rows and writes each message to
 * its stream. A message whose stream has closed meanwhile goes to another stream of this replica
 * that its address allows, or else back to the outbox to be routed again across the cluster.
 */
export class ForwardReceiver {
  private draining: Promise<void> | undefined;
  private again = false;

  constructor(private readonly deps: ForwardReceiverDeps) {}

  /** Takes and delivers this replica's forwards; a call during a drain makes one more drain. */
  drain(): Promise<void> {
    if (this.draining) {
      this.again = true;
      return this.draining;
    }
    this.draining = (async () => {
      do {
        this.again = false;
        try {
          await this.drainOnce();
        } catch (error) {
          this.deps.logger.warn({ err: error }, "receiving forwarded messages failed; retrying at the next wake-up");
        }
      } while (this.again);
    })().finally(() => {
      this.draining = undefined;
    });
    return this.draining;
  }

  private async drainOnce(): Promise<void> {
    const { pool, replica, logger } = this.deps;
    const { rows } = await pool.query<ForwardRow>(
      `DELETE FROM forwards WHERE replica = $1
       RETURNING seq, stream, pid, address, kind, target_id, message,
                 (extract(epoch FROM now() - created_at) * 1000)::int AS age_ms`,
      [replica],
    );
    if (rows.length === 0) return;
    rows.sort((a, b) => a.seq - b.seq);
    const requeue: ForwardRow[] = [];
    for (const row of rows) {
      if (row.kind === "execute" && !this.accepted(row)) {
        logger.debug({ id: row.target_id, pid: row.pid }, "forwarded execute skipped: this replica offered the task already");
        continue;
      }
      const connection = this.streamFor(row);
      if (connection?.send(row.message)) {
        logger.debug({ kind: row.kind, id: row.target_id, pid: connection.id }, "forwarded message sent");
      } else if (!connection && row.age_ms < REROUTE_WITHIN_MS) {
        requeue.push(row);
      } else {
        logger.warn({ kind: row.kind, id: row.target_id, pid: row.pid }, "forwarded message dropped: its stream is gone or full");
      }
    }
    if (requeue.length > 0) await this.requeue(requeue);
  }

  private accepted(row: ForwardRow): boolean {
    const { acceptExecute } = this.deps;
    if (!acceptExecute) return true;
    const version = executeVersion(row);
    return version === undefined || acceptExecute(row.target_id, version);
  }

  /** The stream the row was meant for, or another of this replica's streams its address allows. */
  private streamFor(row: ForwardRow): PollConnection | undefined {
    const { registry } = this.deps;
    const exact = registry.bySeq(row.stream);
    if (exact && exact.id === row.pid) return exact;
    const address = parseAddress(row.address);
    if (address?.scheme !== "poll") return undefined;
    const sameProcess = registry.withId(address.group, row.pid)[0];
    if (sameProcess) return sameProcess;
    if (address.cast === "any" && row.kind === "execute") return registry.inGroup(address.group)[0];
    return undefined;
  }

  /** Puts undeliverable messages back in the outbox, to be routed again by the cluster's view. */
  private async requeue(rows: ForwardRow[]): Promise<void> {
    const executes = new Map<string, ForwardRow>();
    for (const row of rows) if (row.kind === "execute") executes.set(row.target_id, row);
    await inTransaction(this.deps.pool, async (client) => {
      for (const row of executes.values()) {
        const version = executeVersion(row);
        await client.query(
          `INSERT INTO outgoing_execute (task_id, version, address) VALUES ($1, $2, $3)
           ON CONFLICT (task_id) DO UPDATE SET version = excluded.version, address = excluded.address`,
          [row.target_id, version, row.address],
        );
      }
      for (const row of rows.filter((r) => r.kind === "unblock")) {
        await client.query("INSERT INTO outgoing_unblock (promise_id, address) VALUES ($1, $2) ON CONFLICT DO NOTHING", [row.target_id, row.address]);
      }
    });
    this.deps.onOutboxRows();
  }
}

/** The task version an execute row's message carries. */
function executeVersion(row: ForwardRow): number | undefined {
  const version = (JSON.parse(row.message) as { data?: { task?: { version?: unknown } } }).data?.task?.version;
  return typeof version === "number" ? version : undefined;
}
