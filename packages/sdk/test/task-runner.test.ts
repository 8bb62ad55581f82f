import type { PromiseRecord, TaskRecord } from "@resonate-compat/protocol";
import { describe, expect, it } from "vitest";
import { decode, encode, encodeInvocation } from "../src/codec";
import type { Context } from "../src/context";
import type { Heartbeat } from "../src/heartbeat";
import { Registry } from "../src/registry";
import type { Logger } from "../src/logger";
import { TaskRunner } from "../src/task-runner";
import { FakeHttp, flush } from "./support/fake-http";
import { promiseRecord, silentLogger, waitFor } from "./support/fake-server";

function acquired(id: string, version: number, func = "f", args: unknown[] = [], tags: Record<string, string> = {}) {
  return {
    status: 200,
    data: {
      task: { id, state: "acquired", version: version + 1, resumes: 0, ttl: 1000, pid: "w1" },
      promise: promiseRecord(id, { param: encodeInvocation({ func, args, version: 1 }), tags }),
      preload: [],
    },
  };
}

class RecordingHeartbeat implements Heartbeat {
  held = new Map<string, number>();
  start(t: { id: string; version: number }) {
    this.held.set(t.id, t.version);
  }
  stop(t?: { id: string; version: number }) {
    if (t) this.held.delete(t.id);
    else this.held.clear();
  }
}

function setup(concurrency = Infinity, logger: Logger = silentLogger) {
  const http = new FakeHttp().on("task.acquire", (d) => acquired(String(d.id), Number(d.version), String(d.id).split("-")[0]));
  const registry = new Registry();
  const heartbeat = new RecordingHeartbeat();
  const runner = new TaskRunner({ http, registry, heartbeat, pid: "w1", group: "workers", ttl: 1000, concurrency, logger, stopGrace: 1_000 });
  return { http, registry, heartbeat, runner };
}

function fulfilled(http: FakeHttp) {
  return http.callsOf("task.fulfill").map((d) => {
    const action = d.action as { data: { id: string; state: string; value: { data: string } } };
    return { id: action.data.id, version: d.version, state: action.data.state, value: decode(action.data.value) };
  });
}

