// Spec §15.5 – §15.10: task.create, acquire/release/leases/retries/heartbeats, suspend/resume,
// fulfill/fence, halt/continue, delay. Deterministic: loops paused, time fixed per request.

import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { PROTOCOL_VERSION } from "@resonate-compat/protocol";
import {
  R,
  T,
  W,
  callbackAction,
  createAction,
  createData,
  drainOutbox,
  executes,
  promiseOf,
  taskOf,
  taskTimeoutOf,
  unblocks,
  settleAction,
  type TestServer,
  useSharedDebugServer,
} from "./helpers";

const ts = useSharedDebugServer();

const c = (kind: string, data: unknown, time = T) => ts.callAt(time, kind, data);
const C1 = "poll://any@client/c1";

/** A promise with target W (pending task v0), deadline T+60000 unless given. */
async function withTask(id: string, timeoutAt = T + 60_000, tags: Record<string, string> = {}) {
  const res = await c("promise.create", createData(id, timeoutAt, { "resonate:target": W, ...tags }));
  expect(res.status).toBe(200);
  return res.data.promise;
}

async function acquire(id: string, version: number, time = T, pid = "w1", ttl = 60_000) {
  const res = await c("task.acquire", { id, version, pid, ttl }, time);
  expect(res.status, `acquire ${id} v${version}: ${res.text}`).toBe(200);
  return res;
}

const taskCreate = (id: string, timeoutAt: number, tags: Record<string, string> = { "resonate:target": C1 }, pid = "c1", ttl = 60_000) => ({
  pid,
  ttl,
  action: createAction(id, timeoutAt, tags),
});

async function task(id: string, time = T) {
  const res = await c("task.get", { id }, time);
  return res.data.task;
}

async function promise(id: string, time = T) {
  const res = await c("promise.get", { id }, time);
  return res.data.promise;
}

describe("§15.5 task.create", () => {
  it("49: new → acquired v1 with ttl/pid, pending promise, preload []; no messages; lease timeout", async () => {
    const res = await c("task.create", taskCreate("r1", T + 60_000));
    expect(res.status).toBe(200);
    expect(res.data.task).toStrictEqual({ id: "r1", state: "acquired", version: 1, resumes: 0, ttl: 60_000, pid: "c1" });
    expect(res.data.promise).toMatchObject({ id: "r1", state: "pending", createdAt: T, timeoutAt: T + 60_000, tags: { "resonate:target": C1 } });
    expect(res.data.preload).toEqual([]);
    const snap = await ts.snap();
    expect(snap.messages).toEqual([]);
    expect(snap.taskTimeouts).toEqual([{ id: "r1", type: 1, timeout: T + 60_000 }]);
    expect(snap.promiseTimeouts).toEqual([{ id: "r1", timeout: T + 60_000 }]);
  });

  it("49b: the lease of a task.create expires like any other (ttl shorter than the promise deadline)", async () => {
    await c("task.create", taskCreate("r1", T + 60_000, { "resonate:target": C1 }, "c1", 1000));
    await ts.tick(T + 1000);
    const snap = await ts.snap();
    expect(taskOf(snap, "r1")).toStrictEqual({ id: "r1", state: "pending", version: 1, resumes: 0 });
    expect(executes(snap)).toEqual([{ id: "r1", version: 1, address: C1 }]);
  });

  it("50: validation 400s", async () => {
    const cases: [string, unknown, string?][] = [
      ["no target", taskCreate("r1", T + 60_000, {}), "Action must have a resonate:target tag"],
      ["delay", taskCreate("r1", T + 60_000, { "resonate:target": C1, "resonate:delay": String(T + 10) }), "Action must not have a resonate:delay tag"],
      ["ttl 0", taskCreate("r1", T + 60_000, undefined, "c1", 0), "TTL must be a positive integer"],
      ["pid ''", taskCreate("r1", T + 60_000, undefined, ""), "Process ID is required"],
      ["target 'workers'", taskCreate("r1", T + 60_000, { "resonate:target": "workers" }), "Invalid resonate:target address"],
      ["action missing", { pid: "c1", ttl: 1000 }],
      ["action.kind missing", { pid: "c1", ttl: 1000, action: { head: {}, data: createData("r1", T + 60_000, { "resonate:target": C1 }) } }],
      ["action.data.id ''", taskCreate("", T + 60_000)],
      ["action.data.timeoutAt missing", { pid: "c1", ttl: 1000, action: { kind: "promise.create", head: {}, data: { id: "r1", tags: { "resonate:target": C1 } } } }],
    ];
    for (const [what, data, message] of cases) {
      const res = await c("task.create", data);
      expect(res.status, what).toBe(400);
      if (message) expect(res.data, what).toBe(message);
    }
    expect((await ts.snap()).promises).toEqual([]);
  });

  it("51: task.create on an acquired, suspended or halted task → 409 'Already exists'", async () => {
    await c("task.create", taskCreate("r1", T + 60_000));
    const acquired = await c("task.create", taskCreate("r1", T + 60_000));
    expect(acquired.status).toBe(409);
    expect(acquired.data).toBe("Already exists");

    await c("promise.create", createData("r1.0", T + 60_000));
    const suspend = await c("task.suspend", { id: "r1", version: 1, actions: [callbackAction("r1.0", "r1")] });
    expect(suspend.status).toBe(200);
    const suspended = await c("task.create", taskCreate("r1", T + 60_000));
    expect(suspended.status).toBe(409);
    expect(suspended.data).toBe("Already exists");

    expect((await c("task.halt", { id: "r1" })).status).toBe(200);
    const halted = await c("task.create", taskCreate("r1", T + 60_000));
    expect(halted.status).toBe(409);
    expect(halted.data).toBe("Already exists");
  });

  it("52: task.create on an existing pending task acquires it (version 1, this request's ttl/pid)", async () => {
    await withTask("t1");
    const res = await c("task.create", taskCreate("t1", T + 99_000, { "resonate:target": C1 }, "c9", 1234), T + 5);
    expect(res.status).toBe(200);
    expect(res.data.task).toStrictEqual({ id: "t1", state: "acquired", version: 1, resumes: 0, ttl: 1234, pid: "c9" });
    // The request's tags/timeoutAt are ignored.
    expect(res.data.promise).toMatchObject({ timeoutAt: T + 60_000, tags: { "resonate:target": W } });
    expect(taskTimeoutOf(await ts.snap(), "t1")).toEqual([{ id: "t1", type: 1, timeout: T + 5 + 1234 }]);
  });

  it("52b: task.create acquiring an existing pending task clears its ready callbacks (resumes 0)", async () => {
    await withTask("t1");
    await c("promise.create", createData("a", T + 60_000));
    await c("promise.register_callback", { awaited: "a", awaiter: "t1" });
    await c("promise.settle", { id: "a", state: "resolved" });
    expect((await task("t1")).resumes).toBe(1);
    const res = await c("task.create", taskCreate("t1", T + 60_000));
    expect(res.data.task).toMatchObject({ state: "acquired", version: 1, resumes: 0 });
    expect((await task("t1")).resumes).toBe(0);
  });

  it("52c: task.create on an existing pending task whose deadline passed → 200 fulfilled (lazy timeout)", async () => {
    await withTask("t1", T + 10);
    const res = await c("task.create", taskCreate("t1", T + 60_000), T + 10);
    expect(res.status).toBe(200);
    expect(res.data.task).toStrictEqual({ id: "t1", state: "fulfilled", version: 0, resumes: 0 });
    expect(res.data.promise.state).toBe("rejected_timedout");
    expect(res.data.preload).toEqual([]);
  });

  it("52d: action kinds are not checked by task.create, task.suspend and task.fulfill; fence's action.head is optional", async () => {
    const created = await c("task.create", { pid: "c1", ttl: 60_000, action: { kind: "whatever", head: {}, data: createData("k", T + 60_000, { "resonate:target": C1 }) } });
    expect(created.status).toBe(200);
    await c("promise.create", createData("k.0", T + 60_000));
    const fence = await c("task.fence", { id: "k", version: 1, action: { kind: "promise.create", data: createData("k.1", T + 60_000) } });
    expect(fence.status).toBe(200);
    expect(fence.data.action.head.status).toBe(200);
    const suspend = await c("task.suspend", { id: "k", version: 1, actions: [{ kind: "anything", head: {}, data: { awaited: "k.0", awaiter: "k" } }] });
    expect(suspend.status).toBe(200);
    await c("promise.settle", { id: "k.0", state: "resolved" });
    await acquire("k", 1);
    const fulfill = await c("task.fulfill", { id: "k", version: 2, action: { kind: "x", head: {}, data: { id: "k", state: "resolved" } } });
    expect(fulfill.status).toBe(200);
  });

  it("53: task.create on a fulfilled task → 200 fulfilled (no ttl/pid), the settled promise, preload []", async () => {
    await withTask("t1", T + 60_000, { "resonate:branch": "t1" });
    await c("promise.create", createData("t1.0", T + 60_000, { "resonate:branch": "t1" }));
    await acquire("t1", 0);
    await c("task.fulfill", { id: "t1", version: 1, action: settleAction("t1", "resolved", { data: "ODQ=" }) });
    const res = await c("task.create", taskCreate("t1", T + 60_000));
    expect(res.status).toBe(200);
    expect(res.data.task).toStrictEqual({ id: "t1", state: "fulfilled", version: 1, resumes: 0 });
    expect(res.data.promise).toMatchObject({ id: "t1", state: "resolved", value: { data: "ODQ=" } });
    expect(res.data.preload).toEqual([]);
  });

  it("54: task.create on a plain promise (no task) → 422", async () => {
    await c("promise.create", createData("plain", T + 60_000));
    const res = await c("task.create", taskCreate("plain", T + 60_000));
    expect(res.status).toBe(422);
    expect(res.data).toBe("The promise does not have a resonate:target tag");
  });

  it("55: task.create of an already-expired promise → fulfilled v0, rejected_timedout, preload []", async () => {
    const res = await c("task.create", taskCreate("r9", T));
    expect(res.status).toBe(200);
    expect(res.data.task).toStrictEqual({ id: "r9", state: "fulfilled", version: 0, resumes: 0 });
    expect(res.data.promise).toMatchObject({ state: "rejected_timedout", createdAt: T, settledAt: T });
    expect(res.data.preload).toEqual([]);
    const snap = await ts.snap();
    expect(snap.taskTimeouts).toEqual([]);
    expect(snap.messages).toEqual([]);
  });

  it("56: preload = other promises of the branch, by id (acquire, task.create, suspend 300, fence)", async () => {
    await withTask("r2", T + 60_000, { "resonate:branch": "r2" });
    await c("promise.create", createData("r2.1", T + 60_000, { "resonate:branch": "r2" }));
    await c("promise.create", createData("r2.0", T + 60_000, { "resonate:branch": "r2" }));
    await c("promise.create", createData("r2.2", T + 60_000, { "resonate:branch": "r2.2" }));
    const acquired = await acquire("r2", 0);
    expect(acquired.data.preload.map((p: { id: string }) => p.id)).toEqual(["r2.0", "r2.1"]);
    expect(acquired.data.preload[0]).toStrictEqual(await promise("r2.0"));

    const fence = await c("task.fence", { id: "r2", version: 1, action: createAction("r2.3", T + 60_000, { "resonate:branch": "r2.3" }) });
    expect(fence.status).toBe(200);
    expect(fence.data.preload.map((p: { id: string }) => p.id)).toEqual(["r2.0", "r2.1"]);

    await c("promise.settle", { id: "r2.0", state: "resolved" });
    const suspend = await c("task.suspend", { id: "r2", version: 1, actions: [callbackAction("r2.0", "r2")] });
    expect(suspend.status).toBe(300);
    expect(suspend.data.preload.map((p: { id: string }) => p.id)).toEqual(["r2.0", "r2.1"]);
    expect(suspend.data.preload[0].state).toBe("resolved");

    await c("promise.create", createData("r3.0", T + 60_000, { "resonate:branch": "r3" }));
    const created = await c("task.create", taskCreate("r3", T + 60_000, { "resonate:target": C1, "resonate:branch": "r3" }));
    expect(created.status).toBe(200);
    expect(created.data.preload.map((p: { id: string }) => p.id)).toEqual(["r3.0"]);
  });
});

