// Issue 5 item 2 — fencing. A worker holds tasks, is SIGSTOPped past its ttl (a stopped process
// keeps its TCP connection, so the server's disconnect grace never starts: only the lease applies;
// the grace is also set to 10 minutes to be sure), the tasks are re-dispatched and acquired by
// another worker, then the stopped worker is SIGCONTed: every fenced call it makes with its old
// version is refused with 409, and each task's final result is the new holder's.
//
//   - official SDK 0.11.5 workers (fixtures/fencing-worker.mjs): the stale worker's own
//     task.fulfill, task.fence and task.suspend, observed through its protocol-response log;
//   - our SDK's workers (examples' fixtures/sdk-worker.ts): the stale worker's task.fulfill, plus
//     task.fence / task.suspend / task.release / task.heartbeat with the old version sent by the test
//     while the new holder runs (our SDK only fulfils; it has no fence or suspend calls).
import path from "node:path";
import { describe, expect, it } from "vitest";
import { clientResults, FIXTURES_DIR, note, sleep, useWorld } from "../harness";
import { createInvocation, RELIABILITY_FIXTURES, startOurWorker } from "./helpers";

const world = useWorld();

const FENCING_WORKER = path.relative(FIXTURES_DIR, path.join(RELIABILITY_FIXTURES, "fencing-worker.mjs"));
const NO_GRACE = ["--disconnect-grace", "600000", "--retry-timeout", "2000"];

