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
    if (path !== ":memory:" && !path.startsWith("file:")) mkdirSync(dirname(path), { recursive: true });
    db = new Database(path, { timeout: 1000 });
  } catch (error) {
    throw new DatabaseOpenError(`cannot open database ${path}: ${(error as Error).message}`);
  }
  try {
    // One server per database file: an exclusive lock makes a second server fail at start
    // (SQLITE_BUSY) instead of two servers dispatching the same tasks.
    db.pragma("locking_mode = EXCLUSIVE");
    db.pragma("journal_mode = WAL");
    db.pragma(`synchronous = ${options.synchronous === "full" ? "FULL" : "NORMAL"}`);
    db.pragma("foreign_keys = ON");
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
          : code === "SQLITE_READONLY" || code === "SQLITE_CANTOPEN"
            ? "the database file or its folder is not writable"
            : (error as Error).message;
    throw new DatabaseOpenError(`cannot use database ${path}: ${reason}`);
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