describe("§15.6 acquire, release, leases, retries, heartbeats", () => {
  it("57: acquire a pending task → acquired v1 with ttl/pid, the promise and preload", async () => {
    const p = await withTask("t1");
    const res = await c("task.acquire", { id: "t1", version: 0, pid: "w1", ttl: 30_000 });
    expect(res.status).toBe(200);
    expect(res.data.task).toStrictEqual({ id: "t1", state: "acquired", version: 1, resumes: 0, ttl: 30_000, pid: "w1" });
    expect(res.data.promise).toStrictEqual(p);
    expect(res.data.preload).toEqual([]);
    expect(taskTimeoutOf(await ts.snap(), "t1")).toEqual([{ id: "t1", type: 1, timeout: T + 30_000 }]);
  });

  it("58: acquire errors", async () => {
    await withTask("t1");
    await withTask("t2");
    await acquire("t1", 0);
    const again = await c("task.acquire", { id: "t1", version: 0, pid: "w2", ttl: 1000 });
    expect(again.status).toBe(409);
    expect(again.data).toBe("Task is not pending");
    // "not pending" is checked before the version.
    const againV1 = await c("task.acquire", { id: "t1", version: 1, pid: "w2", ttl: 1000 });
    expect(againV1.status).toBe(409);
    expect(againV1.data).toBe("Task is not pending");
    const wrongVersion = await c("task.acquire", { id: "t2", version: 3, pid: "w1", ttl: 1000 });
    expect(wrongVersion.status).toBe(409);
    expect(wrongVersion.data).toBe("Version mismatch");
    const unknown = await c("task.acquire", { id: "nope", version: 0, pid: "w1", ttl: 1000 });
    expect(unknown.status).toBe(404);
    expect(unknown.data).toBe("Task not found");
    expect((await c("task.acquire", { id: "t2", version: -1, pid: "w1", ttl: 1000 })).status).toBe(400);
    expect((await c("task.acquire", { id: "t2", version: 0, pid: "w1", ttl: 0 })).status).toBe(400);
    expect((await c("task.acquire", { id: "t2", version: 0, pid: "", ttl: 10 })).status).toBe(400);
    expect((await c("task.acquire", { id: "", version: 0, pid: "w1", ttl: 10 })).status).toBe(400);
    expect(await task("t2")).toStrictEqual({ id: "t2", state: "pending", version: 0, resumes: 0 });
  });

  it("58b: acquiring a task whose promise is past its deadline → 409 (lazy timeout fulfils it)", async () => {
    await withTask("t1", T + 10);
    const res = await c("task.acquire", { id: "t1", version: 0, pid: "w1", ttl: 1000 }, T + 10);
    expect(res.status).toBe(409);
    expect(await task("t1", T + 10)).toStrictEqual({ id: "t1", state: "fulfilled", version: 0, resumes: 0 });
  });

  it("59/60/61: release → pending at the same version, retry timeout, execute re-queued; then 409s; re-acquire → v2", async () => {
    await withTask("t1");
    await acquire("t1", 0);
    const res = await c("task.release", { id: "t1", version: 1 }, T + 10);
    expect(res.status).toBe(200);
    expect(res.data).toEqual({});
    const snap = await ts.snap();
    expect(taskOf(snap, "t1")).toStrictEqual({ id: "t1", state: "pending", version: 1, resumes: 0 });
    expect(taskTimeoutOf(snap, "t1")).toEqual([{ id: "t1", type: 0, timeout: T + 10 + R }]);
    // The create's execute(t1, 0) was replaced by execute(t1, 1).
    expect(executes(snap)).toEqual([{ id: "t1", version: 1, address: W }]);

    const again = await c("task.release", { id: "t1", version: 1 });
    expect(again.status).toBe(409);
    expect(again.data).toBe("Task version mismatch or invalid state");
    const wrong = await c("task.release", { id: "t1", version: 7 });
    expect(wrong.status).toBe(409);
    const unknown = await c("task.release", { id: "nope", version: 1 });
    expect(unknown.status).toBe(404);
    expect(unknown.data).toBe("Task not found");
    expect((await c("task.release", { id: "t1", version: -1 })).status).toBe(400);

    const reacquired = await acquire("t1", 1);
    expect(reacquired.data.task.version).toBe(2);
  });

  it("60b: release with the wrong version while acquired → 409, lease untouched", async () => {
    await withTask("t1");
    await acquire("t1", 0);
    const res = await c("task.release", { id: "t1", version: 0 });
    expect(res.status).toBe(409);
    expect((await task("t1")).state).toBe("acquired");
  });

  it("62: lease expiry at exactly acquire time + ttl", async () => {
    await withTask("t1");
    await acquire("t1", 0, T, "w1", 1000);
    await drainOutbox(ts);
    await ts.tick(T + 999);
    let snap = await ts.snap();
    expect(taskOf(snap, "t1")).toMatchObject({ state: "acquired", version: 1 });
    expect(snap.messages).toEqual([]);
    await ts.tick(T + 1000);
    snap = await ts.snap();
    expect(taskOf(snap, "t1")).toStrictEqual({ id: "t1", state: "pending", version: 1, resumes: 0 });
    expect(taskTimeoutOf(snap, "t1")).toEqual([{ id: "t1", type: 0, timeout: T + 1000 + R }]);
    expect(executes(snap)).toEqual([{ id: "t1", version: 1, address: W }]);
  });

  it("63: heartbeat renews the lease from its time", async () => {
    await withTask("t1");
    await acquire("t1", 0, T, "w1", 1000);
    const hb = await c("task.heartbeat", { pid: "w1", tasks: [{ id: "t1", version: 1 }] }, T + 900);
    expect(hb.status).toBe(200);
    expect(hb.data).toEqual({});
    expect(taskTimeoutOf(await ts.snap(), "t1")).toEqual([{ id: "t1", type: 1, timeout: T + 1900 }]);
    await ts.tick(T + 1000);
    expect((await ts.snap()).tasks[0]).toMatchObject({ state: "acquired", version: 1, ttl: 1000, pid: "w1" });
    await ts.tick(T + 1899);
    expect(taskOf(await ts.snap(), "t1").state).toBe("acquired");
    await ts.tick(T + 1900);
    expect(taskOf(await ts.snap(), "t1")).toMatchObject({ state: "pending", version: 1 });
  });

  it("64: heartbeats with a wrong pid, wrong version or unknown id are ignored (200); pending tasks unchanged", async () => {
    await withTask("t1");
    await withTask("t2");
    await acquire("t1", 0, T, "w1", 1000);
    for (const body of [
      { pid: "w2", tasks: [{ id: "t1", version: 1 }] },
      { pid: "w1", tasks: [{ id: "t1", version: 0 }] },
      { pid: "w1", tasks: [{ id: "t1", version: 2 }] },
      { pid: "w1", tasks: [{ id: "nope", version: 1 }] },
      { pid: "w1", tasks: [{ id: "", version: 1 }] },
      { pid: "w1", tasks: [{ id: "t2", version: 0 }] },
    ]) {
      const res = await c("task.heartbeat", body, T + 500);
      expect(res.status, JSON.stringify(body)).toBe(200);
      expect(res.data).toEqual({});
    }
    const snap = await ts.snap();
    expect(taskTimeoutOf(snap, "t1")).toEqual([{ id: "t1", type: 1, timeout: T + 1000 }]);
    expect(taskOf(snap, "t2")).toStrictEqual({ id: "t2", state: "pending", version: 0, resumes: 0 });
    expect(taskTimeoutOf(snap, "t2")).toEqual([{ id: "t2", type: 0, timeout: T + R }]);
  });

  it("64b: a heartbeat listing several tasks renews exactly the matching ones", async () => {
    await withTask("t1");
    await withTask("t2");
    await acquire("t1", 0, T, "w1", 1000);
    await acquire("t2", 0, T, "w2", 1000);
    await c("task.heartbeat", { pid: "w1", tasks: [{ id: "t1", version: 1 }, { id: "t2", version: 1 }] }, T + 500);
    const snap = await ts.snap();
    expect(taskTimeoutOf(snap, "t1")).toEqual([{ id: "t1", type: 1, timeout: T + 1500 }]);
    expect(taskTimeoutOf(snap, "t2")).toEqual([{ id: "t2", type: 1, timeout: T + 1000 }]);
  });

  it("65 [compat C2]: an empty heartbeat renews every lease its pid holds, and only those", async () => {
    await withTask("t1");
    await withTask("t2");
    await withTask("t3");
    await acquire("t1", 0, T, "w1", 1000);
    await acquire("t2", 0, T, "w1", 4000);
    await acquire("t3", 0, T, "w2", 1000);
    const hb = await c("task.heartbeat", { pid: "w1", tasks: [] }, T + 900);
    expect(hb.status).toBe(200);
    expect(hb.data).toEqual({});
    const snap = await ts.snap();
    // Each lease is renewed with its own stored ttl; w2's lease is not w1's to renew.
    expect(taskTimeoutOf(snap, "t1")).toEqual([{ id: "t1", type: 1, timeout: T + 1900 }]);
    expect(taskTimeoutOf(snap, "t2")).toEqual([{ id: "t2", type: 1, timeout: T + 4900 }]);
    expect(taskTimeoutOf(snap, "t3")).toEqual([{ id: "t3", type: 1, timeout: T + 1000 }]);
    await ts.tick(T + 1000);
    const after = await ts.snap();
    expect(taskOf(after, "t1")).toMatchObject({ state: "acquired", version: 1, pid: "w1" });
    expect(taskOf(after, "t3")).toMatchObject({ state: "pending", version: 1 });
  });

  it("65b [compat C2]: an empty heartbeat does not revive a lapsed lease nor fence anybody in", async () => {
    await withTask("t1");
    await acquire("t1", 0, T, "w1", 1000);
    await ts.tick(T + 1000); // lapsed: pending at version 1
    await acquire("t1", 1, T + 1001, "w2", 1000);
    await c("task.heartbeat", { pid: "w1", tasks: [] }, T + 1500);
    const snap = await ts.snap();
    expect(taskOf(snap, "t1")).toMatchObject({ state: "acquired", version: 2, pid: "w2" });
    expect(taskTimeoutOf(snap, "t1")).toEqual([{ id: "t1", type: 1, timeout: T + 2001 }]);
    const stale = await c("task.fulfill", { id: "t1", version: 1, action: settleAction("t1", "resolved") }, T + 1600);
    expect(stale.status).toBe(409);
  });

  it("65 [compat]: heartbeat with an empty list → 200 {}; pid '' → 400", async () => {
    const empty = await c("task.heartbeat", { pid: "w1", tasks: [] });
    expect(empty.status).toBe(200);
    expect(empty.data).toEqual({});
    const noPid = await c("task.heartbeat", { pid: "", tasks: [] });
    expect(noPid.status).toBe(400);
    expect(noPid.data).toBe("Process ID is required");
    expect((await c("task.heartbeat", { pid: "w1", tasks: [{ id: "t1", version: "1" }] })).status).toBe(400);
    expect((await c("task.heartbeat", { pid: "w1" })).status).toBe(400);
  });

  it("66: retry: a never-acquired task's execute is re-queued at T+R, then at T+2R", async () => {
    await withTask("t3");
    await drainOutbox(ts);
    await ts.tick(T + R - 1);
    let snap = await ts.snap();
    expect(snap.messages).toEqual([]);
    expect(taskTimeoutOf(snap, "t3")).toEqual([{ id: "t3", type: 0, timeout: T + R }]);
    await ts.tick(T + R);
    snap = await ts.snap();
    expect(executes(snap)).toEqual([{ id: "t3", version: 0, address: W }]);
    expect(taskTimeoutOf(snap, "t3")).toEqual([{ id: "t3", type: 0, timeout: T + 2 * R }]);
    expect(taskOf(snap, "t3")).toStrictEqual({ id: "t3", state: "pending", version: 0, resumes: 0 });
    // Ticking again at the same time queues nothing new (still one entry).
    await ts.tick(T + R);
    expect(executes(await ts.snap()).length).toBe(1);
  });

  it("67: fencing: after lease expiry and re-acquire by w2, w1's stale operations → 409", async () => {
    await withTask("t1");
    await acquire("t1", 0, T, "w1", 1000);
    await c("promise.create", createData("t1.0", T + 60_000));
    await ts.tick(T + 1000);
    const w2 = await acquire("t1", 1, T + 1001, "w2", 60_000);
    expect(w2.data.task.version).toBe(2);

    const time = T + 1002;
    const fulfill = await c("task.fulfill", { id: "t1", version: 1, action: settleAction("t1", "resolved") }, time);
    expect(fulfill.status).toBe(409);
    const fence = await c("task.fence", { id: "t1", version: 1, action: createAction("t1.1", T + 60_000) }, time);
    expect(fence.status).toBe(409);
    const suspend = await c("task.suspend", { id: "t1", version: 1, actions: [callbackAction("t1.0", "t1")] }, time);
    expect(suspend.status).toBe(409);
    const release = await c("task.release", { id: "t1", version: 1 }, time);
    expect(release.status).toBe(409);
    const hb = await c("task.heartbeat", { pid: "w1", tasks: [{ id: "t1", version: 1 }] }, time);
    expect(hb.status).toBe(200);

    const snap = await ts.snap();
    expect(taskOf(snap, "t1")).toStrictEqual({ id: "t1", state: "acquired", version: 2, resumes: 0, ttl: 60_000, pid: "w2" });
    expect(taskTimeoutOf(snap, "t1")).toEqual([{ id: "t1", type: 1, timeout: T + 1001 + 60_000 }]);
    expect(promiseOf(snap, "t1").state).toBe("pending");
    expect(promiseOf(snap, "t1.1")).toBeUndefined();
  });
});

