// Two server replicas on one PostgreSQL behind HAProxy, with the official SDK's workers and clients
// connected through the proxy only (issue: scale-out and high availability). Streams land on both
// replicas, so executes and unblocks cross replicas all the time; a replica SIGKILLed under load
// loses nothing; a replica stopped with SIGTERM drains cleanly.
import { describe, expect, it } from "vitest";
import { clientResults, note, useWorld } from "../harness.js";
import { startCluster, streamsPerReplica, usePostgres } from "./cluster-world.js";

const postgres = usePostgres();

describe("two replicas behind HAProxy, official SDK", () => {
  const world = useWorld();

  it("30 beginRpc over 3 workers: every result arrives once, with streams on both replicas", async () => {
    const w = world();
    const cluster = await startCluster(w, await postgres());
    const server = cluster.entry;
    const workers = await Promise.all([1, 2, 3].map((i) => w.startWorker({ label: `worker-${i}`, server, group: "workers" })));
    const ids = Array.from({ length: 30 }, (_, i) => `lb-${i}`);
    const client = w.startClient({
      label: "client",
      server,
      group: "client",
      plan: { ops: ids.map((id, i) => ({ op: "rpc", id, func: "computeSomething", args: [i, 50], target: "poll://any@workers" })) },
    });
    await client.waitFor("done", { timeoutMs: 60_000 });
    const placement = await streamsPerReplica(cluster);
    note(`streams per replica: ${JSON.stringify(placement)}`);
    expect(Object.keys(placement).length, "streams on both replicas").toBe(2);

    const results = clientResults(client);
    for (const [i, id] of ids.entries()) {
      expect(results.get(id)?.ok, `result for ${id}`).toBe(true);
      expect(results.get(id)!.value).toMatchObject({ n: i, doubled: 2 * i });
    }
    const starts = w.events("start", (m) => String(m.id).startsWith("lb-"));
    expect(starts.length, "each invocation ran once").toBe(30);
    expect(new Set(starts.map((s) => s.id)).size).toBe(30);
    const perWorker = workers.map((p) => p.events("start").length);
    note(`executions per worker: ${JSON.stringify(perWorker)}`);
    expect(perWorker.filter((n) => n > 0).length).toBeGreaterThanOrEqual(2);
    expect(w.events("platform_failure")).toEqual([]);
  });

  it("a replica SIGKILLed under load: every invocation completes, none is lost", async () => {
    const w = world();
    const cluster = await startCluster(w, await postgres(), { extraArgs: ["--replica-timeout", "3000"] });
    const server = cluster.entry;
    await Promise.all([1, 2, 3].map((i) => w.startWorker({ label: `worker-${i}`, server, group: "workers", ttl: 10_000 })));
    const ids = Array.from({ length: 30 }, (_, i) => `ha-${i}`);
    const client = w.startClient({
      label: "client",
      server,
      group: "client",
      plan: { ops: ids.map((id, i) => ({ op: "rpc", id, func: "computeSomething", args: [i, 3000], target: "poll://any@workers" })) },
    });
    // Under load: every invocation acknowledged by the server (a create that is in flight when its
    // replica dies fails in the SDK with a platform failure, as against a single server: it was
    // never acknowledged), and some of them running on the workers when the replica dies.
    await client.waitUntil(() => (client.events("dispatched").length === ids.length ? true : undefined), { timeoutMs: 30_000, what: "all dispatched" });
    await w.waitUntil(() => (w.events("start").length >= 5 ? true : undefined), { timeoutMs: 30_000, what: "invocations running" });
    const placement = await streamsPerReplica(cluster);
    const victim = cluster.replicas.reduce((a, b) => ((placement[a.name] ?? 0) >= (placement[b.name] ?? 0) ? a : b));
    note(`streams per replica ${JSON.stringify(placement)}; SIGKILL ${victim.name}`);
    const killedAt = Date.now();
    await victim.proc.kill("SIGKILL");

    await client.waitFor("done", { timeoutMs: 90_000 });
    const doneAt = Date.now();
    const results = clientResults(client);
    const lost = ids.filter((id) => results.get(id)?.ok !== true);
    expect(lost, "invocations without a result").toEqual([]);
    for (const [i, id] of ids.entries()) expect(results.get(id)!.value).toMatchObject({ n: i, doubled: 2 * i });
    const starts = w.events("start", (m) => String(m.id).startsWith("ha-"));
    const runs = new Map<string, number>();
    for (const s of starts) runs.set(String(s.id), (runs.get(String(s.id)) ?? 0) + 1);
    expect([...runs.keys()].sort()).toEqual([...ids].sort());
    const again = [...runs.entries()].filter(([, n]) => n > 1).map(([id]) => id);
    const restartedAfterKill = starts.filter((s) => s.at > killedAt && again.includes(String(s.id)));
    note(
      `replica SIGKILL: all ${ids.length} results ${((doneAt - killedAt) / 1000).toFixed(2)} s after the kill; ` +
        `${again.length} invocation(s) ran twice (at-least-once)${restartedAfterKill.length ? `, re-run from ${((Math.min(...restartedAfterKill.map((s) => s.at)) - killedAt) / 1000).toFixed(2)} s after the kill` : ""}`,
    );
    await cluster.proxy.waitForServer(cluster.replicas.indexOf(victim), "DOWN", 10_000);
  });

  it("a replica stopped with SIGTERM drains cleanly while the other keeps serving", async () => {
    const w = world();
    const cluster = await startCluster(w, await postgres());
    const server = cluster.entry;
    await Promise.all([1, 2].map((i) => w.startWorker({ label: `worker-${i}`, server, group: "workers" })));
    const ids = Array.from({ length: 10 }, (_, i) => `drain-${i}`);
    const client = w.startClient({
      label: "client",
      server,
      group: "client",
      plan: { ops: ids.map((id, i) => ({ op: "rpc", id, func: "computeSomething", args: [i, 1000], target: "poll://any@workers" })) },
    });
    await w.waitUntil(() => (w.events("start").length >= 2 ? true : undefined), { timeoutMs: 30_000, what: "invocations running" });
    const [r1] = cluster.replicas;
    const exit = await r1!.proc.kill("SIGTERM", 15_000);
    expect(exit.code, `SIGTERM exit\n${r1!.proc.dump()}`).toBe(0);
    await client.waitFor("done", { timeoutMs: 60_000 });
    const results = clientResults(client);
    expect(ids.filter((id) => results.get(id)?.ok !== true)).toEqual([]);
  });
});
