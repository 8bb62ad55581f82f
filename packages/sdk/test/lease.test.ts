import { describe, expect, it } from "vitest";
import { encodeInvocation } from "../src/codec";
import type { Clock, Timer } from "../src/clock";
import { ManualClock } from "../src/clock";
import type { Context } from "../src/context";
import { LeaseLostError } from "../src/errors";
import { AsyncHeartbeat } from "../src/heartbeat";
import { Registry } from "../src/registry";
import { Resonate } from "../src/resonate";
import { TaskRunner } from "../src/task-runner";
import { FakeHttp, flush } from "./support/fake-http";
import { promiseRecord, silentLogger, startFakeServer, waitFor } from "./support/fake-server";

// Issue 18: a running function learns that its lease is gone (ctx.signal, LeaseLostError), the SDK
// stops heartbeating the task and does not send its result (after a loss it only inferred, "expired",
// it asks the server first); ctx.fencingToken names the holder.

const held = (id: string, version: number, pid = "w1") => ({ status: 200, data: { task: { id, state: "acquired", version, resumes: 0, ttl: 1000, pid } } });
const taskIs = (id: string, state: string, version: number) => ({ status: 200, data: { task: { id, state, version, resumes: 0 } } });

/** A clock whose time is set by hand and whose intervals fire only when a test calls them. */
class StubClock implements Clock {
  current = 1_000_000;
  readonly intervals: { fn: () => void; ms: number; live: boolean }[] = [];
  now(): number {
    return this.current;
  }
  setTimeout(): Timer {
    return { cancel() {} };
  }
  setInterval(fn: () => void, ms: number): Timer {
    const entry = { fn, ms, live: true };
    this.intervals.push(entry);
    return { cancel: () => void (entry.live = false) };
  }
  fire(ms: number): void {
    for (const i of this.intervals) if (i.live && i.ms === ms) i.fn();
  }
}

