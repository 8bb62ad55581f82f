// The admin endpoints the web dashboard needs beyond admin.ts: GET /admin/overview (groups, this
// replica's throughput per minute, recent failures) and the same as server-sent events
// (/admin/overview/stream); with authentication on, only an admin token gets in. Runs on SQLite and
// (server-pg) on PostgreSQL.

import { afterAll, afterEach, describe, expect, it } from "vitest";
import { ManualClock } from "../src/clock";
import { T, W, createData, eventually, openSse, settleAction, startTestServer, type SseStream, type TestServer } from "./helpers";
import { stopTestPostgres, testStore } from "./support/postgres";

const open: { servers: TestServer[]; streams: SseStream[]; aborts: AbortController[] } = { servers: [], streams: [], aborts: [] };
afterEach(async () => {
  for (const a of open.aborts.splice(0)) a.abort();
  for (const s of open.streams.splice(0)) s.close();
  for (const s of open.servers.splice(0)) await s.close();
});
afterAll(async () => {
  if (testStore() === "postgres") await stopTestPostgres();
});

async function server(options: Record<string, unknown> = {}): Promise<TestServer> {
  const ts = await startTestServer({ clock: new ManualClock(T), keepaliveInterval: 100, ...options });
  open.servers.push(ts);
  return ts;
}

/** An unsigned token (the server runs with authPublicKey "none"). */
function token(claims: Record<string, unknown>): string {
  const part = (v: object) => Buffer.from(JSON.stringify(v)).toString("base64url");
  return `${part({ alg: "none", typ: "JWT" })}.${part({ exp: Math.floor(Date.now() / 1000) + 600, ...claims })}.`;
}

/** Reads the overview stream until its first `overview` event; returns the status, content type and that event's JSON. */
async function firstStreamedOverview(url: string, headers: Record<string, string> = {}): Promise<{ status: number; type: string | null; overview?: any }> {
  const abort = new AbortController();
  open.aborts.push(abort);
  const res = await fetch(`${url}/admin/overview/stream`, { headers, signal: abort.signal });
  if (res.status !== 200) return { status: res.status, type: res.headers.get("content-type") };
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`stream ended before an overview event: ${text}`);
    text += value;
    const match = /event: overview\ndata: (.*)\n\n/.exec(text);
    if (match) return { status: 200, type: res.headers.get("content-type"), overview: JSON.parse(match[1]!) };
  }
}

