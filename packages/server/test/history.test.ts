// The dispatch history: each task's events, written with the change they describe. The scenarios
// check whole timelines: a worker killed while it holds a task, an offer nobody answered, a lease
// that lapsed; then retention and the switch.

import { describe, expect, it } from "vitest";
import { ManualClock } from "../src/clock";
import type { StoredTaskEvent } from "../src/store/store";
import { T, createData, eventually, openSse, startTestServer, type SseStream, type TestServer } from "./helpers";
import { closedAfterEachTest } from "./support/open-servers";

const open = closedAfterEachTest();

async function server(options: Record<string, unknown> = {}): Promise<TestServer> {
  const ts = await startTestServer(options);
  open.servers.push(ts);
  return ts;
}

async function connect(ts: TestServer, pid: string): Promise<SseStream> {
  const stream = await openSse(ts.url, "workers", pid);
  open.streams.push(stream);
  await eventually(() => ts.server.registry.has("workers", pid), 3000, `stream of ${pid}`);
  return stream;
}

const events = (ts: TestServer, id: string): Promise<StoredTaskEvent[]> => ts.server.store.transact((tx) => tx.taskEvents(id, 1000));

/** A timeline in a compact form: "event pid vN key=value…" (times and replicas left out). */
async function timeline(ts: TestServer, id: string): Promise<string[]> {
  return (await events(ts, id)).map((e) => {
    // In a fixed order: PostgreSQL's jsonb does not keep the keys' order.
    const detail = ["held", "offered", "candidates", "how", "op", "staleVersion", "state", "promise"]
      .filter((k) => e.detail?.[k] !== undefined)
      .map((k) => `${k}=${String(e.detail![k])}`);
    return [e.event, e.pid, e.version === undefined ? undefined : `v${e.version}`, e.count > 1 ? `x${e.count}` : undefined, ...detail]
      .filter((x) => x !== undefined)
      .join(" ");
  });
}

const invoke = async (ts: TestServer, id: string) => {
  const res = await ts.call("promise.create", createData(id, Date.now() + 3_600_000, { "resonate:target": "poll://any@workers" }));
  expect(res.status, res.text).toBe(200);
};
const executesOf = (s: SseStream) => s.events.filter((e) => e.json?.kind === "execute");
const fulfil = (ts: TestServer, id: string, version: number) =>
  ts.call("task.fulfill", { id, version, action: { kind: "promise.settle", head: { corrId: "f", version: "2026-04-01" }, data: { id, state: "resolved", value: {} } } });

