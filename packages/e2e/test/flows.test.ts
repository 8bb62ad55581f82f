// Durable flows of the official SDK's generator engine against our server (§12.4 – §12.6, §15.15):
// resonate.run with ctx.run steps, rpc across groups, recursive fan-out, ctx.sleep, a latent
// ctx.promise() settled through resonate.promises, retries and errors.
//
// Every test runs with SDK 0.11.5 and with 0.11.4 (harness.sdkMatrix; E2E_SDK narrows it). Where the
// two legitimately differ on the wire (PROTOCOL.md §0.1, §4.2, §12.5) the test asserts each
// version's form, and says so: child ids (`root.n` vs `root:n`), the `resonate:prefix` tag (0.11.4
// only), timers (0.11.5 gives them a target, hence a task), detached ids and their origin, and the
// schedule's id template.
import { describe, expect, it } from "vitest";
import { type ClientOp, type ManagedProcess, type Marker, type ServerHandle, type World, childId, clientResults, note, sdkMatrix, useWorld } from "./harness.js";

/** Run a client plan and return its results by id once it is done. */
async function runClient(w: World, server: ServerHandle, label: string, ops: ClientOp[], timeoutMs = 30_000): Promise<{ client: ManagedProcess; results: ReturnType<typeof clientResults> }> {
  const client = w.startClient({ label, server, group: "client", plan: { ops } });
  await client.waitFor("done", { timeoutMs });
  return { client, results: clientResults(client) };
}

