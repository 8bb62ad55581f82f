import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { LATEST_SCHEMA_VERSION, MIGRATIONS } from "./migrations";

/** A database problem an operator must fix; reported as one clear line, not a stack trace. */
export class DatabaseOpenError extends Error {
  override name = "DatabaseOpenError";
}

/**
 * Opens (creating if needed) the SQLite file and brings its schema up to date.
 *
 * Durability: WAL with synchronous=NORMAL. A commit survives a crash of the server process (the WAL
 * is written before the commit returns); on power loss the last transactions before the crash may
 * be lost, but the file stays consistent. Set `synchronous: "full"` to survive power loss too.
 */
export function openDatabase(path: string, options: { synchronous?: "normal" | "full" } = {}): Database.Database {
  let db: Database.Database;
  try {
    if (path !== ":memory:" && !path.startsWith("file:")) createFolder(path);
    db = new Database(path, { timeout: 1000 });
  } catch (error) {
    if (error instanceof DatabaseOpenError) throw error;
    const code = (error as { code?: string }).code ?? "";
    const reason = ["EROFS", "EACCES", "EPERM"].includes(code) || code.startsWith("SQLITE_CANTOPEN")
      ? `the file or its folder is not writable (read-only file system or permissions): ${(error as Error).message}`
      : (error as Error).message;
    throw new DatabaseOpenError(`cannot open database ${path}: ${reason}`);
  }
  try {
    // One server per database file: an exclusive lock makes a second server fail at start
    // (SQLITE_BUSY) instead of two servers dispatching the same tasks.
    db.pragma("locking_mode = EXCLUSIVE");
    db.pragma("journal_mode = WAL");
    db.pragma(`synchronous = ${options.synchronous === "full" ? "FULL" : "NORMAL"}`);
    db.pragma("foreign_keys = ON");
    // Damaged pages behind an intact header would otherwise surface as 500s on every request
    // that touches them; refuse to start instead. Costs a read of the file.
    const check = db.pragma("quick_check", { simple: true });
    if (check !== "ok") throw new DatabaseOpenError(`database ${path} is corrupt (quick_check: ${String(check)})`);
    migrate(db, path);
    return db;
  } catch (error) {
    db.close();
    if (error instanceof DatabaseOpenError) throw error;
    const code = (error as { code?: string }).code ?? "";
    const reason =
      code === "SQLITE_NOTADB" || code === "SQLITE_CORRUPT"
        ? "the file is not a valid SQLite database (corrupt or another format)"
        : code === "SQLITE_BUSY"
          ? "the database is locked by another process (is another server running on it?)"
          : code.startsWith("SQLITE_READONLY") || code.startsWith("SQLITE_CANTOPEN") || code.startsWith("SQLITE_IOERR")
            ? `the database file or its folder is not writable (read-only file system or permissions): ${(error as Error).message}`
            : (error as Error).message;
    throw new DatabaseOpenError(`cannot use database ${path}: ${reason}`);
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
