// Issue 3, failures with real processes: our server, the example worker (src/worker.ts), our SDK's
// client (fixtures/sdk-client.ts) and a raw SSE "trap" (fixtures/sse-trap.mjs).
//   - a worker SIGKILLed while it holds tasks (acquired, not finished): each task completes on another
//     worker within ttl + a small margin (lease only, and with the server's disconnect grace);
//   - a worker that dies between the execute and its task.acquire: the task still runs elsewhere;
//     the same for a worker that is hung (SIGSTOP) when the execute arrives;
//   - the server SIGKILLed and restarted on the same database mid-run: every invocation completes.
import { describe, expect, it } from "vitest";
import {
  type ManagedProcess,
  type ServerHandle,
  type World,
  clientResults,
  countBy,
  note,
  pidOf,
  sleep,
  startExampleWorker,
  startSdkClient,
  startTrap,
  useWorld,
} from "./helpers";

const world = useWorld();

/** The server's JSON log lines (pino), current process only. */
function serverLog(server: ServerHandle): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const line of (server.proc?.stdout ?? "").split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a partial line
    }
  }
  return out;
}

/** Dispatch `ids` as computeSomething(id, cost) from a client process of our SDK (results awaited). */
function invoke(w: World, server: ServerHandle, label: string, ids: string[], cost: number, concurrent = true): ManagedProcess {
  return startSdkClient(w, server, { label, concurrent, ops: ids.map((id) => ({ id, func: "computeSomething", args: [id, cost], target: "workers" })) });
}

/**
 * The victim worker acquires every task (it is alone in the group at dispatch), two survivors join,
 * the victim keeps its leases past one ttl by heartbeating, then it is SIGKILLed.
 * Returns kill → first / last re-dispatch and kill → last completion (ms).
 */
async function killMidClaim(w: World, serverArgs: string[]) {
  const ttl = 4000;
  // Longer than the ttl (leases survive only through heartbeats), and long enough that the victim is
  // still running its tasks once the survivors are up: on a loaded 2-CPU machine starting two
  // workers took 7 s, and the victim had finished a 7 s cost before it could be killed.
  const cost = 15_000;
  const server = await w.startServer({ logLevel: "warn", extraArgs: serverArgs });
  const victim = await startExampleWorker(w, server, { label: "victim", ttl });
  const victimPid = pidOf(victim);
  const ids = ["kill-0", "kill-1", "kill-2", "kill-3"];
  const client = invoke(w, server, "client", ids, cost);
  await victim.waitFor("started", { count: ids.length, timeoutMs: 30_000 });
  for (const id of ids) {
    const t = await server.call("task.get", { id });
    expect(t.data.task, `${id} held by the victim`).toMatchObject({ state: "acquired", version: 1, pid: victimPid, ttl });
  }

  const survivors = await Promise.all([1, 2].map((i) => startExampleWorker(w, server, { label: `survivor-${i}`, ttl })));
  const heldSince = Math.min(...victim.events("started").map((m) => m.at));
  const holdUntil = heldSince + ttl + 1000;
  if (Date.now() < holdUntil) await sleep(holdUntil - Date.now());
  expect(w.events("started", (m) => m.from !== "victim"), "nothing re-dispatched while the victim heartbeats").toEqual([]);
  expect(victim.events("finished"), "the victim has not finished anything").toEqual([]);

  const killedAt = Date.now();
  await victim.kill("SIGKILL");

  await w.waitUntil(() => (w.events("finished", (m) => m.from !== "victim").length >= ids.length ? true : undefined), {
    timeoutMs: ttl + cost + 20_000,
    what: "every task completed on a survivor",
  });
  const restarts = w.events("started", (m) => m.from !== "victim");
  const completions = w.events("finished", (m) => m.from !== "victim");
  const first = restarts[0]!.at - killedAt;
  const last = restarts[restarts.length - 1]!.at - killedAt;
  const done = completions[completions.length - 1]!.at - killedAt;

  await client.waitFor("done", { timeoutMs: 30_000 });
  const results = clientResults(client);
  const survivorPids = survivors.map(pidOf);
  for (const id of ids) {
    const r = results.get(id);
    expect(r?.ok, `${id}: ${JSON.stringify(r)}`).toBe(true);
    expect(r!.value).toMatchObject({ id, cost });
    expect(survivorPids, `${id} completed by a survivor, not the victim ${victimPid}`).toContain(r!.value.worker);
    const t = await server.call("task.get", { id });
    expect(t.data.task).toMatchObject({ state: "fulfilled", version: 2 });
  }
  // Nothing lost, nothing run twice after the kill.
  expect([...countBy(restarts).entries()].sort()).toEqual(ids.map((id) => [id, 1]));
  expect([...countBy(completions).entries()].sort()).toEqual(ids.map((id) => [id, 1]));
  return { first, last, done, ttl, cost };
}

