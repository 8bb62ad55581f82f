// Spec §15.13 (SSE and routing, live) and §15.12 #108 (debug.start/stop with a live stream).
// Loops run on the wall clock here; every test has its own server on port 0.

import http from "node:http";
import net, { type AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { resolveConfig } from "../src/index";
import {
  W,
  createData,
  envelope,
  eventually,
  executes,
  openSse,
  sleep,
  startTestServer,
  unblocks,
  type SseStream,
  type TestServer,
} from "./helpers";

type OnFinished = (fn: () => void | Promise<void>) => void;

const streamsOf = new WeakMap<TestServer, SseStream[]>();

/**
 * A live server, closed (with its streams) when the test finishes; tests run concurrently, each
 * with its own server. The keep-alive interval is short so that stream headers reach the client
 * quickly whatever the server does about flushing them (111b tests the default separately).
 */
async function live(onFinished: OnFinished, options: Record<string, unknown> = {}): Promise<TestServer> {
  const ts = await startTestServer({ keepaliveInterval: 100, ...options });
  const streams: SseStream[] = [];
  streamsOf.set(ts, streams);
  onFinished(async () => {
    for (const s of streams) s.close();
    await ts.close();
  });
  return ts;
}

async function open(ts: TestServer, group: string, id: string): Promise<SseStream> {
  const stream = await openSse(ts.url, group, id);
  streamsOf.get(ts)?.push(stream);
  return stream;
}

async function connect(ts: TestServer, group: string, id: string): Promise<SseStream> {
  const stream = await open(ts, group, id);
  expect(stream.status).toBe(200);
  await eventually(() => ts.server.registry.has(group, id), 2000, `registration of ${group}/${id}`);
  return stream;
}

async function disconnect(ts: TestServer, stream: SseStream, group: string, id: string, stillOpen = 0): Promise<void> {
  stream.close();
  await eventually(
    () => ts.server.registry.all().filter((c) => c.group === group && c.id === id).length === stillOpen,
    2000,
    `deregistration of ${group}/${id}`,
  );
}

const executeEvents = (s: SseStream) => s.events.filter((e) => e.json?.kind === "execute");
const unblockEvents = (s: SseStream) => s.events.filter((e) => e.json?.kind === "unblock");
const hour = () => Date.now() + 3_600_000;

describe.concurrent("§15.13 SSE and routing (live)", () => {
  it("111: GET /poll/workers/w1 → 200 text/event-stream, no-cache, stays open", async ({ onTestFinished }) => {
    const ts = await live(onTestFinished);
    const s = await connect(ts, "workers", "w1");
    expect(s.headers.get("content-type") ?? "").toMatch(/^text\/event-stream/);
    expect(s.headers.get("cache-control")).toBe("no-cache");
    await sleep(300);
    expect(s.ended).toBe(false);
    expect(ts.server.registry.size).toBe(1);
  });

  it("111b: with the default keep-alive interval (15 s) the stream's 200 and headers reach the client before any keep-alive is written", async ({ onTestFinished }) => {
    const ts = await startTestServer({});
    onTestFinished(() => ts.close());
    const controller = new AbortController();
    const started = Date.now();
    const response = fetch(`${ts.url}/poll/workers/w1`, { signal: controller.signal }).then(
      (res) => ({ res, after: Date.now() - started }),
      () => undefined,
    );
    // Well before the first keep-alive (15 s): headers held back until the first write would arrive
    // only then. Generous, so that a loaded machine cannot fail it.
    const winner = await Promise.race([response, sleep(7_500).then(() => "timeout" as const)]);
    controller.abort();
    expect(winner, "no response headers within 7.5 s: the SSE headers are not flushed until the first write").not.toBe("timeout");
    if (winner && winner !== "timeout") expect(winner.res.status).toBe(200);
  });

  it("112: a create with target W sends exactly one execute event, only a data: field, exact JSON", async ({ onTestFinished }) => {
    const ts = await live(onTestFinished);
    const w1 = await connect(ts, "workers", "w1");
    const res = await ts.call("promise.create", createData("job-1", hour(), { "resonate:target": W }));
    expect(res.status).toBe(200);
    await w1.waitFor(1);
    // Long enough for any re-send (the server re-offers unacquired executes after 1 s by default).
    await sleep(1500);
    expect(w1.events.filter((e) => e.fields.includes("data")).length).toBe(1);
    const event = w1.events[0]!;
    expect(event.fields).toEqual(["data"]);
    expect(event.json).toStrictEqual({ kind: "execute", head: { serverUrl: ts.url }, data: { task: { id: "job-1", version: 0 } } });
    // One line on the wire, then a blank line; no event:/id:/retry: fields.
    expect(w1.raw).toContain(`data: ${event.data}\n\n`);
    expect(w1.raw).not.toMatch(/^(event|id|retry):/m);
    expect(event.data).not.toContain("\n");
    // Once sent, the message left the queue.
    expect((await ts.snap()).messages).toEqual([]);
  });

  it("112b: the worker can acquire with the version from the execute message", async ({ onTestFinished }) => {
    const ts = await live(onTestFinished);
    const w1 = await connect(ts, "workers", "w1");
    await ts.call("promise.create", createData("job-2", hour(), { "resonate:target": W }));
    const [event] = await w1.waitFor(1);
    const { id, version } = event!.json.data.task;
    const acquired = await ts.call("task.acquire", { id, version, pid: "w1", ttl: 60_000 });
    expect(acquired.status).toBe(200);
    expect(acquired.data.task.version).toBe(1);
  });

  it("113: two streams in a group share 200 executes; each is received exactly once", async ({ onTestFinished }) => {
    // Re-offers of unacquired executes (a server extension, see 113b) are turned off here.
    const ts = await live(onTestFinished, { reofferAfter: 0 });
    const w1 = await connect(ts, "workers", "w1");
    const w2 = await connect(ts, "workers", "w2");
    // Each worker acquires what it is sent, as the SDK does.
    const acquisitions: Promise<unknown>[] = [];
    const acquireAll = (s: SseStream, pid: string) => {
      let seen = 0;
      return setInterval(() => {
        for (const e of executeEvents(s).slice(seen)) {
          acquisitions.push(ts.call("task.acquire", { ...e.json.data.task, pid, ttl: 600_000 }));
        }
        seen = executeEvents(s).length;
      }, 10);
    };
    const timers = [acquireAll(w1, "w1"), acquireAll(w2, "w2")];
    try {
      const timeoutAt = hour();
      await Promise.all(
        Array.from({ length: 200 }, (_, i) => ts.call("promise.create", createData(`lb-${i}`, timeoutAt, { "resonate:target": W }))),
      );
      await eventually(() => executeEvents(w1).length + executeEvents(w2).length >= 200, 10_000, "200 executes");
      await sleep(1500);
    } finally {
      for (const t of timers) clearInterval(t);
    }
    await Promise.all(acquisitions);
    const ids = [...executeEvents(w1), ...executeEvents(w2)].map((e) => e.json.data.task.id as string);
    expect(new Set(ids).size).toBe(200);
    expect(ids.length).toBe(200);
    expect(executeEvents(w1).length).toBeGreaterThan(0);
    expect(executeEvents(w2).length).toBeGreaterThan(0);
  });

  it("113b (deliberate deviation from §7.2): an execute nobody acquires is re-offered once to another stream, not to the same one", async ({ onTestFinished }) => {
    const ts = await live(onTestFinished, { reofferAfter: 300 });
    const w1 = await connect(ts, "workers", "w1");
    const w2 = await connect(ts, "workers", "w2");
    const timeoutAt = hour();
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => ts.call("promise.create", createData(`once-${i}`, timeoutAt, { "resonate:target": W }))),
    );
    await eventually(() => executeEvents(w1).length + executeEvents(w2).length >= 40, 10_000, "20 executes, each re-offered");
    await sleep(1000);
    // Each task went to both streams exactly once: first offer, then one re-offer elsewhere; with no
    // third stream nothing more is sent before the retry timeout.
    for (const stream of [w1, w2]) {
      const ids = executeEvents(stream).map((e) => e.json.data.task.id as string);
      expect(ids.length).toBe(20);
      expect(new Set(ids).size).toBe(20);
    }
  });

  it("114: poll://any@workers/w2 prefers w2 while connected, falls back to the group after it leaves", async ({ onTestFinished }) => {
    // Re-offers of unacquired executes (a server extension, see 114b) are turned off here.
    const ts = await live(onTestFinished, { reofferAfter: 0 });
    const w1 = await connect(ts, "workers", "w1");
    const w2 = await connect(ts, "workers", "w2");
    const target = "poll://any@workers/w2";
    const timeoutAt = hour();
    for (let i = 0; i < 20; i++) await ts.call("promise.create", createData(`pref-${i}`, timeoutAt, { "resonate:target": target }));
    await w2.waitFor(20);
    // w2 takes them, as a worker would.
    for (const e of executeEvents(w2)) {
      expect((await ts.call("task.acquire", { ...e.json.data.task, pid: "w2", ttl: 600_000 })).status).toBe(200);
    }
    await sleep(100);
    expect(executeEvents(w1)).toEqual([]);
    expect(executeEvents(w2).length).toBe(20);

    await disconnect(ts, w2, "workers", "w2");
    await ts.call("promise.create", createData("after", timeoutAt, { "resonate:target": target }));
    await w1.waitUntil(() => executeEvents(w1).some((e) => e.json.data.task.id === "after"), 2000, "'after' at w1");
  });

  it("114b: an unacquired execute for poll://any@workers/w2 is not sent to w2 again and again", async ({ onTestFinished }) => {
    const ts = await live(onTestFinished);
    await connect(ts, "workers", "w1");
    const w2 = await connect(ts, "workers", "w2");
    await ts.call("promise.create", createData("pref", hour(), { "resonate:target": "poll://any@workers/w2" }));
    await w2.waitFor(1);
    await sleep(2500);
    expect(executeEvents(w2).map((e) => e.json.data.task.id)).toEqual(["pref"]);
  });

  it("a backlog pass that reads a task committed a moment ago, whose execute is not delivered yet, leaves it to that delivery", async ({ onTestFinished }) => {
    // On PostgreSQL a transaction's claim (before its commit) and its delivery (after) can be far
    // apart on a loaded machine, and a backlog pass may read the task in between. The gap is made
    // wide here by holding back that one delivery.
    const ts = await live(onTestFinished, { reofferAfter: 0 });
    const { dispatcher } = ts.server;
    const deliverAll = dispatcher.deliverAll.bind(dispatcher);
    dispatcher.deliverAll = (plan) => {
      if (plan.some((d) => d.outgoing.kind === "execute" && d.outgoing.taskId === "held")) setTimeout(() => deliverAll(plan), 600);
      else deliverAll(plan);
    };
    const w1 = await connect(ts, "held-group", "w1"); // its backlog pass runs 200 ms later
    await ts.call("promise.create", createData("held", hour(), { "resonate:target": "poll://any@held-group" }));
    await w1.waitFor(1, 3000);
    await sleep(800);
    expect(executeEvents(w1).map((e) => e.json.data.task.id)).toEqual(["held"]);
  });

  it("115: poll://uni@client/c1 reaches only c1; while c1 is away the unblock is lost for good", async ({ onTestFinished }) => {
    const ts = await live(onTestFinished);
    const c1 = await connect(ts, "client", "c1");
    const c2 = await connect(ts, "client", "c2");
    const timeoutAt = hour();
    await ts.call("promise.create", createData("u1", timeoutAt));
    await ts.call("promise.register_listener", { awaited: "u1", address: "poll://uni@client/c1" });
    await ts.call("promise.settle", { id: "u1", state: "resolved", value: { data: "ODQ=" } });
    const [event] = await c1.waitFor(1);
    expect(event!.json.kind).toBe("unblock");
    expect(event!.json.head).toEqual({});
    expect(event!.json.data.promise).toMatchObject({ id: "u1", state: "resolved", value: { data: "ODQ=" } });
    await sleep(100);
    expect(c2.events).toEqual([]);

    await ts.call("promise.create", createData("u2", timeoutAt));
    await ts.call("promise.register_listener", { awaited: "u2", address: "poll://uni@client/c1" });
    await disconnect(ts, c1, "client", "c1");
    await ts.call("promise.settle", { id: "u2", state: "resolved" });
    await eventually(async () => (await ts.snap()).messages.length === 0, 2000, "the unblock to leave the queue");
    const again = await connect(ts, "client", "c1");
    await sleep(200);
    expect(unblockEvents(again)).toEqual([]);
    expect(c2.events).toEqual([]);
  });

  it("116: with no stream in the group the execute is dropped; a worker connecting later gets it at the next retry", async ({ onTestFinished }) => {
    const ts = await live(onTestFinished, { retryTimeout: 1000, timeoutsInterval: 100 });
    await ts.call("promise.create", createData("lonely", hour(), { "resonate:target": W }));
    // Dropped, not kept for later.
    await eventually(async () => (await ts.snap()).messages.length === 0, 2000, "the execute to leave the queue");
    const w1 = await connect(ts, "workers", "w1");
    const [event] = await w1.waitFor(1, 4000);
    expect(event!.json.data.task).toEqual({ id: "lonely", version: 0 });
  });

  it("117 (deliberate deviation from §2.8): a reconnect with the same (group, id) replaces the older stream", async ({ onTestFinished }) => {
    const ts = await live(onTestFinished);
    const older = await connect(ts, "client", "c1");
    const newer = await open(ts, "client", "c1");
    // The older stream usually belongs to a client that is gone: it is ended, the newer one serves.
    await older.waitUntil(() => older.ended, 2000, "older stream ended");
    expect(ts.server.registry.all().filter((conn) => conn.group === "client" && conn.id === "c1").length).toBe(1);
    for (let i = 0; i < 3; i++) {
      await ts.call("promise.create", createData(`o${i}`, hour()));
      await ts.call("promise.register_listener", { awaited: `o${i}`, address: "poll://uni@client/c1" });
      await ts.call("promise.settle", { id: `o${i}`, state: "resolved" });
    }
    const events = await newer.waitFor(3);
    expect(events.map((e) => e.json.data.promise.id)).toEqual(["o0", "o1", "o2"]);
    expect(unblockEvents(older)).toEqual([]);
  });

  it("118: max connections 2 → a third stream gets 503 'Poll registration at capacity' (plain text)", async ({ onTestFinished }) => {
    const ts = await live(onTestFinished, { maxConnections: 2 });
    await connect(ts, "workers", "w1");
    await connect(ts, "client", "c1");
    const third = await open(ts, "workers", "w3");
    expect(third.status).toBe(503);
    expect(third.raw).toBe("Poll registration at capacity");
    expect(third.headers.get("content-type") ?? "").toMatch(/^text\/plain/);
    expect(ts.server.registry.size).toBe(2);
  });

  it("120 [compat C7]: keep-alive comment lines arrive at the configured interval and are not events", async ({ onTestFinished }) => {
    const ts = await live(onTestFinished, { keepaliveInterval: 100 });
    const s = await connect(ts, "workers", "w1");
    await s.waitUntil(() => s.comments.length >= 3, 2000, "3 keep-alive comments");
    expect(s.events).toEqual([]);
  });

  it("120b [compat C7]: the default keep-alive interval is between 15 and 30 s", () => {
    const interval = resolveConfig({}).keepaliveInterval;
    expect(interval).toBeGreaterThanOrEqual(15_000);
    expect(interval).toBeLessThanOrEqual(30_000);
  });

  it("108: after debug.start a create produces no event and stays queued; after debug.stop it is delivered and leaves the queue", async ({ onTestFinished }) => {
    const ts = await live(onTestFinished);
    const w1 = await connect(ts, "workers", "w1");
    expect((await ts.start()).status).toBe(200);
    await ts.call("promise.create", createData("paused", hour(), { "resonate:target": W }));
    await sleep(300);
    expect(executeEvents(w1)).toEqual([]);
    expect(executes(await ts.snap())).toEqual([{ id: "paused", version: 0, address: W }]);
    expect((await ts.stop()).status).toBe(200);
    const [event] = await w1.waitFor(1, 2000);
    expect(event!.json.data.task.id).toBe("paused");
    expect((await ts.snap()).messages).toEqual([]);
  });

  it("§7.2: the unblock carries the record as stored when sent (settled), listeners are consumed", async ({ onTestFinished }) => {
    const ts = await live(onTestFinished);
    const c1 = await connect(ts, "client", "c1");
    const created = await ts.call("promise.create", createData("rec", hour(), { k: "v" }, { param: { data: "cA==" } }));
    await ts.call("promise.register_listener", { awaited: "rec", address: "poll://uni@client/c1" });
    const settled = await ts.call("promise.settle", { id: "rec", state: "rejected", value: { headers: { a: "b" } } });
    const [event] = await c1.waitFor(1);
    expect(event!.json).toStrictEqual({ kind: "unblock", head: {}, data: { promise: settled.data.promise } });
    expect(settled.data.promise.createdAt).toBe(created.data.promise.createdAt);
    expect(unblocks(await ts.snap())).toEqual([]);
  });

  it("§6.4: debug.reset keeps open streams", async ({ onTestFinished }) => {
    const ts = await live(onTestFinished);
    const w1 = await connect(ts, "workers", "w1");
    expect((await ts.reset()).status).toBe(200);
    expect(ts.server.registry.has("workers", "w1")).toBe(true);
    await ts.call("promise.create", createData("after-reset", hour(), { "resonate:target": W }));
    const [event] = await w1.waitFor(1);
    expect(event!.json.data.task.id).toBe("after-reset");
  });

  it("§2.8: group and id are percent-decoded path segments", async ({ onTestFinished }) => {
    const ts = await live(onTestFinished);
    const s = await open(ts, "my group", "w/1");
    expect(s.status).toBe(200);
    await eventually(() => ts.server.registry.has("my group", "w/1"), 2000, "decoded registration");
  });

  it("§2.8: graceful shutdown ends open streams", async ({ onTestFinished }) => {
    const ts = await startTestServer({ keepaliveInterval: 100 });
    const s = await openSse(ts.url, "workers", "w1");
    onTestFinished(async () => {
      s.close();
      await ts.close();
    });
    await eventually(() => ts.server.registry.size === 1, 2000, "registration");
    const started = Date.now();
    await ts.close();
    await s.waitUntil(() => s.ended, 2000, "stream end");
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("graceful shutdown: a keep-alive connection busy when close() begins is closed once its answer is out", async ({ onTestFinished }) => {
    // Node closes only the connections idle when the server starts closing; one mid-request then
    // would otherwise stay open after its answer until the client's next request or the
    // keep-alive timeout, and close() (the process's exit on SIGTERM) would wait for it.
    const ts = await startTestServer({ keepaliveInterval: 100 });
    onTestFinished(() => ts.close());
    const body = JSON.stringify(envelope("promise.get", { id: "missing" }));
    const { port } = new URL(ts.url);
    const socket = net.connect(Number(port), "127.0.0.1");
    onTestFinished(() => void socket.destroy());
    let received = "";
    socket.on("data", (chunk) => (received += chunk.toString("utf8")));
    const socketClosed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
    await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
    // The head and half the body: the request is in progress when close() begins.
    socket.write(`POST / HTTP/1.1\r\nhost: x\r\nconnection: keep-alive\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body.slice(0, 10)}`);
    await sleep(100);
    let closed = false;
    const closing = ts.close().then(() => (closed = true));
    await sleep(100);
    expect(closed, "close() waits for the request in progress").toBe(false);
    socket.write(body.slice(10));
    await socketClosed;
    await closing;
    expect(received).toMatch(/^HTTP\/1\.1 404 /); // the answer came whole before the close
    expect(received).toContain('"status":404');
  });

  it("§7.4: an http:// target receives the execute as a JSON POST", async ({ onTestFinished }) => {
    const received: { method?: string; contentType?: string; body: string }[] = [];
    const hook = http.createServer((req, res) => {
      let body = "";
      req.on("data", (chunk) => (body += chunk));
      req.on("end", () => {
        received.push({ method: req.method, contentType: req.headers["content-type"], body });
        res.writeHead(200, { "content-type": "application/json" }).end('{"status":"ok"}');
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, "127.0.0.1", resolve));
    try {
      const port = (hook.address() as AddressInfo).port;
      const ts = await live(onTestFinished);
      const target = `http://127.0.0.1:${port}/hook`;
      await ts.call("promise.create", createData("pushed", hour(), { "resonate:target": target }));
      await eventually(() => received.length >= 1, 3000, "the push");
      expect(received[0]!.method).toBe("POST");
      expect(received[0]!.contentType ?? "").toContain("application/json");
      expect(JSON.parse(received[0]!.body)).toStrictEqual({
        kind: "execute",
        head: { serverUrl: ts.url },
        data: { task: { id: "pushed", version: 0 } },
      });
    } finally {
      hook.closeAllConnections();
      await new Promise<void>((resolve) => hook.close(() => resolve()));
    }
  });
});
