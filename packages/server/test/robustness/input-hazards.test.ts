// The problems the fuzzer found, each pinned down as a deterministic test: inputs that must get a
// protocol answer (400, or success) and must never produce a 500, a crash, or a stuck server.

import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { ManualClock, startServer, type RunningServer } from "../../src/index";
import { call, envelope, health, killChildren, post, removeTempDirs, sleep, spawnServer, tempDir } from "./util";

const servers: RunningServer[] = [];
async function inProcess(options: Parameters<typeof startServer>[0] = {}): Promise<RunningServer> {
  const server = await startServer({ host: "127.0.0.1", port: 0, db: ":memory:", logLevel: "silent", ...options });
  servers.push(server);
  return server;
}
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  await killChildren();
});
afterAll(removeTempDirs);

const HOUR = 3_600_000;

describe("POST / parses the body as JSON whatever the Content-Type says (spec §2.6)", () => {
  for (const contentType of [";;;", "a/b/c", "application/json;;", "text/plain; charset=latin1", "application/x-www-form-urlencoded", "*/*"]) {
    it(`Content-Type ${JSON.stringify(contentType)} → a protocol envelope, not a framework 415`, async () => {
      const server = await inProcess();
      const res = await post(server.url, JSON.stringify(envelope("promise.get", { id: "nope" })), { "content-type": contentType });
      expect(res.status, res.text).toBe(404);
      expect(res.json?.data).toBe("Promise not found");
    });
  }
});

describe("addresses with malformed percent-encoding are invalid addresses (400), not a 500", () => {
  const bad = ["poll://any@%ZZ", "poll://any@%", "poll://any@g/%E0", "poll://uni@client/%", "poll://any@%E0%A4%A/x"];

  for (const address of bad) {
    it(`promise.create with resonate:target ${address}`, async () => {
      const server = await inProcess();
      const res = await call(server.url, "promise.create", { id: "p", timeoutAt: Date.now() + HOUR, tags: { "resonate:target": address } });
      expect(res.status, res.text).toBe(400);
      expect(res.json.data).toBe("Invalid resonate:target address");
      expect((await call(server.url, "promise.get", { id: "p" })).status).toBe(404);
    });
  }

  it("promise.register_listener, task.create and a fenced promise.create", async () => {
    const server = await inProcess();
    expect((await call(server.url, "promise.create", { id: "awaited", timeoutAt: Date.now() + HOUR })).status).toBe(200);
    const listener = await call(server.url, "promise.register_listener", { awaited: "awaited", address: "poll://uni@client/%E0" });
    expect(listener.status, listener.text).toBe(400);
    expect(listener.json.data).toBe("Invalid listener address");

    const create = await call(server.url, "task.create", {
      pid: "w1",
      ttl: 60_000,
      action: { kind: "promise.create", head: { corrId: "i", version: "2026-04-01" }, data: { id: "t", timeoutAt: Date.now() + HOUR, tags: { "resonate:target": "poll://any@%" } } },
    });
    expect(create.status, create.text).toBe(400);

    expect((await call(server.url, "promise.create", { id: "root", timeoutAt: Date.now() + HOUR, tags: { "resonate:target": "poll://any@workers" } })).status).toBe(200);
    expect((await call(server.url, "task.acquire", { id: "root", version: 0, pid: "w1", ttl: 60_000 })).status).toBe(200);
    const fence = await call(server.url, "task.fence", {
      id: "root",
      version: 1,
      action: { kind: "promise.create", head: { corrId: "i", version: "2026-04-01" }, data: { id: "root.0", timeoutAt: Date.now() + HOUR, tags: { "resonate:target": "poll://any@%ZZ" } } },
    });
    expect(fence.status, fence.text).toBe(400);
  });
});