describe("dispatch history", () => {
  it("a worker killed while it holds a task: offered, acquired, extended, taken back, offered to another, stale write refused, fulfilled", async () => {
    const ts = await server({ debug: false, reofferAfter: 0, disconnectGrace: 50, keepaliveInterval: 100 });
    const w1 = await connect(ts, "w1");
    await invoke(ts, "k1");
    await eventually(() => executesOf(w1).length === 1, 3000, "the execute on w1");
    expect((await ts.call("task.acquire", { id: "k1", version: 0, pid: "w1", ttl: 60_000 })).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await ts.call("task.heartbeat", { pid: "w1", tasks: [{ id: "k1", version: 1 }] })).status).toBe(200);

    const w2 = await connect(ts, "w2");
    w1.close(); // the process is killed: its stream closes, and after the grace its lease goes back
    await eventually(() => executesOf(w2).length === 1, 5000, "the execute on w2");
    expect((await ts.call("task.acquire", { id: "k1", version: 1, pid: "w2", ttl: 60_000 })).status).toBe(200);
    expect((await fulfil(ts, "k1", 1)).status).toBe(409); // w1's late result, at its stale version
    expect((await fulfil(ts, "k1", 2)).status).toBe(200);

    expect(await timeline(ts, "k1")).toEqual([
      "created v0",
      "offered w1 v0 held=0 offered=0 candidates=1 how=least-loaded",
      "acquired w1 v1",
      "extended w1 v1 x3",
      "recovered w1 v1",
      "offered w2 v1 held=0 offered=0 candidates=1 how=least-loaded",
      "acquired w2 v2",
      "refused v2 op=task.fulfill staleVersion=1 state=acquired",
      "fulfilled w2 v2 promise=resolved",
    ]);
    const all = await events(ts, "k1");
    expect(all.every((e) => e.replica === ts.server.replica)).toBe(true);
    const extended = all.find((e) => e.event === "extended")!;
    expect(extended.lastAt).toBeGreaterThanOrEqual(extended.at);
  });

  it("an offer nobody answered: offered to one worker, re-offered to the other, the first one's late acquire refused", async () => {
    const ts = await server({ debug: false, reofferAfter: 100, keepaliveInterval: 100 });
    const streams = [await connect(ts, "w1"), await connect(ts, "w2")];
    await invoke(ts, "r1");
    await eventually(() => streams.every((s) => executesOf(s).length === 1), 5000, "the offer and the re-offer");
    const first = (await events(ts, "r1")).find((e) => e.event === "offered")!.pid!;
    const second = first === "w1" ? "w2" : "w1";
    expect((await ts.call("task.acquire", { id: "r1", version: 0, pid: second, ttl: 60_000 })).status).toBe(200);
    expect((await ts.call("task.acquire", { id: "r1", version: 0, pid: first, ttl: 60_000 })).status).toBe(409);
    expect((await fulfil(ts, "r1", 1)).status).toBe(200);

    expect(await timeline(ts, "r1")).toEqual([
      "created v0",
      `offered ${first} v0 held=0 offered=0 candidates=2 how=least-loaded`,
      `reoffered ${second} v0 held=0 offered=0 candidates=1 how=least-loaded`,
      `acquired ${second} v1`,
      `refused ${first} v1 op=task.acquire staleVersion=0 state=acquired`,
      `fulfilled ${second} v1 promise=resolved`,
    ]);
  });

  it("a lease that lapsed, and the timeout pass's retry with nobody connected", async () => {
    const clock = new ManualClock(T);
    const ts = await server({ clock });
    await ts.call("promise.create", createData("l1", T + 3_600_000, { "resonate:target": "poll://any@workers" }));
    await ts.server.dispatcher.drain();
    expect((await ts.call("task.acquire", { id: "l1", version: 0, pid: "w1", ttl: 1000 })).status).toBe(200);
    clock.advance(1001);
    await ts.server.timeouts.runOnce();
    clock.advance(30_000);
    await ts.server.timeouts.runOnce();
    await eventually(async () => (await events(ts, "l1")).length === 7);
    expect(await timeline(ts, "l1")).toEqual([
      "created v0",
      "unrouted v0",
      "acquired w1 v1",
      "lapsed w1 v1",
      "unrouted v1",
      "retried v1",
      "unrouted v1",
    ]);
    expect((await events(ts, "l1"))[1]!.detail).toMatchObject({ why: "message dropped: no open stream for the address" });
  });

  it("retention: the timeout pass prunes events older than --history-retention, and beyond --history-max-events", async () => {
    const clock = new ManualClock(T);
    const ts = await server({ clock, historyRetention: "10s", historyMaxEvents: 4 });
    for (let i = 0; i < 3; i++) await ts.call("promise.create", createData(`old-${i}`, T + 3_600_000, { "resonate:target": "poll://any@workers" }));
    clock.advance(11_000);
    await ts.call("promise.create", createData("new-0", T + 3_600_000, { "resonate:target": "poll://any@workers" }));
    await ts.server.timeouts.runOnce();
    for (let i = 0; i < 3; i++) expect(await events(ts, `old-${i}`)).toEqual([]);
    expect((await events(ts, "new-0")).map((e) => e.event)).toContain("created");

    for (let i = 0; i < 5; i++) await ts.call("promise.create", createData(`more-${i}`, T + 3_600_000, { "resonate:target": "poll://any@workers" }));
    await ts.server.timeouts.runOnce();
    let kept = 0;
    for (const id of ["new-0", ...Array.from({ length: 5 }, (_, i) => `more-${i}`)]) kept += (await events(ts, id)).length;
    expect(kept).toBeLessThanOrEqual(4);
    expect((await events(ts, "more-4")).length).toBeGreaterThan(0); // the newest stay
  });

  it("--history off writes nothing", async () => {
    const ts = await server({ history: "off" });
    await invoke(ts, "quiet");
    expect((await ts.call("task.acquire", { id: "quiet", version: 0, pid: "w1", ttl: 60_000 })).status).toBe(200);
    expect(await events(ts, "quiet")).toEqual([]);
  });

  it("events wait for their transaction's end: a rolled-back job's are dropped, its batch's others kept, extensions counted across the wait", async () => {
    const ts = await server();
    const event = (taskId: string, event: "created" | "released") => ({ taskId, at: T, event, version: 0, replica: "r" });
    // Submitted in one turn: one group-commit batch (SQLite) or transactions of their own (PostgreSQL).
    const kept = ts.server.commits.submit(function* (tx) {
      yield* tx.appendTaskEvents([event("kept", "created")]);
    });
    const failed = ts.server.commits.submit(function* (tx) {
      yield* tx.appendTaskEvents([event("failed", "created")]);
      throw new Error("the job fails after writing its event");
    });
    // Settled together: with a transaction per job (PostgreSQL) the failed one may settle first.
    const [keptOutcome, failedOutcome] = await Promise.allSettled([kept, failed]);
    expect(keptOutcome.status).toBe("fulfilled");
    expect(failedOutcome).toMatchObject({ status: "rejected", reason: { message: "the job fails after writing its event" } });
    expect((await events(ts, "kept")).map((e) => e.event)).toEqual(["created"]);
    expect(await events(ts, "failed")).toEqual([]);

    // An extension in the transaction that appended the extension it counts on.
    await ts.server.commits.submit(function* (tx) {
      yield* tx.appendTaskEvents([event("beat", "created")]);
      yield* tx.noteExtension({ taskId: "beat", at: T + 1, event: "extended", version: 1, pid: "w1" });
      yield* tx.noteExtension({ taskId: "beat", at: T + 2, event: "extended", version: 1, pid: "w1" });
    });
    expect((await events(ts, "beat")).map((e) => `${e.event} x${e.count}`)).toEqual(["created x1", "extended x2"]);
  });
});
