// A healthy worker must not be cut off by a burst of messages. Found by the crash-durability run:
// after a restart with a few hundred pending tasks, the server disconnected every worker with
// "poll stream disconnected: client is not reading" although they were reading (a few KB buffered).
// The stream's message budget (100) counts writes whose callback has not run yet, and a single
// dispatcher pass sends synchronously, so any pass that routes 100+ messages to one stream trips it.
//
// Two ways to send one stream that many executes at once:
//   - 250 invocations wait for a group with no worker; one worker (our SDK) connects and the server
//     offers it the backlog (now offered 32 at a time per stream, so this one passes);
//   - one worker with a concurrency cap of 1 holds a long task while 300 more wait unacquired; every
//     retry timeout the server sends the execute of each waiting task again, all in one pass.
// In both the worker reads its stream all along; the stream must stay open.
import { describe, expect, it } from "vitest";
import { note, sleep, useWorld } from "../harness";
import { createInvocation, serverLog, startOurWorker, waitSettled } from "./helpers";

const world = useWorld();

describe("a backlog larger than a stream's buffer", () => {
  it("a worker connecting to 250 pending tasks gets them all without its stream being cut", async () => {
    const w = world();
    const server = await w.startServer({ logLevel: "info" });
    const ids = Array.from({ length: 250 }, (_, i) => `backlog-${i}`);
    for (let i = 0; i < ids.length; i += 25) {
      const batch = await Promise.all(ids.slice(i, i + 25).map((id) => createInvocation(server.url, id, "effect", [id, 5], "ours")));
      expect(batch.map((r) => r.status)).toEqual(batch.map(() => 200));
    }

    const connectedAt = Date.now();
    const worker = await startOurWorker(w, server.url, { label: "worker", group: "ours" });
    const { pending } = await waitSettled((k, d) => server.call(k, d), ids, { timeoutMs: 60_000 });
    const drainedMs = Date.now() - connectedAt;
    const cut = serverLog(server.proc).filter((l) => l.msg === "poll stream disconnected: client is not reading");
    const dropped = serverLog(server.proc).filter((l) => l.msg === "message dropped: stream closed or its buffer is full");
    const reconnects = worker.events("connected", (m) => m.reconnect === true).length;
    note(`backlog of ${ids.length}: drained ${drainedMs} ms after the worker started; streams cut as 'not reading': ${cut.length}, messages dropped: ${dropped.length}, worker reconnects: ${reconnects}`);
    expect(pending).toEqual([]);
    expect(cut.map((l) => `${l.pid} waiting=${l.waiting}`), "the server cut a stream whose client was reading").toEqual([]);
    expect(dropped).toHaveLength(0);
    expect(reconnects).toBe(0);
  }, 120_000);

  it("a worker at its concurrency cap with 300 tasks waiting: the retry timeout re-sends their executes without cutting its stream", async () => {
    const w = world();
    const retryTimeoutMs = 2000;
    const server = await w.startServer({ logLevel: "info", retryTimeoutMs });
    const worker = await startOurWorker(w, server.url, { label: "worker", group: "ours", concurrency: 1 });
    // The first task occupies the worker's only slot for the whole test; the others queue unacquired.
    expect((await createInvocation(server.url, "capped-0", "effect", ["capped-0", 60_000], "ours")).status).toBe(200);
    await worker.waitFor("started", { timeoutMs: 30_000, pred: (m) => m.id === "capped-0" });
    // Created within about a second, so that one timeout pass finds well over 100 retries due.
    const ids = Array.from({ length: 300 }, (_, i) => `capped-${i + 1}`);
    for (let i = 0; i < ids.length; i += 50) {
      const batch = await Promise.all(ids.slice(i, i + 50).map((id) => createInvocation(server.url, id, "effect", [id, 10], "ours")));
      expect(batch.map((r) => r.status)).toEqual(batch.map(() => 200));
    }
    // Three retry periods: each re-sends the executes of the waiting tasks.
    await sleep(3 * retryTimeoutMs + 1500);
    const cut = serverLog(server.proc).filter((l) => l.msg === "poll stream disconnected: client is not reading");
    const reconnects = worker.events("connected", (m) => m.reconnect === true).length;
    note(`retry timeout with 300 waiting tasks on a capped worker: streams cut as 'not reading': ${cut.length}, worker reconnects: ${reconnects}`);
    expect(cut.map((l) => `${l.pid} waiting=${l.waiting} bytes=${l.bytes}`), "the server cut a stream whose client was reading").toEqual([]);
    expect(reconnects).toBe(0);
    expect(worker.alive).toBe(true);
  }, 120_000);
});