describe("§15.7 suspend and resume", () => {
  async function rootWithChildren() {
    await withTask("r");
    await acquire("r", 0);
    await c("promise.create", createData("r.0", T + 60_000));
    await c("promise.create", createData("r.1", T + 60_000));
  }

  it("68: suspend on pending promises → 200 {}, suspended without lease, callbacks stored", async () => {
    await rootWithChildren();
    const res = await c("task.suspend", { id: "r", version: 1, actions: [callbackAction("r.0", "r"), callbackAction("r.1", "r")] });
    expect(res.status).toBe(200);
    expect(res.data).toEqual({});
    const snap = await ts.snap();
    expect(taskOf(snap, "r")).toStrictEqual({ id: "r", state: "suspended", version: 1, resumes: 0 });
    expect(taskTimeoutOf(snap, "r")).toEqual([]);
    expect(snap.callbacks).toEqual([
      { awaiter: "r", awaited: "r.0" },
      { awaiter: "r", awaited: "r.1" },
    ]);
  });

  it("69/70: settling awaited promises resumes once, counts resumes; acquire resets them", async () => {
    await rootWithChildren();
    await c("task.suspend", { id: "r", version: 1, actions: [callbackAction("r.0", "r"), callbackAction("r.1", "r")] });
    await drainOutbox(ts);
    await c("promise.settle", { id: "r.0", state: "resolved" }, T + 100);
    let snap = await ts.snap();
    expect(taskOf(snap, "r")).toStrictEqual({ id: "r", state: "pending", version: 1, resumes: 1 });
    expect(executes(snap)).toEqual([{ id: "r", version: 1, address: W }]);
    expect(taskTimeoutOf(snap, "r")).toEqual([{ id: "r", type: 0, timeout: T + 100 + R }]);

    await c("promise.settle", { id: "r.1", state: "rejected" }, T + 200);
    snap = await ts.snap();
    expect(taskOf(snap, "r")).toStrictEqual({ id: "r", state: "pending", version: 1, resumes: 2 });
    expect(executes(snap)).toEqual([{ id: "r", version: 1, address: W }]);
    expect(taskTimeoutOf(snap, "r")).toEqual([{ id: "r", type: 0, timeout: T + 100 + R }]);

    const res = await acquire("r", 1, T + 300);
    expect(res.data.task).toStrictEqual({ id: "r", state: "acquired", version: 2, resumes: 0, ttl: 60_000, pid: "w1" });
    expect(taskOf(await ts.snap(), "r").resumes).toBe(0);
  });

  it("71: immediate resume: an awaited promise already settled → 300 {preload}, still acquired with its lease, no callbacks", async () => {
    await withTask("r");
    await acquire("r", 0);
    await c("promise.create", createData("r.2", T + 60_000));
    await c("promise.create", createData("r.3", T + 60_000));
    await c("promise.settle", { id: "r.2", state: "resolved" });
    const res = await c("task.suspend", { id: "r", version: 1, actions: [callbackAction("r.2", "r"), callbackAction("r.3", "r")] }, T + 10);
    expect(res.status).toBe(300);
    expect(res.httpStatus).toBe(300);
    expect(Array.isArray(res.data.preload)).toBe(true);
    const snap = await ts.snap();
    expect(taskOf(snap, "r")).toStrictEqual({ id: "r", state: "acquired", version: 1, resumes: 0, ttl: 60_000, pid: "w1" });
    expect(taskTimeoutOf(snap, "r")).toEqual([{ id: "r", type: 1, timeout: T + 60_000 }]);
    expect(snap.callbacks).toEqual([]);
  });

  it("71b: a 300 clears the task's ready callbacks", async () => {
    await withTask("r");
    await acquire("r", 0);
    await c("promise.create", createData("a", T + 60_000));
    await c("promise.create", createData("b", T + 60_000));
    await c("promise.register_callback", { awaited: "a", awaiter: "r" });
    await c("promise.settle", { id: "a", state: "resolved" });
    await c("promise.settle", { id: "b", state: "resolved" });
    expect((await task("r")).resumes).toBe(1);
    const res = await c("task.suspend", { id: "r", version: 1, actions: [callbackAction("b", "r")] });
    expect(res.status).toBe(300);
    expect((await task("r")).resumes).toBe(0);
  });

  it("72: a missing awaited promise → 422 'Awaited promise not found' (missing beats settled)", async () => {
    await rootWithChildren();
    await c("promise.settle", { id: "r.0", state: "resolved" });
    const missing = await c("task.suspend", { id: "r", version: 1, actions: [callbackAction("nope", "r")] });
    expect(missing.status).toBe(422);
    expect(missing.data).toBe("Awaited promise not found");
    const both = await c("task.suspend", { id: "r", version: 1, actions: [callbackAction("nope", "r"), callbackAction("r.0", "r")] });
    expect(both.status).toBe(422);
    expect(both.data).toBe("Awaited promise not found");
    const reversed = await c("task.suspend", { id: "r", version: 1, actions: [callbackAction("r.0", "r"), callbackAction("nope", "r")] });
    expect(reversed.status).toBe(422);
    expect((await task("r")).state).toBe("acquired");
  });

  it("73: suspend validation 400s", async () => {
    await rootWithChildren();
    const empty = await c("task.suspend", { id: "r", version: 1, actions: [] });
    expect(empty.status).toBe(400);
    expect(empty.data).toBe("Actions array cannot be empty");
    const otherAwaiter = await c("task.suspend", { id: "r", version: 1, actions: [callbackAction("r.0", "x")] });
    expect(otherAwaiter.status).toBe(400);
    expect(otherAwaiter.data).toContain("All action awaiter IDs must match the task ID");
    const self = await c("task.suspend", { id: "r", version: 1, actions: [callbackAction("r", "r")] });
    expect(self.status).toBe(400);
    expect(self.data).toContain("Action awaited promise must not equal the task ID");
    const emptyAwaited = await c("task.suspend", { id: "r", version: 1, actions: [callbackAction("", "r")] });
    expect(emptyAwaited.status).toBe(400);
    expect((await c("task.suspend", { id: "r", version: -1, actions: [callbackAction("r.0", "r")] })).status).toBe(400);
    expect((await c("task.suspend", { id: "r", version: 1 })).status).toBe(400);
    expect((await task("r")).state).toBe("acquired");
    expect((await ts.snap()).callbacks).toEqual([]);
  });

  it("74: wrong version or a pending task → 409; unknown task → 404", async () => {
    await rootWithChildren();
    const wrong = await c("task.suspend", { id: "r", version: 2, actions: [callbackAction("r.0", "r")] });
    expect(wrong.status).toBe(409);
    expect(wrong.data).toBe("Task is not acquired or version mismatch");
    await withTask("p");
    await c("promise.create", createData("p.0", T + 60_000));
    const pending = await c("task.suspend", { id: "p", version: 0, actions: [callbackAction("p.0", "p")] });
    expect(pending.status).toBe(409);
    expect(pending.data).toBe("Task is not acquired or version mismatch");
    const unknown = await c("task.suspend", { id: "nope", version: 0, actions: [callbackAction("r.0", "nope")] });
    expect(unknown.status).toBe(404);
    expect(unknown.data).toBe("Task not found");
  });

  it("75: suspend after the task's own deadline → 409, task fulfilled, promise rejected_timedout", async () => {
    await withTask("r", T + 1000);
    await acquire("r", 0);
    await c("promise.create", createData("r.0", T + 60_000));
    const res = await c("task.suspend", { id: "r", version: 1, actions: [callbackAction("r.0", "r")] }, T + 1000);
    expect(res.status).toBe(409);
    expect(await task("r", T + 1000)).toStrictEqual({ id: "r", state: "fulfilled", version: 1, resumes: 0 });
    expect((await promise("r", T + 1000)).state).toBe("rejected_timedout");
    expect((await ts.snap()).callbacks).toEqual([]);
  });

  it("76: an awaited promise past its deadline is timed out lazily → 300", async () => {
    await withTask("r");
    await acquire("r", 0);
    await c("promise.create", createData("r.0", T + 10));
    const res = await c("task.suspend", { id: "r", version: 1, actions: [callbackAction("r.0", "r")] }, T + 20);
    expect(res.status).toBe(300);
    expect((await promise("r.0", T + 20)).state).toBe("rejected_timedout");
  });

  it("77: duplicate awaited ids → accepted, one callback", async () => {
    await rootWithChildren();
    const res = await c("task.suspend", { id: "r", version: 1, actions: [callbackAction("r.0", "r"), callbackAction("r.0", "r")] });
    expect(res.status).toBe(200);
    expect((await ts.snap()).callbacks).toEqual([{ awaiter: "r", awaited: "r.0" }]);
    await c("promise.settle", { id: "r.0", state: "resolved" });
    expect(await task("r")).toStrictEqual({ id: "r", state: "pending", version: 1, resumes: 1 });
  });

  it("78 [compat]: sleep wake-up: a target-less timer resolves in a tick and resumes its awaiter", async () => {
    await withTask("r");
    await acquire("r", 0);
    await c("promise.create", createData("s", T + 5000, { "resonate:timer": "true" }));
    expect((await c("task.suspend", { id: "r", version: 1, actions: [callbackAction("s", "r")] })).status).toBe(200);
    await drainOutbox(ts);
    await ts.tick(T + 4999);
    expect(taskOf(await ts.snap(), "r").state).toBe("suspended");
    await ts.tick(T + 5000);
    const snap = await ts.snap();
    expect(promiseOf(snap, "s")).toMatchObject({ state: "resolved", value: {}, settledAt: T + 5000 });
    expect(taskOf(snap, "r")).toStrictEqual({ id: "r", state: "pending", version: 1, resumes: 1 });
    expect(executes(snap)).toEqual([{ id: "r", version: 1, address: W }]);
    expect(taskTimeoutOf(snap, "r")).toEqual([{ id: "r", type: 0, timeout: T + 5000 + R }]);
  });

  it("79: external settle of a suspended task's promise fulfils it; settling its awaited later queues nothing", async () => {
    await withTask("r");
    await acquire("r", 0);
    await c("promise.create", createData("a", T + 60_000));
    await c("task.suspend", { id: "r", version: 1, actions: [callbackAction("a", "r")] });
    const cancel = await c("promise.settle", { id: "r", state: "rejected_canceled" }, T + 10);
    expect(cancel.status).toBe(200);
    let snap = await ts.snap();
    expect(taskOf(snap, "r")).toStrictEqual({ id: "r", state: "fulfilled", version: 1, resumes: 0 });
    expect(snap.callbacks).toEqual([]);
    expect(taskTimeoutOf(snap, "r")).toEqual([]);
    await drainOutbox(ts);
    await c("promise.settle", { id: "a", state: "resolved" }, T + 20);
    snap = await ts.snap();
    expect(snap.messages).toEqual([]);
    expect(taskOf(snap, "r")).toStrictEqual({ id: "r", state: "fulfilled", version: 1, resumes: 0 });
  });

  it("79b: settling the promise of an acquired task fulfils it; the holder is fenced out", async () => {
    await withTask("r");
    await acquire("r", 0);
    await c("promise.settle", { id: "r", state: "rejected_canceled" });
    expect(await task("r")).toStrictEqual({ id: "r", state: "fulfilled", version: 1, resumes: 0 });
    expect((await ts.snap()).taskTimeouts).toEqual([]);
    const fence = await c("task.fence", { id: "r", version: 1, action: createAction("r.0", T + 60_000) });
    expect(fence.status).toBe(409);
    const fulfill = await c("task.fulfill", { id: "r", version: 1, action: settleAction("r", "resolved") });
    expect(fulfill.status).toBe(409);
    expect((await promise("r")).state).toBe("rejected_canceled");
  });
});

