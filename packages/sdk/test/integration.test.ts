import { randomUUID } from "node:crypto";
import { startServer } from "@resonate-compat/server";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Context } from "../src/context";
import { PromiseNotFoundError } from "../src/errors";
import { Resonate } from "../src/resonate";
import type { ResonateConfig } from "../src/config";
import type { TaskRunner } from "../src/task-runner";
import { silentLogger, waitFor } from "./support/fake-server";

// Our SDK against the real server (in this process, port 0, in-memory database).

type Server = Awaited<ReturnType<typeof startServer>>;

describe("SDK against the server", () => {
  let server: Server;
  let started: Resonate[] = [];

  async function boot(options: { retryTimeout?: number } = {}) {
    server = await startServer({ host: "127.0.0.1", port: 0, db: ":memory:", logLevel: "silent", ...options });
  }

  async function join(config: Partial<ResonateConfig> = {}): Promise<Resonate> {
    const r = new Resonate({ url: server.url, logger: silentLogger, ...config });
    started.push(r);
    await r.connected();
    return r;
  }

  const id = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;
  const sleep = (ms: number, signal?: AbortSignal) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      signal?.addEventListener("abort", () => (clearTimeout(t), resolve()), { once: true });
    });

  beforeEach(() => {
    started = [];
  });
  afterEach(async () => {
    await Promise.all(started.map((r) => r.stop()));
    await server?.close();
  });

  it("runs a function on a worker of the group and returns its result to the client", async () => {
    await boot();
    const worker = await join({ group: "workers" });
    worker.register("computeSomething", (_ctx: Context, n: number) => n * 2);
    const client = await join({ group: "client" });
    const handle = await client.beginRpc(id("job"), "computeSomething", 42, client.options({ target: "workers" }));
    await expect(handle.result()).resolves.toBe(84);
    await expect(handle.done()).resolves.toBe(true);
    await expect(client.rpc(id("job"), "computeSomething", 1, client.options({ target: "poll://any@workers" }))).resolves.toBe(2);
  });

  it("a function that throws rejects the client's result with its error", async () => {
    await boot();
    const worker = await join({ group: "workers" });
    worker.register("boom", async () => {
      throw new RangeError("out of range");
    });
    const client = await join({ group: "client" });
    const err = await client.rpc(id("boom"), "boom", client.options({ target: "workers" })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({ name: "RangeError", message: "out of range" });
  });

  it("the same id twice runs once; both callers get the one result", async () => {
    await boot();
    const worker = await join({ group: "workers" });
    let runs = 0;
    worker.register("once", async (_ctx: Context, x: string) => {
      runs++;
      await sleep(200);
      return `${x}!`;
    });
    const a = await join({ group: "client" });
    const b = await join({ group: "client" });
    const job = id("dup");
    const [ha, hb] = await Promise.all([
      a.beginRpc(job, "once", "first", a.options({ target: "workers" })),
      b.beginRpc(job, "once", "second", b.options({ target: "workers" })),
    ]);
    const results = await Promise.all([ha.result(), hb.result()]);
    expect(results[0]).toBe(results[1]);
    // And once more after it settled: reconnected to the stored result.
    await expect(a.rpc(job, "once", "third", a.options({ target: "workers" }))).resolves.toBe(results[0]);
    expect(runs).toBe(1);
  });

  it("an unknown function is reported to the caller as a rejection naming it", async () => {
    await boot();
    const worker = await join({ group: "workers" });
    worker.register("known", () => 1);
    const client = await join({ group: "client" });
    const err = await client.rpc(id("x"), "unknownFn", client.options({ target: "workers" })).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: "FunctionNotRegisteredError" });
    expect((err as Error).message).toContain('Function "unknownFn" (version 1) is not registered');
    expect((err as Error).message).toContain(worker.pid);
  });

  it("get() finds a settled promise, and reports an unknown id clearly", async () => {
    await boot();
    const worker = await join({ group: "workers" });
    worker.register("f", () => "value");
    const client = await join({ group: "client" });
    const job = id("get");
    await client.rpc(job, "f", client.options({ target: "workers" }));
    await expect((await client.get(job)).result()).resolves.toBe("value");
    await expect(client.get(id("missing"))).rejects.toBeInstanceOf(PromiseNotFoundError);
  });

  it("stop() hands back tasks it had not started, at once; abandoned running tasks are re-dispatched", async () => {
    // A retry timeout far beyond the test: only the hand-back and the lease expiry can move tasks.
    await boot({ retryTimeout: 120_000 });
    const ran: { worker: string; id: string }[] = [];
    const work = (name: string) => async (ctx: Context, ms: number) => {
      ran.push({ worker: name, id: ctx.id });
      await sleep(ms, ctx.signal);
      return name;
    };
    const a = await join({ group: "workers", concurrency: 1, ttl: 2_000 });
    a.register("work", work("a"));
    const client = await join({ group: "client" });
    const slow = await client.beginRpc(id("slow"), "work", 1_000, client.options({ target: "workers" }));
    await waitFor(() => ran.length === 1);
    const queued = await client.beginRpc(id("queued"), "work", 10, client.options({ target: "workers" }));
    const runnerOfA = (a as unknown as { runner: TaskRunner }).runner;
    await waitFor(() => runnerOfA.load.queued === 1);

    const b = await join({ group: "workers" });
    b.register("work", work("b"));
    const stoppedAt = Date.now();
    await a.stop();
    await expect(queued.result()).resolves.toBe("b");
    expect(Date.now() - stoppedAt).toBeLessThan(5_000);
    // The running task's lease lapses (or the server notices a's stream is gone) and b runs it again.
    await expect(slow.result()).resolves.toBe("b");
    expect(ran.filter((r) => r.id === queued.id)).toEqual([{ worker: "b", id: queued.id }]);
    expect(ran.filter((r) => r.id === slow.id).map((r) => r.worker)).toEqual(["a", "b"]);
  });

  it("heartbeats keep the lease of a function that runs longer than the ttl: one execution", async () => {
    await boot({ retryTimeout: 1_000 });
    let runs = 0;
    const long = async () => {
      runs++;
      await sleep(5_000);
      return "long done";
    };
    for (let i = 0; i < 2; i++) (await join({ group: "workers", ttl: 2_000 })).register("long", long);
    const client = await join({ group: "client" });
    await expect(client.rpc(id("long"), "long", client.options({ target: "workers" }))).resolves.toBe("long done");
    expect(runs).toBe(1);
  }, 20_000);
});

