// Issue 3, with real processes: our server, the example worker (src/worker.ts) and our SDK's clients.
//   - a burst of 30 invocations over 3 workers: each runs exactly once, the work is spread;
//   - the same id invoked twice (two example clients at once, then a third later): one execution;
//   - no worker connected when the clients dispatch: the clients exit; workers started later drain
//     the backlog at once (not after the retry timeout);
//   - the example worker prints its operating-system process id, and SIGKILL to that pid ends it.
import { describe, expect, it } from "vitest";
import {
  clientResults,
  countBy,
  decodeValue,
  note,
  pidOf,
  runExampleClient,
  spread,
  startExampleWorker,
  startSdkClient,
  useWorld,
} from "./helpers";

const world = useWorld();

describe("load balancing over the example workers", () => {
  it("a burst of 30 invocations over 3 workers: each ran exactly once, at least 2 workers used", async () => {
    const w = world();
    const server = await w.startServer({ logLevel: "warn" });
    const workers = await Promise.all([1, 2, 3].map((i) => startExampleWorker(w, server, { label: `worker-${i}` })));
    const workerPids = workers.map(pidOf);

    const ids = Array.from({ length: 30 }, (_, i) => `burst-${i}`);
    const client = startSdkClient(w, server, {
      label: "client",
      concurrent: true,
      ops: ids.map((id) => ({ id, func: "computeSomething", args: [id, 300], target: "workers" })),
    });
    await client.waitFor("done", { timeoutMs: 60_000 });
    expect((await client.waitExit(10_000)).code).toBe(0);

    // Every invocation produced its result, computed by one of our workers.
    const results = clientResults(client);
    for (const id of ids) {
      const r = results.get(id);
      expect(r, `result of ${id}`).toBeDefined();
      expect(r!.ok, JSON.stringify(r)).toBe(true);
      expect(r!.value).toMatchObject({ id, cost: 300 });
      expect(workerPids).toContain(r!.value.worker);
    }

    // Exactly once: one `started` and one `finished` per id over all workers, on the worker the
    // client's result names.
    const started = w.events("started");
    const finished = w.events("finished");
    expect([...countBy(started).entries()].filter(([, n]) => n !== 1)).toEqual([]);
    expect([...countBy(started).keys()].sort()).toEqual([...ids].sort());
    expect([...countBy(finished).entries()].filter(([, n]) => n !== 1)).toEqual([]);
    for (const s of started) expect(results.get(String(s.id))!.value.worker).toBe(s.pid);

    const perWorker = workers.map((p) => p.events("started").length);
    const s = spread(perWorker);
    note(`burst: 30 invocations over 3 workers, executions per worker ${JSON.stringify(perWorker)}, max/min share ${s.ratio.toFixed(2)}`);
    expect(perWorker.filter((n) => n > 0).length).toBeGreaterThanOrEqual(2);
    expect(perWorker.reduce((a, b) => a + b, 0)).toBe(30);
  }, 120_000);
});

describe("the same id invoked twice", () => {
  it("two example clients at once, a third after completion: one execution, every client gets the same result", async () => {
    const w = world();
    const server = await w.startServer({ logLevel: "warn" });
    await Promise.all([1, 2].map((i) => startExampleWorker(w, server, { label: `worker-${i}` })));

    const id = "dup-1";
    const a = runExampleClient(w, server, { label: "client-a", id, cost: 2000, wait: true });
    const b = runExampleClient(w, server, { label: "client-b", id, cost: 2000, wait: true });
    expect((await a.waitExit(60_000)).code, a.dump()).toBe(0);
    expect((await b.waitExit(60_000)).code, b.dump()).toBe(0);
    // A third client after the first run finished: it attaches to the settled promise.
    const c = runExampleClient(w, server, { label: "client-c", id, cost: 2000, wait: true });
    expect((await c.waitExit(60_000)).code, c.dump()).toBe(0);

    const starts = w.events("started", (m) => m.id === id);
    expect(starts, "executions of dup-1").toHaveLength(1);
    const executor = String(starts[0]!.pid);
    for (const client of [a, b, c]) {
      const result = client.events("result");
      expect(result, client.dump()).toHaveLength(1);
      expect(result[0]!.result).toEqual({ id, cost: 2000, worker: executor });
    }
    const task = await server.call("task.get", { id });
    expect(task.data.task).toMatchObject({ state: "fulfilled", version: 1 });
    note(`same id twice: 3 clients, ${starts.length} execution (on ${executor.slice(0, 8)})`);
  }, 120_000);
});

describe("all workers down at dispatch", () => {
  it("the example clients exit at once; workers started later drain the backlog without waiting for the retry timeout", async () => {
    const w = world();
    // The default retry timeout (30 s): a drain well below it shows the backlog was offered on connect.
    const server = await w.startServer({ logLevel: "warn" });
    const ids = Array.from({ length: 5 }, (_, i) => `backlog-${i}`);
    const clients = ids.map((id) => runExampleClient(w, server, { label: `client-${id}`, id, cost: 200 }));
    for (const c of clients) expect((await c.waitExit(60_000)).code, c.dump()).toBe(0);
    for (const [i, c] of clients.entries()) expect(c.events("invoked").map((m) => m.id)).toEqual([ids[i]]);

    for (const id of ids) {
      const t = await server.call("task.get", { id });
      expect(t.data.task, `${id} waits, unacquired`).toMatchObject({ state: "pending", version: 0 });
    }

    const workers = await Promise.all([1, 2].map((i) => startExampleWorker(w, server, { label: `late-worker-${i}` })));
    // From the moment the first late worker was connected.
    const connectedAt = Math.min(...workers.map((p) => p.events("ready")[0]!.at));
    await w.waitUntil(() => (w.events("finished").length >= ids.length ? true : undefined), { timeoutMs: 25_000, what: "the backlog drained" });
    const lastStart = Math.max(...w.events("started").map((m) => m.at));
    note(`backlog: 5 invocations with no worker; all started ${lastStart - connectedAt} ms after the first late worker was ready (retry timeout 30000 ms)`);
    expect(lastStart - connectedAt).toBeLessThan(10_000);

    expect([...countBy(w.events("started")).entries()].filter(([, n]) => n !== 1)).toEqual([]);
    const pids = workers.map(pidOf);
    for (const id of ids) {
      const p = await server.call("promise.get", { id });
      expect(p.data.promise.state).toBe("resolved");
      const value = decodeValue(p.data.promise.value) as { id: string; cost: number; worker: string };
      expect(value).toMatchObject({ id, cost: 200 });
      expect(pids).toContain(value.worker);
    }
  }, 120_000);
});

describe("the example worker", () => {
  it("prints its operating-system process id on its ready line; SIGKILL to that pid ends it", async () => {
    const w = world();
    const server = await w.startServer({ logLevel: "warn" });
    const worker = await startExampleWorker(w, server, { label: "worker" });
    const [ready] = worker.events("ready");
    expect(ready!.osPid).toBe(worker.pid);
    process.kill(Number(ready!.osPid), "SIGKILL");
    expect(await worker.waitExit(10_000)).toEqual({ code: null, signal: "SIGKILL" });
  }, 60_000);
});