describe("AsyncHeartbeat: lease checks", () => {
  function setup(clock: Clock) {
    const http = new FakeHttp();
    // interval 1000 (= ttl/2), ttl 2000, watchdog 100
    const heartbeat = new AsyncHeartbeat("w1", 1_000, http, clock, silentLogger, 2_000, 100);
    const lost: LeaseLostError[] = [];
    const start = (id: string, version: number, since = clock.now()) => heartbeat.start({ id, version }, { since, onLost: (e) => lost.push(e) });
    return { http, heartbeat, lost, start };
  }

  it("reads every lease back after each heartbeat; one still held is renewed and never reported", async () => {
    const clock = new ManualClock();
    const { http, lost, start } = setup(clock);
    http.on("task.get", (d) => held(String(d.id), 1));
    start("a", 1);
    for (let i = 0; i < 10; i++) {
      clock.advance(1_000);
      await flush();
    }
    expect(lost).toEqual([]);
    expect(http.callsOf("task.heartbeat")).toHaveLength(10);
    expect(http.callsOf("task.get")).toEqual(Array.from({ length: 10 }, () => ({ id: "a" })));
  });

  it.each([
    ["pending at the version held", taskIs("a", "pending", 1), "released"],
    ["acquired by another process", held("a", 2, "w2"), "reacquired"],
    ["pending at a higher version", taskIs("a", "pending", 2), "reacquired"],
    ["fulfilled by the next holder", taskIs("a", "fulfilled", 2), "fulfilled"],
    ["fulfilled at the version held (promise settled from outside)", taskIs("a", "fulfilled", 1), "fulfilled"],
    ["suspended", taskIs("a", "suspended", 1), "suspended"],
    ["halted", taskIs("a", "halted", 1), "halted"],
    ["not found", { status: 404, data: "Task not found" }, "gone"],
  ])("a task read back %s is lost (%s), reported once, and no longer heartbeated", async (_what, answer, why) => {
    const clock = new ManualClock();
    const { http, heartbeat, lost, start } = setup(clock);
    http.on("task.get", (d) => (d.id === "a" ? answer : held(String(d.id), 7)));
    start("a", 1);
    start("b", 7);
    clock.advance(1_000);
    await flush();
    expect(lost).toHaveLength(1);
    expect(lost[0]).toBeInstanceOf(LeaseLostError);
    expect(lost[0]).toMatchObject({ name: "LeaseLostError", taskId: "a", version: 1, why });
    expect(lost[0]!.message).toMatch(/^Lease on task "a" at version 1 lost: /);
    expect(heartbeat.tasks).toEqual([{ id: "b", version: 7 }]);
    clock.advance(1_000);
    await flush();
    expect(lost).toHaveLength(1);
    expect(http.callsOf("task.heartbeat").at(-1)).toEqual({ pid: "w1", tasks: [{ id: "b", version: 7 }] });
  });

  it("after a freeze, the first watchdog tick reports the lease lost ('expired') synchronously, before anything else runs", () => {
    const clock = new StubClock();
    const { http, heartbeat, lost, start } = setup(clock);
    start("a", 1);
    clock.current += 20_000; // the process was stopped for 20 s
    clock.fire(100);
    expect(lost.map((e) => [e.taskId, e.version, e.why])).toEqual([["a", 1, "expired"]]);
    expect(lost[0]!.message).toBe('Lease on task "a" at version 1 lost: this process stood still (no heartbeat sent) for longer than the lease could last');
    expect(heartbeat.tasks).toEqual([]);
    expect(http.calls).toEqual([]);
  });

  it("after a freeze, a heartbeat that fires before the watchdog judges the leases first and does not name the lost one", async () => {
    const clock = new StubClock();
    const { http, lost, start } = setup(clock);
    start("a", 1);
    clock.current += 20_000;
    clock.fire(1_000);
    expect(lost.map((e) => e.why)).toEqual(["expired"]);
    await flush();
    expect(http.callsOf("task.heartbeat")).toEqual([]);
  });

  it("a freeze shorter than the lease's bound costs nothing", () => {
    const clock = new StubClock();
    const { lost, start } = setup(clock);
    start("a", 1, clock.now() - 300); // the acquire went out 300 ms before the answer: bound 1_001_700
    clock.current += 1_700; // overdue with heartbeats (> 1.5 intervals), but the lease still runs
    clock.fire(100);
    expect(lost).toEqual([]);
    clock.current += 1;
    clock.fire(100);
    expect(lost.map((e) => e.why)).toEqual(["expired"]);
  });

  it("a heartbeat renews the bound (send time + ttl) only if answered and followed by a read showing the lease held", async () => {
    for (const heartbeatAnswered of [true, false]) {
      const clock = new StubClock();
      const { http, lost, start } = setup(clock);
      if (!heartbeatAnswered) http.on("task.heartbeat", () => new Error("socket hang up"));
      http.on("task.get", (d) => held(String(d.id), 1));
      start("a", 1); // bound: 1_002_000
      clock.current = 1_001_000;
      clock.fire(1_000); // heartbeat sent at 1_001_000, then read back: bound 1_003_000 if answered
      await flush();
      clock.current = 1_002_600; // then a freeze: overdue
      clock.fire(100);
      expect(lost.map((e) => e.why), `heartbeat answered: ${heartbeatAnswered}`).toEqual(heartbeatAnswered ? [] : ["expired"]);
      clock.current = 1_003_001;
      clock.fire(100);
      expect(lost.map((e) => e.why)).toEqual(["expired"]);
    }
  });

  it("a process that keeps heartbeating but gets no confirmation (server down) keeps its lease until the server says otherwise", async () => {
    const clock = new ManualClock();
    const { http, heartbeat, lost, start } = setup(clock);
    let serverUp = false;
    http.on("task.heartbeat", () => (serverUp ? { status: 200, data: {} } : new Error("connect ECONNREFUSED")));
    http.on("task.get", () => (serverUp ? held("a", 2, "w2") : new Error("connect ECONNREFUSED")));
    start("a", 1);
    for (let i = 0; i < 10; i++) {
      clock.advance(1_000);
      await flush();
    }
    expect(lost).toEqual([]); // 10 s without a confirmation, ttl 2 s: still ours as far as we know
    expect(heartbeat.tasks).toEqual([{ id: "a", version: 1 }]);
    serverUp = true; // back, and another process holds the task
    clock.advance(1_000);
    await flush();
    expect(lost.map((e) => [e.why, e.task?.pid])).toEqual([["reacquired", "w2"]]);
  });

  it("check() reads the leases back at once; a task started without lease options is never reported expired", async () => {
    const clock = new ManualClock();
    const { http, heartbeat, lost, start } = setup(clock);
    http.on("task.get", (d) => (d.id === "a" ? taskIs("a", "pending", 1) : held(String(d.id), 1)));
    start("a", 1);
    heartbeat.start({ id: "plain", version: 1 });
    heartbeat.check();
    await flush();
    expect(http.callsOf("task.get").map((d) => d.id).sort()).toEqual(["a", "plain"]);
    expect(lost.map((e) => e.why)).toEqual(["released"]);
    clock.advance(60_000);
    await flush();
    expect(heartbeat.tasks).toEqual([{ id: "plain", version: 1 }]);
    heartbeat.stop();
    expect(clock.pending).toBe(0);
  });
});