describe("a schedule whose target has malformed percent-encoding (schedule.create does not check the address, spec §6.3.2)", () => {
  it("fires without crashing the server, now and after a restart on the same file (CLI process)", async () => {
    const db = join(tempDir("sched-"), "schedule.db");
    const first = await spawnServer(["--port", "0", "--db", db, "--log-level", "info"]);
    const created = await call(first.url, "schedule.create", {
      id: "every-second",
      cron: "* * * * * *",
      promiseId: "{{.id}}.{{.timestamp}}",
      promiseTimeout: 60_000,
      promiseTags: { "resonate:target": "poll://any@%ZZ" },
    });
    expect(created.status).toBe(200);
    await sleep(2500); // two or three firings, each queuing an execute to that address
    expect(first.exitCode(), `the server died:\n${first.lines.slice(-12).join("\n")}`).toBeUndefined();
    expect(await health(first.url)).toBe(200);
    expect(await first.stop()).toBe(0);

    // The schedule is still in the file: a restart must not crash in a loop.
    const second = await spawnServer(["--port", "0", "--db", db, "--log-level", "info"]);
    await sleep(2500);
    expect(second.exitCode(), `the restarted server died:\n${second.lines.slice(-12).join("\n")}`).toBeUndefined();
    expect(await health(second.url)).toBe(200);
    expect(await second.stop()).toBe(0);
  }, 30_000);
});

describe("ids with unpaired surrogates (valid JSON escapes, not valid Unicode)", () => {
  // SQLite receives such a string as invalid UTF-8 and hands it back with U+FFFD in its place, so
  // the row's id no longer equals the id it was written with. The reference rejects these escapes
  // while parsing JSON (400).
  const lone = "job-\uD800";

  it("are rejected with 400, or stored and read back exactly", async () => {
    const server = await inProcess();
    const created = await call(server.url, "promise.create", { id: lone, timeoutAt: Date.now() + HOUR });
    expect([200, 400], created.text).toContain(created.status);
    if (created.status === 400) return;
    const got = await call(server.url, "promise.get", { id: lone });
    expect(got.status).toBe(200);
    expect(got.json.data.promise.id, "the id read back").toBe(lone);
    const found = await call(server.url, "promise.search", { limit: 10 });
    expect(found.json.data.promises.map((p: { id: string }) => p.id)).toContain(lone);
  });

  it("task.create with such an id answers 400 or 200, never a 500", async () => {
    const server = await inProcess();
    const res = await call(server.url, "task.create", {
      pid: "w1",
      ttl: 60_000,
      action: { kind: "promise.create", head: { corrId: "i", version: "2026-04-01" }, data: { id: lone, timeoutAt: Date.now() + HOUR, tags: { "resonate:target": "poll://any@workers" } } },
    });
    expect([200, 400], res.text).toContain(res.status);
  });

  it("cannot stop the background timeout pass for everybody else", async () => {
    const T = Date.UTC(2026, 0, 1);
    const clock = new ManualClock(T);
    const server = await inProcess({ clock, timeoutsInterval: 3_600_000 }); // passes run by hand below
    // Pending with a target: its retry timeout falls due at T + 30 s (the default RETRY).
    await call(server.url, "promise.create", { id: "poison-\uDC00", timeoutAt: T + HOUR, tags: { "resonate:target": "poll://any@workers" } });
    expect((await call(server.url, "promise.create", { id: "victim", timeoutAt: T + 1000 })).status).toBe(200);
    clock.set(T + 31_000);
    await expect(server.timeouts.runOnce().then((r) => r.handled), "the timeout pass").resolves.toBeTypeOf("number");
    // Searches show the stored state (no lazy timeouts): the pass must have expired the victim.
    const pending = await call(server.url, "promise.search", { state: "pending" });
    expect(pending.json.data.promises.map((p: { id: string }) => p.id)).not.toContain("victim");
  });
});

describe("tag keys that are special in JavaScript", () => {
  it("round-trip exactly (or are refused), never silently dropped", async () => {
    const server = await inProcess();
    const tags = JSON.parse('{"__proto__":"x","constructor":"y","toString":"z","hasOwnProperty":"w"}') as Record<string, string>;
    const res = await call(server.url, "promise.create", { id: "special-tags", timeoutAt: Date.now() + HOUR, tags });
    expect([200, 400]).toContain(res.status);
    if (res.status === 400) return;
    const stored = (await call(server.url, "promise.get", { id: "special-tags" })).json.data.promise.tags;
    expect(Object.keys(stored).sort()).toEqual(["__proto__", "constructor", "hasOwnProperty", "toString"]);
  });

  it("a non-string value under __proto__ is a type error like under any other key", async () => {
    const server = await inProcess();
    const body = `{"kind":"promise.create","head":{"corrId":"c","version":"2026-04-01"},"data":{"id":"proto-obj","timeoutAt":${Date.now() + HOUR},"tags":{"__proto__":{"resonate:target":"poll://any@workers"}}}}`;
    const res = await post(server.url, body, { "content-type": "application/json" });
    expect(res.status, res.text).toBe(400);
  });
});
