// Metrics and the admin API on two replicas of one database: the group gauges are read from the database at scrape
// time, so both replicas report the same backlog, tasks in flight and oldest pending task; workers
// are counted per replica and cluster-wide (from the stream directory).

import { afterEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../src/clock";
import { type SseStream, type TestServer, T, createData, eventually, openSse } from "../helpers";
import { scrape, valueOf } from "../support/prometheus";
import { startReplicas, usePostgres } from "./replicas";

usePostgres();

let servers: TestServer[] = [];
let streams: SseStream[] = [];
afterEach(async () => {
  for (const s of streams.splice(0)) s.close();
  for (const s of servers.splice(0)) await s.close();
});

const GAUGES = ["resonate_tasks_pending", "resonate_tasks_acquired", "resonate_oldest_pending_task_age_seconds", "resonate_cluster_workers_connected"];

describe("metrics across replicas", () => {
  it("both replicas report the same group gauges; workers per replica and in all", async () => {
    const clock = new ManualClock(T);
    servers = await startReplicas(2, { clock, keepaliveInterval: 100 });
    const [a, b] = servers as [TestServer, TestServer];
    for (let i = 0; i < 4; i++) {
      const on = i % 2 === 0 ? a : b;
      expect((await on.call("promise.create", createData(`g-${i}`, T + 3_600_000, { "resonate:target": "poll://any@workers" }))).status).toBe(200);
    }
    expect((await b.call("task.acquire", { id: "g-1", version: 0, pid: "w9", ttl: 60_000 })).status).toBe(200);
    const w1 = await openSse(a.url, "workers", "w1");
    streams.push(w1);
    await eventually(() => b.server.cluster!.directory.isConnected("w1"), 3000, "b to learn of w1");
    clock.advance(2500);

    const [sa, sb] = [await scrape(a.url), await scrape(b.url)];
    for (const name of GAUGES) {
      expect(valueOf(sa, name, { group: "workers" }), name).toBeDefined();
      expect(valueOf(sa, name, { group: "workers" }), name).toBe(valueOf(sb, name, { group: "workers" }));
    }
    expect(valueOf(sa, "resonate_tasks_acquired", { group: "workers" })).toBe(1);
    expect(valueOf(sa, "resonate_tasks_pending", { group: "workers" })).toBeGreaterThanOrEqual(2);
    expect(valueOf(sa, "resonate_cluster_workers_connected", { group: "workers" })).toBe(1);
    expect(valueOf(sa, "resonate_workers_connected", { group: "workers" })).toBe(1);
    expect(valueOf(sb, "resonate_workers_connected", { group: "workers" })).toBeUndefined();
    // PostgreSQL commits one job per transaction.
    expect(valueOf(sa, "resonate_store_batch_size_count")).toBe(valueOf(sa, "resonate_store_batch_size_sum"));
    expect(valueOf(sa, "resonate_store_retries_total")).toBeGreaterThanOrEqual(0);
  });

  it("GET /admin/groups on either replica lists the workers of both, with the tasks they hold", async () => {
    servers = await startReplicas(2, { keepaliveInterval: 100 });
    const [a, b] = servers as [TestServer, TestServer];
    for (const [ts, peer, pid] of [[a, b, "wa"], [b, a, "wb"]] as const) {
      const s = await openSse(ts.url, "workers", pid);
      streams.push(s);
      await eventually(() => peer.server.cluster!.directory.isConnected(pid), 3000, `${pid} known to the other replica`);
    }
    expect((await a.call("promise.create", createData("x-1", Date.now() + 3_600_000, { "resonate:target": "poll://any@workers" }))).status).toBe(200);
    expect((await a.call("task.acquire", { id: "x-1", version: 0, pid: "wb", ttl: 60_000 })).status).toBe(200);
    const views = [];
    for (const ts of [a, b]) {
      const body = (await (await fetch(`${ts.url}/admin/groups`)).json()) as any;
      views.push(body.groups.map((g: any) => ({ ...g, workers: g.workers.map((w: any) => [w.pid, w.replica, w.tasks]) })));
    }
    expect(views[0]).toEqual(views[1]);
    expect(views[0][0]).toMatchObject({ group: "workers", acquired: 1, workers: [["wa", "r1", 0], ["wb", "r2", 1]] });
  });
});