describe("TaskRunner", () => {
  it("acquires with the message's version, runs the function and fulfills with its value", async () => {
    const { http, registry, runner } = setup();
    const seen: { ctx: Context; args: unknown[] }[] = [];
    registry.add("double", (ctx, ...args) => (seen.push({ ctx, args }), (args[0] as number) * 2));
    http.on("task.acquire", (d) => acquired(String(d.id), Number(d.version), "double", [21]));
    runner.onExecute({ id: "job-1", version: 3 });
    await waitFor(() => http.callsOf("task.fulfill").length === 1);
    expect(http.callsOf("task.acquire")).toEqual([{ id: "job-1", version: 3, pid: "w1", ttl: 1000 }]);
    expect(fulfilled(http)).toEqual([{ id: "job-1", version: 4, state: "resolved", value: 42 }]);
    expect(http.callsOf("task.fulfill")[0]).toMatchObject({ action: { kind: "promise.settle", head: { version: "2026-04-01" } } });
    expect(seen[0]!.ctx).toMatchObject({ id: "job-1", func: "double", version: 1 });
    expect(seen[0]!.args).toEqual([21]);
  });

  it("fulfills a thrown error as rejected", async () => {
    const { http, registry, runner } = setup();
    registry.add("boom", async () => {
      throw new TypeError("kaboom");
    });
    runner.onExecute({ id: "boom-1", version: 0 });
    await waitFor(() => http.callsOf("task.fulfill").length === 1);
    const [f] = fulfilled(http);
    expect(f).toMatchObject({ state: "rejected" });
    expect(f!.value).toMatchObject({ name: "TypeError", message: "kaboom" });
  });

  it("drops a task it lost the race for (409), quietly", async () => {
    const { http, registry, runner } = setup();
    let ran = false;
    registry.add("f", () => void (ran = true));
    http.on("task.acquire", () => ({ status: 409, data: "Task is not pending" }));
    runner.onExecute({ id: "f-1", version: 0 });
    await flush();
    expect(ran).toBe(false);
    expect(http.callsOf("task.fulfill")).toHaveLength(0);
    expect(http.callsOf("task.release")).toHaveLength(0);
    expect(runner.load).toEqual({ active: 0, queued: 0 });
  });

  it("rejects a task whose function is not registered, naming function, group and pid", async () => {
    const { http, runner } = setup();
    runner.onExecute({ id: "nope-1", version: 0 });
    await waitFor(() => http.callsOf("task.fulfill").length === 1);
    const [f] = fulfilled(http);
    expect(f!.state).toBe("rejected");
    expect(f!.value).toMatchObject({ name: "FunctionNotRegisteredError" });
    expect((f!.value as Error).message).toBe('Function "nope" (version 1) is not registered on worker w1 of group "workers"');
  });

  it("rejects a task whose param does not name a function", async () => {
    const { http, runner } = setup();
    http.on("task.acquire", (d) => {
      const a = acquired(String(d.id), 0);
      a.data.promise.param = encode({ hello: "world" });
      return a;
    });
    runner.onExecute({ id: "x", version: 0 });
    await waitFor(() => http.callsOf("task.fulfill").length === 1);
    expect((fulfilled(http)[0]!.value as Error).message).toMatch(/does not name a function/);
  });

  it("leaves a durable-sleep timer task alone (no fulfill, no release)", async () => {
    const { http, registry, runner } = setup();
    registry.add("f", () => 1);
    http.on("task.acquire", (d) => acquired(String(d.id), 0, "f", [], { "resonate:timer": "true" }));
    runner.onExecute({ id: "wf:1", version: 0 });
    await flush();
    expect(http.callsOf("task.fulfill")).toHaveLength(0);
    expect(http.callsOf("task.release")).toHaveLength(0);
  });

  it("holds a heartbeat for the task while its function runs", async () => {
    const { registry, runner, heartbeat, http } = setup();
    let release!: () => void;
    registry.add("slow", () => new Promise<void>((r) => (release = r)));
    runner.onExecute({ id: "slow-1", version: 0 });
    await waitFor(() => heartbeat.held.size === 1);
    expect([...heartbeat.held]).toEqual([["slow-1", 1]]);
    release();
    await waitFor(() => http.callsOf("task.fulfill").length === 1);
    expect(heartbeat.held.size).toBe(0);
  });

  it("never acquires more than `concurrency` tasks; the rest wait unacquired", async () => {
    const { http, registry, runner } = setup(2);
    const gates: (() => void)[] = [];
    registry.add("slow", () => new Promise<void>((r) => gates.push(r)));
    for (let i = 1; i <= 5; i++) runner.onExecute({ id: `slow-${i}`, version: 0 });
    await waitFor(() => gates.length === 2);
    await flush();
    expect(http.callsOf("task.acquire").map((d) => d.id)).toEqual(["slow-1", "slow-2"]);
    expect(runner.load).toEqual({ active: 2, queued: 3 });
    gates[0]!();
    await waitFor(() => gates.length === 3);
    expect(http.callsOf("task.acquire").map((d) => d.id)).toEqual(["slow-1", "slow-2", "slow-3"]);
    for (const g of gates) g();
    await waitFor(() => gates.length === 5);
    for (const g of gates) g();
    await waitFor(() => http.callsOf("task.fulfill").length === 5);
  });

  it("keeps one queue entry per task, with the newest version", async () => {
    const { http, registry, runner } = setup(1);
    const gates: (() => void)[] = [];
    registry.add("slow", () => new Promise<void>((r) => gates.push(r)));
    runner.onExecute({ id: "slow-1", version: 0 });
    runner.onExecute({ id: "slow-2", version: 0 });
    runner.onExecute({ id: "slow-2", version: 1 });
    runner.onExecute({ id: "slow-2", version: 0 });
    expect(runner.load).toEqual({ active: 1, queued: 1 });
    await waitFor(() => gates.length === 1);
    gates[0]!();
    await waitFor(() => gates.length === 2);
    expect(http.callsOf("task.acquire").map((d) => [d.id, d.version])).toEqual([["slow-1", 0], ["slow-2", 1]]);
    gates[1]!();
  });

  it("stop() hands queued tasks back, releases an acquired-not-started task, abandons running ones", async () => {
    const { http, registry, runner } = setup(2);
    let started = 0;
    registry.add("slow", (ctx: Context) => new Promise<void>((resolve) => (started++, ctx.signal.addEventListener("abort", () => resolve()))));
    let answerLate!: () => void;
    http.on("task.acquire", (d, i) => {
      const a = acquired(String(d.id), Number(d.version), "slow");
      // The second acquire is still in flight when stop() is called.
      return i === 1 ? new Promise((r) => (answerLate = () => r(a))) : a;
    });
    runner.onExecute({ id: "running", version: 0 });
    runner.onExecute({ id: "acquiring", version: 0 });
    runner.onExecute({ id: "queued", version: 5 });
    await waitFor(() => started === 1 && answerLate !== undefined);
    const stopping = runner.stop();
    answerLate();
    await stopping;
    expect(started).toBe(1); // the acquired-not-started task never ran
    expect(http.callsOf("task.release").map((d) => [d.id, d.version]).sort()).toEqual([["acquiring", 1], ["queued", 6]]);
    expect(http.callsOf("task.acquire").map((d) => [d.id, d.version])).toContainEqual(["queued", 5]);
    await flush();
    expect(http.callsOf("task.fulfill")).toHaveLength(0); // the abandoned function's result is not sent
    runner.onExecute({ id: "late", version: 0 });
    expect(runner.load.queued).toBe(0);
  });

  it("says at info, not as a warning, that a fulfill cut off by stop() may or may not have landed", async () => {
    const logged: { level: string; message: string }[] = [];
    const { http, registry, runner } = setup(Infinity, {
      debug() {},
      info: (_f: unknown, message: string) => void logged.push({ level: "info", message }),
      warn: (_f: unknown, message: string) => void logged.push({ level: "warn", message }),
      error: (_f: unknown, message: string) => void logged.push({ level: "error", message }),
    });
    registry.add("f", () => 1);
    let cut!: (err: Error) => void;
    http.on("task.fulfill", () => new Promise((_resolve, reject) => (cut = reject)));
    runner.onExecute({ id: "f-1", version: 0 });
    await waitFor(() => cut !== undefined);
    await runner.stop();
    cut(new Error("the SDK was stopped"));
    await waitFor(() => logged.length > 0);
    expect(logged).toEqual([{ level: "info", message: expect.stringMatching(/^stopped before the fulfill's answer came/) }]);
  });

  describe("tasks acquired for it (eager acquire over the channel)", () => {
    /** What the channel hands over for a task the server acquired for us. */
    const granted = (id: string, version: number, func: string, args: unknown[] = []) => acquired(id, version, func, args).data as unknown as { task: TaskRecord; promise: PromiseRecord };

    it("runs one at once without an acquire of its own, heartbeats it and fulfills it", async () => {
      const { http, registry, runner, heartbeat } = setup();
      let release!: () => void;
      registry.add("slow", (_ctx: Context, n: number) => new Promise<number>((r) => (release = () => r(n + 1))));
      runner.onAcquired(granted("slow-1", 2, "slow", [41]));
      await waitFor(() => release !== undefined);
      expect([...heartbeat.held]).toEqual([["slow-1", 3]]);
      release();
      await waitFor(() => http.callsOf("task.fulfill").length === 1);
      expect(http.callsOf("task.acquire")).toEqual([]);
      expect(fulfilled(http)).toEqual([{ id: "slow-1", version: 3, state: "resolved", value: 42 }]);
      expect(heartbeat.held.size).toBe(0);
    });

    it("keeps one that finds every slot taken, leased and heartbeated, and starts it first when a slot frees", async () => {
      const { http, registry, runner, heartbeat } = setup(1);
      const gates: (() => void)[] = [];
      const order: string[] = [];
      registry.add("slow", (ctx: Context) => new Promise<void>((r) => (order.push(ctx.id), gates.push(r))));
      runner.onExecute({ id: "slow-1", version: 0 });
      await waitFor(() => gates.length === 1);
      runner.onExecute({ id: "slow-2", version: 0 }); // queued, unacquired
      runner.onAcquired(granted("slow-3", 0, "slow")); // acquired for us while the slot is taken
      expect(runner.load).toEqual({ active: 1, queued: 2 });
      expect([...heartbeat.held.keys()].sort()).toEqual(["slow-1", "slow-3"]);
      gates[0]!();
      await waitFor(() => gates.length === 2);
      expect(order).toEqual(["slow-1", "slow-3"]);
      expect(http.callsOf("task.acquire").map((d) => d.id)).toEqual(["slow-1"]);
      gates[1]!();
      await waitFor(() => gates.length === 3);
      expect(order).toEqual(["slow-1", "slow-3", "slow-2"]);
      gates[2]!();
      await waitFor(() => http.callsOf("task.fulfill").length === 3);
    });

    it("drops one whose lease is lost while it waits, and an execute of the task supersedes it", async () => {
      const { registry, runner, heartbeat } = setup(1);
      const gates: (() => void)[] = [];
      const order: string[] = [];
      registry.add("slow", (ctx: Context) => new Promise<void>((r) => (order.push(ctx.id), gates.push(r))));
      runner.onExecute({ id: "slow-1", version: 0 });
      await waitFor(() => gates.length === 1);
      runner.onAcquired(granted("slow-2", 0, "slow")); // held at version 1
      runner.onExecute({ id: "slow-2", version: 1 }); // pending again at version 1: our lease is gone
      expect(heartbeat.held.has("slow-2")).toBe(false);
      expect(runner.load).toEqual({ active: 1, queued: 1 });
      gates[0]!();
      await waitFor(() => gates.length === 2);
      expect(order).toEqual(["slow-1", "slow-2"]); // run again, through its own acquire
      gates[1]!();
    });

    it("stop() releases the ones still waiting; one that arrives after stop() is released at once", async () => {
      const { http, registry, runner } = setup(1);
      registry.add("slow", (ctx: Context) => new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve())));
      runner.onAcquired(granted("slow-1", 0, "slow"));
      runner.onAcquired(granted("slow-2", 0, "slow"));
      await runner.stop();
      runner.onAcquired(granted("slow-3", 0, "slow"));
      await waitFor(() => http.callsOf("task.release").length === 2);
      expect(http.callsOf("task.release").map((d) => [d.id, d.version])).toEqual([["slow-2", 1], ["slow-3", 1]]);
      expect(http.callsOf("task.fulfill")).toHaveLength(0);
    });
  });
});
