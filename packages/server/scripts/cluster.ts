// pnpm cluster: several server replicas on one PostgreSQL behind HAProxy, on this machine, in the
// foreground — to try scale-out and failover by hand. Workers and clients use the proxy's URL
// (http://127.0.0.1:8001 by default, where `pnpm worker` and `pnpm client` look). Ctrl-C stops
// everything. Without --pg-url a throwaway PostgreSQL cluster is started (its data goes with it);
// give --pg-url to use a database of yours. Needs PostgreSQL's server programs and HAProxy
// (`bash scripts/setup.sh` as root installs them on Debian/Ubuntu). See docs/scale-out.md.
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { Command, Option } from "commander";
import { type PostgresHandle, type ProxyHandle, freePort, startPostgres, startProxy } from "@resonate-compat/testkit";

const MAIN = fileURLToPath(new URL("../src/main.ts", import.meta.url));

const program = new Command()
  .name("pnpm cluster")
  .description("N server replicas on one PostgreSQL behind HAProxy, in the foreground (Ctrl-C stops all)")
  .addOption(new Option("--replicas <n>", "how many server replicas").default("2"))
  .addOption(new Option("--port <port>", "the proxy's port: point workers and clients here").default("8001"))
  .addOption(new Option("--pg-url <url>", "use this PostgreSQL database instead of a throwaway cluster").env("RESONATE_STORAGE__POSTGRES__URL"))
  .addOption(new Option("--log-level <level>", "the replicas' log level").default("info"))
  .showHelpAfterError();

interface Replica {
  name: string;
  url: string;
  child: ChildProcess;
}

async function main(): Promise<void> {
  const flags = program.parse().opts<{ replicas: string; port: string; pgUrl?: string; logLevel: string }>();
  const count = Number(flags.replicas);
  const port = Number(flags.port);
  if (!Number.isInteger(count) || count < 1 || count > 16) program.error("--replicas: a whole number from 1 to 16");
  if (!Number.isInteger(port) || port < 1 || port > 65535) program.error("--port: a port number");

  let postgres: PostgresHandle | undefined;
  let proxy: ProxyHandle | undefined;
  const replicas: Replica[] = [];
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.log("[cluster] stopping: proxy, replicas (SIGTERM), PostgreSQL");
    await proxy?.stop().catch(() => {});
    await Promise.all(replicas.map((r) => terminate(r.child)));
    await postgres?.stop().catch(() => {});
    process.exit(code);
  };
  process.on("SIGINT", () => void stop(0));
  process.on("SIGTERM", () => void stop(0));

  try {
    let database = flags.pgUrl;
    if (database === undefined) {
      postgres = await startPostgres({ serverUrl: null });
      database = postgres.url;
      console.log(`[cluster] PostgreSQL (throwaway, pid ${postgres.pid}): ${database}`);
    }
    const proxyUrl = `http://127.0.0.1:${port}`;
    for (let i = 1; i <= count; i++) {
      const replicaPort = await freePort();
      const name = `r${i}`;
      const child = spawn(process.execPath, [
        "--import", "tsx", MAIN,
        "--port", String(replicaPort),
        "--storage-type", "postgres", "--storage-postgres-url", database,
        "--replica-id", name, "--url", proxyUrl, "--log-level", flags.logLevel,
      ], { stdio: ["ignore", "pipe", "pipe"] });
      for (const stream of [child.stdout!, child.stderr!]) {
        createInterface({ input: stream }).on("line", (line) => console.log(`[${name}] ${line}`));
      }
      child.on("exit", (code, signal) => {
        if (!stopping) console.log(`[cluster] replica ${name} (pid ${child.pid}) exited (${signal ?? code}); the others go on`);
      });
      replicas.push({ name, url: `http://127.0.0.1:${replicaPort}`, child });
    }
    for (const r of replicas) await waitReady(r);
    proxy = await startProxy({ backends: replicas.map((r) => r.url), port });
    console.log(`[cluster] ready: workers and clients use ${proxyUrl} (HAProxy pid ${proxy.pid})`);
    for (const r of replicas) console.log(`[cluster]   replica ${r.name}: ${r.url}, pid ${r.child.pid} (kill -9 ${r.child.pid} to watch a failover)`);
  } catch (error) {
    console.error(`[cluster] could not start: ${(error as Error).message}`);
    await stop(1);
  }
}

async function waitReady(replica: Replica): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (replica.child.exitCode !== null) throw new Error(`replica ${replica.name} exited before it was ready`);
    try {
      if ((await fetch(`${replica.url}/ready`, { signal: AbortSignal.timeout(1000) })).status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`replica ${replica.name} not ready after 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** SIGTERM (the replica drains), then SIGKILL if it has not ended within 12 s. */
function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill("SIGKILL"), 12_000);
    child.once("exit", () => {
      clearTimeout(force);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

void main();