describe("a worker is SIGKILLed while holding tasks (acquired, not finished)", () => {
  it("leases only (--disconnect-grace 0): each task is re-dispatched when its lease lapses and completes on another worker", async () => {
    const { first, last, done, ttl, cost } = await killMidClaim(world(), ["--disconnect-grace", "0"]);
    note(`kill mid-claim, lease only: kill -> re-dispatch first ${first} ms, last ${last} ms (ttl ${ttl} ms, heartbeat every ${ttl / 2} ms); all completed ${done} ms after the kill (cost ${cost} ms)`);
    // The last heartbeat went out less than ttl/2 before the kill: the lease lapses between ttl/2 and
    // ttl after it, plus the timeout pass (1 s) and the dispatch.
    expect(first).toBeGreaterThanOrEqual(ttl / 2 - 300);
    expect(last).toBeLessThan(ttl + 2500);
    expect(done).toBeLessThan(ttl + cost + 3500);
  }, 150_000);

  it("server defaults (disconnect grace 2 s): the tasks are re-dispatched once the closed stream is noticed, well within the ttl", async () => {
    const { first, last, done, ttl, cost } = await killMidClaim(world(), []);
    note(`kill mid-claim, server defaults: kill -> re-dispatch first ${first} ms, last ${last} ms (ttl ${ttl} ms, disconnect grace 2000 ms); all completed ${done} ms after the kill (cost ${cost} ms)`);
    expect(first).toBeGreaterThanOrEqual(1500);
    expect(last).toBeLessThan(ttl + 500);
    expect(done).toBeLessThan(ttl + cost + 1500);
  }, 150_000);
});

describe("a worker dies between the execute and its task.acquire", () => {
  it("a raw SSE worker reads the execute and SIGKILLs itself: the task runs on the other (busy) worker at once", async () => {
    const w = world();
    const server = await w.startServer({ logLevel: "warn" });
    const worker = await startExampleWorker(w, server, { label: "worker" });
    // Busy the real worker with one lease, so the least-loaded dispatch picks the trap (no lease).
    const busy = invoke(w, server, "client-busy", ["busy-1"], 8000);
    await worker.waitFor("started", { timeoutMs: 30_000, pred: (m) => m.id === "busy-1" });
    const trap = await startTrap(w, server, { label: "trap", pid: "trap-pid-1", mode: "kill" });

    const client = invoke(w, server, "client", ["trapped-1"], 200);
    const delivered = await trap.waitFor("execute", { timeoutMs: 20_000 });
    expect(delivered[0]).toMatchObject({ id: "trapped-1", version: 0 });
    const exit = await trap.waitExit(10_000);
    expect(exit.signal).toBe("SIGKILL");
    const diedAt = Date.now();

    await client.waitFor("done", { timeoutMs: 30_000 });
    const started = worker.events("started", (m) => m.id === "trapped-1");
    expect(started).toHaveLength(1);
    const elapsed = started[0]!.at - diedAt;
    note(`kill between delivery and claim (raw SSE, SIGKILL): trap died -> task started on the other worker after ${elapsed} ms (retry timeout 30000 ms, re-offer 1000 ms)`);
    // The server re-offers what a closed stream had not acquired at once; far below the retry timeout.
    expect(elapsed).toBeLessThan(5000);
    expect(clientResults(client).get("trapped-1")).toMatchObject({ ok: true, value: { id: "trapped-1", worker: pidOf(worker) } });
    // Never acquired by the trap: the worker's acquire was the first (version 0 -> 1).
    expect((await server.call("task.get", { id: "trapped-1" })).data.task).toMatchObject({ state: "fulfilled", version: 1 });
    await busy.waitFor("done", { timeoutMs: 30_000 });
  }, 120_000);

  it("the only connected worker dies on the execute: a worker that connects later runs the task at once", async () => {
    const w = world();
    const server = await w.startServer({ logLevel: "warn" });
    const trap = await startTrap(w, server, { label: "trap", pid: "trap-pid-2", mode: "exit" });
    const client = invoke(w, server, "client", ["trapped-2"], 200);
    await trap.waitFor("execute", { timeoutMs: 20_000 });
    expect((await trap.waitExit(10_000)).code).toBe(0);
    expect((await server.call("task.get", { id: "trapped-2" })).data.task).toMatchObject({ state: "pending", version: 0 });

    const worker = await startExampleWorker(w, server, { label: "late-worker" });
    const readyAt = worker.events("ready")[0]!.at;
    await client.waitFor("done", { timeoutMs: 30_000 });
    const started = worker.events("started", (m) => m.id === "trapped-2");
    expect(started).toHaveLength(1);
    note(`kill between delivery and claim, no other worker: late worker ready -> task started after ${started[0]!.at - readyAt} ms (retry timeout 30000 ms)`);
    expect(started[0]!.at - readyAt).toBeLessThan(5000);
    expect(clientResults(client).get("trapped-2")).toMatchObject({ ok: true, value: { id: "trapped-2", worker: pidOf(worker) } });
  }, 120_000);

  it("a worker hung (SIGSTOP) when the execute arrives: the task is re-offered and runs elsewhere; after SIGCONT it does not run it again", async () => {
    const w = world();
    const server = await w.startServer({ logLevel: "info" }); // info: the re-offer is logged
    const other = await startExampleWorker(w, server, { label: "other" });
    const busy = invoke(w, server, "client-busy", ["busy-2"], 6000);
    await other.waitFor("started", { timeoutMs: 30_000, pred: (m) => m.id === "busy-2" });
    const hung = await startExampleWorker(w, server, { label: "hung" });
    hung.signal("SIGSTOP");

    const dispatchedAt = Date.now();
    const client = invoke(w, server, "client", ["hung-1"], 200);
    await client.waitFor("done", { timeoutMs: 30_000 });
    const started = other.events("started", (m) => m.id === "hung-1");
    expect(started).toHaveLength(1);
    note(`worker hung at delivery: dispatch -> task started on the other worker after ${started[0]!.at - dispatchedAt} ms (includes the client's start-up; re-offer after 1000 ms)`);
    expect(clientResults(client).get("hung-1")).toMatchObject({ ok: true, value: { id: "hung-1", worker: pidOf(other) } });
    // The execute went to the hung worker first (it held no lease) and was re-offered to the other.
    const reoffers = serverLog(server).filter((l) => l.msg === "execute re-offered to another stream" && l.task === "hung-1");
    expect(reoffers.map((l) => l.pid)).toEqual([pidOf(other)]);

    // The hung worker comes back: its stale execute finds the task taken (acquire 409) and it runs nothing.
    hung.signal("SIGCONT");
    await sleep(1500);
    expect(hung.events("started")).toEqual([]);
    expect(hung.alive).toBe(true);
    expect((await server.call("task.get", { id: "hung-1" })).data.task).toMatchObject({ state: "fulfilled", version: 1 });
    await busy.waitFor("done", { timeoutMs: 30_000 });
  }, 120_000);
});

