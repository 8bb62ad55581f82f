// Issue 18, with real processes: our server and the fencing example (src/fencing.ts: workers whose
// function writes to an external table under its fencing token, src/fenced-store.ts).
//   - a worker frozen (SIGSTOP) past its lease while its write is on its way; another worker runs the
//     task and finishes it; the first is resumed (SIGCONT): its ctx.signal aborts with a
//     LeaseLostError, its late write is refused by the table, and the table holds exactly the second
//     worker's write;
//   - a worker frozen while the server was down too (a restarted server does not count its downtime
//     against leases): the server still holds the task for it on resume, so its abandoned run is
//     released (not fulfilled) and the task runs again;
//   - a worker that runs normally while its task is taken away (halted: no execute tells anyone) is
//     told by its next lease check, within one heartbeat interval; it stops its work and writes nothing;
// Delays (lease loss → abort) are measured and printed, never asserted.
import path from "node:path";
import { describe, expect, it } from "vitest";
import { FencedStore } from "../../src/fenced-store";
import {
  EXAMPLES_DIR,
  type ManagedProcess,
  type Marker,
  type ServerHandle,
  TSX_LOADER,
  type World,
  createInvocation,
  decodeValue,
  note,
  pidOf,
  sleep,
  until,
  useWorld,
} from "./helpers";

const world = useWorld();

async function startFencingWorker(w: World, server: ServerHandle, opts: { label: string; ttl: number; store: string }): Promise<ManagedProcess> {
  const args = ["--import", TSX_LOADER, path.join(EXAMPLES_DIR, "src", "fencing.ts"), "worker", "--json", "--ttl", String(opts.ttl), "--store", opts.store];
  const p = w.spawnProcess(opts.label, process.execPath, args, { cwd: EXAMPLES_DIR, env: { RESONATE_URL: server.url } });
  await p.waitFor("ready", { timeoutMs: 30_000 });
  return p;
}

async function taskOf(server: ServerHandle, id: string): Promise<{ state: string; version: number; pid?: string }> {
  return (await server.call("task.get", { id })).data.task;
}

/** The worker's own clock when it printed the marker (same machine as the test). */
const printedAt = (m: Marker) => Number(m.t);