describe("fencing: a worker whose lease lapsed is refused once another worker holds the task", () => {
  it("official SDK workers: the stale worker's task.fulfill, task.fence and task.suspend get 409; the results are the new holder's", async () => {
    const w = world();
    const ttl = 2000;
    // How long the stale worker holds each task; the fresh one holds 3 x as long, so it is still
    // holding when the stale one wakes. (A SIGSTOPped Node process's timers fire late by about the
    // time it was stopped, so equal holds would end together.)
    const cost = 6000;
    const stallMs = 2500; // the stale worker's synchronous stall before its suspend: SIGSTOP comes within it
    const server = await w.startServer({ logLevel: "info", extraArgs: NO_GRACE });
    // The child of the suspend flow runs in its own group, so it completes at once and the fresh
    // worker's replay never suspends (it keeps holding the task while the stale one comes back).
    await w.startWorker({ label: "children", server, group: "children", file: FENCING_WORKER });
    const stale = await w.startWorker({ label: "stale", server, group: "workers", ttl, file: FENCING_WORKER, env: { E2E_STALL: "1" } });
    const stalePid = String(stale.events("ready")[0]!.pid);

    // All three flows go to the stale worker (alone in the group); the suspend flow last, because it
    // stalls its process synchronously between its fenced create and its suspend.
    const client = w.startClient({
      label: "client",
      server,
      group: "client",
      plan: {
        ops: [
          { op: "rpc", id: "f-fulfill", func: "holdThenFulfill", args: [cost], target: "workers" },
          { op: "rpc", id: "f-fence", func: "holdThenFence", args: [cost], target: "workers" },
          { op: "pause", ms: 1500 },
          { op: "rpc", id: "f-suspend", func: "holdThenSuspend", args: [cost, "children", stallMs], target: "workers" },
        ],
      },
    });
    await stale.waitUntil(
      () => {
        const fns = new Set(stale.events("hold").map((m) => m.fn));
        return fns.has("holdThenFulfill") && fns.has("slowStep") && fns.has("holdThenSuspend") ? true : undefined;
      },
      { timeoutMs: 30_000, what: "all three flows holding on the stale worker" },
    );
    const stoppedAt = Date.now();
    stale.signal("SIGSTOP");
    for (const id of ["f-fulfill", "f-fence", "f-suspend"]) {
      expect((await server.call("task.get", { id })).data.task, id).toMatchObject({ state: "acquired", version: 1, pid: stalePid });
    }

    const fresh = await w.startWorker({ label: "fresh", server, group: "workers", ttl: 20_000, file: FENCING_WORKER, env: { E2E_HOLD_FACTOR: "3" } });
    const freshPid = String(fresh.events("ready")[0]!.pid);
    // The leases lapse (no heartbeats from a stopped process) and the fresh worker acquires each task.
    const taken = await w.waitUntil(
      async () => {
        const tasks = await Promise.all(["f-fulfill", "f-fence", "f-suspend"].map(async (id) => (await server.call("task.get", { id })).data.task));
        return tasks.every((t) => t.state === "acquired" && t.pid === freshPid && t.version === 2) ? Date.now() : undefined;
      },
      { timeoutMs: 40_000, what: "the fresh worker holds all three tasks at version 2" },
    );
    note(`fencing (official SDK): SIGSTOP -> the fresh worker holds all three tasks after ${taken - stoppedAt} ms (ttl ${ttl} ms)`);

    stale.signal("SIGCONT");
    const continuedAt = Date.now();
    const staleAnswers = (kind: string) => stale.events("wire", (m) => m.kind === kind && m.status === 409);
    await stale.waitUntil(
      () => (staleAnswers("task.fulfill").length > 0 && staleAnswers("task.fence").length > 0 && staleAnswers("task.suspend").length > 0 ? true : undefined),
      { timeoutMs: 30_000, what: "409 answers to the stale task.fulfill, task.fence and task.suspend" },
    );
    const latest = Math.max(...["task.fulfill", "task.fence", "task.suspend"].map((k) => staleAnswers(k)[0]!.at));
    note(`fencing (official SDK): after SIGCONT the stale worker got 409 on task.fulfill, task.fence and task.suspend within ${latest - continuedAt} ms; its other non-200 answers: ${JSON.stringify(stale.events("wire").map((m) => `${m.kind} ${m.status}`))}`);
    // The stale calls arrived while the fresh worker still held every task.
    for (const id of ["f-fulfill", "f-fence", "f-suspend"]) {
      const t = (await server.call("task.get", { id })).data.task;
      expect(["acquired", "fulfilled"], `${id} after the stale calls: ${JSON.stringify(t)}`).toContain(t.state);
      expect(t.version, id).toBe(2);
    }
    expect(fresh.events("held").length, "the fresh worker was still holding when the stale calls came").toBeLessThan(3);

    await client.waitFor("done", { timeoutMs: 60_000 });
    const results = clientResults(client);
    expect(results.get("f-fulfill")).toEqual({ ok: true, value: { fn: "fulfill", pid: freshPid } });
    expect(results.get("f-fence")).toEqual({ ok: true, value: { fn: "fence", pid: freshPid, stepBy: freshPid } });
    expect(results.get("f-suspend")).toEqual({ ok: true, value: { fn: "suspend", pid: freshPid, child: "child-done", stepBy: freshPid } });
    for (const id of ["f-fulfill", "f-fence", "f-suspend"]) {
      expect((await server.call("task.get", { id })).data.task).toMatchObject({ state: "fulfilled", version: 2 });
    }
  }, 180_000);

  it("our SDK's workers: the stale worker's task.fulfill gets 409, and so do task.fence / task.suspend / task.release with its version; the result is the new holder's", async () => {
    const w = world();
    const ttl = 2000;
    // The stale execution sleeps `cost`, the fresh one 4 x as long, so the fresh worker still holds
    // the task when the stale one wakes. (A SIGSTOPped Node process's timers fire late by about the
    // time it was stopped, so equal costs would end together.)
    const cost = 5000;
    const server = await w.startServer({ logLevel: "info", extraArgs: NO_GRACE });
    const stale = await startOurWorker(w, server.url, { label: "stale", group: "workers", ttl });
    const stalePid = String(stale.events("ready")[0]!.pid);
    const id = "f-ours";
    expect((await createInvocation(server.url, id, "computeSomething", [id, cost], "workers")).status).toBe(200);
    // A plain promise for the stale suspend to name.
    expect((await server.call("promise.create", { id: "f-ours-dep", timeoutAt: Date.now() + 600_000, param: {}, tags: {} })).status).toBe(200);
    await stale.waitFor("started", { timeoutMs: 30_000, pred: (m) => m.id === id });

    const stoppedAt = Date.now();
    stale.signal("SIGSTOP");
    const fresh = await startOurWorker(w, server.url, { label: "fresh", group: "workers", ttl: 20_000, costFactor: 4 });
    const freshPid = String(fresh.events("ready")[0]!.pid);
    await fresh.waitFor("started", { timeoutMs: 40_000, pred: (m) => m.id === id });
    const reacquiredAfter = Date.now() - stoppedAt;
    expect((await server.call("task.get", { id })).data.task).toMatchObject({ state: "acquired", version: 2, pid: freshPid });
    note(`fencing (our SDK): SIGSTOP -> re-dispatched and started on the fresh worker after ${reacquiredAfter} ms (ttl ${ttl} ms; the stopped process's stream stayed open)`);
    expect(reacquiredAfter).toBeLessThan(ttl + 6000);

    // What the stale worker would send, with its version 1, while the fresh worker holds version 2.
    const staleCallsAt = Date.now();
    const timed = async <T>(label: string, p: Promise<T>): Promise<T> => {
      const t = Date.now();
      const r = await p;
      if (Date.now() - t > 1000) note(`  slow stale call ${label}: ${Date.now() - t} ms`);
      return r;
    };
    const head = { corrId: "stale", version: "2026-04-01" };
    const fulfill = await timed("fulfill", server.call("task.fulfill", { id, version: 1, action: { kind: "promise.settle", head, data: { id, state: "resolved", value: { headers: {}, data: Buffer.from('"stale"').toString("base64") } } } }));
    const fence = await timed("fence", server.call("task.fence", {
      id,
      version: 1,
      action: { kind: "promise.create", head, data: { id: `${id}.stale-child`, timeoutAt: Date.now() + 60_000, param: {}, tags: { "resonate:scope": "global" } } },
    }));
    const fenceSettle = await timed("fenceSettle", server.call("task.fence", { id, version: 1, action: { kind: "promise.settle", head, data: { id: "f-ours-dep", state: "resolved", value: {} } } }));
    const suspend = await timed("suspend", server.call("task.suspend", { id, version: 1, actions: [{ kind: "promise.register_callback", head, data: { awaited: "f-ours-dep", awaiter: id } }] }));
    const release = await timed("release", server.call("task.release", { id, version: 1 }));
    const heartbeat = await timed("heartbeat", server.call("task.heartbeat", { pid: stalePid, tasks: [{ id, version: 1 }] }));
    expect({ fulfill: fulfill.status, fence: fence.status, fenceSettle: fenceSettle.status, suspend: suspend.status, release: release.status, heartbeat: heartbeat.status }).toEqual({
      fulfill: 409,
      fence: 409,
      fenceSettle: 409,
      suspend: 409,
      release: 409,
      heartbeat: 200,
    });
    note(`fencing (our SDK): the test's stale calls took ${Date.now() - staleCallsAt} ms`);
    // None of them had an effect.
    expect((await server.call("task.get", { id })).data.task).toMatchObject({ state: "acquired", version: 2, pid: freshPid });
    expect((await server.call("promise.get", { id: `${id}.stale-child` })).status).toBe(404);
    expect((await server.call("promise.get", { id: "f-ours-dep" })).data.promise.state).toBe("pending");
    expect((await server.call("promise.get", { id })).data.promise.state).toBe("pending");

    // The stale worker wakes up, finishes its (abandoned) run and sends task.fulfill v1: refused.
    stale.signal("SIGCONT");
    const refused = await stale.waitFor("refused", { timeoutMs: 20_000, pred: (m) => m.id === id });
    expect(refused[0]).toMatchObject({ version: 1, status: 409 });
    const freshFulfilled = await fresh.waitFor("fulfilled", { timeoutMs: 30_000, pred: (m) => m.id === id });
    expect(freshFulfilled[0]).toMatchObject({ version: 2, state: "resolved" });
    expect(refused[0]!.at, "the stale fulfill came while the fresh worker still held the task").toBeLessThan(freshFulfilled[0]!.at);
    await sleep(200);
    const p = (await server.call("promise.get", { id })).data.promise;
    expect(p.state).toBe("resolved");
    expect(JSON.parse(Buffer.from(p.value.data, "base64").toString("utf8"))).toEqual({ id, cost, worker: freshPid });
    expect(stale.events("fulfilled")).toEqual([]);
  }, 180_000);
});