describe("the server is SIGKILLed and restarted on the same database mid-run", () => {
  it("every invocation still completes", async () => {
    const w = world();
    const ttl = 3000;
    const server = await w.startServer({ logLevel: "warn", retryTimeoutMs: 2000 });
    const workers = await Promise.all([1, 2].map((i) => startExampleWorker(w, server, { label: `worker-${i}`, ttl })));
    const ids = Array.from({ length: 12 }, (_, i) => `restart-${i}`);
    const client = startSdkClient(w, server, {
      label: "client",
      concurrent: true,
      ops: ids.map((id, i) => ({ id, func: "computeSomething", args: [id, 1500 + 250 * i], target: "workers" })),
    });
    await client.waitFor("dispatched", { count: ids.length, timeoutMs: 30_000 });
    await w.waitUntil(() => (w.events("started").length >= 4 ? true : undefined), { timeoutMs: 30_000, what: "4 executions started" });

    const killedAt = Date.now();
    await server.stop("SIGKILL");
    await server.start();
    const downMs = Date.now() - killedAt;

    await client.waitFor("done", { timeoutMs: 90_000 });
    expect((await client.waitExit(10_000)).code).toBe(0);
    const results = clientResults(client);
    const pids = workers.map(pidOf);
    for (const [i, id] of ids.entries()) {
      const r = results.get(id);
      expect(r?.ok, `${id}: ${JSON.stringify(r)}`).toBe(true);
      expect(r!.value).toMatchObject({ id, cost: 1500 + 250 * i });
      expect(pids).toContain(r!.value.worker);
      // The worker named in the result did finish that id.
      expect(w.events("finished", (m) => m.id === id && m.pid === r!.value.worker).length).toBeGreaterThanOrEqual(1);
      const p = await server.call("promise.get", { id });
      expect(p.data.promise.state).toBe("resolved");
    }
    const executions = w.events("started").length;
    note(`server restart mid-run: down ${downMs} ms, ${ids.length} invocations all completed; ${executions} executions (${executions - ids.length} repeated after the restart)`);
  }, 150_000);
});