describe("§15.8 fulfill and fence", () => {
  it("80: fulfill → resolved; task fulfilled without lease; listeners unblocked; awaiters resumed", async () => {
    await withTask("r");
    await acquire("r", 0);
    await c("promise.register_listener", { awaited: "r", address: "poll://uni@client/c1" });
    await withTask("p");
    await acquire("p", 0);
    expect((await c("task.suspend", { id: "p", version: 1, actions: [callbackAction("r", "p")] })).status).toBe(200);
    await drainOutbox(ts);

    const res = await c("task.fulfill", { id: "r", version: 1, action: settleAction("r", "resolved", { data: "ODQ=" }) }, T + 50);
    expect(res.status).toBe(200);
    expect(res.data.promise).toMatchObject({ id: "r", state: "resolved", value: { data: "ODQ=" }, settledAt: T + 50 });
    const snap = await ts.snap();
    expect(taskOf(snap, "r")).toStrictEqual({ id: "r", state: "fulfilled", version: 1, resumes: 0 });
    expect(taskTimeoutOf(snap, "r")).toEqual([]);
    expect(snap.promiseTimeouts.find((t) => t.id === "r")).toBeUndefined();
    expect(unblocks(snap)).toMatchObject([{ id: "r", state: "resolved", address: "poll://uni@client/c1" }]);
    expect(executes(snap)).toEqual([{ id: "p", version: 1, address: W }]);
    expect(taskOf(snap, "p")).toStrictEqual({ id: "p", state: "pending", version: 1, resumes: 1 });
  });

  it("81: fulfill errors", async () => {
    await withTask("r");
    await acquire("r", 0);
    const otherId = await c("task.fulfill", { id: "r", version: 1, action: settleAction("x", "resolved") });
    expect(otherId.status).toBe(400);
    expect(otherId.data).toBe("Action ID must match the task ID");
    const wrongVersion = await c("task.fulfill", { id: "r", version: 0, action: settleAction("r", "resolved") });
    expect(wrongVersion.status).toBe(409);
    expect(wrongVersion.data).toBe("Task version mismatch or invalid state");
    const timedout = await c("task.fulfill", { id: "r", version: 1, action: settleAction("r", "rejected_timedout") });
    expect(timedout.status).toBe(400);
    const unknown = await c("task.fulfill", { id: "nope", version: 1, action: settleAction("nope", "resolved") });
    expect(unknown.status).toBe(404);
    expect(unknown.data).toBe("Task not found");
    expect((await promise("r")).state).toBe("pending");
    const first = await c("task.fulfill", { id: "r", version: 1, action: settleAction("r", "resolved") });
    expect(first.status).toBe(200);
    const second = await c("task.fulfill", { id: "r", version: 1, action: settleAction("r", "rejected") });
    expect(second.status).toBe(409);
    expect((await promise("r")).state).toBe("resolved");
  });

  it("80b: fulfilling a task drops its ready callbacks (resumes 0)", async () => {
    await withTask("r");
    await acquire("r", 0);
    await c("promise.create", createData("a", T + 60_000));
    await c("promise.register_callback", { awaited: "a", awaiter: "r" });
    await c("promise.settle", { id: "a", state: "resolved" });
    expect((await task("r")).resumes).toBe(1);
    await c("task.fulfill", { id: "r", version: 1, action: settleAction("r", "resolved") });
    expect(await task("r")).toStrictEqual({ id: "r", state: "fulfilled", version: 1, resumes: 0 });
  });

  it("80c: task.get applies the lazy timeout", async () => {
    await withTask("r", T + 10);
    await acquire("r", 0);
    expect(await task("r", T + 10)).toStrictEqual({ id: "r", state: "fulfilled", version: 1, resumes: 0 });
    expect((await c("task.get", { id: "nope" })).status).toBe(404);
    expect((await c("task.get", { id: "" })).status).toBe(400);
  });

  it("81b: fulfill of a pending (never acquired) task → 409", async () => {
    await withTask("r");
    const res = await c("task.fulfill", { id: "r", version: 0, action: settleAction("r", "resolved") });
    expect(res.status).toBe(409);
    expect((await promise("r")).state).toBe("pending");
  });

  it("82: fulfill after the deadline → 409, promise rejected_timedout", async () => {
    await withTask("r", T + 1000);
    await acquire("r", 0);
    const res = await c("task.fulfill", { id: "r", version: 1, action: settleAction("r", "resolved") }, T + 1000);
    expect(res.status).toBe(409);
    expect((await promise("r", T + 1000)).state).toBe("rejected_timedout");
    expect((await task("r", T + 1000)).state).toBe("fulfilled");
  });

  it("83: fulfill with rejected / rejected_canceled stores that state and value", async () => {
    await withTask("r1");
    await withTask("r2");
    await acquire("r1", 0);
    await acquire("r2", 0);
    const rej = await c("task.fulfill", { id: "r1", version: 1, action: settleAction("r1", "rejected", { headers: { e: "1" }, data: "ZXJy" }) });
    expect(rej.data.promise).toMatchObject({ state: "rejected", value: { headers: { e: "1" }, data: "ZXJy" } });
    const can = await c("task.fulfill", { id: "r2", version: 1, action: settleAction("r2", "rejected_canceled") });
    expect(can.data.promise).toMatchObject({ state: "rejected_canceled", value: {} });
  });

  it("84: fenced create → inner 200 with the new promise, outer corrId echoed inside; child task queued", async () => {
    await withTask("r");
    await acquire("r", 0);
    await drainOutbox(ts);
    const res = await ts.callAt(
      T + 5,
      "task.fence",
      {
        id: "r",
        version: 1,
        action: { kind: "promise.create", head: { corrId: "inner", version: PROTOCOL_VERSION }, data: createData("r.0", T + 60_000, { "resonate:target": W }) },
      },
      { corrId: "outer" },
    );
    expect(res.status).toBe(200);
    expect(res.body.head.corrId).toBe("outer");
    expect(res.data.action).toStrictEqual({
      kind: "promise.create",
      head: { corrId: "outer", status: 200, version: PROTOCOL_VERSION },
      data: {
        promise: {
          id: "r.0",
          state: "pending",
          param: {},
          value: {},
          tags: { "resonate:target": W },
          timeoutAt: T + 60_000,
          createdAt: T + 5,
        },
      },
    });
    expect(res.data.preload).toEqual([]);
    const snap = await ts.snap();
    expect(taskOf(snap, "r.0")).toStrictEqual({ id: "r.0", state: "pending", version: 0, resumes: 0 });
    expect(executes(snap)).toEqual([{ id: "r.0", version: 0, address: W }]);
    // The fence does not touch the lease.
    expect(taskTimeoutOf(snap, "r")).toEqual([{ id: "r", type: 1, timeout: T + 60_000 }]);
  });

  it("85: the same fenced create again → inner 200 with the existing record, nothing queued", async () => {
    await withTask("r");
    await acquire("r", 0);
    const body = { id: "r", version: 1, action: createAction("r.0", T + 60_000, { "resonate:target": W }) };
    const first = await c("task.fence", body);
    await drainOutbox(ts);
    const second = await c("task.fence", { ...body, action: createAction("r.0", T + 99_000, { "resonate:target": W, x: "y" }) }, T + 7);
    expect(second.status).toBe(200);
    expect(second.data.action.head.status).toBe(200);
    expect(second.data.action.data.promise).toStrictEqual(first.data.action.data.promise);
    expect((await ts.snap()).messages).toEqual([]);
  });

  it("86: fenced settle runs the chain; fenced settle of a missing id → outer 200, inner 404", async () => {
    await withTask("r");
    await acquire("r", 0);
    await c("task.fence", { id: "r", version: 1, action: createAction("r.0", T + 60_000) });
    await c("promise.register_listener", { awaited: "r.0", address: "poll://uni@client/c1" });
    const res = await c("task.fence", { id: "r", version: 1, action: settleAction("r.0", "resolved", { data: "eA==" }) }, T + 3);
    expect(res.status).toBe(200);
    expect(res.data.action.kind).toBe("promise.settle");
    expect(res.data.action.head.status).toBe(200);
    expect(res.data.action.data.promise).toMatchObject({ id: "r.0", state: "resolved", value: { data: "eA==" }, settledAt: T + 3 });
    expect(unblocks(await ts.snap())).toMatchObject([{ id: "r.0", state: "resolved" }]);

    const again = await c("task.fence", { id: "r", version: 1, action: settleAction("r.0", "rejected") });
    expect(again.data.action.head.status).toBe(200);
    expect(again.data.action.data.promise.state).toBe("resolved");

    const missing = await c("task.fence", { id: "r", version: 1, action: settleAction("ghost", "resolved") });
    expect(missing.status).toBe(200);
    expect(missing.data.action.head.status).toBe(404);
    expect(missing.data.action.data).toBe("Promise not found");
    expect(Array.isArray(missing.data.preload)).toBe(true);
  });

  it("86b: fenced settle of a child past its deadline returns the timed-out record", async () => {
    await withTask("r");
    await acquire("r", 0);
    await c("task.fence", { id: "r", version: 1, action: createAction("r.0", T + 10) });
    const res = await c("task.fence", { id: "r", version: 1, action: settleAction("r.0", "resolved") }, T + 20);
    expect(res.data.action.head.status).toBe(200);
    expect(res.data.action.data.promise.state).toBe("rejected_timedout");
  });

  it("87: fence errors", async () => {
    await withTask("r");
    await acquire("r", 0);
    await withTask("q");
    const wrongVersion = await c("task.fence", { id: "r", version: 0, action: createAction("r.0", T + 60_000) });
    expect(wrongVersion.status).toBe(409);
    expect(wrongVersion.data).toBe("Version mismatch");
    const notAcquired = await c("task.fence", { id: "q", version: 0, action: createAction("q.0", T + 60_000) });
    expect(notAcquired.status).toBe(409);
    expect(notAcquired.data).toBe("Version mismatch");
    const unknown = await c("task.fence", { id: "nope", version: 0, action: createAction("nope.0", T + 60_000) });
    expect(unknown.status).toBe(404);
    expect(unknown.data).toBe("Task not found");
    const badKind = await c("task.fence", { id: "r", version: 1, action: { kind: "promise.get", head: {}, data: { id: "r.0" } } });
    expect(badKind.status).toBe(400);
    expect(badKind.data).toBe("Invalid fence action kind");
    const selfId = await c("task.fence", { id: "r", version: 1, action: settleAction("r", "resolved") });
    expect(selfId.status).toBe(400);
    expect(selfId.data).toBe("Action ID must not equal the task ID");
    const noTimeout = await c("task.fence", { id: "r", version: 1, action: { kind: "promise.create", head: {}, data: { id: "r.0" } } });
    expect(noTimeout.status).toBe(400);
    const badTarget = await c("task.fence", { id: "r", version: 1, action: createAction("r.0", T + 60_000, { "resonate:target": "workers" }) });
    expect(badTarget.status).toBe(400);
    expect(badTarget.data).toBe("Invalid resonate:target address");
    const badSettle = await c("task.fence", { id: "r", version: 1, action: settleAction("r.0", "rejected_timedout") });
    expect(badSettle.status).toBe(400);
    expect((await ts.snap()).promises.map((p) => p.id)).toEqual(["q", "r"]);
  });

  it("87b: fence with a settle of the task's own id is refused even when it would settle", async () => {
    await withTask("r");
    await acquire("r", 0);
    const res = await c("task.fence", { id: "r", version: 1, action: createAction("r", T + 60_000) });
    expect(res.status).toBe(400);
  });

  it("88: fence after the task's own deadline → 409", async () => {
    await withTask("r", T + 1000);
    await acquire("r", 0);
    const res = await c("task.fence", { id: "r", version: 1, action: createAction("r.0", T + 60_000) }, T + 1000);
    expect(res.status).toBe(409);
    expect((await ts.snap()).promises.find((p) => p.id === "r.0")).toBeUndefined();
    expect((await task("r", T + 1000)).state).toBe("fulfilled");
  });
});

