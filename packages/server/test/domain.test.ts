// Domain-level tests: the SQLite store on ":memory:" and the domain operations / timeout pass called
// directly inside store.transact, with time passed in. No HTTP, no sleeping.

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ManualClock } from "../src/index";
import { resumeAfterDowntime } from "../src/domain/tick";
import {
  R,
  T,
  W,
  callbackAction,
  createData,
  domainHarness,
  executes,
  promiseOf,
  settleAction,
  startTestServer,
  taskOf,
  taskTimeoutOf,
  unblocks,
  type DomainHarness,
  type TestServer,
} from "./helpers";

let d: DomainHarness;

beforeEach(() => {
  d = domainHarness();
});
afterEach(() => {
  d.close();
});

function ok(reply: { status: number; data: unknown }, what = "operation") {
  expect(reply.status, `${what}: ${JSON.stringify(reply.data)}`).toBe(200);
  return reply.data as any;
}

const withTask = (id: string, timeoutAt = T + 3_600_000, now = T, tags: Record<string, string> = {}) =>
  ok(d.run("promise.create", createData(id, timeoutAt, { "resonate:target": W, ...tags }), now), `create ${id}`);

const acquire = (id: string, version: number, now: number, ttl = 60_000, pid = "w1") =>
  ok(d.run("task.acquire", { id, version, pid, ttl }, now), `acquire ${id}`);

/** Empties the outbox like the message loop would. */
const claimAll = () => d.store.transactSync((tx) => tx.claimOutgoing(1000));

describe("leases", () => {
  it("a lease lapses at exactly acquire time + ttl, not a millisecond earlier", () => {
    withTask("t1");
    acquire("t1", 0, T + 10, 5000);
    claimAll();
    d.tick(T + 10 + 4999);
    expect(taskOf(d.snap(), "t1")).toMatchObject({ state: "acquired", version: 1, ttl: 5000, pid: "w1" });
    expect(d.snap().messages).toEqual([]);

    d.tick(T + 10 + 5000);
    const snap = d.snap();
    expect(taskOf(snap, "t1")).toStrictEqual({ id: "t1", state: "pending", version: 1, resumes: 0 });
    expect(taskTimeoutOf(snap, "t1")).toEqual([{ id: "t1", type: 0, timeout: T + 10 + 5000 + R }]);
    expect(executes(snap)).toEqual([{ id: "t1", version: 1, address: W }]);
  });

  it("a late tick takes the lease back with the retry counted from the tick time", () => {
    withTask("t1");
    acquire("t1", 0, T, 1000);
    d.tick(T + 7777);
    expect(taskTimeoutOf(d.snap(), "t1")).toEqual([{ id: "t1", type: 0, timeout: T + 7777 + R }]);
  });

  it("with --empty-heartbeat ignore, a heartbeat naming no task renews nothing (the reference)", () => {
    const strict = domainHarness(R, "ignore");
    try {
      ok(strict.run("promise.create", createData("t1", T + 3_600_000, { "resonate:target": W }), T));
      ok(strict.run("task.acquire", { id: "t1", version: 0, pid: "w1", ttl: 1000 }, T));
      ok(strict.run("task.heartbeat", { pid: "w1", tasks: [] }, T + 900));
      expect(taskTimeoutOf(strict.snap(), "t1")).toEqual([{ id: "t1", type: 1, timeout: T + 1000 }]);
      strict.tick(T + 1000);
      expect(taskOf(strict.snap(), "t1")).toMatchObject({ state: "pending", version: 1 });
    } finally {
      strict.close();
    }
  });

  it("a heartbeat pushes the lease to heartbeat time + stored ttl; the old holder is fenced after re-acquire", () => {
    withTask("t1");
    acquire("t1", 0, T, 1000);
    ok(d.run("task.heartbeat", { pid: "w1", tasks: [{ id: "t1", version: 1 }] }, T + 800));
    d.tick(T + 1799);
    expect(taskOf(d.snap(), "t1").state).toBe("acquired");
    d.tick(T + 1800);
    expect(taskOf(d.snap(), "t1").state).toBe("pending");
    acquire("t1", 1, T + 1801, 1000, "w2");
    // w1's heartbeat at its old version changes nothing.
    ok(d.run("task.heartbeat", { pid: "w1", tasks: [{ id: "t1", version: 1 }] }, T + 1900));
    expect(taskTimeoutOf(d.snap(), "t1")).toEqual([{ id: "t1", type: 1, timeout: T + 2801 }]);
    expect(d.run("task.fulfill", { id: "t1", version: 1, action: settleAction("t1", "resolved") }, T + 1901).status).toBe(409);
  });

  it("a promise deadline and a lease lapsing in the same tick: the task ends fulfilled, nothing is dispatched", () => {
    withTask("t1", T + 1000);
    acquire("t1", 0, T, 1000);
    claimAll();
    d.tick(T + 1000);
    const snap = d.snap();
    expect(promiseOf(snap, "t1").state).toBe("rejected_timedout");
    expect(taskOf(snap, "t1")).toStrictEqual({ id: "t1", state: "fulfilled", version: 1, resumes: 0 });
    expect(snap.taskTimeouts).toEqual([]);
    expect(snap.messages).toEqual([]);
  });
});

