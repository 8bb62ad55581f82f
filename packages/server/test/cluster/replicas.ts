import { afterAll } from "vitest";
import type { StartOptions } from "../../src/index";
import { type TestServer, startTestServer } from "../helpers";
import { freshDatabase, stopTestPostgres } from "../support/postgres";

/**
 * Starts `n` server replicas (in this process) on one fresh PostgreSQL database. Each is a full
 * server with its own port, pool, streams and loops; they share nothing but the database.
 */
export async function startReplicas(n: number, options: Partial<StartOptions> = {}): Promise<TestServer[]> {
  const url = await freshDatabase();
  const replicas: TestServer[] = [];
  for (let i = 0; i < n; i++) {
    replicas.push(await startTestServer({
      storageType: "postgres",
      storagePostgresUrl: url,
      replicaId: `r${i + 1}`,
      ...options,
    }));
  }
  return replicas;
}

/** Stops the test file's PostgreSQL after its tests. */
export function usePostgres(): void {
  afterAll(async () => {
    await stopTestPostgres();
  });
}
