// Our server as child processes (Node 20, `--import tsx`) on free ports with `--log-level warn`:
// by default one server on a fresh SQLite file in the run's temp dir; with `--store postgres`, one
// or more replicas (`--replicas N`) on a fresh database of a PostgreSQL cluster the bench starts
// itself (packages/testkit), behind HAProxy when there are several.
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { type PostgresHandle, type ProxyHandle, startPostgres, startProxy } from "@resonate-compat/testkit";
import { serverHopTraceEnv } from "./hops/hop-tracing";
import { serverProgram } from "./build";
import { Child, DeadlineError, childEnv, cpuMs, sleep, treeCpuMs } from "./procs";

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      if (addr === null || typeof addr === "string") return reject(new Error("no port"));
      srv.close(() => resolve(addr.port));
    });
  });
}

/** Extra server flags for every server of the run, e.g. BENCH_SERVER_ARGS="--timeouts-interval 5000" to try a setting. */
export const EXTRA_SERVER_ARGS = (process.env.BENCH_SERVER_ARGS ?? "").split(/\s+/).filter(Boolean);

/** When set (pnpm bench --profile), servers run with V8's --cpu-prof and write their profile here on exit. */
let profileDir: string | undefined;
export function profileServersInto(dir: string | undefined): void {
  profileDir = dir;
}

export interface BenchServer {
  /** Where workers and clients connect: the server, or the proxy in front of the replicas. */
  url: string;
  /** The (first) server process. */
  child: Child;
  args: string[];
  /** CPU (ms) the server side has used so far: every replica, PostgreSQL and the proxy included. */
  cpuMs(): number;
  stop(): Promise<void>;
}

/** Where the servers of this run keep their state (pnpm bench --store, --replicas). */
export interface StoreChoice {
  store: "sqlite" | "postgres";
  /** Server replicas per run (PostgreSQL only). */
  replicas: number;
}

let storeChoice: StoreChoice = { store: "sqlite", replicas: 1 };
let postgres: Promise<PostgresHandle> | undefined;

export function useStore(choice: StoreChoice): void {
  storeChoice = choice;
}

export function currentStore(): StoreChoice {
  return storeChoice;
}

/** Stops the run's PostgreSQL, if one was started. */
export async function stopStore(): Promise<void> {
  const started = postgres;
  postgres = undefined;
  if (started) await (await started).stop();
}

/**
 * Starts the run's server — one SQLite server, or the replicas on a fresh PostgreSQL database
 * (behind HAProxy when several) — and waits until it answers. `extraArgs` are server flags.
 */
export async function startServer(dir: string, extraArgs: string[] = [], label = "server"): Promise<BenchServer> {
  if (storeChoice.store === "sqlite") return startOneServer(dir, extraArgs, label);
  // PostgreSQL with its default durability (fsync, synchronous_commit on): a commit survives power
  // loss, which is more than SQLite's synchronous=normal (the default) promises.
  postgres ??= startPostgres({ serverUrl: null, settings: { max_connections: 300 } });
  const pg = await postgres;
  const database = await pg.createDatabase();
  const n = storeChoice.replicas;
  const proxyPort = n > 1 ? await freePort() : undefined;
  const replicas: BenchServer[] = [];
  try {
    for (let i = 1; i <= n; i++) {
      const flags = ["--storage-type", "postgres", "--storage-postgres-url", database, "--replica-id", `r${i}`];
      if (proxyPort !== undefined) flags.push("--url", `http://127.0.0.1:${proxyPort}`);
      replicas.push(await startOneServer(dir, [...flags, ...extraArgs], n > 1 ? `${label}-r${i}` : label));
    }
  } catch (error) {
    await Promise.all(replicas.map((r) => r.stop()));
    throw error;
  }
  let proxy: ProxyHandle | undefined;
  if (proxyPort !== undefined) {
    proxy = await startProxy({ backends: replicas.map((r) => r.url), port: proxyPort });
    for (let i = 0; i < n; i++) await proxy.waitForServer(i, "UP", 10_000);
  }
  return {
    url: proxy?.url ?? replicas[0]!.url,
    child: replicas[0]!.child,
    args: replicas[0]!.args,
    cpuMs: () => replicas.reduce((sum, r) => sum + r.cpuMs(), 0) + treeCpuMs(pg.pid ?? -1) + (proxy ? cpuMs(proxy.pid) ?? 0 : 0),
    stop: async () => {
      await proxy?.stop();
      await Promise.all(replicas.map((r) => r.stop()));
      await pg.dropDatabase(database).catch(() => {});
    },
  };
}

/** One server process; waits for GET /ready. */
async function startOneServer(dir: string, extraArgs: string[], label: string): Promise<BenchServer> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const flags = ["--host", "127.0.0.1", "--port", String(port), "--db", path.join(dir, `${label}.db`), "--log-level", "warn", ...extraArgs, ...EXTRA_SERVER_ARGS];
    const prof = profileDir ? ["--cpu-prof", "--cpu-prof-dir", profileDir] : [];
    const child = new Child(label, process.execPath, [...prof, ...serverProgram(), ...flags], {
      env: childEnv(serverHopTraceEnv(dir, label)),
      logFile: path.join(dir, `${label}.log`),
    });
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitReady(url, child, 30_000);
      return { url, child, args: flags, cpuMs: () => cpuMs(child.pid) ?? 0, stop: () => child.stop("SIGTERM", 10_000) };
    } catch (e) {
      await child.stop("SIGKILL");
      if (attempt >= 2 || !child.dump().includes("EADDRINUSE")) throw e;
    }
  }
}

export async function waitReady(url: string, child: Child, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!child.alive) throw new Error(`server exited before becoming ready\n${child.dump()}`);
    try {
      const res = await fetch(`${url}/ready`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() >= deadline) throw new DeadlineError(`server not ready after ${timeoutMs} ms\n${child.dump()}`);
    await sleep(50);
  }
}

/**
 * The server's warnings and errors of a run, counted by message (its log is JSON lines, pino
 * levels: 40 warn, 50 error, 60 fatal). A healthy run has none; "poll stream disconnected" or
 * "message dropped" explain a bad latency figure.
 */
export function serverWarnings(dir: string, label = "server"): Record<string, number> {
  const counts: Record<string, number> = {};
  let text = "";
  try {
    // One log per server; replicas of a PostgreSQL run write <label>-r1.log, <label>-r2.log, …
    const logs = fs.readdirSync(dir).filter((f) => f === `${label}.log` || new RegExp(`^${label}-r\\d+\\.log$`).test(f));
    text = logs.map((f) => fs.readFileSync(path.join(dir, f), "utf8")).join("\n");
  } catch {
    return counts;
  }
  for (const line of text.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      const entry = JSON.parse(line) as { level?: number; msg?: string };
      if ((entry.level ?? 0) >= 40) counts[entry.msg ?? "?"] = (counts[entry.msg ?? "?"] ?? 0) + 1;
    } catch {
      // not a log line
    }
  }
  return counts;
}

export function formatWarnings(counts: Record<string, number> | undefined): string {
  if (!counts) return "–";
  const entries = Object.entries(counts);
  const short = (msg: string) => (msg.length > 40 ? `${msg.slice(0, 39)}…` : msg);
  return entries.length === 0 ? "none" : entries.map(([msg, n]) => `${n}× ${short(msg)}`).join("; ");
}