describe("retries", () => {
  it("a pending task's execute is re-queued every R at the same version, one queue entry per task", () => {
    withTask("t1");
    claimAll();
    d.tick(T + R - 1);
    expect(d.snap().messages).toEqual([]);
    d.tick(T + R);
    expect(executes(d.snap())).toEqual([{ id: "t1", version: 0, address: W }]);
    expect(taskTimeoutOf(d.snap(), "t1")).toEqual([{ id: "t1", type: 0, timeout: T + 2 * R }]);
    // Not claimed: the next retry overwrites the queued execute rather than adding one.
    d.tick(T + 2 * R);
    expect(executes(d.snap())).toEqual([{ id: "t1", version: 0, address: W }]);
    expect(taskTimeoutOf(d.snap(), "t1")).toEqual([{ id: "t1", type: 0, timeout: T + 3 * R }]);
  });

  it("the retry interval is the configured one", () => {
    d.close();
    d = domainHarness(5000);
    withTask("t1");
    expect(taskTimeoutOf(d.snap(), "t1")).toEqual([{ id: "t1", type: 0, timeout: T + 5000 }]);
    claimAll();
    d.tick(T + 5000);
    expect(executes(d.snap())).toEqual([{ id: "t1", version: 0, address: W }]);
  });

  it("a delayed task is first dispatched by its retry timeout at the delay time", () => {
    withTask("d1", T + 60_000, T, { "resonate:delay": String(T + 5000) });
    expect(d.snap().messages).toEqual([]);
    d.tick(T + 4999);
    expect(d.snap().messages).toEqual([]);
    d.tick(T + 5000);
    expect(executes(d.snap())).toEqual([{ id: "d1", version: 0, address: W }]);
  });

  it("halted and suspended tasks have no timeout, so ticks never dispatch them", () => {
    withTask("h");
    withTask("s");
    ok(d.run("task.halt", { id: "h" }, T));
    acquire("s", 0, T);
    ok(d.run("promise.create", createData("s.0", T + 3_600_000), T));
    ok(d.run("task.suspend", { id: "s", version: 1, actions: [callbackAction("s.0", "s")] }, T));
    claimAll();
    for (const t of [T + R, T + 2 * R, T + 10 * R]) d.tick(t);
    const snap = d.snap();
    expect(snap.messages).toEqual([]);
    expect(snap.taskTimeouts).toEqual([]);
  });
});

