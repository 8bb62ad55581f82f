// Two replicas on one PostgreSQL receive conflicting requests for the same ids at the same moment:
// the outcome must be one that a single server, taking the requests one after the other, could have
// produced — and the stored state must say the same as the answers. Each race runs many times.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { R, T, W, type TestServer, createData, executes, settleAction, taskOf, unblocks } from "../helpers";
import { startReplicas, usePostgres } from "./replicas";

usePostgres();

const ROUNDS = 25;
let a: TestServer;
let b: TestServer;

beforeAll(async () => {
  // Loops idle (debug.start below): every state change in these tests comes from a request.
  [a, b] = (await startReplicas(2, { timeoutsInterval: 3_600_000, debug: true })) as [TestServer, TestServer];
  for (const s of [a, b]) expect((await s.start()).status).toBe(200);
  expect((await a.reset()).status).toBe(200);
});
afterAll(async () => {
  await a?.close();
  await b?.close();
});

const statuses = (results: { status: number }[]) => results.map((r) => r.status).sort();

describe("two replicas, one database: races", () => {
  it("the same create on both at once: both 200 with the same stored record, one promise, one task, one execute", async () => {
    for (let i = 0; i < ROUNDS; i++) {
      const id = `create-${i}`;
      const [ra, rb] = await Promise.all([
        a.callAt(T, "promise.create", createData(id, T + 60_000, { "resonate:target": W }, { param: { data: "YQ==" } })),
        b.callAt(T, "promise.create", createData(id, T + 90_000, { "resonate:target": W, other: "x" }, { param: { data: "Yg==" } })),
      ]);
      expect([ra.status, rb.status]).toEqual([200, 200]);
      expect(ra.data.promise).toEqual(rb.data.promise);
      const snap = await a.snap();
      expect(snap.promises.filter((p) => p.id === id)).toEqual([ra.data.promise]);
      expect(snap.tasks.filter((t) => t.id === id)).toEqual([{ id, state: "pending", version: 0, resumes: 0 }]);
      expect(executes(snap).filter((e) => e.id === id)).toEqual([{ id, version: 0, address: W }]);
    }
  });

  it("two acquires of one task at once: one 200, one 409; the winner holds the lease", async () => {
    for (let i = 0; i < ROUNDS; i++) {
      const id = `acquire-${i}`;
      expect((await a.callAt(T, "promise.create", createData(id, T + 60_000, { "resonate:target": W }))).status).toBe(200);
      const [ra, rb] = await Promise.all([
        a.callAt(T + 1, "task.acquire", { id, version: 0, pid: "pa", ttl: 10_000 }),
        b.callAt(T + 1, "task.acquire", { id, version: 0, pid: "pb", ttl: 10_000 }),
      ]);
      expect(statuses([ra, rb])).toEqual([200, 409]);
      const winner = ra.status === 200 ? "pa" : "pb";
      expect(taskOf(await b.snap(), id)).toEqual({ id, state: "acquired", version: 1, resumes: 0, ttl: 10_000, pid: winner });
    }
  });

  it("a fulfil racing the lease lapse: either fulfilled, or pending again and the fulfil refused (409)", async () => {
    const seen = new Set<string>();
    for (let i = 0; i < ROUNDS; i++) {
      const id = `lapse-${i}`;
      await a.callAt(T, "promise.create", createData(id, T + 3_600_000, { "resonate:target": W }));
      expect((await a.callAt(T, "task.acquire", { id, version: 0, pid: "w1", ttl: 1000 })).status).toBe(200);
      const [fulfil] = await Promise.all([
        a.callAt(T + 1000, "task.fulfill", { id, version: 1, action: settleAction(id, "resolved", { data: "eA==" }) }),
        b.tick(T + 1000),
      ]);
      const snap = await b.snap();
      const task = taskOf(snap, id);
      const promise = snap.promises.find((p) => p.id === id);
      if (fulfil.status === 200) {
        seen.add("fulfilled");
        expect(task).toEqual({ id, state: "fulfilled", version: 1, resumes: 0 });
        expect(promise).toMatchObject({ state: "resolved", value: { data: "eA==" }, settledAt: T + 1000 });
        // Only the create's execute (version 0) waits in the paused outbox: the lapse sent none.
        expect(executes(snap).filter((e) => e.id === id)).toEqual([{ id, version: 0, address: W }]);
      } else {
        seen.add("lapsed");
        expect(fulfil.status).toBe(409);
        expect(task).toEqual({ id, state: "pending", version: 1, resumes: 0 });
        expect(promise.state).toBe("pending");
        expect(snap.taskTimeouts.filter((t) => t.id === id)).toEqual([{ id, type: 0, timeout: T + 1000 + R }]);
        expect(executes(snap).filter((e) => e.id === id)).toEqual([{ id, version: 1, address: W }]);
      }
    }
    console.log(`fulfil vs lapse outcomes seen: ${[...seen].join(", ")}`);
  });

  it("a settle racing the timeout: the answer and the stored state agree, and the listener gets one unblock", async () => {
    const seen = new Set<string>();
    for (let i = 0; i < ROUNDS; i++) {
      const id = `timeout-${i}`;
      await a.callAt(T, "promise.create", createData(id, T + 10));
      await a.callAt(T, "promise.register_listener", { awaited: id, address: "poll://uni@client/c1" });
      const [settled] = await Promise.all([
        a.callAt(T + 9, "promise.settle", { id, state: "resolved", value: { data: "eQ==" } }),
        b.tick(T + 10),
      ]);
      expect(settled.status).toBe(200);
      const snap = await b.snap();
      const stored = snap.promises.find((p) => p.id === id);
      expect(stored).toEqual(settled.data.promise);
      seen.add(stored.state);
      if (stored.state === "resolved") expect(stored).toMatchObject({ value: { data: "eQ==" }, settledAt: T + 9 });
      else expect(stored).toMatchObject({ state: "rejected_timedout", value: {}, settledAt: T + 10 });
      expect(unblocks(snap).filter((u) => u.id === id).map((u) => u.state)).toEqual([stored.state]);
      expect(snap.listeners.filter((l) => l.id === id)).toEqual([]);
    }
    console.log(`settle vs timeout outcomes seen: ${[...seen].join(", ")}`);
  });

  it("a schedule fires once when both replicas run the timeout pass at the same moment", async () => {
    for (let i = 0; i < ROUNDS; i++) {
      const id = `sched-${i}`;
      const created = await a.callAt(T, "schedule.create", {
        id,
        cron: "* * * * *",
        promiseId: "{{.id}}.{{.timestamp}}",
        promiseTimeout: 3_600_000,
        promiseTags: { "resonate:target": W },
      });
      expect(created.status).toBe(200);
      const fire = created.data.schedule.nextRunAt as number;
      await Promise.all([a.tick(fire), b.tick(fire)]);
      const snap = await a.snap();
      expect(snap.promises.filter((p) => p.id.startsWith(`${id}.`)).map((p) => p.id)).toEqual([`${id}.${fire}`]);
      expect(executes(snap).filter((e) => e.id === `${id}.${fire}`)).toHaveLength(1);
      const schedule = (await b.callAt(fire, "schedule.get", { id })).data.schedule;
      expect(schedule).toMatchObject({ lastRunAt: fire, nextRunAt: fire + 60_000 });
    }
  });
});
