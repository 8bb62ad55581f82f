// Several server replicas on one PostgreSQL, behind the HAProxy configuration we ship
// (deploy/haproxy/resonate.cfg), as a user would run them: each replica is a real process that a
// test can SIGKILL, and the official SDK's workers and clients know only the proxy's URL.
import { type PostgresHandle, type ProxyHandle, startPostgres, startProxy } from "@resonate-compat/testkit";
import { afterAll } from "vitest";
import { type ManagedProcess, SERVER_MAIN, ServerHandle, TSX_LOADER, type World, freePort, sleep } from "../harness.js";

let postgres: Promise<PostgresHandle> | undefined;

/** The test file's PostgreSQL (one throwaway cluster per file; a fresh database per test). */
export function usePostgres(): () => Promise<PostgresHandle> {
  afterAll(async () => {
    const started = postgres;
    postgres = undefined;
    if (started) await (await started).stop();
  });
  return () => (postgres ??= startPostgres({ fsync: false }));
}

export interface Replica {
  readonly name: string;
  readonly url: string;
  proc: ManagedProcess;
}

export interface Cluster {
  /** The proxy, as a server handle for the fixtures (they only use its URL) and for inspection calls. */
  entry: ServerHandle;
  proxy: ProxyHandle;
  replicas: Replica[];
  database: string;
  /** Runs SQL on the cluster's database; rows as "a|b" lines. */
  sql(query: string): Promise<string>;
}

/** Starts `n` replicas on a fresh database of `pg`, and HAProxy in front of them. */
export async function startCluster(
  w: World,
  pg: PostgresHandle,
  opts: { replicas?: number; extraArgs?: string[]; proxyPort?: number } = {},
): Promise<Cluster> {
  const database = await pg.createDatabase();
  const proxyPort = opts.proxyPort ?? (await freePort());
  const proxyUrl = `http://127.0.0.1:${proxyPort}`;
  const replicas: Replica[] = [];
  for (let i = 1; i <= (opts.replicas ?? 2); i++) {
    const port = await freePort();
    const name = `r${i}`;
    const args = [
      "--import", TSX_LOADER, SERVER_MAIN,
      "--host", "127.0.0.1", "--port", String(port),
      "--storage-type", "postgres", "--storage-postgres-url", database,
      "--replica-id", name, "--url", proxyUrl,
      ...(opts.extraArgs ?? []),
    ];
    const proc = w.spawnProcess(`server-${name}`, process.execPath, args);
    replicas.push({ name, url: `http://127.0.0.1:${port}`, proc });
  }
  for (const r of replicas) await waitReady(r);
  const proxy = await startProxy({ backends: replicas.map((r) => r.url), port: proxyPort });
  for (let i = 0; i < replicas.length; i++) await proxy.waitForServer(i, "UP", 10_000);
  return {
    entry: new ServerHandle(w, proxyPort, "", {}),
    proxy,
    replicas,
    database,
    sql: (query) => pg.psql(query, database),
  };
}

async function waitReady(replica: Replica): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (!replica.proc.alive) throw new Error(`replica ${replica.name} exited before becoming ready\n${replica.proc.dump()}`);
    try {
      const res = await fetch(`${replica.url}/ready`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() >= deadline) throw new Error(`replica ${replica.name} not ready after 30 s\n${replica.proc.dump()}`);
    await sleep(100);
  }
}

/** How many streams each replica holds, from the database (replica → count). */
export async function streamsPerReplica(cluster: Cluster): Promise<Record<string, number>> {
  const rows = await cluster.sql("SELECT replica, count(*) FROM streams GROUP BY replica ORDER BY replica");
  const out: Record<string, number> = {};
  for (const line of rows.split("\n").filter(Boolean)) {
    const [replica, n] = line.split("|");
    out[replica!] = Number(n);
  }
  return out;
}

