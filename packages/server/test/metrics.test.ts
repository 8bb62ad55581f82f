// GET /metrics: counters move with what happens, the group gauges are read from the database at
// scrape time, and the output is valid Prometheus text. Time is a ManualClock the tests move.

import http from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../src/clock";
import { T, W, createData, eventually, openSse, startTestServer, type SseStream, type TestServer } from "./helpers";
import { parsePrometheus, scrape, valueOf } from "./support/prometheus";
import { closedAfterEachTest } from "./support/open-servers";

const open = closedAfterEachTest();

async function server(options: Record<string, unknown> = {}): Promise<{ ts: TestServer; clock: ManualClock }> {
  const clock = new ManualClock(T);
  const ts = await startTestServer({ clock, ...options });
  open.servers.push(ts);
  return { ts, clock };
}

const invoke = async (ts: TestServer, id: string, group = "workers") => {
  const res = await ts.call("promise.create", createData(id, T + 3_600_000, { "resonate:target": `poll://any@${group}` }));
  expect(res.status, res.text).toBe(200);
};

describe("metrics", () => {
  it("counts requests by kind and status, and the messages they queued", async () => {
    const { ts } = await server();
    const N = 7;
    for (let i = 0; i < N; i++) await invoke(ts, `m-${i}`);
    await ts.call("promise.get", { id: "missing" });
    await ts.call("no.such.kind", {});
    const samples = await scrape(ts.url);
    expect(valueOf(samples, "resonate_request_total", { kind: "promise.create", status: "200" })).toBe(N);
    expect(valueOf(samples, "resonate_request_total", { kind: "promise.get", status: "404" })).toBe(1);
    // An unknown kind is one label value, whatever the client sent.
    expect(valueOf(samples, "resonate_request_total", { kind: "unknown", status: "400" })).toBe(1);
    expect(samples.some((s) => s.labels["kind"] === "no.such.kind")).toBe(false);
    expect(valueOf(samples, "resonate_request_duration_seconds_count", { kind: "promise.create" })).toBe(N);
    // Nobody is connected: each execute was claimed, then dropped (the retry timeout sends it again).
    await eventually(async () => valueOf(await scrape(ts.url), "resonate_messages_total", { kind: "execute" }) === N);
    expect(valueOf(await scrape(ts.url), "resonate_deliveries_total", { status: "dropped" })).toBe(N);
    // Every job committed in some transaction (SQLite: batches of the group commit).
    expect(valueOf(samples, "resonate_store_batch_size_sum")).toBeGreaterThanOrEqual(N);
    expect(valueOf(samples, "resonate_store_commit_duration_seconds_count")).toBeGreaterThan(0);
  });

  it("with no worker connected, the backlog gauge is the pending tasks and the oldest one ages with the clock", async () => {
    const { ts, clock } = await server();
    for (let i = 0; i < 3; i++) await invoke(ts, `b-${i}`);
    clock.advance(1000);
    await invoke(ts, "other-0", "other");
    clock.advance(4000);
    let samples = await scrape(ts.url);
    expect(valueOf(samples, "resonate_tasks_pending", { group: "workers" })).toBe(3);
    expect(valueOf(samples, "resonate_tasks_pending", { group: "other" })).toBe(1);
    expect(valueOf(samples, "resonate_tasks_acquired", { group: "workers" })).toBe(0);
    expect(valueOf(samples, "resonate_oldest_pending_task_age_seconds", { group: "workers" })).toBe(5);
    expect(valueOf(samples, "resonate_oldest_pending_task_age_seconds", { group: "other" })).toBe(4);
    expect(valueOf(samples, "resonate_workers_connected", { group: "workers" })).toBeUndefined();

    clock.advance(10_000);
    const acquired = await ts.call("task.acquire", { id: "b-0", version: 0, pid: "w1", ttl: 60_000 });
    expect(acquired.status).toBe(200);
    samples = await scrape(ts.url);
    expect(valueOf(samples, "resonate_tasks_pending", { group: "workers" })).toBe(2);
    expect(valueOf(samples, "resonate_tasks_acquired", { group: "workers" })).toBe(1);
    expect(valueOf(samples, "resonate_oldest_pending_task_age_seconds", { group: "workers" })).toBe(15);
  });

  it("counts connected workers, lease lapses, and leases taken back after a stream closed", async () => {
    const { ts, clock } = await server({ disconnectGrace: 50 });
    const stream = await openSse(ts.url, "workers", "w1");
    open.streams.push(stream);
    await eventually(() => ts.server.registry.has("workers", "w1"));
    const second = await openSse(ts.url, "workers", "w2");
    open.streams.push(second);
    await eventually(() => ts.server.registry.has("workers", "w2"));
    let samples = await scrape(ts.url);
    expect(valueOf(samples, "resonate_workers_connected", { group: "workers" })).toBe(2);
    expect(valueOf(samples, "resonate_cluster_workers_connected", { group: "workers" })).toBe(2);

    // w2 lets its lease lapse: the timeout pass takes it back.
    await invoke(ts, "lapse");
    expect((await ts.call("task.acquire", { id: "lapse", version: 0, pid: "w2", ttl: 1000 })).status).toBe(200);
    clock.advance(1001);
    await ts.server.timeouts.runOnce();
    expect(valueOf(await scrape(ts.url), "resonate_lease_lapses_total", { group: "workers" })).toBe(1);

    // w1 holds a task and disappears: after the grace its lease is taken back.
    await invoke(ts, "held");
    expect((await ts.call("task.acquire", { id: "held", version: 0, pid: "w1", ttl: 60_000 })).status).toBe(200);
    stream.close();
    await eventually(async () => valueOf(await scrape(ts.url), "resonate_disconnect_recoveries_total", { group: "workers" }) === 1, 5000, "the recovery counter");
    samples = await scrape(ts.url);
    expect(valueOf(samples, "resonate_workers_connected", { group: "workers" })).toBe(1);
    expect(valueOf(samples, "resonate_tasks_acquired", { group: "workers" })).toBe(0);
  });

  it("counts re-offers of executes nobody acquired", async () => {
    const { ts, clock } = await server({ reofferAfter: 100 });
    const streams: SseStream[] = [];
    for (const pid of ["w1", "w2"]) {
      const s = await openSse(ts.url, "workers", pid);
      open.streams.push(s);
      streams.push(s);
      await eventually(() => ts.server.registry.has("workers", pid));
    }
    await invoke(ts, "ignored");
    await eventually(() => streams.some((s) => s.events.length === 1), 3000, "the first offer");
    // Neither worker acquires: the execute goes to the other stream once it is reofferAfter old.
    clock.advance(200);
    await eventually(() => streams.every((s) => s.events.length === 1), 5000, "the second offer");
    await eventually(async () => valueOf(await scrape(ts.url), "resonate_reoffers_total", { group: "workers" }) === 1, 5000, "a re-offer");
  });

  it("serves /metrics on a separate port with --observability-metrics-port", async () => {
    const free = await freePort();
    const { ts } = await server({ observabilityMetricsPort: free });
    expect(ts.server.metricsPort).toBe(free);
    await invoke(ts, "p-1");
    const res = await fetch(`http://127.0.0.1:${free}/metrics`);
    expect(res.status).toBe(200);
    const samples = parsePrometheus(await res.text());
    expect(valueOf(samples, "resonate_request_total", { kind: "promise.create", status: "200" })).toBe(1);
    expect((await fetch(`http://127.0.0.1:${free}/`)).status).toBe(404);
    expect((await fetch(`${ts.url}/metrics`, { method: "POST" })).status).toBe(405);
  });

  it("the exposition parses strictly, with one registry per server", async () => {
    const a = (await server()).ts;
    const b = (await server()).ts;
    await invoke(a, "only-a");
    const text = await (await fetch(`${a.url}/metrics`)).text();
    expect(() => parsePrometheus(text)).not.toThrow();
    expect(() => parsePrometheus('bad{label=unquoted} 1\n')).toThrow();
    expect(valueOf(await scrape(b.url), "resonate_request_total", { kind: "promise.create" })).toBeUndefined();
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = http.createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
