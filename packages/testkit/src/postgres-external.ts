import type { PostgresHandle } from "./postgres";
import { DatabaseSet } from "./postgres-databases";
import { runPsql } from "./psql";

/** RESONATE_TEST_PG_URL mode: no process of our own, only databases created on that server. */
export async function startExternalPostgres(serverUrl: string): Promise<PostgresHandle> {
  const parsed = new URL(serverUrl);
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
    throw new Error(`RESONATE_TEST_PG_URL must be a postgres:// URL, not ${parsed.protocol}//…`);
  }
  const databases = new DatabaseSet(serverUrl);
  const url = await databases.create();
  let stopping: Promise<void> | undefined;
  return {
    mode: "external",
    url,
    adminUrl: serverUrl,
    host: decodeURIComponent(parsed.hostname) || "localhost",
    port: Number(parsed.port || 5432),
    user: decodeURIComponent(parsed.username),
    database: new URL(url).pathname.slice(1),
    pid: undefined,
    dataDir: undefined,
    createDatabase: (name) => databases.create(name),
    dropDatabase: (urlOrName) => databases.drop(urlOrName),
    psql: (sql, target = url) => runPsql(target, sql),
    log: () => "",
    stop: () => (stopping ??= databases.dropAll()),
  };
}