describe("dashboard overview", () => {
  it("GET /admin/overview: groups with their workers, throughput of this minute, recent failures", async () => {
    const ts = await server();
    const worker = await openSse(ts.url, "workers", "w1");
    open.streams.push(worker);
    await eventually(() => ts.server.registry.has("workers", "w1"));

    expect((await ts.call("promise.create", createData("job-1", T + 3_600_000, { "resonate:target": W }))).status).toBe(200);
    await worker.waitFor(1);
    expect((await ts.call("task.acquire", { id: "job-1", version: 0, pid: "w1", ttl: 60_000 })).status).toBe(200);
    expect((await ts.call("task.fulfill", { id: "job-1", version: 1, action: settleAction("job-1", "resolved") })).status).toBe(200);
    expect((await ts.call("promise.create", createData("job-2", T + 3_600_000, { "resonate:target": W }))).status).toBe(200);
    expect((await ts.call("promise.create", createData("failed-1", T + 3_600_000))).status).toBe(200);
    expect((await ts.call("promise.settle", { id: "failed-1", state: "rejected", value: {} })).status).toBe(200);
    expect((await ts.call("promise.create", createData("canceled-1", T + 3_600_000))).status).toBe(200);
    expect((await ts.call("promise.settle", { id: "canceled-1", state: "rejected_canceled", value: {} })).status).toBe(200);

    const res = await fetch(`${ts.url}/admin/overview`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body.at).toBe(T);
    const workers = body.groups.find((g: any) => g.group === "workers");
    expect(workers).toMatchObject({ pending: 1, acquired: 0, workers: [{ pid: "w1", tasks: 0, replica: ts.server.replica }] });
    expect(body.throughput.scope).toBe("replica");
    expect(body.throughput.minutes).toHaveLength(15);
    const thisMinute = body.throughput.minutes.at(-1);
    expect(thisMinute.at).toBe(Math.floor(T / 60_000) * 60_000);
    expect(thisMinute).toMatchObject({ finished: 1, takenBack: 0 });
    expect(thisMinute.dispatched).toBeGreaterThanOrEqual(2);
    expect(body.throughput.minutes.slice(0, -1).every((m: any) => m.finished === 0)).toBe(true);
    // Rejected and timed out count as failures; a cancellation (an operator's choice) does not.
    expect(body.failures).toEqual([{ id: "failed-1", state: "rejected", createdAt: T, settledAt: T }]);
  });

  it("recent failures: rejected and timed out in the last hour, the latest settled first, at most 10", async () => {
    const ts = await server();
    const store = ts.server.store;
    const promise = (id: string) => ({ id, state: "pending" as const, param: {}, value: {}, tags: {}, timeoutAt: T + 3_600_000, createdAt: T - 7_200_000 });
    await store.transact(function* (tx) {
      // Settled 2 h, 50 min … ago; one canceled and one resolved, which are no failures.
      yield* tx.insertPromise(promise("old"));
      yield* tx.settlePromise("old", "rejected", {}, T - 7_200_000);
      for (let i = 0; i < 12; i++) {
        yield* tx.insertPromise(promise(`f-${i}`));
        yield* tx.settlePromise(`f-${i}`, i % 2 === 0 ? "rejected" : "rejected_timedout", {}, T - 3_000_000 + i * 1000);
      }
      for (const [id, state] of [["canceled", "rejected_canceled"], ["ok", "resolved"]] as const) {
        yield* tx.insertPromise(promise(id));
        yield* tx.settlePromise(id, state, {}, T);
      }
      yield* tx.insertPromise(promise("still-pending"));
    });
    const failures = await store.transact((tx) => tx.recentFailures(T - 3_600_000, 10));
    expect(failures.map((p) => p.id)).toEqual(Array.from({ length: 10 }, (_, i) => `f-${11 - i}`));
    expect(failures.map((p) => p.state)).toEqual(Array.from({ length: 10 }, (_, i) => ((11 - i) % 2 === 0 ? "rejected" : "rejected_timedout")));
    const body = (await (await fetch(`${ts.url}/admin/overview`)).json()) as { failures: { id: string }[] };
    expect(body.failures.map((f) => f.id)).toEqual(failures.map((p) => p.id));
  });

  it("GET /admin/overview/stream: an overview event at once, then again as things change", async () => {
    const ts = await server();
    const first = await firstStreamedOverview(ts.url);
    expect(first.status).toBe(200);
    expect(first.type).toContain("text/event-stream");
    expect(first.overview.groups).toEqual([]);

    // A later push shows a worker that connected meanwhile.
    const abort = new AbortController();
    open.aborts.push(abort);
    const res = await fetch(`${ts.url}/admin/overview/stream`, { signal: abort.signal });
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    const worker = await openSse(ts.url, "workers", "w9");
    open.streams.push(worker);
    const deadline = Date.now() + 10_000;
    while (!/"pid":"w9"/.test(text)) {
      if (Date.now() > deadline) throw new Error(`no overview with worker w9 within 10 s:\n${text}`);
      text += (await reader.read()).value ?? "";
    }
  });

  it("with authentication on: 401 without a valid token, 403 without role admin, 200 with it (stream too)", async () => {
    const ts = await server({ authPublicKey: "none" });
    expect((await fetch(`${ts.url}/admin/overview`)).status).toBe(401);
    expect((await fetch(`${ts.url}/admin/overview`, { headers: { authorization: `Bearer ${token({ prefix: "" })}` } })).status).toBe(403);
    expect((await fetch(`${ts.url}/admin/overview`, { headers: { authorization: `Bearer ${token({ role: "admin" })}` } })).status).toBe(200);
    expect((await firstStreamedOverview(ts.url)).status).toBe(401);
    const admitted = await firstStreamedOverview(ts.url, { authorization: `Bearer ${token({ role: "admin" })}` });
    expect(admitted.overview.groups).toEqual([]);
  });
});
