// Spec §15.3 (promises) and §15.4 (search), deterministic: loops paused, time fixed per request.

import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  R,
  T,
  W,
  createData,
  drainOutbox,
  executes,
  promiseOf,
  taskOf,
  unblocks,
  type TestServer,
  useSharedDebugServer,
} from "./helpers";

const ts = useSharedDebugServer();

/** A request at time `time` (default T). */
const c = (kind: string, data: unknown, time = T) => ts.callAt(time, kind, data);

describe("§15.3 promises", () => {
  it("17: promise.get of an unknown id → 404 'Promise not found'", async () => {
    const res = await c("promise.get", { id: "nope" });
    expect(res.status).toBe(404);
    expect(res.data).toBe("Promise not found");
  });

  it("18: create → pending record with {} param/value/tags, createdAt = now, no settledAt; no task", async () => {
    const res = await c("promise.create", { id: "p1", timeoutAt: T + 60_000 });
    expect(res.status).toBe(200);
    expect(res.data.promise).toStrictEqual({
      id: "p1",
      state: "pending",
      param: {},
      value: {},
      tags: {},
      timeoutAt: T + 60_000,
      createdAt: T,
    });
    expect(res.text).not.toContain("settledAt");
    expect((await c("task.get", { id: "p1" })).status).toBe(404);
    const got = await c("promise.get", { id: "p1" });
    expect(got.data.promise).toStrictEqual(res.data.promise);
  });

  it("19: presence of Value fields is preserved, nothing is ever null", async () => {
    const a = await c("promise.create", createData("pa", T + 60_000, {}, { param: { data: "YQ==" } }));
    expect(a.data.promise.param).toStrictEqual({ data: "YQ==" });
    const b = await c("promise.create", createData("pb", T + 60_000, {}, { param: { headers: {} } }));
    expect(b.data.promise.param).toStrictEqual({ headers: {} });
    const both = await c("promise.create", createData("pc", T + 60_000, {}, { param: { headers: { k: "v" }, data: "eA==" } }));
    expect(both.data.promise.param).toStrictEqual({ headers: { k: "v" }, data: "eA==" });
    const settled = await c("promise.settle", { id: "pa", state: "resolved", value: { headers: {} } }, T + 1);
    expect(settled.data.promise.value).toStrictEqual({ headers: {} });
    for (const id of ["pa", "pb", "pc"]) {
      const got = await c("promise.get", { id }, T + 2);
      expect(got.text).not.toContain("null");
    }
    expect((await c("promise.get", { id: "pb" }, T + 2)).data.promise.param).toStrictEqual({ headers: {} });
  });

  it("20: re-create with different timeoutAt/param/tags → 200 with the original record, unchanged", async () => {
    const first = await c("promise.create", createData("p1", T + 60_000, { a: "1" }, { param: { data: "YQ==" } }));
    const second = await c("promise.create", createData("p1", T + 99_000, { b: "2" }, { param: { data: "Yg==" } }), T + 5);
    expect(second.status).toBe(200);
    expect(second.data.promise).toStrictEqual(first.data.promise);
    // Same after it settled: still 200, never 409.
    await c("promise.settle", { id: "p1", state: "rejected" }, T + 6);
    const third = await c("promise.create", createData("p1", T + 99_000), T + 7);
    expect(third.status).toBe(200);
    expect(third.data.promise.state).toBe("rejected");
  });

  it("21: created with timeoutAt ≤ now → rejected_timedout, createdAt = settledAt = timeoutAt", async () => {
    const atDeadline = await c("promise.create", createData("p2", T));
    expect(atDeadline.status).toBe(200);
    expect(atDeadline.data.promise).toMatchObject({ state: "rejected_timedout", createdAt: T, settledAt: T, value: {} });
    const past = await c("promise.create", createData("p2b", T - 1));
    expect(past.data.promise).toMatchObject({ state: "rejected_timedout", createdAt: T - 1, settledAt: T - 1 });
    const snap = await ts.snap();
    expect(snap.promiseTimeouts).toEqual([]);
  });

  it("22: already-expired timer → resolved with value {}; only the exact string 'true' counts", async () => {
    const timer = await c("promise.create", createData("tm", T, { "resonate:timer": "true" }));
    expect(timer.data.promise).toMatchObject({ state: "resolved", value: {}, settledAt: T, createdAt: T });
    const upper = await c("promise.create", createData("tm2", T, { "resonate:timer": "TRUE" }));
    expect(upper.data.promise.state).toBe("rejected_timedout");
  });

  it("23: validation 400s", async () => {
    const bad: [string, unknown, string?][] = [
      ["empty id", { id: "", timeoutAt: T + 1 }, "Promise ID is required"],
      ["NUL in id", { id: "a\u0000b", timeoutAt: T + 1 }, "Promise ID must not contain null bytes"],
      ["negative timeoutAt", { id: "x", timeoutAt: -1 }, "TimeoutAt must be a non-negative integer"],
      ["string timeoutAt", { id: "x", timeoutAt: "5" }],
      ["float timeoutAt", { id: "x", timeoutAt: 1.5 }],
      ["missing timeoutAt", { id: "x" }],
      ["missing id", { timeoutAt: T + 1 }],
      ["non-string tag value", { id: "x", timeoutAt: T + 1, tags: { k: 1 } }],
      ["non-string param.data", { id: "x", timeoutAt: T + 1, param: { data: 5 } }],
      ["non-object param.headers", { id: "x", timeoutAt: T + 1, param: { headers: "h" } }],
    ];
    for (const [what, data, message] of bad) {
      const res = await c("promise.create", data);
      expect(res.status, what).toBe(400);
      expect(typeof res.data, what).toBe("string");
      if (message) expect(res.data, what).toBe(message);
    }
    expect((await ts.snap()).promises).toEqual([]);
  });

  it("24: resonate:target address syntax", async () => {
    for (const target of ["workers", "ftp://h/x", "poll://bob@workers", "poll://any@", "", "poll://any:pw@workers"]) {
      const res = await c("promise.create", createData(`bad-${target}`, T + 60_000, { "resonate:target": target }));
      expect(res.status, target).toBe(400);
      expect(res.data, target).toBe("Invalid resonate:target address");
    }
    const valid = [
      "poll://any@workers",
      "poll://uni@client/c1",
      "http://localhost:9999/hook",
      "https://example.com/x",
      "poll://any@workers/w1",
      "poll://uni@client",
      "poll://any@workers/",
    ];
    for (const [i, target] of valid.entries()) {
      const res = await c("promise.create", createData(`ok-${i}`, T + 60_000, { "resonate:target": target }));
      expect(res.status, target).toBe(200);
    }
  });

  it("24b: gcps:// and bash:// targets are valid (spec §4.4, C9)", async () => {
    const gcps = await c("promise.create", createData("g", T + 60_000, { "resonate:target": "gcps://project/topic" }));
    expect(gcps.status).toBe(200);
    const bash = await c("promise.create", createData("b", T + 60_000, { "resonate:target": "bash://script" }));
    expect(bash.status).toBe(200);
  });

  it("25: create with target → pending task v0, promise timeout, retry timeout at T+R, queued execute(t1, 0)", async () => {
    const res = await c("promise.create", createData("t1", T + 60_000, { "resonate:target": W }));
    expect(res.status).toBe(200);
    const task = await c("task.get", { id: "t1" });
    expect(task.status).toBe(200);
    expect(task.data.task).toStrictEqual({ id: "t1", state: "pending", version: 0, resumes: 0 });
    const snap = await ts.snap();
    expect(snap.promiseTimeouts).toEqual([{ id: "t1", timeout: T + 60_000 }]);
    expect(snap.taskTimeouts).toEqual([{ id: "t1", type: 0, timeout: T + R }]);
    expect(snap.messages).toEqual([
      { address: W, message: { kind: "execute", head: {}, data: { task: { id: "t1", version: 0 } } } },
    ]);
  });

  it("26: create with target already expired → fulfilled task v0, no timeouts, no messages", async () => {
    const res = await c("promise.create", createData("t1", T, { "resonate:target": W }));
    expect(res.data.promise.state).toBe("rejected_timedout");
    const task = await c("task.get", { id: "t1" });
    expect(task.data.task).toStrictEqual({ id: "t1", state: "fulfilled", version: 0, resumes: 0 });
    const snap = await ts.snap();
    expect(snap.promiseTimeouts).toEqual([]);
    expect(snap.taskTimeouts).toEqual([]);
    expect(snap.messages).toEqual([]);
  });

  it("27/28: settle → resolved with the value and settledAt = now; settling again changes nothing", async () => {
    await c("promise.create", createData("p1", T + 60_000));
    const value = { headers: { h: "1" }, data: "eA==" };
    const res = await c("promise.settle", { id: "p1", state: "resolved", value }, T + 5);
    expect(res.status).toBe(200);
    expect(res.data.promise).toStrictEqual({
      id: "p1",
      state: "resolved",
      param: {},
      value,
      tags: {},
      timeoutAt: T + 60_000,
      createdAt: T,
      settledAt: T + 5,
    });
    const again = await c("promise.settle", { id: "p1", state: "rejected", value: { data: "eQ==" } }, T + 9);
    expect(again.status).toBe(200);
    expect(again.data.promise).toStrictEqual(res.data.promise);
    expect((await ts.snap()).promiseTimeouts).toEqual([]);
  });

  it("29: settle unknown → 404; state rejected_timedout/pending/other → 400; value omitted → {}", async () => {
    const unknown = await c("promise.settle", { id: "nope", state: "resolved" });
    expect(unknown.status).toBe(404);
    expect(unknown.data).toBe("Promise not found");
    await c("promise.create", createData("p1", T + 60_000));
    for (const state of ["rejected_timedout", "pending", "done", 5]) {
      const res = await c("promise.settle", { id: "p1", state });
      expect(res.status, String(state)).toBe(400);
    }
    expect((await c("promise.settle", { id: "", state: "resolved" })).status).toBe(400);
    const noValue = await c("promise.settle", { id: "p1", state: "rejected_canceled" }, T + 1);
    expect(noValue.status).toBe(200);
    expect(noValue.data.promise.state).toBe("rejected_canceled");
    expect(noValue.data.promise.value).toStrictEqual({});
  });

  it("30: lazy timeout on read: promise.get at the deadline → rejected_timedout, settledAt = timeoutAt", async () => {
    await c("promise.create", createData("p3", T + 10));
    const res = await c("promise.get", { id: "p3" }, T + 10);
    expect(res.data.promise).toMatchObject({ state: "rejected_timedout", settledAt: T + 10, value: {} });
    const snap = await ts.snap();
    expect(promiseOf(snap, "p3").state).toBe("rejected_timedout");
    expect(snap.promiseTimeouts).toEqual([]);
  });

  it("30b: one ms before the deadline the promise is still pending", async () => {
    await c("promise.create", createData("p3", T + 10));
    const res = await c("promise.get", { id: "p3" }, T + 9);
    expect(res.data.promise.state).toBe("pending");
  });

  it("31: lazy timeout on write: a late settle returns the rejected_timedout record", async () => {
    await c("promise.create", createData("p4", T + 10));
    const res = await c("promise.settle", { id: "p4", state: "resolved", value: { data: "eA==" } }, T + 20);
    expect(res.status).toBe(200);
    expect(res.data.promise).toMatchObject({ state: "rejected_timedout", value: {}, settledAt: T + 10 });
  });

  it("31b: a late settle of a timer returns resolved with value {}", async () => {
    await c("promise.create", createData("s", T + 10, { "resonate:timer": "true" }));
    const res = await c("promise.settle", { id: "s", state: "rejected", value: { data: "eA==" } }, T + 20);
    expect(res.data.promise).toMatchObject({ state: "resolved", value: {}, settledAt: T + 10 });
  });

  it("32 [compat]: a promise without target is timed out by the background pass", async () => {
    await c("promise.create", createData("p5", T + 10));
    expect((await ts.tick(T + 9)).status).toBe(200);
    expect(promiseOf(await ts.snap(), "p5").state).toBe("pending");
    const tick = await ts.tick(T + 10);
    expect(tick.status).toBe(200);
    expect(tick.data).toEqual([]);
    const snap = await ts.snap();
    expect(promiseOf(snap, "p5")).toMatchObject({ state: "rejected_timedout", settledAt: T + 10, value: {} });
    expect(snap.promiseTimeouts).toEqual([]);
  });

  it("33 [compat]: a timer without target resolves in the background pass", async () => {
    await c("promise.create", createData("p5", T + 10, { "resonate:timer": "true" }));
    await ts.tick(T + 10);
    expect(promiseOf(await ts.snap(), "p5")).toMatchObject({ state: "resolved", settledAt: T + 10, value: {} });
  });

  it("34: a listener gets an unblock carrying the settled record, and is consumed", async () => {
    await c("promise.create", createData("p6", T + 60_000));
    const reg = await c("promise.register_listener", { awaited: "p6", address: "poll://uni@client/c1" });
    expect(reg.status).toBe(200);
    expect(reg.data.promise.state).toBe("pending");
    expect((await ts.snap()).listeners).toEqual([{ id: "p6", address: "poll://uni@client/c1" }]);
    const settled = await c("promise.settle", { id: "p6", state: "resolved", value: { data: "eA==" } }, T + 3);
    const snap = await ts.snap();
    expect(snap.listeners).toEqual([]);
    expect(snap.messages).toEqual([
      { address: "poll://uni@client/c1", message: { kind: "unblock", head: {}, data: { promise: settled.data.promise } } },
    ]);
  });

  it("35: the same address twice → one unblock; two addresses → two unblocks", async () => {
    await c("promise.create", createData("p6", T + 60_000));
    await c("promise.register_listener", { awaited: "p6", address: "poll://uni@client/c1" });
    await c("promise.register_listener", { awaited: "p6", address: "poll://uni@client/c1" });
    expect((await ts.snap()).listeners.length).toBe(1);
    await c("promise.settle", { id: "p6", state: "resolved" });
    expect(unblocks(await ts.snap()).map((u) => u.address)).toEqual(["poll://uni@client/c1"]);

    await c("promise.create", createData("p7", T + 60_000));
    await c("promise.register_listener", { awaited: "p7", address: "poll://uni@client/c1" });
    await c("promise.register_listener", { awaited: "p7", address: "poll://uni@client/c2" });
    await c("promise.settle", { id: "p7", state: "rejected" });
    const p7 = unblocks(await ts.snap()).filter((u) => u.id === "p7");
    expect(p7.map((u) => u.address).sort()).toEqual(["poll://uni@client/c1", "poll://uni@client/c2"]);
    expect(p7.every((u) => u.state === "rejected")).toBe(true);
  });

  it("36: register_listener on a settled promise → 200 with the settled record; no listener, no message", async () => {
    await c("promise.create", createData("p6", T + 60_000));
    await c("promise.settle", { id: "p6", state: "resolved" });
    const res = await c("promise.register_listener", { awaited: "p6", address: "poll://uni@client/c1" });
    expect(res.status).toBe(200);
    expect(res.data.promise.state).toBe("resolved");
    const snap = await ts.snap();
    expect(snap.listeners).toEqual([]);
    expect(snap.messages).toEqual([]);
  });

  it("37: register_listener errors", async () => {
    await c("promise.create", createData("p6", T + 60_000));
    const bare = await c("promise.register_listener", { awaited: "p6", address: "client" });
    expect(bare.status).toBe(400);
    expect(bare.data).toBe("Invalid listener address");
    const unknown = await c("promise.register_listener", { awaited: "nope", address: "poll://uni@client/c1" });
    expect(unknown.status).toBe(404);
    expect(unknown.data).toBe("Awaited promise not found");
    const empty = await c("promise.register_listener", { awaited: "p6", address: "" });
    expect(empty.status).toBe(400);
    const emptyAwaited = await c("promise.register_listener", { awaited: "", address: "poll://uni@client/c1" });
    expect(emptyAwaited.status).toBe(400);
    expect((await ts.snap()).listeners).toEqual([]);
  });

  it("37b: register_listener on a promise past its deadline → lazy timeout, settled record, no listener", async () => {
    await c("promise.create", createData("p6", T + 10));
    const res = await c("promise.register_listener", { awaited: "p6", address: "poll://uni@client/c1" }, T + 10);
    expect(res.status).toBe(200);
    expect(res.data.promise.state).toBe("rejected_timedout");
    expect((await ts.snap()).listeners).toEqual([]);
  });

  it("38: a listener on a promise that times out in a tick gets an unblock with rejected_timedout", async () => {
    await c("promise.create", createData("p7", T + 10));
    await c("promise.register_listener", { awaited: "p7", address: "poll://uni@client/c1" });
    await ts.tick(T + 10);
    const u = unblocks(await ts.snap());
    expect(u.length).toBe(1);
    expect(u[0]).toMatchObject({ id: "p7", state: "rejected_timedout", address: "poll://uni@client/c1" });
    expect(u[0]!.promise.settledAt).toBe(T + 10);
  });

  it("39: register_callback errors", async () => {
    await c("promise.create", createData("a", T + 60_000));
    await c("promise.create", createData("plain", T + 60_000));
    const same = await c("promise.register_callback", { awaited: "a", awaiter: "a" });
    expect(same.status).toBe(400);
    expect(same.data).toBe("Awaited and awaiter must be different promises");
    const noAwaited = await c("promise.register_callback", { awaited: "nope", awaiter: "a" });
    expect(noAwaited.status).toBe(404);
    expect(noAwaited.data).toBe("Awaited promise not found");
    const noAwaiter = await c("promise.register_callback", { awaited: "a", awaiter: "nope" });
    expect(noAwaiter.status).toBe(422);
    expect(noAwaiter.data).toBe("Awaiter promise not found");
    const noTarget = await c("promise.register_callback", { awaited: "a", awaiter: "plain" });
    expect(noTarget.status).toBe(422);
    expect(noTarget.data).toBe("Awaiter promise has no resonate:target tag");
    expect((await c("promise.register_callback", { awaited: "", awaiter: "a" })).status).toBe(400);
    expect((await c("promise.register_callback", { awaited: "a", awaiter: "" })).status).toBe(400);
    expect((await ts.snap()).callbacks).toEqual([]);
  });

  it("40: callback on a pending awaiter task: settle counts a resume but queues no execute", async () => {
    await c("promise.create", createData("t1", T + 60_000, { "resonate:target": W }));
    await c("promise.create", createData("a", T + 60_000));
    const reg = await c("promise.register_callback", { awaited: "a", awaiter: "t1" });
    expect(reg.status).toBe(200);
    expect(reg.data.promise.id).toBe("a");
    expect((await ts.snap()).callbacks).toEqual([{ awaiter: "t1", awaited: "a" }]);
    await drainOutbox(ts);
    expect((await ts.snap()).messages).toEqual([]);

    await c("promise.settle", { id: "a", state: "resolved" }, T + 100);
    const snap = await ts.snap();
    expect(taskOf(snap, "t1")).toMatchObject({ state: "pending", version: 0, resumes: 1 });
    expect(snap.messages).toEqual([]);
    expect(snap.taskTimeouts).toEqual([{ id: "t1", type: 0, timeout: T + R }]);
    expect(snap.callbacks).toEqual([]);
  });

  it("40b: register_callback is idempotent", async () => {
    await c("promise.create", createData("t1", T + 60_000, { "resonate:target": W }));
    await c("promise.create", createData("a", T + 60_000));
    await c("promise.register_callback", { awaited: "a", awaiter: "t1" });
    await c("promise.register_callback", { awaited: "a", awaiter: "t1" });
    expect((await ts.snap()).callbacks).toEqual([{ awaiter: "t1", awaited: "a" }]);
    await c("promise.settle", { id: "a", state: "resolved" });
    expect(taskOf(await ts.snap(), "t1").resumes).toBe(1);
  });

  it("41: register_callback on a settled promise resumes a suspended awaiter", async () => {
    await c("promise.create", createData("t2", T + 60_000, { "resonate:target": W }));
    await c("task.acquire", { id: "t2", version: 0, pid: "w1", ttl: 60_000 });
    await c("promise.create", createData("other", T + 60_000));
    const suspend = await c("task.suspend", {
      id: "t2",
      version: 1,
      actions: [{ kind: "promise.register_callback", head: {}, data: { awaited: "other", awaiter: "t2" } }],
    });
    expect(suspend.status).toBe(200);
    await c("promise.create", createData("done", T + 60_000));
    await c("promise.settle", { id: "done", state: "resolved" });
    await drainOutbox(ts);

    const res = await c("promise.register_callback", { awaited: "done", awaiter: "t2" }, T + 50);
    expect(res.status).toBe(200);
    expect(res.data.promise).toMatchObject({ id: "done", state: "resolved" });
    const snap = await ts.snap();
    expect(taskOf(snap, "t2")).toStrictEqual({ id: "t2", state: "pending", version: 1, resumes: 1 });
    expect(executes(snap)).toEqual([{ id: "t2", version: 1, address: W }]);
    expect(snap.taskTimeouts).toEqual([{ id: "t2", type: 0, timeout: T + 50 + R }]);
  });

  it("41b: register_callback with a settled awaited and an acquired awaiter → ready callback (resumes 1), no execute", async () => {
    await c("promise.create", createData("t3", T + 60_000, { "resonate:target": W }));
    await c("task.acquire", { id: "t3", version: 0, pid: "w1", ttl: 60_000 });
    await c("promise.create", createData("done", T + 60_000));
    await c("promise.settle", { id: "done", state: "resolved" });
    await drainOutbox(ts);
    const res = await c("promise.register_callback", { awaited: "done", awaiter: "t3" });
    expect(res.status).toBe(200);
    const snap = await ts.snap();
    expect(taskOf(snap, "t3")).toMatchObject({ state: "acquired", version: 1, resumes: 1 });
    expect(snap.messages).toEqual([]);
  });

  it("41d: register_callback with a settled awaited and a halted awaiter leaves it alone", async () => {
    await c("promise.create", createData("t5", T + 60_000, { "resonate:target": W }));
    await c("task.halt", { id: "t5" });
    await c("promise.create", createData("done", T + 60_000));
    await c("promise.settle", { id: "done", state: "resolved" });
    await drainOutbox(ts);
    const res = await c("promise.register_callback", { awaited: "done", awaiter: "t5" });
    expect(res.status).toBe(200);
    const snap = await ts.snap();
    expect(taskOf(snap, "t5")).toStrictEqual({ id: "t5", state: "halted", version: 0, resumes: 0 });
    expect(snap.messages).toEqual([]);
  });

  it("41c: awaited pending but awaiter settled → 200 and nothing stored", async () => {
    await c("promise.create", createData("t4", T + 60_000, { "resonate:target": W }));
    await c("promise.settle", { id: "t4", state: "resolved" });
    await c("promise.create", createData("a", T + 60_000));
    const res = await c("promise.register_callback", { awaited: "a", awaiter: "t4" });
    expect(res.status).toBe(200);
    expect((await ts.snap()).callbacks).toEqual([]);
  });
});

