// Spec §15.11 (schedules), deterministic: loops paused, time fixed per request, ticks by hand.

import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  R,
  T,
  W,
  drainOutbox,
  executes,
  promiseOf,
  taskOf,
  taskTimeoutOf,
  type TestServer,
  useSharedDebugServer,
} from "./helpers";

const ts = useSharedDebugServer();

const c = (kind: string, data: unknown, time = T) => ts.callAt(time, kind, data);

const s1 = (overrides: Record<string, unknown> = {}) => ({
  id: "s1",
  cron: "*/5 * * * *",
  promiseId: "{{.id}}.{{.timestamp}}",
  promiseTimeout: 60_000,
  promiseParam: {},
  promiseTags: { "resonate:target": W },
  ...overrides,
});

async function schedule(id = "s1") {
  const res = await c("schedule.get", { id });
  return res.status === 200 ? res.data.schedule : undefined;
}

describe("§15.11 schedules", () => {
  it("97: create → createdAt = now, nextRunAt = next occurrence, no lastRunAt", async () => {
    const res = await c("schedule.create", s1());
    expect(res.status).toBe(200);
    expect(res.data.schedule).toStrictEqual({
      id: "s1",
      cron: "*/5 * * * *",
      promiseId: "{{.id}}.{{.timestamp}}",
      promiseTimeout: 60_000,
      promiseParam: {},
      promiseTags: { "resonate:target": W },
      createdAt: T,
      nextRunAt: T + 300_000,
    });
    expect(res.text).not.toContain("lastRunAt");
    expect(await schedule()).toStrictEqual(res.data.schedule);
  });

  it("97b: nextRunAt is strictly after now, at one-second resolution", async () => {
    // T + 300000 is itself an occurrence: the next one is 5 minutes later.
    const onOccurrence = await c("schedule.create", s1({ id: "on" }), T + 300_000);
    expect(onOccurrence.data.schedule.nextRunAt).toBe(T + 600_000);
    const justBefore = await c("schedule.create", s1({ id: "before" }), T + 299_999);
    expect(justBefore.data.schedule.nextRunAt).toBe(T + 300_000);
    const sixFields = await c("schedule.create", s1({ id: "sec", cron: "*/10 * * * * *" }), T + 1500);
    expect(sixFields.status).toBe(200);
    expect(sixFields.data.schedule.nextRunAt).toBe(T + 10_000);
  });

  it("98: re-create with another cron → 200 with the original record", async () => {
    const first = await c("schedule.create", s1());
    const second = await c("schedule.create", s1({ cron: "0 * * * *", promiseTimeout: 1 }), T + 1000);
    expect(second.status).toBe(200);
    expect(second.data.schedule).toStrictEqual(first.data.schedule);
  });

  it("99: validation 400s; [compat C4] a '.' in the id is accepted", async () => {
    const cases: [string, Record<string, unknown>, string?][] = [
      ["bad cron", { cron: "not a cron" }, "Invalid cron expression"],
      ["cron with 4 fields", { cron: "* * * *" }, "Invalid cron expression"],
      ["cron out of range", { cron: "61 * * * *" }, "Invalid cron expression"],
      ["empty cron", { cron: "" }, "Cron expression is required"],
      ["no target", { promiseTags: { a: "b" } }, "promiseTags must include a resonate:target tag"],
      ["no tags", { promiseTags: undefined }, "promiseTags must include a resonate:target tag"],
      ["negative timeout", { promiseTimeout: -1 }, "Promise timeout must be a non-negative integer"],
      ["float timeout", { promiseTimeout: 1.5 }],
      ["empty promiseId", { promiseId: "" }, "Promise ID template is required"],
      ["empty id", { id: "" }, "Schedule ID is required"],
    ];
    for (const [what, overrides, message] of cases) {
      const res = await c("schedule.create", s1(overrides));
      expect(res.status, what).toBe(400);
      if (message) expect(res.data, what).toBe(message);
    }
    expect((await c("schedule.search", {})).data.schedules).toEqual([]);
    const dotted = await c("schedule.create", s1({ id: "a.b" }));
    expect(dotted.status).toBe(200);
    expect(dotted.data.schedule.id).toBe("a.b");
  });

  it("100: a tick at nextRunAt fires: promise with schedule tags, timeoutAt F+timeout, createdAt F, pending task, execute", async () => {
    await c("schedule.create", s1({ promiseParam: { data: "cA==" }, promiseTags: { "resonate:target": W, "resonate:origin": "user", team: "x" } }));
    const F = T + 300_000;
    await ts.tick(F - 1);
    expect((await ts.snap()).promises).toEqual([]);
    const tick = await ts.tick(F);
    expect(tick.status).toBe(200);
    const snap = await ts.snap();
    const id = "s1.1767225900000";
    expect(String(F)).toBe("1767225900000");
    expect(promiseOf(snap, id)).toStrictEqual({
      id,
      state: "pending",
      param: { data: "cA==" },
      value: {},
      tags: {
        "resonate:target": W,
        team: "x",
        "resonate:schedule": "s1",
        "resonate:origin": id,
        "resonate:branch": id,
        "resonate:parent": id,
        "resonate:prefix": id,
      },
      timeoutAt: T + 360_000,
      createdAt: F,
    });
    expect(taskOf(snap, id)).toStrictEqual({ id, state: "pending", version: 0, resumes: 0 });
    expect(executes(snap)).toEqual([{ id, version: 0, address: W }]);
    expect(taskTimeoutOf(snap, id)).toEqual([{ id, type: 0, timeout: F + R }]);
    expect(snap.promiseTimeouts).toEqual([{ id, timeout: T + 360_000 }]);
    const after = await schedule();
    expect(after).toMatchObject({ lastRunAt: F, nextRunAt: T + 600_000, createdAt: T });
  });

  it("101: catch-up fires one occurrence per tick with its historical timestamp", async () => {
    await c("schedule.create", s1());
    const late = T + 1_000_000;
    for (const fired of [T + 300_000, T + 600_000, T + 900_000]) {
      await ts.tick(late);
      const snap = await ts.snap();
      expect(promiseOf(snap, `s1.${fired}`), `occurrence ${fired}`).toBeDefined();
      // Created already expired: the tick time is past F + 60000.
      expect(promiseOf(snap, `s1.${fired}`).state).toBe("rejected_timedout");
      expect(taskOf(snap, `s1.${fired}`)).toMatchObject({ state: "fulfilled", version: 0 });
      expect((await schedule())?.lastRunAt).toBe(fired);
    }
    expect((await ts.snap()).promises.length).toBe(3);
    await ts.tick(late);
    const snap = await ts.snap();
    expect(snap.promises.length).toBe(3);
    expect(snap.messages).toEqual([]);
    expect(await schedule()).toMatchObject({ lastRunAt: T + 900_000, nextRunAt: T + 1_200_000 });
  });

  it("101b: a late firing still within its promiseTimeout creates a pending promise with createdAt = F", async () => {
    await c("schedule.create", s1({ promiseTimeout: 120_000 }));
    await ts.tick(T + 400_000);
    const snap = await ts.snap();
    const id = `s1.${T + 300_000}`;
    expect(promiseOf(snap, id)).toMatchObject({ state: "pending", createdAt: T + 300_000, timeoutAt: T + 420_000 });
    expect(taskTimeoutOf(snap, id)).toEqual([{ id, type: 0, timeout: T + 400_000 + R }]);
  });

  it("102: a template without {{.timestamp}} creates one promise; later firings still advance the schedule", async () => {
    await c("schedule.create", s1({ promiseId: "job-{{.id}}", promiseTimeout: 3_600_000 }));
    await ts.tick(T + 300_000);
    let snap = await ts.snap();
    expect(snap.promises.map((p) => p.id)).toEqual(["job-s1"]);
    const first = promiseOf(snap, "job-s1");
    // Hold its task so that its own retry timeout does not re-queue an execute at the next tick.
    expect((await c("task.acquire", { id: "job-s1", version: 0, pid: "w1", ttl: 3_600_000 }, T + 300_001)).status).toBe(200);
    await drainOutbox(ts);
    await ts.tick(T + 600_000);
    snap = await ts.snap();
    expect(snap.promises).toEqual([first]);
    expect(snap.messages).toEqual([]);
    expect(await schedule()).toMatchObject({ lastRunAt: T + 600_000, nextRunAt: T + 900_000 });
  });

  it("103: promiseTimeout 0 → the fired promise is created rejected_timedout with a fulfilled task and no execute", async () => {
    await c("schedule.create", s1({ promiseTimeout: 0 }));
    await ts.tick(T + 300_000);
    const snap = await ts.snap();
    const id = `s1.${T + 300_000}`;
    expect(promiseOf(snap, id)).toMatchObject({ state: "rejected_timedout", settledAt: T + 300_000 });
    expect(taskOf(snap, id)).toStrictEqual({ id, state: "fulfilled", version: 0, resumes: 0 });
    expect(snap.messages).toEqual([]);
    expect(snap.taskTimeouts).toEqual([]);
  });

  it("104: delete → 200 {}; get → 404; later ticks create nothing; delete again → 404", async () => {
    await c("schedule.create", s1());
    const del = await c("schedule.delete", { id: "s1" });
    expect(del.status).toBe(200);
    expect(del.data).toEqual({});
    const get = await c("schedule.get", { id: "s1" });
    expect(get.status).toBe(404);
    expect(get.data).toBe("Schedule not found");
    await ts.tick(T + 300_000);
    expect((await ts.snap()).promises).toEqual([]);
    const again = await c("schedule.delete", { id: "s1" });
    expect(again.status).toBe(404);
    expect(again.data).toBe("Schedule not found");
    expect((await c("schedule.delete", { id: "" })).status).toBe(400);
    expect((await c("schedule.get", { id: "" })).status).toBe(400);
  });

  it("104b: deleting a schedule leaves the promises it created", async () => {
    await c("schedule.create", s1());
    await ts.tick(T + 300_000);
    await c("schedule.delete", { id: "s1" }, T + 300_001);
    expect(promiseOf(await ts.snap(), `s1.${T + 300_000}`)).toBeDefined();
  });

  it("105 [compat C6]: cron day-of-week uses standard numbering (1 = Monday), UTC", async () => {
    const res = await c("schedule.create", s1({ id: "monday", cron: "0 9 * * 1" }));
    expect(res.status).toBe(200);
    expect(res.data.schedule.nextRunAt).toBe(1767603600000);
    const sunday0 = await c("schedule.create", s1({ id: "sunday0", cron: "0 9 * * 0" }));
    expect(sunday0.data.schedule.nextRunAt).toBe(1767517200000);
    const sunday7 = await c("schedule.create", s1({ id: "sunday7", cron: "0 9 * * 7" }));
    expect(sunday7.status).toBe(200);
    expect(sunday7.data.schedule.nextRunAt).toBe(1767517200000);
    const named = await c("schedule.create", s1({ id: "named", cron: "0 9 * * MON" }));
    expect(named.data.schedule.nextRunAt).toBe(1767603600000);
  });

  it("spec §6.1.2/§16.8: a resonate:delay tag in promiseTags is not interpreted when the schedule fires", async () => {
    const farFuture = String(T + 3_000_000);
    await c("schedule.create", s1({ promiseTimeout: 3_600_000, promiseTags: { "resonate:target": W, "resonate:delay": farFuture } }));
    await ts.tick(T + 300_000);
    const snap = await ts.snap();
    const id = `s1.${T + 300_000}`;
    expect(promiseOf(snap, id).state).toBe("pending");
    expect(executes(snap)).toEqual([{ id, version: 0, address: W }]);
    expect(taskTimeoutOf(snap, id)).toEqual([{ id, type: 0, timeout: T + 300_000 + R }]);
  });

  it("schedule.search tags filter needs every pair; cursor paging", async () => {
    await c("schedule.create", s1({ id: "a", promiseTags: { "resonate:target": W, env: "prod" } }));
    await c("schedule.create", s1({ id: "b", promiseTags: { "resonate:target": W, env: "dev" } }));
    await c("schedule.create", s1({ id: "c", promiseTags: { "resonate:target": "poll://any@other", env: "prod" } }));
    const prod = await c("schedule.search", { tags: { env: "prod" } });
    expect(prod.data.schedules.map((s: { id: string }) => s.id)).toEqual(["a", "c"]);
    const prodW = await c("schedule.search", { tags: { env: "prod", "resonate:target": W } });
    expect(prodW.data.schedules.map((s: { id: string }) => s.id)).toEqual(["a"]);
    const page = await c("schedule.search", { limit: 2 });
    expect(page.data.schedules.map((s: { id: string }) => s.id)).toEqual(["a", "b"]);
    expect(page.data.cursor).toBe("b");
  });
});
