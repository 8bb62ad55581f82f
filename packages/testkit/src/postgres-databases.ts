import { randomBytes } from "node:crypto";
import { runPsql } from "./psql";

let counter = 0;

/**
 * A database name no other test, process or run picks: a shared server (RESONATE_TEST_PG_URL) may
 * serve many runs at once, and a run killed before its clean-up leaves its databases behind, all
 * recognisable by the "resonate_test_" prefix.
 */
export function uniqueDatabaseName(): string {
  counter += 1;
  return `resonate_test_${process.pid}_${counter}_${randomBytes(3).toString("hex")}`;
}

/** The same server and credentials as url, on another database. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}

/** The database a URL names (psql's default, the user's name, when it names none). */
export function databaseOf(url: string): string {
  const parsed = new URL(url);
  return decodeURIComponent(parsed.pathname.replace(/^\//, "")) || decodeURIComponent(parsed.username);
}

/**
 * Creates and drops databases through an administrative URL, and remembers what it created so
 * that stop() can drop the leftovers.
 */
export class DatabaseSet {
  readonly created = new Set<string>();

  constructor(private readonly adminUrl: string) {}

  async create(name = uniqueDatabaseName()): Promise<string> {
    // Names are put in double quotes; a name that needs escaping is more likely a mistake.
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(name)) {
      throw new Error(`database name ${JSON.stringify(name)}: use letters, digits and _ (at most 63)`);
    }
    await runPsql(this.adminUrl, `CREATE DATABASE "${name}"`);
    this.created.add(name);
    return withDatabase(this.adminUrl, name);
  }

  /** Drops a database by name or URL; its open connections are closed (FORCE, PostgreSQL 13+). */
  async drop(urlOrName: string): Promise<void> {
    const name = urlOrName.includes("://") ? databaseOf(urlOrName) : urlOrName;
    await runPsql(this.adminUrl, `DROP DATABASE IF EXISTS "${name.replaceAll('"', '""')}" WITH (FORCE)`);
    this.created.delete(name);
  }

  async dropAll(): Promise<void> {
    const failures: string[] = [];
    for (const name of [...this.created]) {
      await this.drop(name).catch((error: Error) => failures.push(error.message));
    }
    if (failures.length > 0) throw new Error(`could not drop every test database:\n${failures.join("\n")}`);
  }
}