describe("§15.4 search", () => {
  const ids = (res: { data: { promises: { id: string }[] } }) => res.data.promises.map((p) => p.id);

  it("42/43: ordering, limit, cursor", async () => {
    for (const id of ["c", "a", "b"]) await c("promise.create", createData(id, T + 60_000));
    const all = await c("promise.search", {});
    expect(all.status).toBe(200);
    expect(ids(all)).toEqual(["a", "b", "c"]);
    expect(all.data).not.toHaveProperty("cursor");

    const first = await c("promise.search", { limit: 2 });
    expect(ids(first)).toEqual(["a", "b"]);
    expect(first.data.cursor).toBe("b");
    const second = await c("promise.search", { limit: 2, cursor: "b" });
    expect(ids(second)).toEqual(["c"]);
    expect(second.data).not.toHaveProperty("cursor");
    const beyond = await c("promise.search", { cursor: "zzz" });
    expect(ids(beyond)).toEqual([]);
    const exact = await c("promise.search", { limit: 3 });
    expect(ids(exact)).toEqual(["a", "b", "c"]);
    expect(exact.data).not.toHaveProperty("cursor");
  });

  it("43b: ids are ordered byte-wise (UTF-8), as SQLite compares them, not by UTF-16 code units", async () => {
    for (const id of ["\u{1F600}", "\uFFFF", "\u00E9", "B", "a"]) await c("promise.create", createData(id, T + 60_000));
    expect(ids(await c("promise.search", {}))).toEqual(["B", "a", "\u00E9", "\uFFFF", "\u{1F600}"]);
    const page = await c("promise.search", { limit: 4 });
    expect(page.data.cursor).toBe("\uFFFF");
    expect(ids(await c("promise.search", { cursor: page.data.cursor }))).toEqual(["\u{1F600}"]);
  });

  it("44: tags filter: every given pair must be present; {} matches all", async () => {
    await c("promise.create", createData("a", T + 60_000, { env: "prod", team: "x" }));
    await c("promise.create", createData("b", T + 60_000, { env: "dev" }));
    await c("promise.create", createData("c", T + 60_000, { env: "prod" }));
    await c("promise.create", createData("d", T + 60_000));
    expect(ids(await c("promise.search", { tags: { env: "prod" } }))).toEqual(["a", "c"]);
    expect(ids(await c("promise.search", { tags: { env: "prod", team: "x" } }))).toEqual(["a"]);
    expect(ids(await c("promise.search", { tags: {} }))).toEqual(["a", "b", "c", "d"]);
  });

  it("44b: state filter", async () => {
    await c("promise.create", createData("a", T + 60_000));
    await c("promise.create", createData("b", T + 60_000));
    await c("promise.settle", { id: "b", state: "resolved" });
    expect(ids(await c("promise.search", { state: "resolved" }))).toEqual(["b"]);
    expect(ids(await c("promise.search", { state: "pending" }))).toEqual(["a"]);
    expect((await c("promise.search", { state: "bogus" })).status).toBe(400);
  });

  it("45: search returns stored state (a past-deadline promise still shows pending)", async () => {
    await c("promise.create", createData("x", T + 10));
    const res = await c("promise.search", { state: "pending" }, T + 100);
    expect(ids(res)).toEqual(["x"]);
    expect(res.data.promises[0].state).toBe("pending");
  });

  it("46: limit bounds", async () => {
    const zero = await c("promise.search", { limit: 0 });
    expect(zero.status).toBe(400);
    expect(zero.data).toBe("Limit must be a positive integer");
    const negative = await c("promise.search", { limit: -5 });
    expect(negative.status).toBe(400);
    const tooMany = await c("promise.search", { limit: 1001 });
    expect(tooMany.status).toBe(400);
    expect(tooMany.data).toBe("Invalid 'limit' — must be between 1 and 1000");
    expect((await c("promise.search", { limit: 1000 })).status).toBe(200);
    expect((await c("task.search", { limit: 0 })).status).toBe(400);
    expect((await c("task.search", { limit: 1001 })).status).toBe(400);
    expect((await c("schedule.search", { limit: 0 })).status).toBe(400);
    expect((await c("schedule.search", { limit: 1001 })).status).toBe(400);
  });

  it("47: task.search by state returns task records (acquired with ttl/pid)", async () => {
    for (const id of ["t1", "t2", "t3"]) await c("promise.create", createData(id, T + 60_000, { "resonate:target": W }));
    await c("task.acquire", { id: "t2", version: 0, pid: "w1", ttl: 5000 });
    const acquired = await c("task.search", { state: "acquired" });
    expect(acquired.status).toBe(200);
    expect(acquired.data.tasks).toStrictEqual([{ id: "t2", state: "acquired", version: 1, resumes: 0, ttl: 5000, pid: "w1" }]);
    const pending = await c("task.search", { state: "pending" });
    expect(pending.data.tasks.map((t: { id: string }) => t.id)).toEqual(["t1", "t3"]);
    const paged = await c("task.search", { limit: 2 });
    expect(paged.data.tasks.map((t: { id: string }) => t.id)).toEqual(["t1", "t2"]);
    expect(paged.data.cursor).toBe("t2");
    const rest = await c("task.search", { limit: 2, cursor: "t2" });
    expect(rest.data.tasks.map((t: { id: string }) => t.id)).toEqual(["t3"]);
    expect(rest.data).not.toHaveProperty("cursor");
  });

  it("48: schedule.search: default limit 10 with cursor; tags filter on promiseTags", async () => {
    for (let i = 0; i < 11; i++) {
      const id = `s${String(i).padStart(2, "0")}`;
      const res = await c("schedule.create", {
        id,
        cron: "* * * * *",
        promiseId: `${id}.{{.timestamp}}`,
        promiseTimeout: 1000,
        promiseTags: { "resonate:target": W, parity: i % 2 === 0 ? "even" : "odd" },
      });
      expect(res.status).toBe(200);
    }
    const page = await c("schedule.search", {});
    expect(page.status).toBe(200);
    expect(page.data.schedules.length).toBe(10);
    expect(page.data.cursor).toBe("s09");
    const next = await c("schedule.search", { cursor: page.data.cursor });
    expect(next.data.schedules.map((s: { id: string }) => s.id)).toEqual(["s10"]);
    expect(next.data).not.toHaveProperty("cursor");
    const even = await c("schedule.search", { tags: { parity: "even" }, limit: 100 });
    expect(even.data.schedules.map((s: { id: string }) => s.id)).toEqual(["s00", "s02", "s04", "s06", "s08", "s10"]);
  });
});