describe("TaskRunner: lease loss and fencing token", () => {
  /** With a StubClock the runner and heartbeat use it; `clock` is then a ManualClock nobody reads. */
  function setup(stub?: StubClock) {
    const manual = new ManualClock();
    const clock: Clock = stub ?? manual;
    const http = new FakeHttp()
      .on("task.acquire", (d) => ({
        status: 200,
        data: {
          task: { id: d.id, state: "acquired", version: Number(d.version) + 1, resumes: 0, ttl: 2000, pid: "w1" },
          promise: promiseRecord(String(d.id), { param: encodeInvocation({ func: "slow", args: [], version: 1 }) }),
          preload: [],
        },
      }))
      .on("task.get", (d) => held(String(d.id), 4));
    const heartbeat = new AsyncHeartbeat("w1", 1_000, http, clock, silentLogger, 2_000, 100);
    const registry = new Registry();
    const runner = new TaskRunner({ http, registry, heartbeat, pid: "w1", group: "workers", ttl: 2000, concurrency: Infinity, logger: silentLogger, clock, stopGrace: 1_000 });
    const contexts: Context[] = [];
    const gates: (() => void)[] = [];
    registry.add("slow", (ctx: Context) => new Promise<string>((resolve) => (contexts.push(ctx), gates.push(() => resolve("done")))));
    return { clock: manual, http, heartbeat, runner, contexts, gates };
  }

  it("gives the function the task id and acquired version as its fencing token, and a live signal", async () => {
    const { http, runner, contexts, gates } = setup();
    runner.onExecute({ id: "job-1", version: 3 });
    await waitFor(() => contexts.length === 1);
    expect(contexts[0]!.fencingToken).toEqual({ taskId: "job-1", version: 4 });
    expect(Object.isFrozen(contexts[0]!.fencingToken)).toBe(true);
    expect(contexts[0]!.signal.aborted).toBe(false);
    gates[0]!();
    await waitFor(() => http.callsOf("task.fulfill").length === 1);
    expect(contexts[0]!.signal.aborted).toBe(false);
  });

  it("a lease found lost aborts ctx.signal with a LeaseLostError; the task is no longer heartbeated and its result not sent", async () => {
    const { clock, http, heartbeat, runner, contexts, gates } = setup();
    http.on("task.get", (d) => held(String(d.id), 5, "w2")); // another process acquired it
    runner.onExecute({ id: "job-1", version: 3 });
    await waitFor(() => contexts.length === 1);
    const reasons: unknown[] = [];
    contexts[0]!.signal.addEventListener("abort", () => reasons.push(contexts[0]!.signal.reason));
    clock.advance(1_000);
    await flush();
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toBeInstanceOf(LeaseLostError);
    expect(reasons[0]).toMatchObject({ taskId: "job-1", version: 4, why: "reacquired", task: { version: 5, pid: "w2" } });
    expect(heartbeat.tasks).toEqual([]);
    const beats = http.callsOf("task.heartbeat").length;
    clock.advance(5_000);
    await flush();
    expect(http.callsOf("task.heartbeat")).toHaveLength(beats);
    gates[0]!(); // the function ignores its signal and returns anyway
    await flush();
    expect(http.callsOf("task.fulfill")).toEqual([]);
    expect(runner.load).toEqual({ active: 0, queued: 0 });
  });

  it("a frozen process finds its lease expired on the first watchdog tick; the server still holding it for us, the task is released, not fulfilled", async () => {
    const clock = new StubClock();
    const { http, runner, contexts, gates } = setup(clock); // task.get: acquired at version 4 by w1
    runner.onExecute({ id: "job-1", version: 3 });
    await waitFor(() => contexts.length === 1);
    clock.current += 30_000;
    clock.fire(100);
    expect(contexts[0]!.signal.reason).toMatchObject({ name: "LeaseLostError", why: "expired", version: 4 });
    const beats = http.callsOf("task.heartbeat").length;
    gates[0]!(); // the function gave up (or not): its value is not trusted
    await waitFor(() => http.callsOf("task.release").length === 1);
    expect(http.callsOf("task.release")).toEqual([{ id: "job-1", version: 4 }]);
    expect(http.callsOf("task.fulfill")).toEqual([]);
    clock.current += 30_000;
    clock.fire(1_000);
    await flush();
    expect(http.callsOf("task.heartbeat")).toHaveLength(beats); // no longer heartbeated
  });

  it("after an expired lease that the server confirms lost, the result goes out only as a fenced fulfill, refused (409); with no answer, nothing is sent", async () => {
    for (const server of ["reacquired", "unreachable"] as const) {
      const clock = new StubClock();
      const { http, runner, contexts, gates } = setup(clock);
      runner.onExecute({ id: "job-1", version: 3 });
      await waitFor(() => contexts.length === 1);
      clock.current += 30_000;
      clock.fire(100);
      http.on("task.get", () => (server === "reacquired" ? held("job-1", 5, "w2") : new Error("connect ECONNREFUSED")));
      http.on("task.fulfill", () => ({ status: 409, data: "Task version mismatch or invalid state" }));
      gates[0]!();
      await waitFor(() => http.callsOf("task.get").length >= 1);
      await flush();
      expect(http.callsOf("task.fulfill").map((d) => [d.id, d.version]), server).toEqual(server === "reacquired" ? [["job-1", 4]] : []);
      expect(http.callsOf("task.release"), server).toEqual([]);
      expect(contexts[0]!.signal.reason).toMatchObject({ why: "expired" }); // the first reason stays
    }
  });

  it("an execute for the running task at the version held means the server re-dispatched it: the signal aborts at once", async () => {
    const { http, runner, contexts, gates } = setup();
    runner.onExecute({ id: "job-1", version: 3 });
    await waitFor(() => contexts.length === 1);
    runner.onExecute({ id: "job-1", version: 3 }); // a late duplicate of the execute we acquired: nothing
    expect(contexts[0]!.signal.aborted).toBe(false);
    runner.onExecute({ id: "job-1", version: 4 }); // pending again at the version we hold
    expect(contexts[0]!.signal.reason).toMatchObject({ name: "LeaseLostError", taskId: "job-1", version: 4, why: "redispatched" });
    gates[0]!();
    // The queued execute is acquired afresh once the slot is free (version 4 → 5): a new run, not ours.
    await waitFor(() => contexts.length === 2);
    expect(contexts[1]!.fencingToken).toEqual({ taskId: "job-1", version: 5 });
    expect(http.callsOf("task.fulfill")).toEqual([]);
    gates[1]!();
    await waitFor(() => http.callsOf("task.fulfill").length === 1);
    expect(http.callsOf("task.fulfill")[0]).toMatchObject({ id: "job-1", version: 5 });
  });

  it("a fulfill refused with 409 aborts the signal ('refused')", async () => {
    const { http, runner, contexts, gates } = setup();
    http.on("task.fulfill", () => ({ status: 409, data: "Task version mismatch or invalid state" }));
    runner.onExecute({ id: "job-1", version: 3 });
    await waitFor(() => contexts.length === 1);
    gates[0]!();
    await waitFor(() => contexts[0]!.signal.aborted);
    expect(contexts[0]!.signal.reason).toMatchObject({ name: "LeaseLostError", why: "refused", version: 4 });
  });

  it("stop() aborts the signal with an AbortError, not a LeaseLostError", async () => {
    const { runner, contexts } = setup();
    runner.onExecute({ id: "job-1", version: 3 });
    await waitFor(() => contexts.length === 1);
    await runner.stop();
    expect(contexts[0]!.signal.aborted).toBe(true);
    expect(contexts[0]!.signal.reason).not.toBeInstanceOf(LeaseLostError);
    expect(contexts[0]!.signal.reason).toMatchObject({ name: "AbortError" });
  });
});

