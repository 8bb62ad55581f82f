import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { LATEST_SCHEMA_VERSION, MIGRATIONS } from "./migrations";

import { DatabaseOpenError } from "../open-error";

export { DatabaseOpenError };

/** An open database file: the connection, and the lock that keeps other servers off it. */
export interface OpenedDatabase {
  db: Database.Database;
  /** Absent for in-memory databases. Closed after `db`. */
  lock?: Database.Database;
}

/**
 * Opens (creating if needed) the SQLite file and brings its schema up to date.
 *
 * Durability: WAL with synchronous=NORMAL. A commit survives a crash of the server process (the WAL
 * is written before the commit returns); on power loss the last transactions before the crash may
 * be lost, but the file stays consistent. Set `synchronous: "full"` to survive power loss too.
 */
export function openDatabase(path: string, options: { synchronous?: "normal" | "full" } = {}): OpenedDatabase {
  const inMemory = path === ":memory:" || path.startsWith("file:");
  let db: Database.Database | undefined;
  let lock: Database.Database | undefined;
  try {
    if (!inMemory) {
      createFolder(path);
      lock = acquireLock(path);
    }
    db = new Database(path, { timeout: 1000 });
  } catch (error) {
    lock?.close();
    if (error instanceof DatabaseOpenError) throw error;
    throw new DatabaseOpenError(`cannot open database ${path}: ${reasonFor(error)}`);
  }
  try {
    db.pragma("journal_mode = WAL");
    db.pragma(`synchronous = ${options.synchronous === "full" ? "FULL" : "NORMAL"}`);
    db.pragma("foreign_keys = ON");
    // Checkpoints run on a worker thread (checkpointer.ts). Under steady load the thread's PASSIVE
    // checkpoints never quite catch up (commits land while they fsync), so the WAL restarts only
    // after this connection's own automatic checkpoint, which then has little left to copy but still
    // stops the event loop for its fsyncs (WAL, database, new WAL header): ~13 ms. At 10,000 pages
    // (≈ 40 MB) that came every 2.8 s at 200 invocations/s, a few invocations' worth of the latency
    // tail each time; at 50,000 (≈ 200 MB, like a database server's WAL budget) every ~14 s at that
    // rate. The WAL file is cut back to 64 MB when it restarts.
    db.pragma(`wal_autocheckpoint = ${inMemory ? 1000 : 50000}`);
    db.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
    // 64 MiB of page cache instead of 2 MiB: the hot part of the tables and indexes stays in memory.
    db.pragma("cache_size = -65536");
    // Damaged pages behind an intact header would otherwise surface as 500s on every request
    // that touches them; refuse to start instead. Costs a read of the file.
    const check = db.pragma("quick_check", { simple: true });
    if (check !== "ok") throw new DatabaseOpenError(`database ${path} is corrupt (quick_check: ${String(check)})`);
    migrate(db, path);
    // SQLite opens a file it may not write read-only without a word; find out now, with a write
    // that changes nothing, rather than at the first request.
    db.pragma(`user_version = ${db.pragma("user_version", { simple: true }) as number}`);
    return lock ? { db, lock } : { db };
  } catch (error) {
    db.close();
    lock?.close();
    if (error instanceof DatabaseOpenError) throw error;
    throw new DatabaseOpenError(`cannot use database ${path}: ${reasonFor(error)}`);
  }
}

/** What an operator needs to hear about an error from opening or preparing the file. */
function reasonFor(error: unknown): string {
  const code = (error as { code?: string }).code ?? "";
  const message = (error as Error).message;
  if (code === "SQLITE_NOTADB" || code === "SQLITE_CORRUPT") return "the file is not a valid SQLite database (corrupt or another format)";
  if (code === "SQLITE_BUSY") return "the database is locked by another process (is another server running on it?)";
  const notWritable = ["EROFS", "EACCES", "EPERM"].includes(code) || ["SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_IOERR"].some((c) => code.startsWith(c));
  if (notWritable) return `the database file or its folder is not writable (read-only file system or permissions): ${message}`;
  return message;
}

/**
 * One server per database file: a second one would dispatch the same tasks. The server's own
 * connection cannot hold SQLite's exclusive locking mode (the checkpoint thread needs a second
 * connection), so the claim is a small sidecar database, `<db>-lock`, held in exclusive locking
 * mode for the life of the process; the OS drops it when the process dies, even by SIGKILL.
 */
function acquireLock(path: string): Database.Database {
  const lock = new Database(`${path}-lock`, { timeout: 0 });
  try {
    lock.pragma("locking_mode = EXCLUSIVE");
    lock.exec("BEGIN EXCLUSIVE; COMMIT;"); // in exclusive mode the lock stays after the commit
    return lock;
  } catch (error) {
    lock.close();
    throw error;
  }
}

/** Creates the folder of a database file, so that `--db ./data/test.db` works on a fresh clone. */
function createFolder(path: string): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
  } catch (error) {
    throw new DatabaseOpenError(
      `cannot create database ${path}: its folder cannot be created, the parent is not writable (read-only file system or permissions): ${(error as Error).message}`,
    );
  }
}

function migrate(db: Database.Database, path: string): void {
  const current = db.pragma("user_version", { simple: true }) as number;
  if (current > LATEST_SCHEMA_VERSION) {
    throw new DatabaseOpenError(
      `database ${path} has schema version ${current}, newer than this server supports (${LATEST_SCHEMA_VERSION}): upgrade the server`,
    );
  }
  for (const migration of MIGRATIONS) {
    if (migration.version <= current) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
    }).immediate();
  }
}
