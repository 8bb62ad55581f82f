import { type PostgresHandle, startPostgres } from "@resonate-compat/testkit";

// Which store the protocol tests run on: SQLite by default; RESONATE_TEST_STORE=postgres runs them
// on PostgreSQL (the vitest project "server-pg"), each server on a fresh database of a throwaway
// cluster started once per test file — or of RESONATE_TEST_PG_URL's server when that is set.

export const testStore = (): "sqlite" | "postgres" => (process.env["RESONATE_TEST_STORE"] === "postgres" ? "postgres" : "sqlite");

let postgres: Promise<PostgresHandle> | undefined;

/** The test file's PostgreSQL server (started on first use, gone when the test process ends). */
export function testPostgres(): Promise<PostgresHandle> {
  postgres ??= startPostgres({ fsync: false });
  return postgres;
}

/** Creates an empty database and returns its URL. */
export async function freshDatabase(): Promise<string> {
  return (await testPostgres()).createDatabase();
}

/** Stops the file's PostgreSQL server, if one was started (call in afterAll). */
export async function stopTestPostgres(): Promise<void> {
  const started = postgres;
  postgres = undefined;
  if (started) await (await started).stop();
}
