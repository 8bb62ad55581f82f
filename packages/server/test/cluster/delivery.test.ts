// Messages cross replicas: whichever replica a change happens on, its execute or unblock reaches the
// stream of the process it is for, wherever that stream is held — woken by LISTEN/NOTIFY. Least-
// loaded dispatch, backlog offers and disconnect recovery see every replica's streams.

import { afterEach, describe, expect, it } from "vitest";
import { type SseStream, type TestServer, createData, eventually, openSse } from "../helpers";
import { openChannel } from "../support/channel-client";
import { startReplicas, usePostgres } from "./replicas";

usePostgres();

const W = "poll://any@workers";
const hour = () => Date.now() + 3_600_000;
const executes = (s: SseStream) => s.events.filter((e) => e.json?.kind === "execute");
const unblocks = (s: SseStream) => s.events.filter((e) => e.json?.kind === "unblock");

let servers: TestServer[] = [];
let streams: SseStream[] = [];
afterEach(async () => {
  for (const s of streams.splice(0)) s.close();
  for (const s of servers.splice(0)) await s.close();
});

async function two(options: Record<string, unknown> = {}): Promise<[TestServer, TestServer]> {
  servers = await startReplicas(2, { debug: false, keepaliveInterval: 100, ...options });
  return servers as [TestServer, TestServer];
}

/**
 * Opens a stream on `ts` and waits until the other replica `peer` knows of it too, and until the
 * backlog pass that a new stream triggers (200 ms later) is over, so that each test starts from a
 * settled cluster (the race of that pass with a create is tested on its own below).
 */
async function connect(ts: TestServer, peer: TestServer, group: string, id: string): Promise<SseStream> {
  const stream = await openSse(ts.url, group, id);
  streams.push(stream);
  expect(stream.status).toBe(200);
  await eventually(() => peer.server.cluster!.directory.isConnected(id), 3000, `${peer.server.replica} to learn of ${group}/${id}`);
  await new Promise((resolve) => setTimeout(resolve, 400));
  return stream;
}

describe("messages cross replicas", () => {
  it("an execute created on one replica reaches a worker streaming from the other, at once", async () => {
    const [a, b] = await two();
    const w1 = await connect(b, a, "workers", "w1");
    const delays: number[] = [];
    for (let i = 0; i < 20; i++) {
      const started = performance.now();
      expect((await a.call("promise.create", createData(`x-${i}`, hour(), { "resonate:target": W }))).status).toBe(200);
      await w1.waitFor(i + 1, 3000);
      delays.push(performance.now() - started);
    }
    expect(executes(w1).map((e) => e.json.data.task.id)).toEqual(Array.from({ length: 20 }, (_, i) => `x-${i}`));
    delays.sort((x, y) => x - y);
    console.log(`create on A → execute on B's stream: median ${delays[10]!.toFixed(1)} ms, max ${delays[19]!.toFixed(1)} ms`);
  });

  it("a create on one replica racing the backlog pass of a stream just opened on the other: one execute, not two", async () => {
    const [a, b] = await two();
    // The new stream's replica (b) offers its group's backlog 200 ms after the stream opens; a task
    // created through a before then is forwarded by a to b's stream, and read as backlog by b.
    const opened: SseStream[] = [];
    for (let i = 0; i < 8; i++) {
      const group = `race-${i}`;
      const stream = await openSse(b.url, group, `w-${i}`);
      streams.push(stream);
      opened.push(stream);
      await eventually(() => a.server.cluster!.directory.isConnected(`w-${i}`), 3000, `a to learn of w-${i}`);
      await new Promise((resolve) => setTimeout(resolve, 10 * i)); // before the backlog pass
      expect((await a.call("promise.create", createData(`race-${i}`, hour(), { "resonate:target": `poll://any@${group}` }))).status).toBe(200);
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(opened.map((s) => executes(s).length)).toEqual(opened.map(() => 1));
  });

  it("an unblock for a listener streaming from one replica, settled through the other, reaches it", async () => {
    const [a, b] = await two();
    const c1 = await connect(a, b, "client", "c1");
    await a.call("promise.create", createData("u-1", hour()));
    await a.call("promise.register_listener", { awaited: "u-1", address: "poll://uni@client/c1" });
    expect((await b.call("promise.settle", { id: "u-1", state: "resolved", value: { data: "eA==" } })).status).toBe(200);
    await c1.waitFor(1, 3000);
    expect(unblocks(c1)[0]!.json.data.promise).toMatchObject({ id: "u-1", state: "resolved", value: { data: "eA==" } });
  });

  it("poll://uni@group/pid goes only to that process, wherever it streams; poll://any@group/pid prefers it", async () => {
    const [a, b] = await two();
    const w1 = await connect(a, b, "workers", "w1");
    const w2 = await connect(b, a, "workers", "w2");
    for (let i = 0; i < 5; i++) await a.call("promise.create", createData(`pref-${i}`, hour(), { "resonate:target": "poll://any@workers/w2" }));
    await w2.waitFor(5, 3000);
    expect(executes(w1)).toEqual([]);
    await b.call("promise.create", createData("l-1", hour()));
    await b.call("promise.register_listener", { awaited: "l-1", address: "poll://uni@workers/w1" });
    await b.call("promise.settle", { id: "l-1", state: "resolved" });
    await w1.waitFor(1, 3000);
    expect(unblocks(w2)).toEqual([]);
  });

  it("executes spread over the group's workers on both replicas (least loaded)", async () => {
    const [a, b] = await two({ reofferAfter: 0 });
    const w1 = await connect(a, b, "workers", "w1");
    const w2 = await connect(b, a, "workers", "w2");
    await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).call("promise.create", createData(`lb-${i}`, hour(), { "resonate:target": W }))));
    await eventually(() => executes(w1).length + executes(w2).length >= 40, 5000, "40 executes");
    const ids = [...executes(w1), ...executes(w2)].map((e) => e.json.data.task.id as string);
    expect(new Set(ids).size).toBe(40);
    // Each replica balances its own offers; together neither worker is left idle.
    expect(Math.min(executes(w1).length, executes(w2).length)).toBeGreaterThanOrEqual(10);
  });

  it("a worker connecting to one replica is offered the backlog created through the other", async () => {
    const [a, b] = await two();
    for (let i = 0; i < 5; i++) await a.call("promise.create", createData(`bl-${i}`, hour(), { "resonate:target": W }));
    const late = await connect(b, a, "workers", "late");
    await late.waitFor(5, 3000);
    expect(executes(late).map((e) => e.json.data.task.id).sort()).toEqual(["bl-0", "bl-1", "bl-2", "bl-3", "bl-4"]);
  });
});

