// The official SDK's async/await engine (`@resonatehq/sdk/async`, same wire protocol as the
// generator engine): rpc and run from a client, eager fan-out, sleep, a latent promise, retries.
// SDK 0.11.4 has the same engine under the same export; every test runs with 0.11.5 and with 0.11.4
// (harness.sdkMatrix; E2E_SDK narrows it), asserting each version's child ids and timer form where
// they differ (PROTOCOL.md §4.2, §12.5).
import { describe, expect, it } from "vitest";
import { childId, clientResults, note, sdkMatrix, useWorld } from "./harness.js";

const ENGINE = { E2E_ENGINE: "async" };

describe.each(sdkMatrix())("official SDK %s", (sdk) => {
  const world = useWorld({ sdk });

  describe("async/await engine", () => {
    it("rpc to an async workflow: ctx.run steps, parallel ctx.rpc, ctx.sleep", async () => {
      const w = world();
      const server = await w.startServer();
      await Promise.all([1, 2].map((i) => w.startWorker({ label: `async-worker-${i}`, server, group: "asyncworkers", env: ENGINE })));
      const client = w.startClient({
        label: "client",
        server,
        group: "client",
        plan: { engine: "async", ops: [{ op: "rpc", id: "async-flow-1", func: "asyncFlow", args: [1, "asyncworkers", 1500], target: "asyncworkers" }] },
      });
      await client.waitFor("done", { timeoutMs: 30_000 });
      const r = clientResults(client).get("async-flow-1");
      expect(r?.ok, JSON.stringify(r)).toBe(true);
      expect(r!.value).toMatchObject({ a: 2, b: 3, remote: { n: 2, doubled: 4, group: "asyncworkers" } });
      note(`SDK ${sdk} async ctx.sleep(1500) took ${r!.value.slept} ms`);
      expect(r!.value.slept).toBeGreaterThanOrEqual(1500);
      expect(r!.value.slept).toBeLessThan(1500 + 3000);
      // Durable steps ran once each even though the workflow was replayed after suspending.
      expect(w.events("step").map((m) => m.name).sort()).toEqual(["a", "b"]);
      expect(w.events("start", (m) => m.fn === "asyncCompute")).toHaveLength(1);
      expect(w.events("flow").length).toBeGreaterThanOrEqual(2);
      // Per version: children are async-flow-1.n (0.11.4) or async-flow-1:n (0.11.5); step "a" is the
      // first child, the remote call the third (after step "b", created first in the Promise.all).
      expect(w.events("step", (m) => m.name === "a").map((m) => m.id)).toEqual([childId(sdk, "async-flow-1", 0)]);
      expect(w.events("start", (m) => m.fn === "asyncCompute").map((m) => m.id)).toEqual([childId(sdk, "async-flow-1", 2)]);
      // Per version (§12.5): the timer of ctx.sleep has no target in 0.11.4 (the server's timeout of
      // every pending promise wakes it, C1) and the default target in 0.11.5.
      const timers = await server.call("promise.search", { tags: { "resonate:timer": "true", "resonate:origin": "async-flow-1" } });
      expect(timers.data.promises).toHaveLength(1);
      expect(timers.data.promises[0].state).toBe("resolved");
      if (sdk === "0.11.4") expect(timers.data.promises[0].tags["resonate:target"]).toBeUndefined();
      else expect(timers.data.promises[0].tags["resonate:target"]).toMatch(/^poll:\/\/any@/);
      expect(w.events("platform_failure")).toEqual([]);
    });

    it("resonate.run executes locally (task.create); recursive fan-out asyncFib(5) over workers", async () => {
      const w = world();
      const server = await w.startServer();
      await Promise.all([1, 2].map((i) => w.startWorker({ label: `async-worker-${i}`, server, group: "asyncworkers", env: ENGINE })));
      const client = w.startClient({
        label: "client",
        server,
        group: "client",
        plan: {
          engine: "async",
          ops: [
            { op: "run", id: "async-run-1", func: "asyncCompute", args: [9, 0] },
            { op: "rpc", id: "async-fib-5", func: "asyncFib", args: [5, "asyncworkers"], target: "asyncworkers" },
          ],
        },
      });
      await client.waitFor("done", { timeoutMs: 60_000 });
      const results = clientResults(client);
      expect(results.get("async-run-1")).toEqual({ ok: true, value: { n: 9, doubled: 18, pid: client.events("ready")[0]!.pid, group: "client" } });
      expect(client.events("start", (m) => m.id === "async-run-1")).toHaveLength(1);
      expect(results.get("async-fib-5")).toEqual({ ok: true, value: 5 });
      expect(new Set(w.events("fib").map((m) => String(m.id))).size).toBe(15);
      expect(w.events("platform_failure")).toEqual([]);
    });

    it("a latent ctx.promise() resolved through resonate.promises.resolve; retries and a caught error", async () => {
      const w = world();
      const server = await w.startServer();
      const worker = await w.startWorker({ label: "async-worker", server, group: "asyncworkers", env: ENGINE });
      const client = w.startClient({
        label: "client",
        server,
        group: "client",
        plan: {
          engine: "async",
          ops: [
            { op: "rpc", id: "async-signal-1", func: "asyncSignal", args: ["s1"], target: "asyncworkers" },
            { op: "rpc", id: "async-retry-1", func: "asyncRetryFlow", args: ["async-retry-1", 2, "boom-a"], target: "asyncworkers" },
            { op: "rpc", id: "async-fails-1", func: "asyncFails", args: ["boom-b"], target: "asyncworkers" },
          ],
        },
      });
      const [latent] = await worker.waitFor("latent", { timeoutMs: 20_000 });
      const resolver = w.startClient({
        label: "resolver",
        server,
        group: "client",
        plan: { engine: "async", ops: [{ op: "resolve", id: String(latent!.promiseId), value: "go" }] },
      });
      await resolver.waitFor("done", { timeoutMs: 20_000 });
      await client.waitFor("done", { timeoutMs: 30_000 });
      const results = clientResults(client);
      expect(results.get("async-signal-1")).toEqual({ ok: true, value: { tag: "s1", got: "go" } });
      expect(results.get("async-retry-1")).toEqual({ ok: true, value: { inner: { key: "async-retry-1", attempts: 3 }, caught: "boom-a" } });
      // The async engine does not retry by default: one attempt, then the caller sees the error.
      expect(results.get("async-fails-1")).toEqual({ ok: false, error: { name: "Error", message: "boom-b" } });
      expect(w.events("attempt", (m) => m.message === "boom-b")).toHaveLength(1);
      expect(w.events("attempt", (m) => m.message === "boom-a")).toHaveLength(1);
      expect(w.events("platform_failure")).toEqual([]);
    });
  });
});
