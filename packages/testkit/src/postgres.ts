import { startExternalPostgres } from "./postgres-external";
import { startPostgresCluster } from "./postgres-cluster";

export interface StartPostgresOptions {
  /**
   * Use this server instead of starting one: the handle's databases are created on it and dropped
   * by stop(). Defaults to the environment variable RESONATE_TEST_PG_URL; the URL must be allowed
   * to CREATE DATABASE. null starts a cluster even when RESONATE_TEST_PG_URL is set (for tests of
   * the cluster itself).
   */
  serverUrl?: string | null;
  /**
   * fsync, synchronous_commit and full_page_writes (default true: a commit waits for the disk, as
   * in production, so timings mean something). false is faster for tests that only check logic.
   */
  fsync?: boolean;
  /** max_connections (default 200: several replicas with pools of 10, plus the tests' own). */
  maxConnections?: number;
  /** shared_buffers (default "32MB": test databases are small). */
  sharedBuffers?: string;
  /** deadlock_timeout (default "100ms", PostgreSQL's is 1s: tests that provoke deadlocks finish sooner). */
  deadlockTimeout?: string;
  /** Any other server settings, passed as `postgres -c name=value`; they win over the above. */
  settings?: Record<string, string | number | boolean>;
  /** The folder holding initdb and postgres (default: found; see findPostgresBinaries). */
  binDir?: string;
  /** The OS user the cluster runs as when this process is root, which PostgreSQL refuses (default "postgres"). */
  osUser?: string;
  /** How long to wait for the server to accept connections, in ms (default 30000). */
  startTimeoutMs?: number;
}

export interface PostgresHandle {
  /** "cluster": a throwaway cluster started for this handle; "external": RESONATE_TEST_PG_URL's server. */
  readonly mode: "cluster" | "external";
  /** URL of an empty database made for the caller (e.g. postgres://postgres@127.0.0.1:41234/resonate_test_…). */
  readonly url: string;
  /** URL of the server's administrative database (the cluster's "postgres", or RESONATE_TEST_PG_URL). */
  readonly adminUrl: string;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** The name of url's database. */
  readonly database: string;
  /** The postmaster's pid (cluster mode). */
  readonly pid: number | undefined;
  /** The cluster's data folder, removed by stop() (cluster mode). */
  readonly dataDir: string | undefined;
  /** Creates an empty database (a unique name unless one is given) and returns its URL. */
  createDatabase(name?: string): Promise<string>;
  /** Drops a database, by URL or name, closing its connections first. */
  dropDatabase(urlOrName: string): Promise<void>;
  /** Runs SQL through psql on url's database (or on the URL given); returns rows as "a|b" lines. */
  psql(sql: string, url?: string): Promise<string>;
  /** The server's last log lines (cluster mode; empty otherwise). */
  log(): string;
  /**
   * Cluster mode: stops the server (immediate shutdown) and removes its folder. External mode:
   * drops every database this handle created. Safe to call twice.
   */
  stop(): Promise<void>;
}

/**
 * A PostgreSQL database for a test: by default a throwaway cluster (initdb in a fresh temp folder,
 * postgres on a free loopback port, trust authentication, user "postgres"), gone after stop() and
 * also when the calling process dies without calling it. With RESONATE_TEST_PG_URL set, nothing is
 * started: a uniquely named database is created on that server instead.
 *
 * Starting a cluster takes a second or two: start one per test file and call createDatabase() for
 * each test that needs a clean database.
 */
export function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresHandle> {
  const serverUrl = options.serverUrl === undefined ? process.env.RESONATE_TEST_PG_URL : options.serverUrl;
  return serverUrl ? startExternalPostgres(serverUrl) : startPostgresCluster(options);
}