describe("the channel across replicas", () => {
  it("a worker on a channel to one replica gets the executes created through the other, and its own requests are answered", async () => {
    const [a, b] = await two();
    const channel = await openChannel(b.url, "workers", "cw");
    await eventually(() => a.server.cluster!.directory.isConnected("cw"), 3000, "replica A to learn of the channel");
    await new Promise((resolve) => setTimeout(resolve, 400));
    for (let i = 0; i < 5; i++) {
      expect((await a.call("promise.create", createData(`ch-${i}`, hour(), { "resonate:target": W }))).status).toBe(200);
    }
    await eventually(() => channel.messages.length === 5, 3000, "five executes on the channel");
    expect(channel.messages.map((m) => m.data.task.id)).toEqual(Array.from({ length: 5 }, (_, i) => `ch-${i}`));
    channel.send({ kind: "task.acquire", head: { corrId: "acq", version: "2026-04-01" }, data: { id: "ch-0", version: channel.messages[0].data.task.version, pid: "cw", ttl: 60_000 } });
    await eventually(() => channel.answers.length === 1, 3000, "the acquire's answer");
    expect(channel.answers[0].head.status).toBe(200);
    await channel.close();
  });
});

describe("disconnect recovery across replicas", () => {
  it("a worker whose stream closed on one replica and came back on the other within the grace keeps its leases", async () => {
    const [a, b] = await two({ disconnectGrace: 1500 });
    const onA = await connect(a, b, "workers", "w1");
    await a.call("promise.create", createData("keep", hour(), { "resonate:target": W }));
    await onA.waitFor(1, 3000);
    expect((await a.call("task.acquire", { id: "keep", version: 0, pid: "w1", ttl: 600_000 })).status).toBe(200);
    onA.close();
    await connect(b, a, "workers", "w1");
    await new Promise((resolve) => setTimeout(resolve, 2500)); // past the grace, on both replicas
    const task = (await b.call("task.get", { id: "keep" })).data.task;
    expect(task).toMatchObject({ state: "acquired", version: 1, pid: "w1" });
  });

  it("a worker gone from every replica loses its leases after the grace, and another worker gets the task", async () => {
    const [a, b] = await two({ disconnectGrace: 500 });
    const w1 = await connect(a, b, "workers", "w1");
    await a.call("promise.create", createData("move", hour(), { "resonate:target": W }));
    await w1.waitFor(1, 3000);
    expect((await a.call("task.acquire", { id: "move", version: 0, pid: "w1", ttl: 600_000 })).status).toBe(200);
    const w2 = await connect(b, a, "workers", "w2");
    w1.close();
    await w2.waitUntil(() => executes(w2).some((e) => e.json.data.task.id === "move"), 5000, "the task re-offered to w2");
    expect(executes(w2).find((e) => e.json.data.task.id === "move")!.json.data.task.version).toBe(1);
    expect((await b.call("task.acquire", { id: "move", version: 1, pid: "w2", ttl: 600_000 })).status).toBe(200);
  });
});
