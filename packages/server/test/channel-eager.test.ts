// The channel's eager acquire (src/api/eager-acquire.ts): a worker that opens its channel with
// ?slots=&ttl= gets, while it has room (its free slots, as it reports them), the answer of the
// task.acquire it would have sent instead of the execute; beyond that it gets executes; the acquire
// is an ordinary one (same lease, history, authorisation, recovery when the worker goes away).

import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openChannel } from "./support/channel-client";
import { type TestServer, call, createData, envelope, eventually, openSse, startTestServer } from "./helpers";

let ts: TestServer;
beforeAll(async () => {
  ts = await startTestServer({ debug: false, disconnectGrace: 200 });
});
afterAll(() => ts.close());

const job = (id: string, group: string) => createData(id, Date.now() + 60_000, { "resonate:target": `poll://any@${group}` });

describe("eager acquire over the channel", () => {
  it("sends a worker with room its task already acquired, with its pid and ttl, and no execute", async () => {
    const worker = await openChannel(ts.url, "eg1", "w1", undefined, {}, "?slots=2&ttl=5000");
    await eventually(() => ts.server.registry.has("eg1", "w1"), 3000, "the channel registered");
    expect((await call(ts.url, "promise.create", job("e1", "eg1"))).status).toBe(200);
    await eventually(() => worker.acquired.length === 1, 3000, "the acquired task");
    const answer = worker.acquired[0];
    expect(answer).toMatchObject({ kind: "task.acquire", head: { status: 200 }, data: { task: { id: "e1", state: "acquired" }, promise: { id: "e1", state: "pending" } } });
    expect(worker.messages).toEqual([]);

    const task = (await call(ts.url, "task.get", { id: "e1" })).data.task;
    expect(task).toMatchObject({ state: "acquired", version: answer.data.task.version });
    const history = await fetch(`${ts.url}/admin/tasks/e1/history`).then((r) => r.json() as Promise<{ events: { event: string; pid?: string; detail?: { ttl?: number } }[] }>);
    expect(history.events.find((e) => e.event === "acquired")).toMatchObject({ pid: "w1", detail: { ttl: 5000 } });

    // It is the worker's lease: its fulfill at that version settles the promise.
    const settle = { kind: "promise.settle", head: { corrId: "s", version: "2026-04-01" }, data: { id: "e1", state: "resolved", value: { headers: {}, data: "" } } };
    worker.send(envelope("task.fulfill", { id: "e1", version: answer.data.task.version, action: settle }, { corrId: "f1" }));
    await eventually(() => worker.answers.some((a) => a.head.corrId === "f1"), 3000, "the fulfill's answer");
    expect(worker.answers.find((a) => a.head.corrId === "f1").head.status).toBe(200);
    expect((await call(ts.url, "promise.get", { id: "e1" })).data.promise.state).toBe("resolved");
    await worker.close();
  });

  it("acquires only within the room the worker reports: free slots, less the acquired tasks it has not counted yet", async () => {
    const worker = await openChannel(ts.url, "eg2", "w1", undefined, {}, "?slots=1&ttl=5000");
    await eventually(() => ts.server.registry.has("eg2", "w1"), 3000, "the channel registered");
    await call(ts.url, "promise.create", job("s1", "eg2"));
    await eventually(() => worker.acquired.length === 1, 3000, "the first task, acquired");
    // Room 1 − 1 sent: the second is an execute.
    await call(ts.url, "promise.create", job("s2", "eg2"));
    await eventually(() => worker.messages.length === 1, 3000, "the second task, as an execute");
    expect(worker.messages[0]).toMatchObject({ kind: "execute", data: { task: { id: "s2" } } });

    // A report that has not counted the acquired task yet (seen 0) leaves no room: free 1 − (1 − 0).
    worker.ws.send('s{"free":1,"seen":0}');
    await call(ts.url, "promise.create", job("s3", "eg2"));
    await eventually(() => worker.messages.length === 2, 3000, "the third task, as an execute");
    // Malformed reports, or one counting more than was sent, are ignored; the channel stays open.
    worker.ws.send('s{"free":-1,"seen":0}\ns{"free":5,"seen":9}\nsnot json');
    // Once it has counted it (seen 1) with two slots free, two more come acquired, and no third.
    worker.ws.send('s{"free":2,"seen":1}');
    for (const id of ["s4", "s5", "s6"]) await call(ts.url, "promise.create", job(id, "eg2"));
    await eventually(() => worker.messages.length === 3, 3000, "the sixth task, as an execute");
    expect(worker.acquired.map((a) => a.data.task.id)).toEqual(["s1", "s4", "s5"]);
    expect(worker.messages.map((m) => m.data.task.id)).toEqual(["s2", "s3", "s6"]);
    expect(worker.ws.readyState).toBe(worker.ws.OPEN);
    await worker.close();
  });

  it("gives no room to a worker that opened with none until it reports some", async () => {
    const worker = await openChannel(ts.url, "eg5", "w1", undefined, {}, "?slots=0&ttl=5000");
    await eventually(() => ts.server.registry.has("eg5", "w1"), 3000, "the channel registered");
    await call(ts.url, "promise.create", job("z1", "eg5"));
    await eventually(() => worker.messages.length === 1, 3000, "an execute");
    worker.ws.send('s{"free":1,"seen":0}');
    await call(ts.url, "promise.create", job("z2", "eg5"));
    await eventually(() => worker.acquired.length === 1, 3000, "an acquired task");
    expect(worker.acquired[0].data.task.id).toBe("z2");
    await worker.close();
  });

  it("takes an eagerly acquired task back when its worker's channel stays closed, for another worker", async () => {
    const gone = await openChannel(ts.url, "eg3", "gone", undefined, {}, "?slots=4&ttl=60000");
    await eventually(() => ts.server.registry.has("eg3", "gone"), 3000, "the channel registered");
    await call(ts.url, "promise.create", job("r1", "eg3"));
    await eventually(() => gone.acquired.length === 1, 3000, "the acquired task");
    gone.ws.terminate();
    const survivor = await openSse(ts.url, "eg3", "survivor");
    await survivor.waitFor(1, 10_000);
    expect(survivor.events[0]!.json).toMatchObject({ kind: "execute", data: { task: { id: "r1" } } });
    expect((await call(ts.url, "task.get", { id: "r1" })).data.task.state).toBe("pending");
    survivor.close();
  });

  it("refuses a malformed eager query with 400 and says why", async () => {
    for (const query of ["?slots=-1&ttl=5000", "?slots=2", "?slots=x&ttl=5000", "?slots=2&ttl=-1", "?slots=2&ttl=0", "?slots=100001&ttl=5000"]) {
      await expect(openChannel(ts.url, "eg4", "w1", undefined, {}, query), query).rejects.toThrow(/400/);
    }
    const { port } = new URL(ts.url);
    const text = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), "127.0.0.1", () => {
        socket.write(`GET /ws/eg4/w1?slots=2 HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`);
      });
      let got = "";
      socket.on("data", (d: Buffer) => (got += d.toString()));
      socket.on("end", () => resolve(got));
      socket.on("error", reject);
    });
    expect(text).toMatch(/^HTTP\/1.1 400 /);
    expect(text).toContain("slots and ttl go together");
  });
});
