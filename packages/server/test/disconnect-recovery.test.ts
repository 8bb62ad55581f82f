// When a process's poll stream closes and it does not come back within --disconnect-grace, the
// leases it held then are taken back (a SIGKILLed worker's tasks move in ~2 s, not after its ttl).
// A lease the process took or renewed after its stream closed is proof that it was alive then:
// that one stays with it (its ttl still applies). Found as a double execution under load: a client
// that ran a function in-process (task.create) had its fresh lease taken back by a grace timer
// started by an earlier blip of its stream, and a second client executed the same id.

import { describe, expect, it } from "vitest";
import { ManualClock } from "../src/clock";
import { T, createAction, createData, eventually, openSse, startTestServer, type SseStream, type TestServer } from "./helpers";
import { closedAfterEachTest } from "./support/open-servers";

const open = closedAfterEachTest();

const GRACE_MS = 150;
const TARGET = { "resonate:target": "poll://any@workers" };

async function setUp(): Promise<{ ts: TestServer; clock: ManualClock }> {
  const clock = new ManualClock(T);
  const ts = await startTestServer({ clock, debug: false, disconnectGrace: GRACE_MS, reofferAfter: 0 });
  open.servers.push(ts);
  return { ts, clock };
}

async function connect(ts: TestServer, pid: string): Promise<SseStream> {
  const stream = await openSse(ts.url, "workers", pid);
  open.streams.push(stream);
  await eventually(() => ts.server.registry.has("workers", pid), 3000, `stream of ${pid}`);
  return stream;
}

/** A promise with a target, and its task acquired by `pid` (v1). */
async function held(ts: TestServer, id: string, pid: string): Promise<void> {
  expect((await ts.call("promise.create", createData(id, T + 3_600_000, TARGET))).status).toBe(200);
  expect((await ts.call("task.acquire", { id, version: 0, pid, ttl: 60_000 })).status).toBe(200);
}

const taskOf = async (ts: TestServer, id: string) => (await ts.call("task.get", { id })).data.task as { state: string; version: number; pid?: string };
const recovered = async (ts: TestServer, id: string) => (await ts.server.store.transact((tx) => tx.taskEvents(id, 100))).some((e) => e.event === "recovered");

describe("taking back a disconnected process's leases", () => {
  it("takes back what the process held when its stream closed, and keeps what it took after", async () => {
    const { ts, clock } = await setUp();
    const w1 = await connect(ts, "w1");
    await held(ts, "before", "w1");

    clock.advance(10);
    w1.close();
    await eventually(() => !ts.server.registry.has("workers", "w1"), 3000, "the stream's close seen by the server");
    clock.advance(10);
    // Within the grace the process runs a function in-process: task.create takes the lease at once.
    const created = await ts.call("task.create", { pid: "w1", ttl: 60_000, action: createAction("after", T + 3_600_000, TARGET) });
    expect(created.status, created.text).toBe(200);
    expect(created.data.task).toMatchObject({ state: "acquired", version: 1 });

    await eventually(() => recovered(ts, "before"), 3000, "the grace to end and the old lease to be taken back");
    expect(await taskOf(ts, "before")).toMatchObject({ state: "pending", version: 1 });
    expect(await taskOf(ts, "after")).toMatchObject({ state: "acquired", version: 1, pid: "w1" });
    expect(await recovered(ts, "after")).toBe(false);
  });

  it("keeps a lease the process renewed by a heartbeat after its stream closed", async () => {
    const { ts, clock } = await setUp();
    const w1 = await connect(ts, "w1");
    await held(ts, "renewed", "w1");
    await held(ts, "forgotten", "w1");

    clock.advance(10);
    w1.close();
    await eventually(() => !ts.server.registry.has("workers", "w1"), 3000, "the stream's close seen by the server");
    clock.advance(10);
    expect((await ts.call("task.heartbeat", { pid: "w1", tasks: [{ id: "renewed", version: 1 }] })).status).toBe(200);

    await eventually(() => recovered(ts, "forgotten"), 3000, "the grace to end");
    expect(await taskOf(ts, "forgotten")).toMatchObject({ state: "pending", version: 1 });
    expect(await taskOf(ts, "renewed")).toMatchObject({ state: "acquired", version: 1, pid: "w1" });
  });
});