describe("promise timeouts in the background pass", () => {
  it("a timer resolves at its deadline and resumes the suspended awaiter", () => {
    withTask("r");
    acquire("r", 0, T);
    ok(d.run("promise.create", createData("r.0", T + 5000, { "resonate:timer": "true" }), T));
    ok(d.run("task.suspend", { id: "r", version: 1, actions: [callbackAction("r.0", "r")] }, T + 1));
    claimAll();
    expect(d.tick(T + 4999)).toBe(0);
    expect(d.tick(T + 5000)).toBeGreaterThan(0);
    const snap = d.snap();
    expect(promiseOf(snap, "r.0")).toStrictEqual({
      id: "r.0",
      state: "resolved",
      param: {},
      value: {},
      tags: { "resonate:timer": "true" },
      timeoutAt: T + 5000,
      createdAt: T,
      settledAt: T + 5000,
    });
    expect(taskOf(snap, "r")).toStrictEqual({ id: "r", state: "pending", version: 1, resumes: 1 });
    expect(executes(snap)).toEqual([{ id: "r", version: 1, address: W }]);
    expect(taskTimeoutOf(snap, "r")).toEqual([{ id: "r", type: 0, timeout: T + 5000 + R }]);
  });

  it("a non-timer times out as rejected_timedout with settledAt = timeoutAt even when the tick is late", () => {
    ok(d.run("promise.create", createData("p", T + 100), T));
    ok(d.run("promise.register_listener", { awaited: "p", address: "poll://uni@client/c1" }, T));
    d.tick(T + 99_999);
    const snap = d.snap();
    expect(promiseOf(snap, "p")).toMatchObject({ state: "rejected_timedout", settledAt: T + 100, value: {} });
    expect(unblocks(snap)).toMatchObject([{ id: "p", state: "rejected_timedout", address: "poll://uni@client/c1" }]);
    expect(snap.listeners).toEqual([]);
  });

  it("§5.3: a task whose own promise expires in the same batch as its awaited promise is not resumed", () => {
    withTask("r", T + 1000);
    acquire("r", 0, T);
    ok(d.run("promise.create", createData("r.0", T + 1000), T));
    ok(d.run("task.suspend", { id: "r", version: 1, actions: [callbackAction("r.0", "r")] }, T));
    claimAll();
    d.tick(T + 1000);
    const snap = d.snap();
    expect(promiseOf(snap, "r").state).toBe("rejected_timedout");
    expect(promiseOf(snap, "r.0").state).toBe("rejected_timedout");
    expect(taskOf(snap, "r")).toStrictEqual({ id: "r", state: "fulfilled", version: 1, resumes: 0 });
    expect(snap.messages).toEqual([]);
    expect(snap.taskTimeouts).toEqual([]);
    expect(snap.callbacks).toEqual([]);
  });

  it("a tick with nothing due changes nothing", () => {
    withTask("t1");
    ok(d.run("promise.create", createData("p", T + 50_000), T));
    const before = d.snap();
    expect(d.tick(T + 1000)).toBe(0);
    expect(d.snap()).toEqual(before);
  });

  it("lazy timeouts: an operation at/after the deadline sees the settled state and runs the chain", () => {
    withTask("t1", T + 100);
    acquire("t1", 0, T);
    ok(d.run("promise.register_listener", { awaited: "t1", address: "poll://uni@client/c1" }, T));
    const reply = d.run("task.fulfill", { id: "t1", version: 1, action: settleAction("t1", "resolved") }, T + 100);
    expect(reply.status).toBe(409);
    const snap = d.snap();
    expect(promiseOf(snap, "t1")).toMatchObject({ state: "rejected_timedout", settledAt: T + 100 });
    expect(taskOf(snap, "t1").state).toBe("fulfilled");
    expect(unblocks(snap)).toMatchObject([{ id: "t1", state: "rejected_timedout" }]);
  });
});

describe("schedules in the background pass", () => {
  const create = (overrides: Record<string, unknown> = {}) =>
    ok(
      d.run(
        "schedule.create",
        { id: "s", cron: "* * * * *", promiseId: "{{.id}}.{{.timestamp}}", promiseTimeout: 3_600_000, promiseTags: { "resonate:target": W }, ...overrides },
        T,
      ),
    );

  it("fires once per tick at the historical occurrence times until caught up", () => {
    create();
    expect(d.tick(T + 59_999)).toBe(0);
    d.tick(T + 150_000);
    d.tick(T + 150_000);
    expect(d.tick(T + 150_000)).toBe(0);
    const snap = d.snap();
    expect(snap.promises.map((p) => p.id)).toEqual([`s.${T + 60_000}`, `s.${T + 120_000}`]);
    expect(snap.promises.map((p) => p.createdAt)).toEqual([T + 60_000, T + 120_000]);
    expect(ok(d.run("schedule.get", { id: "s" }, T + 150_000)).schedule).toMatchObject({ lastRunAt: T + 120_000, nextRunAt: T + 180_000 });
    // Both got a task and an execute; retries counted from the tick time.
    expect(executes(snap).map((e) => e.id)).toEqual([`s.${T + 60_000}`, `s.${T + 120_000}`]);
    expect(snap.taskTimeouts).toEqual([
      { id: `s.${T + 60_000}`, type: 0, timeout: T + 150_000 + R },
      { id: `s.${T + 120_000}`, type: 0, timeout: T + 150_000 + R },
    ]);
  });

  it("a deleted schedule never fires", () => {
    create();
    ok(d.run("schedule.delete", { id: "s" }, T + 1));
    d.tick(T + 600_000);
    expect(d.snap().promises).toEqual([]);
  });
});