describe("§15.9 halt and continue", () => {
  it("89/90: halt a pending task, a tick queues nothing; continue re-queues at the same version; continue again → 409", async () => {
    await withTask("x");
    await drainOutbox(ts);
    const halt = await c("task.halt", { id: "x" });
    expect(halt.status).toBe(200);
    expect(halt.data).toEqual({});
    let snap = await ts.snap();
    expect(taskOf(snap, "x")).toStrictEqual({ id: "x", state: "halted", version: 0, resumes: 0 });
    expect(taskTimeoutOf(snap, "x")).toEqual([]);
    await ts.tick(T + R + 10);
    expect((await ts.snap()).messages).toEqual([]);

    const cont = await c("task.continue", { id: "x" }, T + 100);
    expect(cont.status).toBe(200);
    expect(cont.data).toEqual({});
    snap = await ts.snap();
    expect(taskOf(snap, "x")).toStrictEqual({ id: "x", state: "pending", version: 0, resumes: 0 });
    expect(executes(snap)).toEqual([{ id: "x", version: 0, address: W }]);
    expect(taskTimeoutOf(snap, "x")).toEqual([{ id: "x", type: 0, timeout: T + 100 + R }]);

    const again = await c("task.continue", { id: "x" });
    expect(again.status).toBe(409);
    expect(again.data).toBe("Task is not halted");
  });

  it("91: halt a fulfilled task → 409; halt a halted task → 200; halt/continue unknown → 404", async () => {
    await withTask("f");
    await c("promise.settle", { id: "f", state: "resolved" });
    const fulfilled = await c("task.halt", { id: "f" });
    expect(fulfilled.status).toBe(409);
    expect(fulfilled.data).toBe("Task is fulfilled");
    await withTask("h");
    expect((await c("task.halt", { id: "h" })).status).toBe(200);
    expect((await c("task.halt", { id: "h" })).status).toBe(200);
    expect((await task("h")).state).toBe("halted");
    const haltUnknown = await c("task.halt", { id: "nope" });
    expect(haltUnknown.status).toBe(404);
    expect(haltUnknown.data).toBe("Task not found");
    const contUnknown = await c("task.continue", { id: "nope" });
    expect(contUnknown.status).toBe(404);
    expect(contUnknown.data).toBe("Task not found");
    expect((await c("task.continue", { id: "f" })).status).toBe(409);
    expect((await c("task.halt", { id: "" })).status).toBe(400);
  });

  it("92a: halting an acquired task ends the lease; the holder's fulfill → 409; continue keeps the version", async () => {
    await withTask("x");
    await acquire("x", 0);
    expect((await c("task.halt", { id: "x" })).status).toBe(200);
    const snap = await ts.snap();
    expect(taskOf(snap, "x")).toStrictEqual({ id: "x", state: "halted", version: 1, resumes: 0 });
    expect(taskTimeoutOf(snap, "x")).toEqual([]);
    const fulfill = await c("task.fulfill", { id: "x", version: 1, action: settleAction("x", "resolved") });
    expect(fulfill.status).toBe(409);
    expect((await promise("x")).state).toBe("pending");
    await c("task.continue", { id: "x" });
    expect(await task("x")).toStrictEqual({ id: "x", state: "pending", version: 1, resumes: 0 });
  });

  it("92b: a halted suspended task is not resumed by a settlement (resumes grows); continue queues it", async () => {
    await withTask("x");
    await acquire("x", 0);
    await c("promise.create", createData("x.0", T + 60_000));
    await c("task.suspend", { id: "x", version: 1, actions: [callbackAction("x.0", "x")] });
    await c("task.halt", { id: "x" });
    await drainOutbox(ts);
    await c("promise.settle", { id: "x.0", state: "resolved" });
    let snap = await ts.snap();
    expect(taskOf(snap, "x")).toStrictEqual({ id: "x", state: "halted", version: 1, resumes: 1 });
    expect(snap.messages).toEqual([]);
    await c("task.continue", { id: "x" });
    snap = await ts.snap();
    expect(taskOf(snap, "x")).toMatchObject({ state: "pending", version: 1 });
    expect(executes(snap)).toEqual([{ id: "x", version: 1, address: W }]);
  });

  it("93: the promise of a halted task times out → task fulfilled", async () => {
    await withTask("x", T + 1000);
    await c("task.halt", { id: "x" });
    await ts.tick(T + 1000);
    const snap = await ts.snap();
    expect(promiseOf(snap, "x").state).toBe("rejected_timedout");
    expect(taskOf(snap, "x")).toStrictEqual({ id: "x", state: "fulfilled", version: 0, resumes: 0 });
  });
});

