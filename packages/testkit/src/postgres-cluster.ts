import { execFile, execFileSync } from "node:child_process";
import { chown, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./free-port";
import { findPostgresBinaries, type PostgresBinaries } from "./postgres-binaries";
import type { PostgresHandle, StartPostgresOptions } from "./postgres";
import { DatabaseSet } from "./postgres-databases";
import { runPsql } from "./psql";
import { type Supervised, supervise } from "./supervise";

const HOST = "127.0.0.1";
const USER = "postgres";
const READY_LINE = "database system is ready to accept connections";
/** Another process can take the free port between our probe and postgres binding it. */
const PORT_ATTEMPTS = 3;

/** A throwaway cluster: initdb in a fresh temp folder, postgres on a free loopback port. */
export async function startPostgresCluster(options: StartPostgresOptions): Promise<PostgresHandle> {
  const binaries = findPostgresBinaries(options.binDir);
  const runAs = process.getuid?.() === 0 ? osUserIds(options.osUser ?? "postgres") : undefined;
  for (let attempt = 1; ; attempt++) {
    const started = await startOnce(binaries, runAs, options);
    if (started !== "port-taken") return started;
    if (attempt === PORT_ATTEMPTS) throw new Error(`postgres found its port taken ${PORT_ATTEMPTS} times in a row`);
  }
}

async function startOnce(
  binaries: PostgresBinaries,
  runAs: { uid: number; gid: number } | undefined,
  options: StartPostgresOptions,
): Promise<PostgresHandle | "port-taken"> {
  const folder = await mkdtemp(join(tmpdir(), "resonate-pg-"));
  const dataDir = join(folder, "data");
  let service: Supervised | undefined;
  try {
    // initdb and postgres run as the cluster's owner, who must be able to write here.
    if (runAs) await chown(folder, runAs.uid, runAs.gid);
    await initdb(binaries, dataDir, folder, runAs);
    const port = await freePort(HOST);
    service = await supervise({
      command: binaries.postgres,
      args: ["-D", dataDir, ...serverSettings(port, options)],
      // SIGQUIT is an immediate shutdown: no checkpoint, the folder is deleted next anyway.
      stopSignal: "SIGQUIT",
      graceSeconds: 10,
      removeFolder: folder,
      cwd: folder,
      runAs,
    });
    const outcome = await waitUntilReady(service, options.startTimeoutMs ?? 30_000);
    if (outcome !== "ready") {
      await service.stop();
      if (outcome === "port-taken") return "port-taken";
      throw new Error(`postgres did not start (${outcome}). Its log:\n${service.output()}`);
    }
    const adminUrl = `postgres://${USER}@${HOST}:${port}/postgres`;
    const databases = new DatabaseSet(adminUrl);
    const url = await databases.create();
    // A forgotten stop() must not keep the process alive; the cluster then ends with the process.
    service.unref();
    const running = service;
    return {
      mode: "cluster",
      url,
      adminUrl,
      host: HOST,
      port,
      user: USER,
      database: new URL(url).pathname.slice(1),
      pid: running.pid,
      dataDir,
      createDatabase: (name) => databases.create(name),
      dropDatabase: (urlOrName) => databases.drop(urlOrName),
      psql: (sql, target = url) => runPsql(target, sql),
      log: () => running.output(),
      stop: () => running.stop(),
    };
  } catch (error) {
    if (service) await service.stop();
    await rm(folder, { recursive: true, force: true });
    throw error;
  }
}

function serverSettings(port: number, options: StartPostgresOptions): string[] {
  const durable = options.fsync ?? true;
  const settings: Record<string, string | number | boolean> = {
    listen_addresses: HOST,
    port,
    // TCP only: no socket file in a shared folder such as /var/run/postgresql.
    unix_socket_directories: "",
    max_connections: options.maxConnections ?? 200,
    shared_buffers: options.sharedBuffers ?? "32MB",
    deadlock_timeout: options.deadlockTimeout ?? "100ms",
    fsync: durable,
    synchronous_commit: durable,
    full_page_writes: durable,
    // Compiling a query plan to machine code costs more than short test queries save.
    jit: false,
    // The readiness check reads the log: keep its messages in English.
    lc_messages: "C",
    ...options.settings,
  };
  return Object.entries(settings).flatMap(([name, value]) => [
    "-c",
    `${name}=${typeof value === "boolean" ? (value ? "on" : "off") : value}`,
  ]);
}

function initdb(
  binaries: PostgresBinaries,
  dataDir: string,
  cwd: string,
  runAs: { uid: number; gid: number } | undefined,
): Promise<void> {
  // --no-sync: a throwaway cluster need not be flushed to disk (saves most of initdb's time).
  const args = ["-D", dataDir, "-U", USER, "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"];
  const [command, commandArgs] = runAs
    ? ["setpriv", [`--reuid=${runAs.uid}`, `--regid=${runAs.gid}`, "--clear-groups", "--pdeathsig=KILL", "--", binaries.initdb, ...args]]
    : [binaries.initdb, args];
  return new Promise((resolve, reject) => {
    execFile(command, commandArgs, { cwd, timeout: 120_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`initdb failed: ${error.message}\n${stdout}${stderr}`));
      else resolve();
    });
  });
}

function waitUntilReady(service: Supervised, timeoutMs: number): Promise<"ready" | "port-taken" | string> {
  return new Promise((resolve) => {
    const finish = (outcome: string) => {
      clearTimeout(timer);
      unsubscribe();
      resolve(outcome);
    };
    const timer = setTimeout(() => finish(`not ready after ${timeoutMs} ms`), timeoutMs);
    const unsubscribe = service.onLine((line) => {
      if (line.includes(READY_LINE)) finish("ready");
    });
    // The line may have come before we listened.
    if (service.output().includes(READY_LINE)) finish("ready");
    void service.exited.then((status) => {
      finish(/Address already in use/.test(service.output()) ? "port-taken" : `exited with status ${status}`);
    });
  });
}

/** The uid and gid of the OS user a root process runs the cluster as. */
function osUserIds(user: string): { uid: number; gid: number } {
  try {
    const id = (flag: string) => Number(execFileSync("id", [flag, user], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim());
    return { uid: id("-u"), gid: id("-g") };
  } catch {
    throw new Error(
      `This process runs as root, which PostgreSQL refuses, and there is no OS user "${user}" to run the ` +
        "test cluster as. Create one (`useradd --system --user-group postgres`; Debian's postgresql package does), " +
        "pass { osUser }, or run the tests as a regular user.",
    );
  }
}
