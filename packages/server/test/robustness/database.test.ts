// Item 7 of "Reliability and security": the CLI on databases it cannot or must not use — corrupt,
// locked by another server, read-only, written by a newer server — exits non-zero with ONE clear
// log line and no stack trace; a fresh file gets the latest schema; restarts keep the data.

import { spawnSync } from "node:child_process";
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, statSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { LATEST_SCHEMA_VERSION } from "../../src/store/sqlite/migrations";
import { type ChildServer, type SpawnOptions, call, killChildren, removeTempDirs, spawnServer, tempDir, waitExit } from "./util";

afterEach(killChildren);
afterAll(removeTempDirs);

/** Starts the CLI on `db` and expects it to refuse: returns its single fatal log line. */
async function expectRefusal(db: string, extra: string[] = [], wrap?: SpawnOptions["wrap"]): Promise<{ line: string; msg: string; server: ChildServer }> {
  const server = await spawnServer(["--port", "0", "--db", db, ...extra], { waitListening: false, ...(wrap && { wrap }) });
  // A server that starts anyway must not hang the test: stop it once it says it listens.
  const started = (async () => {
    for (let i = 0; i < 400 && server.exitCode() === undefined; i++) {
      if (server.logs().some((l) => l.msg === "server listening")) return true;
      await new Promise((r) => setTimeout(r, 25));
    }
    return false;
  })();
  if (await started) {
    await server.stop();
    throw new Error(`the server started on ${db} instead of refusing it:\n${server.output()}`);
  }
  const code = await waitExit(server);
  const lines = server.lines.filter((l) => l.trim() !== "");
  expect(code, `exit code; output:\n${server.output()}`).not.toBe(0);
  expect(lines, "exactly one line of output").toHaveLength(1);
  const line = lines[0]!;
  expect(line).not.toMatch(/\n\s+at |    at [\w.<]+ \(/);
  const parsed = JSON.parse(line) as { level: number; msg: string; err?: unknown };
  expect(parsed.level, "a fatal log record").toBe(60);
  expect(parsed.err, "no error object (it would carry a stack)").toBeUndefined();
  console.log(`[db] exit ${code}: ${parsed.msg}`);
  expect(parsed.msg).toContain(db);
  return { line, msg: parsed.msg, server };
}

/** A database made by the server itself (once per file), with some rows, then closed. */
let template = "";
beforeAll(async () => {
  template = join(tempDir("db-template-"), "template.db");
  const server = await spawnServer(["--port", "0", "--db", template, "--log-level", "info"]);
  await Promise.all(
    Array.from({ length: 4 }, async (_, worker) => {
      for (let i = worker; i < 200; i += 4) {
        const res = await call(server.url, "promise.create", { id: `p${i}-${"x".repeat(300)}`, timeoutAt: Date.now() + 3_600_000, tags: { "resonate:target": "poll://any@workers" } });
        expect(res.status).toBe(200);
      }
    }),
  );
  expect(await server.stop()).toBe(0);
}, 30_000);

/** A copy of the template database at `path` (with its WAL, if a checkpoint left one). */
function populatedDatabase(path: string): void {
  for (const suffix of ["", "-wal", "-shm"]) if (existsSync(template + suffix)) copyFileSync(template + suffix, path + suffix);
}

const canUnshare = (() => {
  try {
    return spawnSync("unshare", ["-m", "--propagation", "private", "true"]).status === 0 && spawnSync("mount", ["--version"]).status === 0;
  } catch {
    return false;
  }
})();

/** Runs the server in a private mount namespace where `target` is bind-mounted read-only. */
const readOnlyMount = (target: string) => (argv: string[]) => ({
  command: "unshare",
  args: ["-m", "--propagation", "private", "sh", "-c", `mount --bind -o ro "$0" "$0" && exec "$@"`, target, ...argv],
});

describe("refusing a database it cannot use", () => {
  it("a file of random bytes", async () => {
    const db = join(tempDir("db-"), "random.db");
    writeFileSync(db, Buffer.from(Array.from({ length: 8192 }, (_, i) => (i * 7919 + 13) % 256)));
    const { msg } = await expectRefusal(db);
    expect(msg).toMatch(/not a valid SQLite database|corrupt/i);
  });

  it("a text file", async () => {
    const db = join(tempDir("db-"), "notes.db");
    writeFileSync(db, "these are not the pages you are looking for\n".repeat(100));
    const { msg } = await expectRefusal(db);
    expect(msg).toMatch(/not a valid SQLite database|corrupt/i);
  });

  it("a SQLite header followed by garbage", async () => {
    const db = join(tempDir("db-"), "header.db");
    writeFileSync(db, Buffer.concat([Buffer.from("SQLite format 3\0"), Buffer.alloc(4096, 0xa5)]));
    const { msg } = await expectRefusal(db);
    expect(msg).toMatch(/not a valid SQLite database|corrupt/i);
  });

  it("a real database whose data pages were overwritten (header and schema intact)", async () => {
    const db = join(tempDir("db-"), "pages.db");
    populatedDatabase(db);
    const pages = statSync(db).size / 4096;
    expect(pages).toBeGreaterThan(30);
    // Overwrite pages 25… (table and index b-tree pages of the rows above), keep pages 1–24.
    const fd = openSync(db, "r+");
    const junk = Buffer.alloc(4096);
    for (let page = 25; page < pages; page++) {
      for (let i = 0; i < junk.length; i++) junk[i] = (page * 31 + i * 17) % 256;
      writeSync(fd, junk, 0, junk.length, page * 4096);
    }
    closeSync(fd);
    const check = new Database(db, { readonly: true });
    expect(check.pragma("quick_check", { simple: true })).not.toBe("ok");
    check.close();
    // Starting would answer 500 "database disk image is malformed" to requests while /ready says 200.
    const { msg } = await expectRefusal(db);
    expect(msg).toMatch(/corrupt|malformed|integrity/i);
  });

  it("a file locked by another running server", async () => {
    const db = join(tempDir("db-"), "shared.db");
    const first = await spawnServer(["--port", "0", "--db", db, "--log-level", "info"]);
    const { msg } = await expectRefusal(db);
    expect(msg).toMatch(/locked|another/i);
    // The first server is unaffected.
    expect((await call(first.url, "promise.create", { id: "still-mine", timeoutAt: Date.now() + 60_000 })).status).toBe(200);
    expect(await first.stop()).toBe(0);
  });

  it("a directory given as the database path", async () => {
    const dir = join(tempDir("db-"), "a-directory");
    mkdirSync(dir);
    await expectRefusal(dir);
  });

  it("a database written by a newer server (user_version above the latest migration)", async () => {
    const db = join(tempDir("db-"), "newer.db");
    populatedDatabase(db);
    const handle = new Database(db);
    handle.pragma(`user_version = ${LATEST_SCHEMA_VERSION + 1}`);
    handle.close();
    const { msg } = await expectRefusal(db);
    expect(msg).toMatch(/newer|upgrade/i);
    expect(msg).toContain(String(LATEST_SCHEMA_VERSION + 1));
    // Refusing must not have touched it.
    const after = new Database(db, { readonly: true });
    expect(after.pragma("user_version", { simple: true })).toBe(LATEST_SCHEMA_VERSION + 1);
    after.close();
  });

  // Tests run as root, so chmod does not stop writes; a read-only bind mount in a private mount
  // namespace does (and disappears with the process).
  describe.runIf(canUnshare)("read-only storage (read-only bind mount, private mount namespace)", () => {
    it("an existing database in a read-only directory", async () => {
      const dir = tempDir("db-ro-");
      const db = join(dir, "existing.db");
      populatedDatabase(db);
      const { msg } = await expectRefusal(db, [], readOnlyMount(dir));
      expect(msg, "names the cause").toMatch(/not writable|read-only|readonly/i);
    });

    it("a new database in a read-only directory", async () => {
      const dir = tempDir("db-ro-");
      const { msg } = await expectRefusal(join(dir, "new.db"), [], readOnlyMount(dir));
      expect(msg, "names the cause").toMatch(/not writable|read-only|readonly/i);
    });

    it("a new database in a missing folder under a read-only directory", async () => {
      const dir = tempDir("db-ro-");
      const { msg } = await expectRefusal(join(dir, "sub", "new.db"), [], readOnlyMount(dir));
      expect(msg, "names the cause").toMatch(/not writable|read-only|readonly/i);
    });

    it("a read-only database file in a writable directory", async () => {
      const dir = tempDir("db-ro-");
      const db = join(dir, "file.db");
      populatedDatabase(db);
      const { msg } = await expectRefusal(db, [], readOnlyMount(db));
      expect(msg, "names the cause").toMatch(/not writable|read-only|readonly/i);
    });
  });
});

describe("schema and durability", () => {
  it("creates a fresh file (and its missing folders) at the latest schema version", async () => {
    const db = join(tempDir("db-"), "nested", "deeper", "fresh.db");
    const server = await spawnServer(["--port", "0", "--db", db, "--log-level", "info"]);
    expect(await server.stop()).toBe(0);
    const handle = new Database(db, { readonly: true });
    expect(handle.pragma("user_version", { simple: true })).toBe(LATEST_SCHEMA_VERSION);
    expect(handle.pragma("integrity_check", { simple: true })).toBe("ok");
    const tables = (handle.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((t) => t.name);
    expect(tables).toEqual(expect.arrayContaining(["promises", "tasks", "callbacks", "listeners", "outgoing_execute", "outgoing_unblock", "schedules"]));
    handle.close();
  });

  it("accepts an empty (0-byte) file as a new database", async () => {
    const db = join(tempDir("db-"), "empty.db");
    writeFileSync(db, "");
    const server = await spawnServer(["--port", "0", "--db", db, "--log-level", "info"]);
    expect((await call(server.url, "promise.create", { id: "in-empty", timeoutAt: Date.now() + 60_000 })).status).toBe(200);
    expect(await server.stop()).toBe(0);
    const handle = new Database(db, { readonly: true });
    expect(handle.pragma("user_version", { simple: true })).toBe(LATEST_SCHEMA_VERSION);
    handle.close();
  });

  it("keeps promises, tasks, listeners and schedules across a graceful restart", async () => {
    const db = join(tempDir("db-"), "restart.db");
    const first = await spawnServer(["--port", "0", "--db", db, "--log-level", "info"]);
    const deadline = Date.now() + 3_600_000;
    const created = await call(first.url, "promise.create", { id: "job-1", timeoutAt: deadline, param: { headers: { a: "b" }, data: "e30=" }, tags: { "resonate:target": "poll://any@workers" } });
    expect(created.status).toBe(200);
    const acquired = await call(first.url, "task.acquire", { id: "job-1", version: 0, pid: "w1", ttl: 600_000 });
    expect(acquired.status).toBe(200);
    expect((await call(first.url, "promise.create", { id: "plain", timeoutAt: deadline })).status).toBe(200);
    expect((await call(first.url, "promise.register_listener", { awaited: "plain", address: "poll://uni@client/c1" })).status).toBe(200);
    const schedule = await call(first.url, "schedule.create", { id: "nightly", cron: "0 2 * * *", promiseId: "{{.id}}.{{.timestamp}}", promiseTimeout: 60_000, promiseTags: { "resonate:target": "poll://any@workers" } });
    expect(schedule.status).toBe(200);
    expect(await first.stop()).toBe(0);
    const between = new Database(db, { readonly: true });
    expect(between.prepare("SELECT promise_id, address FROM listeners").all()).toEqual([{ promise_id: "plain", address: "poll://uni@client/c1" }]);
    between.close();

    const second = await spawnServer(["--port", "0", "--db", db, "--log-level", "info"]);
    const promise = await call(second.url, "promise.get", { id: "job-1" });
    expect(promise.json.data.promise).toEqual(created.json.data.promise);
    const task = await call(second.url, "task.get", { id: "job-1" });
    expect(task.json.data.task).toMatchObject({ id: "job-1", state: "acquired", version: 1, pid: "w1", ttl: 600_000 });
    expect((await call(second.url, "schedule.get", { id: "nightly" })).json.data.schedule).toEqual(schedule.json.data.schedule);
    expect((await call(second.url, "promise.settle", { id: "plain", state: "resolved" })).status).toBe(200);
    expect(await second.stop()).toBe(0);
  });

  it("keeps every acknowledged write when the process is killed (SIGKILL) and restarted", async () => {
    const db = join(tempDir("db-"), "crash.db");
    const first = await spawnServer(["--port", "0", "--db", db, "--log-level", "info"]);
    for (let i = 0; i < 100; i++) {
      expect((await call(first.url, "promise.create", { id: `c${i}`, timeoutAt: Date.now() + 3_600_000 })).status).toBe(200);
    }
    first.proc.kill("SIGKILL");
    await waitExit(first);

    const second = await spawnServer(["--port", "0", "--db", db, "--log-level", "info"]);
    const page = await call(second.url, "promise.search", { limit: 1000 });
    expect(page.json.data.promises.map((p: { id: string }) => p.id).sort()).toEqual(Array.from({ length: 100 }, (_, i) => `c${i}`).sort());
    expect(await second.stop()).toBe(0);
    const handle = new Database(db, { readonly: true });
    expect(handle.pragma("integrity_check", { simple: true })).toBe("ok");
    handle.close();
  });
});