describe("the store", () => {
  it("claimOutgoing returns executes before unblocks and deletes what it returns (at most once)", () => {
    ok(d.run("promise.create", createData("p", T + 60_000), T));
    ok(d.run("promise.register_listener", { awaited: "p", address: "poll://uni@client/c1" }, T));
    ok(d.run("promise.settle", { id: "p", state: "resolved" }, T + 1));
    withTask("t1", T + 60_000, T + 2);
    const batch = claimAll();
    expect(batch.map((m) => m.kind)).toEqual(["execute", "unblock"]);
    expect(batch[1]).toMatchObject({ kind: "unblock", address: "poll://uni@client/c1", promise: { id: "p", state: "resolved" } });
    expect(claimAll()).toEqual([]);
    expect(d.snap().messages).toEqual([]);
  });

  it("a transaction that throws leaves nothing behind", () => {
    expect(() =>
      d.store.transactSync(function* (tx) {
        yield* tx.insertPromise({ id: "ghost", state: "pending", param: {}, value: {}, tags: {}, timeoutAt: T + 1, createdAt: T });
        throw new Error("boom");
      }),
    ).toThrow("boom");
    expect(d.snap().promises).toEqual([]);
  });

  it("reset empties everything", () => {
    withTask("t1");
    ok(d.run("debug.reset", {}, T));
    expect(d.snap()).toEqual({ promises: [], promiseTimeouts: [], callbacks: [], listeners: [], tasks: [], taskTimeouts: [], messages: [] });
  });
});

describe("an injected clock", () => {
  let ts: TestServer | undefined;
  afterEach(async () => {
    await ts?.close();
    ts = undefined;
  });

  it("drives `now` for requests without resonate:debug_time and for the background pass", async () => {
    const clock = new ManualClock(T);
    ts = await startTestServer({ clock, timeoutsInterval: 3_600_000 });
    await ts.start();
    const created = await ts.call("promise.create", createData("p", T + 1000, { "resonate:target": W }));
    expect(created.data.promise.createdAt).toBe(T);
    expect((await ts.snap()).taskTimeouts).toEqual([{ id: "p", type: 0, timeout: T + R }]);

    // debug_time still wins over the clock.
    const other = await ts.callAt(T + 5, "promise.create", createData("q", T + 1000));
    expect(other.data.promise.createdAt).toBe(T + 5);

    clock.set(T + 999);
    await ts.server.timeouts.runOnce();
    expect(promiseOf(await ts.snap(), "p").state).toBe("pending");
    clock.set(T + 1000);
    await ts.server.timeouts.runOnce();
    const snap = await ts.snap();
    expect(promiseOf(snap, "p")).toMatchObject({ state: "rejected_timedout", settledAt: T + 1000 });
    expect(taskOf(snap, "p").state).toBe("fulfilled");
  });
});

describe("a restart after downtime", () => {
  const resume = (now: number, interval = 1000) =>
    d.store.transactSync((tx) => resumeAfterDowntime({ tx, now, retryTimeout: R, corrId: "" }, interval));

  it("time during which no server ran the timeout pass does not count against the leases", () => {
    withTask("t1");
    acquire("t1", 0, T, 2000);
    d.tick(T + 500); // the last pass before the server went down
    // Down for 10 s: without the shift the first pass would take the lease back at once.
    expect(resume(T + 10_500)).toEqual({ downtime: 10_000, leases: 1 });
    expect(taskTimeoutOf(d.snap(), "t1")).toEqual([{ id: "t1", type: 1, timeout: T + 12_000 }]);
    d.tick(T + 10_600);
    expect(taskOf(d.snap(), "t1")).toMatchObject({ state: "acquired", version: 1 });
    // The worker that is still alive heartbeats as usual; a dead one loses the lease when what was
    // left of its ttl has passed.
    d.tick(T + 12_000);
    expect(taskOf(d.snap(), "t1")).toMatchObject({ state: "pending", version: 1 });
  });

  it("a second server starting at the same moment finds no pause (leases move once), nor does a short one", () => {
    withTask("t1");
    acquire("t1", 0, T, 2000);
    d.tick(T);
    expect(resume(T + 10_000).leases).toBe(1);
    expect(resume(T + 10_000)).toEqual({ downtime: 0, leases: 0 });
    expect(resume(T + 11_500)).toEqual({ downtime: 0, leases: 0 }); // within two intervals
    expect(taskTimeoutOf(d.snap(), "t1")).toEqual([{ id: "t1", type: 1, timeout: T + 12_000 }]);
  });

  it("a new database has no pause to forgive", () => {
    withTask("t1");
    acquire("t1", 0, T, 2000);
    expect(resume(T + 60_000)).toEqual({ downtime: 0, leases: 0 });
  });
});
