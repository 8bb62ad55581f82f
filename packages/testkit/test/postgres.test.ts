import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { findPostgresBinaries, type PostgresHandle, startPostgres } from "../src/index";
import { findPsql } from "../src/postgres-binaries";
import { childrenOf, isAlive, waitUntilGone } from "./helpers/processes";

const REPO_ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const HOLD_SERVICES = fileURLToPath(new URL("./fixtures/hold-services.mts", import.meta.url));

async function waitUntilMissing(path: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (existsSync(path)) {
    if (Date.now() > deadline) throw new Error(`${path} still exists after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("startPostgres", () => {
  // One cluster for the tests that only need a server, as the other packages' tests should do.
  let shared: PostgresHandle;
  beforeAll(async () => {
    // serverUrl null: these tests are about the cluster, even where RESONATE_TEST_PG_URL is set.
    shared = await startPostgres({ fsync: false, serverUrl: null });
  });
  afterAll(async () => {
    await shared?.stop();
  });

  it("starts a cluster on loopback with the test settings and an empty database", async () => {
    expect(shared.mode).toBe("cluster");
    expect(shared.url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/resonate_test_\w+$/);
    expect(await shared.psql("SELECT current_database(), current_user")).toBe(`${shared.database}|postgres`);
    expect(await shared.psql("SHOW max_connections")).toBe("200");
    expect(await shared.psql("SHOW deadlock_timeout")).toBe("100ms");
    expect(await shared.psql("SHOW fsync")).toBe("off");
    expect(await shared.psql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")).toBe("0");
  });

  it("creates a fresh database per call, and drops one on request", async () => {
    const first = await shared.createDatabase();
    const second = await shared.createDatabase("named_by_the_test");
    expect(first).not.toBe(second);
    expect(second).toMatch(/\/named_by_the_test$/);
    await shared.psql("CREATE TABLE t (id int)", first);
    expect(await shared.psql("SELECT count(*) FROM pg_tables WHERE tablename = 't'", second)).toBe("0");
    await shared.dropDatabase(second);
    expect(await shared.psql("SELECT count(*) FROM pg_database WHERE datname = 'named_by_the_test'")).toBe("0");
    await expect(shared.createDatabase("bad-name; DROP")).rejects.toThrow(/letters, digits and _/);
  });

  it("stop() ends the postmaster and all its processes, and removes the folder", async () => {
    const pg = await startPostgres({ serverUrl: null });
    const pid = pg.pid!;
    // Backends, checkpointer, WAL writer, autovacuum launcher, …: all must go with it.
    const children = childrenOf(pid);
    expect(children.length).toBeGreaterThan(2);
    expect(existsSync(pg.dataDir!)).toBe(true);
    await pg.stop();
    expect(isAlive(pid)).toBe(false);
    await waitUntilGone(children, 2000);
    expect(existsSync(dirname(pg.dataDir!))).toBe(false);
    await expect(pg.psql("SELECT 1")).rejects.toThrow(/psql failed/);
    await pg.stop();
  });

  it("leaves nothing running when the process that started it is SIGKILLed", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", HOLD_SERVICES], { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "inherit"] });
    onTestFinished(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    });
    const [line] = (await once(child.stdout!, "data")) as [Buffer];
    const held = JSON.parse(line.toString("utf8")) as {
      postgres: { pid: number; dataDir: string };
      proxy: { pid: number; configFile: string };
    };
    const pids = [held.postgres.pid, ...childrenOf(held.postgres.pid), held.proxy.pid];
    expect(pids.every(isAlive)).toBe(true);

    child.kill("SIGKILL");
    await once(child, "exit");
    await waitUntilGone(pids, 10_000);
    await waitUntilMissing(dirname(held.postgres.dataDir), 5000);
    await waitUntilMissing(dirname(held.proxy.configFile), 5000);
  });

  it("does not outlive its supervisor either: a SIGKILLed supervisor takes the postmaster with it", async () => {
    const pg = await startPostgres({ serverUrl: null });
    const supervisor = parentOf(pg.pid!);
    const children = childrenOf(pg.pid!);
    process.kill(supervisor, "SIGKILL");
    await waitUntilGone([pg.pid!, ...children], 10_000);
    // The folder is then left to stop(), which removes it.
    await pg.stop();
    expect(existsSync(dirname(pg.dataDir!))).toBe(false);
  });

  it("with RESONATE_TEST_PG_URL set, starts nothing and makes a database on that server", async () => {
    const previous = process.env.RESONATE_TEST_PG_URL;
    process.env.RESONATE_TEST_PG_URL = shared.adminUrl;
    let external: PostgresHandle;
    try {
      external = await startPostgres();
    } finally {
      if (previous === undefined) delete process.env.RESONATE_TEST_PG_URL;
      else process.env.RESONATE_TEST_PG_URL = previous;
    }
    expect(external.mode).toBe("external");
    expect(external.pid).toBeUndefined();
    expect(external.dataDir).toBeUndefined();
    expect(external.port).toBe(shared.port);
    const another = await external.createDatabase();
    const names = [external.database, new URL(another).pathname.slice(1)];
    const count = `SELECT count(*) FROM pg_database WHERE datname IN ('${names.join("','")}')`;
    expect(await shared.psql(count)).toBe("2");
    expect(await external.psql("SELECT current_database()")).toBe(external.database);
    // A connection left open does not stop the drop.
    const held = spawn(findPsql()!, ["-X", "-d", external.url, "-c", "SELECT pg_sleep(30)"], { stdio: "ignore" });
    onTestFinished(() => {
      held.kill();
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await external.stop();
    expect(await shared.psql(count)).toBe("0");
  });

  it("says what to install when the server programs are missing", () => {
    expect(() => findPostgresBinaries("/nonexistent")).toThrow(/apt-get install postgresql/);
  });
});

function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
}