describe.each(sdkMatrix())("official SDK %s", (sdk) => {
  const world = useWorld({ sdk });

  describe("generator engine flows", () => {
    it("resonate.run executes a workflow locally; its ctx.run steps run once each", async () => {
      const w = world();
      const server = await w.startServer();
      const { client, results } = await runClient(w, server, "runner", [{ op: "run", id: "flow-run-1", func: "durableFlow", args: [10] }]);
      expect(results.get("flow-run-1")).toEqual({ ok: true, value: { a: 11, b: 12, at: "number" } });
      const steps = client.events("step");
      expect(steps.map((m) => [m.name, m.v])).toEqual([
        ["a", 10],
        ["b", 11],
      ]);
      // Per version: the children are flow-run-1.0 / .1 (0.11.4) or flow-run-1:0 / :1 (0.11.5).
      expect(steps.map((m) => m.id)).toEqual([childId(sdk, "flow-run-1", 0), childId(sdk, "flow-run-1", 1)]);
      // The root and its local children are durable promises on the server.
      const root = await server.call("promise.get", { id: "flow-run-1" });
      expect(root.data.promise.state).toBe("resolved");
      const child = await server.call("promise.get", { id: String(steps[0]!.id) });
      expect(child.status).toBe(200);
      expect(child.data.promise).toMatchObject({ state: "resolved" });
      expect(child.data.promise.tags["resonate:scope"]).toBe("local");
      // Per version: 0.11.4 propagates resonate:prefix (the root id) to every child; 0.11.5 has no such tag.
      expect(child.data.promise.tags["resonate:prefix"]).toBe(sdk === "0.11.4" ? "flow-run-1" : undefined);
      // A second run of the same id returns the stored result without executing anything.
      const again = await runClient(w, server, "runner-2", [{ op: "run", id: "flow-run-1", func: "durableFlow", args: [10] }]);
      expect(again.results.get("flow-run-1")).toEqual({ ok: true, value: { a: 11, b: 12, at: "number" } });
      expect(again.client.events("step")).toEqual([]);
      expect(again.client.events("flow")).toEqual([]);
      expect(w.events("platform_failure")).toEqual([]);
    });

    it("ctx.rpc to a function served by another group", async () => {
      const w = world();
      const server = await w.startServer();
      const worker = await w.startWorker({ label: "worker", server, group: "workers" });
      const helper = await w.startWorker({ label: "helper", server, group: "helpers" });
      const { results } = await runClient(w, server, "client", [{ op: "rpc", id: "cross-1", func: "crossGroup", args: [4, "helpers"], target: "workers" }]);
      const r = results.get("cross-1");
      expect(r?.ok, JSON.stringify(r)).toBe(true);
      expect(r!.value).toEqual({
        remote: { n: 4, doubled: 8, pid: helper.events("ready")[0]!.pid, group: "helpers" },
        caller: { pid: worker.events("ready")[0]!.pid, group: "workers" },
      });
      expect(helper.events("start")).toHaveLength(1);
      expect(worker.events("start")).toHaveLength(0);
      expect(w.events("platform_failure")).toEqual([]);
    });

    it("recursive ctx.beginRpc fan-out: fib(6) over two workers", async () => {
      const w = world();
      const server = await w.startServer();
      await Promise.all([1, 2].map((i) => w.startWorker({ label: `worker-${i}`, server, group: "workers" })));
      const { results } = await runClient(w, server, "client", [{ op: "rpc", id: "fib-6", func: "fib", args: [6, "workers"], target: "workers" }], 60_000);
      expect(results.get("fib-6")).toEqual({ ok: true, value: 8 });
      // fib(6) is a tree of 25 calls; every node ran (replays print the marker again, so count ids).
      const nodes = new Set(w.events("fib").map((m) => String(m.id)));
      expect(nodes.size).toBe(25);
      expect(nodes.has("fib-6")).toBe(true);
      // Per version: below the root, ids are fib-6.0.1… (0.11.4) or fib-6:0.1… (0.11.5).
      const below = sdk === "0.11.4" ? /^fib-6(\.[01])+$/ : /^fib-6:[01](\.[01])*$/;
      expect([...nodes].filter((id) => id !== "fib-6" && !below.test(id))).toEqual([]);
      const perWorker = w.procs.filter((p) => p.label.startsWith("worker")).map((p) => new Set(p.events("fib").map((m) => m.id)).size);
      note(`SDK ${sdk} fib(6): distinct nodes per worker ${JSON.stringify(perWorker)}`);
      expect(w.events("platform_failure")).toEqual([]);
    });

    it("ctx.sleep suspends the workflow and wakes it after the duration", async () => {
      const w = world();
      const server = await w.startServer();
      await w.startWorker({ label: "worker", server, group: "workers" });
      const sleepMs = 2000;
      const { results } = await runClient(w, server, "client", [{ op: "rpc", id: "sleep-1", func: "sleeper", args: [sleepMs], target: "workers" }]);
      const r = results.get("sleep-1");
      expect(r?.ok, JSON.stringify(r)).toBe(true);
      note(`SDK ${sdk} ctx.sleep(${sleepMs}) took ${r!.value.slept} ms`);
      expect(r!.value.slept).toBeGreaterThanOrEqual(sleepMs);
      expect(r!.value.slept).toBeLessThan(sleepMs + 3000);
      // The workflow suspended: it was executed (replayed) at least twice.
      expect(w.events("sleeping").length).toBeGreaterThanOrEqual(2);
      expect(w.events("woke")).toHaveLength(1);
      // The timer promise (the second child: ctx.date.now() is the first). Per version (§12.5):
      // 0.11.4 gives it no target, so it has no task and wakes only because the server times out
      // every pending promise (C1); 0.11.5 gives it the default target, so it has a task, which the
      // server fulfils when the deadline resolves the promise.
      const found = await server.call("promise.search", { tags: { "resonate:timer": "true", "resonate:origin": "sleep-1" } });
      expect(found.data.promises.map((p: { id: string }) => p.id)).toEqual([childId(sdk, "sleep-1", 1)]);
      const timer = found.data.promises[0];
      expect(timer.state).toBe("resolved");
      const timerTask = await server.call("task.get", { id: timer.id });
      if (sdk === "0.11.4") {
        expect(timer.tags["resonate:target"]).toBeUndefined();
        expect(timerTask.status).toBe(404);
      } else {
        expect(timer.tags["resonate:target"]).toMatch(/^poll:\/\/any@/);
        expect(timerTask.data.task.state).toBe("fulfilled");
      }
      expect(w.events("platform_failure")).toEqual([]);
    });

    it("a latent ctx.promise() is resolved from outside through resonate.promises.resolve", async () => {
      const w = world();
      const server = await w.startServer();
      const worker = await w.startWorker({ label: "worker", server, group: "workers" });
      const waiter = w.startClient({ label: "waiter", server, group: "client", plan: { ops: [{ op: "rpc", id: "signal-1", func: "waitForSignal", args: ["t1"], target: "workers" }] } });
      const [latent] = await worker.waitFor("latent", { timeoutMs: 20_000 });
      const promiseId = String(latent!.promiseId);
      // Per version: signal-1.0 (0.11.4) or signal-1:0 (0.11.5).
      expect(promiseId).toBe(childId(sdk, "signal-1", 0));
      // The workflow is suspended on it: the promise is pending and the root task is suspended.
      await w.waitUntil(
        async () => ((await server.call("task.get", { id: "signal-1" })).data?.task?.state === "suspended" ? true : undefined),
        { timeoutMs: 10_000, what: "the root task suspended" },
      );
      expect((await server.call("promise.get", { id: promiseId })).data.promise.state).toBe("pending");

      const { client: resolver } = await runClient(w, server, "resolver", [{ op: "resolve", id: promiseId, value: { approved: true, by: "e2e" } }]);
      expect(resolver.events("settled")[0]).toMatchObject({ id: promiseId, state: "resolved" });
      await waiter.waitFor("done", { timeoutMs: 20_000 });
      expect(clientResults(waiter).get("signal-1")).toEqual({ ok: true, value: { tag: "t1", got: { approved: true, by: "e2e" } } });
      expect(w.events("platform_failure")).toEqual([]);
    });

    it("retries: a function that fails a few times then succeeds; one that always fails reaches the caller as an error", async () => {
      const w = world();
      const server = await w.startServer();
      await w.startWorker({ label: "worker", server, group: "workers" });
      const { results } = await runClient(w, server, "client", [
        // Top-level retry policy travels in the promise param; retries happen inside the worker.
        { op: "rpc", id: "flaky-1", func: "flaky", args: ["flaky-1", 3], target: "workers", retry: { type: "constant", delay: 50, maxRetries: 10 } },
        { op: "rpc", id: "fails-1", func: "alwaysFails", args: ["boom-1"], target: "workers", retry: { type: "never" } },
        { op: "rpc", id: "fails-2", func: "alwaysFails", args: ["boom-2"], target: "workers", retry: { type: "constant", delay: 50, maxRetries: 2 } },
        // The same inside workflows: a retried ctx.run step, a caught error, a propagated remote error.
        { op: "rpc", id: "flaky-flow-1", func: "flakyFlow", args: ["flaky-flow-1", 2], target: "workers" },
        { op: "rpc", id: "catch-1", func: "catchFlow", args: ["boom-3"], target: "workers" },
        { op: "rpc", id: "propagate-1", func: "propagateFlow", args: ["boom-4", "workers"], target: "workers" },
      ]);
      expect(results.get("flaky-1")).toEqual({ ok: true, value: { key: "flaky-1", attempts: 4 } });
      expect(w.events("attempt", (m) => m.key === "flaky-1")).toHaveLength(4);

      expect(results.get("fails-1")).toEqual({ ok: false, error: { name: "Error", message: "boom-1" } });
      expect(w.events("attempt", (m) => m.message === "boom-1")).toHaveLength(1);
      expect(results.get("fails-2")).toEqual({ ok: false, error: { name: "Error", message: "boom-2" } });
      expect(w.events("attempt", (m) => m.message === "boom-2")).toHaveLength(3);

      expect(results.get("flaky-flow-1")).toEqual({ ok: true, value: { inner: { key: "flaky-flow-1", attempts: 3 } } });
      expect(results.get("catch-1")).toEqual({ ok: true, value: "caught: boom-3" });
      expect(results.get("propagate-1")).toEqual({ ok: false, error: { name: "Error", message: "boom-4" } });

      // The server stored the failures as rejected promises.
      for (const id of ["fails-1", "fails-2", "propagate-1"]) expect((await server.call("promise.get", { id })).data.promise.state).toBe("rejected");
      expect(w.events("platform_failure")).toEqual([]);
    });

    it("a child with an explicit id, a detached call, and a root id with dots all complete", async () => {
      const w = world();
      const server = await w.startServer();
      await w.startWorker({ label: "worker", server, group: "workers" });
      const { results } = await runClient(w, server, "client", [{ op: "rpc", id: "countdown.1", func: "lineageFlow", args: ["e2e.1", "workers"], target: "workers" }]);
      const r = results.get("countdown.1");
      expect(r?.ok, JSON.stringify(r)).toBe(true);
      expect(r!.value.explicit).toMatchObject({ n: 3, doubled: 6, group: "workers" });
      expect(w.events("start", (m) => m.id === "custom-e2e.1")).toHaveLength(1);
      const detachedId = String(r!.value.detachedId);
      // Per version (§4.2): 0.11.4 names a detached child `<resonate:prefix>.d<14 hex>` and makes it its
      // own origin; 0.11.5 names it `<origin>:d<14 hex>` and keeps the caller's origin.
      expect(detachedId).toMatch(sdk === "0.11.4" ? /^countdown\.1\.d[0-9a-f]{14}$/ : /^countdown\.1:d[0-9a-f]{14}$/);
      const detached = await server.call("promise.get", { id: detachedId });
      expect(detached.data.promise.tags["resonate:origin"]).toBe(sdk === "0.11.4" ? detachedId : "countdown.1");
      // The detached call is its own root and completes on its own.
      await w.waitUntil(async () => ((await server.call("promise.get", { id: detachedId })).data?.promise?.state === "resolved" ? true : undefined), {
        timeoutMs: 15_000,
        what: `detached promise ${detachedId} resolved`,
      });
      expect(w.events("start", (m) => m.id === detachedId)).toHaveLength(1);
      expect(w.events("platform_failure")).toEqual([]);
    });

    it("cancelling a suspended workflow's root: the waiting client sees the cancellation; resonate.get of an unknown id fails", async () => {
      const w = world();
      const server = await w.startServer();
      const worker = await w.startWorker({ label: "worker", server, group: "workers" });
      const waiter = w.startClient({ label: "waiter", server, group: "client", plan: { ops: [{ op: "rpc", id: "cancel-1", func: "waitForSignal", args: ["c"], target: "workers" }] } });
      await worker.waitFor("latent", { timeoutMs: 20_000 });
      const { client: canceller } = await runClient(w, server, "canceller", [{ op: "cancel", id: "cancel-1" }]);
      expect(canceller.events("settled")[0]).toMatchObject({ id: "cancel-1", state: "rejected_canceled" });
      await waiter.waitFor("done", { timeoutMs: 20_000 });
      expect(clientResults(waiter).get("cancel-1")).toEqual({ ok: false, error: { name: "Error", message: "Promise canceled" } });
      expect((await server.call("task.get", { id: "cancel-1" })).data.task.state).toBe("fulfilled");

      const getter = w.startClient({ label: "getter", server, group: "client", plan: { ops: [{ op: "get", id: "no-such-promise" }] } });
      await getter.waitFor("done", { timeoutMs: 20_000 });
      expect(getter.events("dispatch_error")).toHaveLength(1);
      expect(getter.events("wire", (m) => m.kind === "promise.get").map((m) => m.status)).toEqual([404]);
      expect(w.events("platform_failure")).toEqual([]);
    });

    it("resonate.schedule fires on a worker every 2 s (6-field cron) until the schedule is deleted", async () => {
      const w = world();
      const server = await w.startServer();
      const worker = await w.startWorker({ label: "worker", server, group: "workers" });
      const { client } = await runClient(w, server, "scheduler", [{ op: "schedule", name: "sched-1", cron: "*/2 * * * * *", func: "computeSomething", args: [1, 0], target: "workers" }]);
      expect(client.events("scheduled")).toHaveLength(1);
      const fired = (m: Marker) => /^sched-1[-.]/.test(String(m.id));
      await worker.waitFor("finish", { pred: fired, count: 2, timeoutMs: 15_000, what: "two scheduled executions" });
      const ids = worker.events("start", fired).map((m) => String(m.id));
      expect(new Set(ids).size).toBe(ids.length);
      // Per version: the SDK's id template is `{{.id}}.{{.timestamp}}` (0.11.4) or `{{.id}}-{{.timestamp}}` (0.11.5).
      for (const id of ids) expect(id).toMatch(sdk === "0.11.4" ? /^sched-1\.\d+$/ : /^sched-1-\d+$/);

      await runClient(w, server, "unscheduler", [{ op: "deleteSchedule", name: "sched-1" }]);
      expect((await server.call("schedule.get", { id: "sched-1" })).status).toBe(404);
      const countAtDelete = worker.events("start", fired).length;
      // Two more cron periods (and timeout passes) without a firing. Once the delete has answered
      // (404 above), firing is the server's schedule loop alone, the same whatever SDK deleted it:
      // the 7 s of quiet are watched once, with 0.11.5.
      if (sdk === "0.11.5") {
        await new Promise((r) => setTimeout(r, 4500));
        expect(worker.events("start", fired).length).toBeLessThanOrEqual(countAtDelete + 1); // one may have been in flight
        const settledAfter = worker.events("start", fired).length;
        await new Promise((r) => setTimeout(r, 2500));
        expect(worker.events("start", fired).length).toBe(settledAfter);
      }
      expect(w.events("platform_failure")).toEqual([]);
    });
  });
});