describe("Resonate: the poll stream reopens", () => {
  it("reads the running task back at once and aborts its signal if the server took it back meanwhile", async () => {
    const fake = await startFakeServer();
    const resonate = new Resonate({ url: fake.url, group: "workers", pid: "w1", ttl: 600_000, logger: silentLogger, reconnect: { initial: 10, max: 10 } });
    try {
      let ctx: Context | undefined;
      resonate.register("slow", (c: Context) => new Promise(() => void (ctx = c)));
      fake.on("task.acquire", () => ({
        status: 200,
        data: {
          task: { id: "job-1", state: "acquired", version: 1, resumes: 0, ttl: 600_000, pid: "w1" },
          promise: promiseRecord("job-1", { param: encodeInvocation({ func: "slow", args: [], version: 1 }) }),
          preload: [],
        },
      }));
      fake.on("task.get", () => taskIs("job-1", "pending", 1));
      await resonate.connected();
      fake.push({ kind: "execute", head: {}, data: { task: { id: "job-1", version: 0 } } });
      await waitFor(() => ctx !== undefined);
      expect(fake.requests.filter((r) => r.kind === "task.get")).toEqual([]);
      fake.dropStreams();
      await waitFor(() => ctx!.signal.aborted);
      expect(ctx!.signal.reason).toMatchObject({ name: "LeaseLostError", taskId: "job-1", version: 1, why: "released" });
    } finally {
      await resonate.stop();
      await fake.close();
    }
  });
});
