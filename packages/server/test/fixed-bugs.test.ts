// Regression tests for the server bugs the differential test found (docs/deviations.md, "Server
// bugs found by the differential work"): each is that table's minimal replay, asserting the
// reference's behaviour. The differential runner replays them too, but only with --no-allowlist.

import { describe, expect, it } from "vitest";
import { T, W, createAction, createData, executes, promiseOf, taskOf, useSharedDebugServer } from "./helpers";

const ts = useSharedDebugServer();

describe("fixed bugs", () => {
  it("BUG-1: a schedule firing created already timed out keeps its firing time as createdAt", async () => {
    const schedule = { id: "s1", cron: "* * * * *", promiseId: "{{.id}}.{{.timestamp}}", promiseTimeout: 1_000, promiseTags: { "resonate:target": W } };
    expect((await ts.callAt(T, "schedule.create", schedule)).status).toBe(200);
    await ts.tick(T + 120_000);
    const fired = T + 60_000;
    expect(promiseOf(await ts.snap(), `s1.${fired}`)).toMatchObject({ state: "rejected_timedout", createdAt: fired, settledAt: fired + 1_000 });
  });

  it("BUG-2: ids timed out lazily by one request are one batch: an awaiter fulfilled by it is not resumed", async () => {
    expect((await ts.callAt(T, "promise.create", createData("A", T + 1_000))).status).toBe(200);
    const created = await ts.callAt(T, "task.create", { pid: "w1", ttl: 60_000, action: createAction("X", T + 1_000, { "resonate:target": W }) });
    expect(created.status).toBe(200);
    const suspend = { id: "X", version: 1, actions: [{ kind: "promise.register_callback", head: {}, data: { awaited: "A", awaiter: "X" } }] };
    expect((await ts.callAt(T, "task.suspend", suspend)).status).toBe(200);

    await ts.callAt(T + 1_000, "promise.register_callback", { awaited: "A", awaiter: "X" });
    const snap = await ts.snap();
    expect(taskOf(snap, "X").state).toBe("fulfilled");
    expect(executes(snap)).toEqual([]);
  });

  it("BUG-3: task.fence with an invalid inner action still runs its lazy timeouts before answering 400", async () => {
    expect((await ts.callAt(T, "promise.create", createData("p", T + 10, { "resonate:target": W }))).status).toBe(200);
    const res = await ts.callAt(T + 10, "task.fence", { id: "t", version: 0, action: { kind: "promise.get", head: {}, data: { id: "p" } } });
    expect(res.status).toBe(400);
    const snap = await ts.snap();
    expect(promiseOf(snap, "p").state).toBe("rejected_timedout");
    expect(taskOf(snap, "p").state).toBe("fulfilled");
  });
});
