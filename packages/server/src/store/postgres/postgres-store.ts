import pg from "pg";
import type { Logger } from "pino";
import { DatabaseOpenError } from "../open-error";
import { type Op, runAsync } from "../op";
import type { Store, Tx } from "../store";
import { isRetryable } from "./errors";
import { LATEST_SCHEMA_VERSION, MIGRATIONS } from "./migrations";
import { PostgresTx, type PostgresTxHost } from "./postgres-tx";

/** How often a transaction that conflicted with another one is run again before the error stands. */
const MAX_ATTEMPTS = 12;
/** How long the lease counts used for routing may be reused (they are a hint). */
const LEASE_COUNTS_MAX_AGE_MS = 50;
/** Any fixed number: the advisory lock that serialises schema migrations across replicas. */
const MIGRATION_LOCK = 0x7265736f;

export interface PostgresStoreOptions {
  /** Connections in the pool (the reference's default is 10). */
  poolSize?: number;
  logger?: Pick<Logger, "warn" | "error" | "debug">;
}

// bigint columns (times in ms) come back as JavaScript numbers: they are far below 2^53.
const types = {
  getTypeParser(oid: number, format?: "text" | "binary") {
    if (oid === pg.types.builtins.INT8) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format);
  },
};

/**
 * The PostgreSQL store: any number of server replicas share one database. Each transaction runs
 * on a pooled connection and locks every promise, task and schedule row it reads (postgres-tx.ts),
 * so that concurrent requests — on one replica or several — have exactly the effects they would
 * have one after the other, as on SQLite. A transaction that loses a race PostgreSQL can only end
 * with an error (two inserts of one id, a deadlock) is run again from the start.
 *
 * Why not SERIALIZABLE: it needs no locking discipline, but its predicate locks cover index pages,
 * and concurrent fulfils of neighbouring ids (job-1, job-2, … share pages) were aborted as false
 * conflicts again and again under load (12 attempts were not enough with 4 workers).
 */
export class PostgresStore implements Store, PostgresTxHost {
  readonly kind = "postgres" as const;
  outboxMayHaveRows = true;
  private leaseCache: { at: number; counts: Promise<Map<string, number>> } | undefined;
  /** Conflicts retried, for tests and metrics. */
  readonly stats = { transactions: 0, retries: 0 };

  private constructor(
    readonly pool: pg.Pool,
    /**
     * One connection of its own for reads made while a transaction holds a pooled connection
     * (lease counts): taken from the main pool, they could wait forever for a connection that
     * only the waiting transactions would give back.
     */
    private readonly sidePool: pg.Pool,
    readonly url: string,
    private readonly logger?: PostgresStoreOptions["logger"],
  ) {}

  /** Connects, checks the server answers, and brings the schema up to date. */
  static async open(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const pool = new pg.Pool({
      connectionString: url,
      max: options.poolSize ?? 10,
      types,
      // A connection that cannot be made within this time fails the request instead of hanging.
      connectionTimeoutMillis: 10_000,
      application_name: "resonate-compat",
    } as pg.PoolConfig);
    // A pooled connection that breaks while idle must not crash the process.
    pool.on("error", (error) => options.logger?.warn({ err: error }, "an idle PostgreSQL connection failed"));
    try {
      await migrate(pool, url);
    } catch (error) {
      await pool.end().catch(() => {});
      if (error instanceof DatabaseOpenError) throw error;
      throw new DatabaseOpenError(`cannot use PostgreSQL at ${redact(url)}: ${(error as Error).message}`);
    }
    const sidePool = new pg.Pool({ connectionString: url, max: 1, types, application_name: "resonate-compat-hints" } as pg.PoolConfig);
    sidePool.on("error", (error) => options.logger?.warn({ err: error }, "an idle PostgreSQL connection failed"));
    return new PostgresStore(pool, sidePool, url, options.logger);
  }

  async transact<T>(op: (tx: Tx) => Op<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const client = await this.pool.connect();
      let broken = false;
      try {
        await client.query("BEGIN ISOLATION LEVEL READ COMMITTED");
        const tx = new PostgresTx(client, this);
        const result = await runAsync(op(tx));
        await runAsync(tx.writePending());
        await client.query("COMMIT");
        this.stats.transactions++;
        return result;
      } catch (error) {
        try {
          await client.query("ROLLBACK");
        } catch {
          broken = true; // the connection itself failed: do not return it to the pool
        }
        if (!isRetryable(error) || attempt >= MAX_ATTEMPTS) throw error;
        this.stats.retries++;
        this.logger?.debug({ attempt, code: (error as { code?: string }).code }, "transaction conflicted with another; running it again");
        // A short random pause, growing with the attempts, lets the other transaction finish.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 2 ** attempt)));
      } finally {
        client.release(broken);
      }
    }
  }

  /** Lease counts per process, read outside any transaction and reused for a few ms. */
  leaseCounts(): Promise<Map<string, number>> {
    const now = performance.now();
    if (this.leaseCache && now - this.leaseCache.at < LEASE_COUNTS_MAX_AGE_MS) return this.leaseCache.counts;
    const counts = this.sidePool
      .query<{ pid: string; n: number }>("SELECT pid, count(*)::int AS n FROM tasks WHERE state = 'acquired' GROUP BY pid")
      .then((result) => new Map(result.rows.map((r) => [r.pid, r.n])))
      .catch(() => new Map<string, number>());
    this.leaseCache = { at: now, counts };
    return counts;
  }

  async ping(): Promise<boolean> {
    try {
      await this.pool.query("SELECT 1");
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.pool.end().catch(() => {}), this.sidePool.end().catch(() => {})]);
  }
}

/** Applies the migrations this database lacks, under an advisory lock (replicas may start together). */
async function migrate(pool: pg.Pool, url: string): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK]);
    try {
      await client.query("CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())");
      const { rows } = await client.query<{ v: number | null }>("SELECT max(version) AS v FROM schema_migrations");
      const current = rows[0]?.v ?? 0;
      if (current > LATEST_SCHEMA_VERSION) {
        throw new DatabaseOpenError(
          `PostgreSQL database ${redact(url)} has schema version ${current}, newer than this server supports (${LATEST_SCHEMA_VERSION}): upgrade the server`,
        );
      }
      for (const migration of MIGRATIONS) {
        if (migration.version <= current) continue;
        await client.query("BEGIN");
        try {
          await client.query(migration.sql);
          await client.query("INSERT INTO schema_migrations (version) VALUES ($1)", [migration.version]);
          await client.query("COMMIT");
        } catch (error) {
          await client.query("ROLLBACK");
          throw error;
        }
      }
    } finally {
      await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK]);
    }
  } finally {
    client.release();
  }
}

/** The URL without its password, for messages. */
export function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparsable URL)";
  }
}