describe("§15.10 delay", () => {
  it("94 [compat C5]: resonate:delay defers the first dispatch to the delay time", async () => {
    const res = await c("promise.create", createData("d1", T + 60_000, { "resonate:target": W, "resonate:delay": String(T + 5000) }));
    expect(res.status).toBe(200);
    let snap = await ts.snap();
    expect(taskOf(snap, "d1")).toStrictEqual({ id: "d1", state: "pending", version: 0, resumes: 0 });
    expect(snap.messages).toEqual([]);
    expect(taskTimeoutOf(snap, "d1")).toEqual([{ id: "d1", type: 0, timeout: T + 5000 }]);
    await ts.tick(T + 4999);
    snap = await ts.snap();
    expect(snap.messages).toEqual([]);
    expect(taskTimeoutOf(snap, "d1")).toEqual([{ id: "d1", type: 0, timeout: T + 5000 }]);
    await ts.tick(T + 5000);
    snap = await ts.snap();
    expect(executes(snap)).toEqual([{ id: "d1", version: 0, address: W }]);
    expect(taskTimeoutOf(snap, "d1")).toEqual([{ id: "d1", type: 0, timeout: T + 5000 + R }]);
  });

  it("94b: a delayed task may be acquired before its delay (nothing forbids it)", async () => {
    await c("promise.create", createData("d1", T + 60_000, { "resonate:target": W, "resonate:delay": String(T + 5000) }));
    const res = await c("task.acquire", { id: "d1", version: 0, pid: "w1", ttl: 1000 });
    expect(res.status).toBe(200);
  });

  it("95: a delay ≤ now dispatches immediately", async () => {
    for (const [id, delay] of [["d2", T], ["d3", T - 1000], ["d4", 0]] as const) {
      const res = await c("promise.create", createData(id, T + 60_000, { "resonate:target": W, "resonate:delay": String(delay) }));
      expect(res.status, id).toBe(200);
    }
    const snap = await ts.snap();
    expect(executes(snap).map((e) => e.id)).toEqual(["d2", "d3", "d4"]);
    expect(snap.taskTimeouts).toEqual([
      { id: "d2", type: 0, timeout: T + R },
      { id: "d3", type: 0, timeout: T + R },
      { id: "d4", type: 0, timeout: T + R },
    ]);
  });

  it("96: delay validation 400s", async () => {
    const cases: [string, Record<string, string>, number, string][] = [
      ["abc", { "resonate:target": W, "resonate:delay": "abc" }, T + 60_000, "resonate:delay must be a non-negative integer"],
      ["-1", { "resonate:target": W, "resonate:delay": "-1" }, T + 60_000, "resonate:delay must be a non-negative integer"],
      ["1.5", { "resonate:target": W, "resonate:delay": "1.5" }, T + 60_000, "resonate:delay must be a non-negative integer"],
      ["empty", { "resonate:target": W, "resonate:delay": "" }, T + 60_000, "resonate:delay must be a non-negative integer"],
      ["= timeoutAt", { "resonate:target": W, "resonate:delay": String(T + 60_000) }, T + 60_000, "resonate:delay must be less than timeoutAt"],
      ["> timeoutAt", { "resonate:target": W, "resonate:delay": String(T + 70_000) }, T + 60_000, "resonate:delay must be less than timeoutAt"],
      ["no target", { "resonate:delay": String(T + 5000) }, T + 60_000, "resonate:delay requires a resonate:target tag"],
    ];
    for (const [what, tags, timeoutAt, message] of cases) {
      const res = await c("promise.create", createData(`d-${what}`, timeoutAt, tags));
      expect(res.status, what).toBe(400);
      expect(res.data, what).toBe(message);
    }
    const inTaskCreate = await c("task.create", taskCreate("d9", T + 60_000, { "resonate:target": C1, "resonate:delay": String(T + 5000) }));
    expect(inTaskCreate.status).toBe(400);
    expect((await ts.snap()).promises).toEqual([]);
  });

  it("96b: a fenced create with a delay is deferred like a plain create", async () => {
    await withTask("r");
    await acquire("r", 0);
    await drainOutbox(ts);
    const res = await c("task.fence", { id: "r", version: 1, action: createAction("r.0", T + 60_000, { "resonate:target": W, "resonate:delay": String(T + 5000) }) });
    expect(res.status).toBe(200);
    const snap = await ts.snap();
    expect(snap.messages).toEqual([]);
    expect(taskTimeoutOf(snap, "r.0")).toEqual([{ id: "r.0", type: 0, timeout: T + 5000 }]);
  });
});
