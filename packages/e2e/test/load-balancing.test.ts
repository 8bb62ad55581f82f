// Load balancing and de-duplication with the official SDK: workers in group "workers", clients in
// group "client", `beginRpc` at `poll://any@workers` (PROTOCOL.md §12.2, §15.15 items 130 and 133).
// Every test runs with SDK 0.11.5 and with 0.11.4 (harness.sdkMatrix; E2E_SDK narrows it).
import { describe, expect, it } from "vitest";
import { clientResults, note, sdkMatrix, useWorld } from "./harness.js";

describe.each(sdkMatrix())("official SDK %s", (sdk) => {
  const world = useWorld({ sdk });

  describe("load balancing across a worker group", () => {
    it("30 beginRpc calls over 3 workers: every result arrives, each invocation runs once, work is spread", async () => {
      const w = world();
      const server = await w.startServer();
      const workers = await Promise.all([1, 2, 3].map((i) => w.startWorker({ label: `worker-${i}`, server, group: "workers" })));

      const ids = Array.from({ length: 30 }, (_, i) => `lb-${i}`);
      const client = w.startClient({
        label: "client",
        server,
        group: "client",
        plan: { ops: ids.map((id, i) => ({ op: "rpc", id, func: "computeSomething", args: [i, 50], target: "poll://any@workers" })) },
      });
      await client.waitFor("done", { timeoutMs: 60_000 });
      expect((await client.waitExit(10_000)).code).toBe(0);

      const results = clientResults(client);
      const workerPids = new Set(workers.map((p) => p.events("ready")[0]!.pid));
      for (const [i, id] of ids.entries()) {
        const r = results.get(id);
        expect(r, `result for ${id}`).toBeDefined();
        expect(r!.ok, `${id}: ${JSON.stringify(r)}`).toBe(true);
        expect(r!.value).toMatchObject({ n: i, doubled: 2 * i, group: "workers" });
        expect(workerPids.has(r!.value.pid), `${id} executed by a known worker`).toBe(true);
      }

      // Exactly one execution per invocation across all workers.
      const starts = w.events("start", (m) => String(m.id).startsWith("lb-"));
      const perId = new Map<string, number>();
      for (const s of starts) perId.set(String(s.id), (perId.get(String(s.id)) ?? 0) + 1);
      expect([...perId.keys()].sort()).toEqual([...ids].sort());
      expect([...perId.entries()].filter(([, n]) => n !== 1)).toEqual([]);
      // The executor a client saw is the one that printed the start marker.
      for (const s of starts) expect(results.get(String(s.id))!.value.pid).toBe(s.pid);

      const perWorker = workers.map((p) => p.events("start").length);
      note(`SDK ${sdk} load balancing: executions per worker ${JSON.stringify(perWorker)}`);
      expect(perWorker.filter((n) => n > 0).length).toBeGreaterThanOrEqual(2);
      expect(perWorker.reduce((a, b) => a + b, 0)).toBe(30);

      // The root promise as the SDK created it (§12.2 step 1). SDK 0.10.4–0.11.4 add
      // resonate:prefix = the root id (propagated to children to keep detached ids short); 0.11.5
      // dropped the tag.
      const root = await server.call("promise.get", { id: "lb-0" });
      expect(root.data.promise.tags).toMatchObject({ "resonate:origin": "lb-0", "resonate:branch": "lb-0", "resonate:target": "poll://any@workers", "resonate:scope": "global" });
      expect(root.data.promise.tags["resonate:prefix"]).toBe(sdk === "0.11.4" ? "lb-0" : undefined);

      // No request of the SDK was a platform failure (a non-protocol HTTP status or a bad envelope).
      expect(w.events("platform_failure")).toEqual([]);
      const wire = w.wireReport();
      if (wire) note(`non-200 protocol statuses seen by the SDK:\n${wire}`);
    });
  });

  describe("the same id dispatched twice", () => {
    it("two clients beginRpc the same id: one execution, both handles see the same result", async () => {
      const w = world();
      const server = await w.startServer();
      await Promise.all([1, 2].map((i) => w.startWorker({ label: `worker-${i}`, server, group: "workers" })));

      const op = { op: "rpc" as const, id: "dup-1", func: "computeSomething", args: [21, 1500], target: "poll://any@workers" };
      // Client A dispatches twice itself (two handles in one process); client B once.
      const a = w.startClient({ label: "client-a", server, group: "client", plan: { ops: [op, op] } });
      const b = w.startClient({ label: "client-b", server, group: "client", plan: { ops: [op] } });
      await Promise.all([a.waitFor("done", { timeoutMs: 30_000 }), b.waitFor("done", { timeoutMs: 30_000 })]);

      const ra = a.events("result", (m) => m.id === "dup-1");
      const rb = b.events("result", (m) => m.id === "dup-1");
      expect(ra).toHaveLength(2);
      expect(rb).toHaveLength(1);
      const starts = w.events("start", (m) => m.id === "dup-1");
      expect(starts).toHaveLength(1);
      for (const r of [...ra, ...rb]) expect(r.value).toEqual({ n: 21, doubled: 42, pid: starts[0]!.pid, group: "workers" });
      expect(w.events("platform_failure")).toEqual([]);
    });

    it("two clients beginRun the same id: one executes it locally, the other waits for its result", async () => {
      const w = world();
      const server = await w.startServer();
      const op = { op: "run" as const, id: "dup-run-1", func: "computeSomething", args: [5, 3000] };
      const a = w.startClient({ label: "client-a", server, group: "client", plan: { ops: [op] } });
      const b = w.startClient({ label: "client-b", server, group: "client", plan: { ops: [op] } });
      await Promise.all([a.waitFor("done", { timeoutMs: 30_000 }), b.waitFor("done", { timeoutMs: 30_000 })]);

      const starts = w.events("start", (m) => m.id === "dup-run-1");
      expect(starts, "exactly one local execution").toHaveLength(1);
      const executor = starts[0]!;
      for (const c of [a, b]) {
        const r = clientResults(c).get("dup-run-1");
        expect(r, `${c.label} result`).toEqual({ ok: true, value: { n: 5, doubled: 10, pid: executor.pid, group: "client" } });
      }
      // The loser's task.create got 409 (it then listened for the result).
      const loser = executor.from === "client-a" ? b : a;
      expect(loser.events("wire", (m) => m.kind === "task.create").map((m) => m.status)).toEqual([409]);
      expect(w.events("platform_failure")).toEqual([]);
    });
  });
});