describe("SDK over the channel (transport: \"websocket\") against the server", () => {
  let server: Server;
  let started: Resonate[] = [];

  async function boot(options: { retryTimeout?: number } = {}) {
    server = await startServer({ host: "127.0.0.1", port: 0, db: ":memory:", logLevel: "silent", ...options });
  }

  async function join(config: Partial<ResonateConfig> = {}): Promise<Resonate> {
    const r = new Resonate({ url: server.url, logger: silentLogger, transport: "websocket", ...config });
    started.push(r);
    await r.connected();
    return r;
  }

  const id = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

  beforeEach(() => {
    started = [];
  });
  afterEach(async () => {
    await Promise.all(started.map((r) => r.stop()));
    await server?.close();
  });

  it("runs a function on a worker and returns its result to the client, many calls at once", async () => {
    await boot();
    const worker = await join({ group: "workers" });
    worker.register("double", (_ctx: Context, n: number) => n * 2);
    const client = await join({ group: "client" });
    await expect(client.rpc(id("job"), "double", 21, client.options({ target: "workers" }))).resolves.toBe(42);
    // (More at once would also run more than 10 functions at once on the worker, and Node warns about
    // the task runner's abort listeners: not what this test is about.)
    const results = await Promise.all(Array.from({ length: 8 }, (_, n) => client.rpc(id("many"), "double", n, client.options({ target: "workers" }))));
    expect(results).toEqual(Array.from({ length: 8 }, (_, n) => n * 2));
    await expect(client.get(id("missing"))).rejects.toBeInstanceOf(PromiseNotFoundError);
  });

  it("gets its tasks acquired by the server (no acquire of its own) while a slot is free, and never runs more than `concurrency`", async () => {
    await boot();
    const worker = await join({ group: "workers", concurrency: 2 });
    const sent: string[] = [];
    // What the worker itself sends over its channel (its HttpClient's transport).
    const transport = (worker as unknown as { http: { transport: { post: (body: string, ...rest: unknown[]) => Promise<unknown> } } }).http.transport;
    const post = transport.post.bind(transport);
    transport.post = (body, ...rest) => (sent.push(JSON.parse(body).kind), post(body, ...rest));
    let running = 0;
    let most = 0;
    worker.register("pause", async (_ctx: Context, n: number) => {
      most = Math.max(most, ++running);
      await new Promise((resolve) => setTimeout(resolve, 50));
      running--;
      return n;
    });
    const client = await join({ group: "client" });
    await expect(client.rpc(id("one"), "pause", 1, client.options({ target: "workers" }))).resolves.toBe(1);
    expect(sent.filter((k) => k === "task.acquire")).toEqual([]); // the one task came acquired
    const results = await Promise.all(Array.from({ length: 6 }, (_, n) => client.rpc(id("six"), "pause", n, client.options({ target: "workers" }))));
    expect(results).toEqual([0, 1, 2, 3, 4, 5]);
    expect(most).toBe(2);
    // Beyond the two slots, executes came as messages and the worker acquired those itself.
    expect(sent.filter((k) => k === "task.fulfill")).toHaveLength(7);
    expect(sent.filter((k) => k === "task.acquire").length).toBeGreaterThan(0);
  });

  it("works next to processes on plain HTTP: a channel worker serves an HTTP client and the other way round", async () => {
    await boot();
    (await join({ group: "channel-workers" })).register("hello", (_ctx: Context, who: string) => `hello ${who}`);
    (await join({ group: "http-workers", transport: "http" })).register("hello", (_ctx: Context, who: string) => `hi ${who}`);
    const httpClient = await join({ group: "client", transport: "http" });
    const channelClient = await join({ group: "client" });
    await expect(httpClient.rpc(id("a"), "hello", "http", httpClient.options({ target: "channel-workers" }))).resolves.toBe("hello http");
    await expect(channelClient.rpc(id("b"), "hello", "channel", channelClient.options({ target: "http-workers" }))).resolves.toBe("hi channel");
  });

  it("stop() hands back a queued task over the channel; another worker runs it", async () => {
    // A retry timeout far beyond the test: only the hand-back (or a re-offer) can move the task.
    await boot({ retryTimeout: 120_000 });
    const ran: { worker: string; id: string }[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const work = (name: string) => async (ctx: Context) => {
      ran.push({ worker: name, id: ctx.id });
      if (name === "a") await Promise.race([gate, new Promise((resolve) => ctx.signal.addEventListener("abort", resolve, { once: true }))]);
      return name;
    };
    const a = await join({ group: "workers", concurrency: 1 });
    a.register("work", work("a"));
    const client = await join({ group: "client" });
    await client.beginRpc(id("busy"), "work", client.options({ target: "workers" }));
    await waitFor(() => ran.length === 1);
    const queued = await client.beginRpc(id("queued"), "work", client.options({ target: "workers" }));
    await waitFor(() => (a as unknown as { runner: TaskRunner }).runner.load.queued === 1);

    const b = await join({ group: "workers" });
    b.register("work", work("b"));
    await a.stop();
    release();
    await expect(queued.result()).resolves.toBe("b");
    expect(ran.filter((r) => r.id === queued.id)).toEqual([{ worker: "b", id: queued.id }]);
  });
});