describe("lease loss and fencing (src/fencing.ts)", () => {
  it("a worker frozen past its lease: on SIGCONT its signal aborts, its late write is refused, the table holds the successor's write", async () => {
    const w = world();
    const ttl = 2000;
    const store = path.join(w.dir, "store");
    const server = await w.startServer({ logLevel: "warn" });
    const zombie = await startFencingWorker(w, server, { label: "zombie", ttl, store });

    // Alone in the group, the zombie acquires the task (version 1), works 1 s, then sends its write,
    // which takes 3 s to land: it is frozen in that window.
    const id = "fenced-1";
    expect((await createInvocation(server.url, id, "recordResult", [id, 1000, 3000], "fenced")).status).toBe(200);
    await zombie.waitFor("writing", { timeoutMs: 30_000 });
    zombie.signal("SIGSTOP");
    const stoppedAt = Date.now();
    expect(await taskOf(server, id)).toMatchObject({ state: "acquired", version: 1, pid: pidOf(zombie) });

    // Its lease lapses (no heartbeats); the successor acquires the task (version 2) and finishes it.
    const successor = await startFencingWorker(w, server, { label: "successor", ttl, store });
    const [started] = await successor.waitFor("started", { timeoutMs: 30_000 });
    expect(started).toMatchObject({ id, version: 2 });
    await successor.waitFor("written", { timeoutMs: 30_000 });
    await until(async () => ((await taskOf(server, id)).state === "fulfilled" ? true : undefined), { timeoutMs: 10_000, what: `${id} fulfilled` });
    expect(zombie.alive).toBe(true);
    expect(zombie.markers.map((m) => m.event)).toEqual(["ready", "started", "writing"]);

    const resumedAt = Date.now();
    zombie.signal("SIGCONT");
    const [lost] = await zombie.waitFor("lease-lost", { timeoutMs: 15_000 });
    const [refused] = await zombie.waitFor("write-refused", { timeoutMs: 15_000 });

    // The signal said so, with the reason: the lease at version 1 is gone.
    expect(lost).toMatchObject({ id, version: 1, why: "expired" });
    expect(String(lost!.reason)).toMatch(/^LeaseLostError: Lease on task "fenced-1" at version 1 lost: /);
    // The write was sent before the freeze and landed after it: refused, version 2 holds the row.
    expect(refused).toMatchObject({ id, version: 1, highest: 2 });
    expect(zombie.events("written")).toEqual([]);

    // The table holds exactly the successor's write; the promise has the successor's result.
    const value = { id, cost: 1000, worker: pidOf(successor) };
    expect(new FencedStore(store).rows()).toEqual({ [id]: { version: 2, value } });
    expect(await taskOf(server, id)).toMatchObject({ state: "fulfilled", version: 2 });
    const promise = (await server.call("promise.get", { id })).data.promise;
    expect(promise.state).toBe("resolved");
    expect(decodeValue(promise.value)).toEqual(value);

    const abortedAt = printedAt(lost!);
    note(
      `frozen worker: stopped ${resumedAt - stoppedAt} ms (ttl ${ttl} ms); successor acquired the task ${printedAt(started!) - stoppedAt} ms after the SIGSTOP; ` +
        `SIGCONT -> zombie's signal aborted after ${abortedAt - resumedAt} ms (re-dispatch -> abort ${abortedAt - printedAt(started!)} ms, the zombie being stopped meanwhile); ` +
        `its late write was refused ${printedAt(refused!) - abortedAt} ms after the abort`,
    );
  }, 120_000);

  it("a worker frozen while the server was down too: the server still holds the task for it, so the abandoned run is released, not fulfilled, and the task runs again", async () => {
    const w = world();
    const ttl = 10_000;
    const store = path.join(w.dir, "store");
    // Leases only (no disconnect grace): the restarted server does not count its downtime against them.
    const server = await w.startServer({ logLevel: "warn", extraArgs: ["--disconnect-grace", "0"] });
    const worker = await startFencingWorker(w, server, { label: "worker", ttl, store });
    const id = "fenced-3";
    expect((await createInvocation(server.url, id, "recordResult", [id, 4000, 100], "fenced")).status).toBe(200);
    await worker.waitFor("started", { timeoutMs: 30_000 });

    // The worker stands still longer than its lease; the server is down for most of that time.
    worker.signal("SIGSTOP");
    await server.stop("SIGKILL");
    await sleep(ttl); // not an assertion: the worker must stand still past its lease
    await server.start();
    expect(await taskOf(server, id)).toMatchObject({ state: "acquired", version: 1, pid: pidOf(worker) });
    worker.signal("SIGCONT");

    const [lost] = await worker.waitFor("lease-lost", { timeoutMs: 15_000 });
    expect(lost).toMatchObject({ id, version: 1, why: "expired" });
    await worker.waitFor("abandoned", { timeoutMs: 15_000 });
    // The abandoned run's outcome is not sent: the task is released and runs again (version 2).
    const [written] = await worker.waitFor("written", { timeoutMs: 40_000 });
    expect(written).toMatchObject({ id, version: 2 });
    await until(async () => ((await taskOf(server, id)).state === "fulfilled" ? true : undefined), { timeoutMs: 10_000, what: `${id} fulfilled` });
    expect(await taskOf(server, id)).toMatchObject({ state: "fulfilled", version: 2 });
    const promise = (await server.call("promise.get", { id })).data.promise;
    expect(promise.state).toBe("resolved");
    expect(decodeValue(promise.value)).toEqual({ id, cost: 4000, worker: pidOf(worker) });
    expect(worker.stderr).toMatch(/yet the server still holds it for us: released, to run again/);
  }, 120_000);

  it("a running worker whose task the server takes away is told by its next lease check, stops and writes nothing", async () => {
    const w = world();
    const ttl = 4000; // heartbeats and lease checks every 2 s
    const store = path.join(w.dir, "store");
    const server = await w.startServer({ logLevel: "warn" });
    const worker = await startFencingWorker(w, server, { label: "worker", ttl, store });
    const id = "fenced-2";
    expect((await createInvocation(server.url, id, "recordResult", [id, 8000, 100], "fenced")).status).toBe(200);
    await worker.waitFor("started", { timeoutMs: 30_000 });

    // An operator halts the task: no execute is sent anywhere, only a lease check can notice.
    const haltedAt = Date.now();
    expect((await server.call("task.halt", { id })).status).toBe(200);
    const [lost] = await worker.waitFor("lease-lost", { timeoutMs: 15_000 });
    await worker.waitFor("abandoned", { timeoutMs: 15_000 });
    expect(lost).toMatchObject({ id, version: 1, why: "halted" });
    expect(String(lost!.reason)).toBe('LeaseLostError: Lease on task "fenced-2" at version 1 lost: the task is halted');
    expect(worker.events("writing")).toEqual([]);
    expect(new FencedStore(store).rows()).toEqual({ [id]: { version: 1 } }); // claimed, never written

    // Continued, the task runs again (version 2) and that run writes.
    expect((await server.call("task.continue", { id })).status).toBe(200);
    const [written] = await worker.waitFor("written", { timeoutMs: 30_000 });
    expect(written).toMatchObject({ id, version: 2 });
    await until(async () => ((await taskOf(server, id)).state === "fulfilled" ? true : undefined), { timeoutMs: 10_000, what: `${id} fulfilled` });
    expect(new FencedStore(store).rows()).toEqual({ [id]: { version: 2, value: { id, cost: 8000, worker: pidOf(worker) } } });

    note(`task halted while running: halt -> the worker's signal aborted after ${printedAt(lost!) - haltedAt} ms (lease checks every ${ttl / 2} ms)`);
  }, 120_000);
});
