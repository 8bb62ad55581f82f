// Issue 3, across SDKs with real processes: our client with official-SDK workers (0.11.5 on Node 22,
// packages/e2e/fixtures/worker.mjs), and the official client (packages/e2e/fixtures/client.mjs) with
// our workers. Values cross the wire in both directions: strings (with non-ASCII), numbers, booleans,
// null, arrays, nested objects, and errors (name and message).
import { describe, expect, it } from "vitest";
import {
  clientResults,
  countBy,
  note,
  pidOf,
  runExampleClient,
  startExampleWorker,
  startSdkClient,
  startSdkWorker,
  useWorld,
} from "./helpers";

const world = useWorld();

const UNICODE = "héllo wörld ✓ 🎉 \"quoted\" \\ back\nslash";

describe("our client with official-SDK workers", () => {
  it("results and errors computed by official workers reach our client intact", async () => {
    const w = world();
    const server = await w.startServer({ logLevel: "warn" });
    const official = await Promise.all([1, 2].map((i) => w.startWorker({ label: `official-${i}`, server, group: "workers" })));
    const officialPids = official.map((p) => String(p.events("ready")[0]!.pid));

    // Functions of packages/e2e/fixtures/functions.mjs: step(name, v) returns v + 1,
    // computeSomething(n, cost) an object, durableFlow a workflow of two ctx.run steps,
    // propagateFlow / catchFlow the error of a remote call that always fails.
    const ops = [
      { id: "x-object", func: "computeSomething", args: [21, 0] },
      { id: "x-string", func: "step", args: ["s", UNICODE] },
      { id: "x-empty", func: "step", args: ["s", ""] },
      { id: "x-int", func: "step", args: ["s", 41] },
      { id: "x-float", func: "step", args: ["s", -0.75] },
      { id: "x-big", func: "step", args: ["s", 9007199254740990] },
      { id: "x-flow", func: "durableFlow", args: [1] },
      { id: "x-caught", func: "catchFlow", args: ["caught-y"] },
      { id: "x-error", func: "propagateFlow", args: ["boom-x ✗", "workers"] },
    ].map((op) => ({ ...op, target: "workers" }));
    const client = startSdkClient(w, server, { label: "our-client", ops, concurrent: true });
    await client.waitFor("done", { timeoutMs: 90_000 });
    expect((await client.waitExit(10_000)).code, client.dump()).toBe(0);

    const r = clientResults(client);
    expect(r.get("x-object")?.value).toMatchObject({ n: 21, doubled: 42, group: "workers" });
    expect(officialPids).toContain(r.get("x-object")?.value.pid);
    expect(r.get("x-string")).toEqual({ ok: true, value: `${UNICODE}1` });
    expect(r.get("x-empty")).toEqual({ ok: true, value: "1" });
    expect(r.get("x-int")).toEqual({ ok: true, value: 42 });
    expect(r.get("x-float")).toEqual({ ok: true, value: 0.25 });
    expect(r.get("x-big")).toEqual({ ok: true, value: 9007199254740991 });
    expect(r.get("x-flow")).toEqual({ ok: true, value: { a: 2, b: 3, at: "number" } });
    expect(r.get("x-caught")).toEqual({ ok: true, value: "caught: caught-y" });
    // The official worker's Error arrives as an Error with its name and message.
    expect(r.get("x-error")).toEqual({ ok: false, error: { name: "Error", message: "boom-x ✗", isError: true } });

    // Each root ran once (official `start` markers are printed by computeSomething only).
    expect(w.events("start", (m) => m.id === "x-object")).toHaveLength(1);
    expect(w.events("platform_failure")).toEqual([]);
    note(`cross-SDK, our client -> official workers: ${ops.length} invocations, values and errors round-tripped`);
  }, 150_000);

  it("the example client (--wait) gets its result from an official worker", async () => {
    const w = world();
    const server = await w.startServer({ logLevel: "warn" });
    const official = await w.startWorker({ label: "official", server, group: "workers" });
    const client = runExampleClient(w, server, { label: "example-client", id: "x-example", cost: 50, wait: true });
    expect((await client.waitExit(60_000)).code, client.dump()).toBe(0);
    // The official computeSomething(n, costMs) got our (id, cost): n is the id string, doubled is NaN → null.
    expect(client.events("result")[0]!.result).toEqual({ n: "x-example", doubled: null, pid: official.events("ready")[0]!.pid, group: "workers" });
    expect(w.events("start", (m) => m.id === "x-example")).toHaveLength(1);
  }, 120_000);
});

describe("the official client with our workers", () => {
  it("values and errors computed by our workers reach the official client intact", async () => {
    const w = world();
    const server = await w.startServer({ logLevel: "warn" });
    const example = await startExampleWorker(w, server, { label: "example-worker" });
    const ours = await startSdkWorker(w, server, { label: "our-worker", group: "echo" });

    const values: Record<string, unknown> = {
      "e-string": UNICODE,
      "e-empty": "",
      "e-int": 42,
      "e-neg": -0.5,
      "e-exp": 1e21,
      "e-max": Number.MAX_SAFE_INTEGER,
      "e-true": true,
      "e-null": null,
      "e-array": [1, "two", null, { three: [3] }],
      "e-object": { nested: { deep: { x: 1, s: "ü" } }, list: [], empty: {} },
    };
    const never = { type: "never" as const };
    const plan = {
      ops: [
        ...Object.entries(values).map(([id, v]) => ({ op: "rpc" as const, id, func: "echo", args: [v], target: "poll://any@echo", retry: never })),
        { op: "rpc" as const, id: "e-error", func: "fail", args: ["TypeError", "bad input ✗"], target: "poll://any@echo", retry: never },
        { op: "rpc" as const, id: "e-example", func: "computeSomething", args: ["e-example", 30], target: "poll://any@workers", retry: never },
      ],
    };
    const client = w.startClient({ label: "official-client", server, group: "client", plan });
    await client.waitFor("done", { timeoutMs: 90_000 });
    expect((await client.waitExit(10_000)).code, client.dump()).toBe(0);

    const r = clientResults(client);
    for (const [id, v] of Object.entries(values)) expect(r.get(id), id).toEqual({ ok: true, value: v });
    expect(r.get("e-error")).toEqual({ ok: false, error: { name: "TypeError", message: "bad input ✗" } });
    expect(r.get("e-example")).toEqual({ ok: true, value: { id: "e-example", cost: 30, worker: pidOf(example) } });

    // One execution each, on our workers.
    const starts = w.events("started");
    expect([...countBy(starts).values()].every((n) => n === 1)).toBe(true);
    expect(starts).toHaveLength(Object.keys(values).length + 2);
    expect(ours.events("started")).toHaveLength(Object.keys(values).length + 1);
    expect(w.events("platform_failure")).toEqual([]);
    note(`cross-SDK, official client -> our workers: ${plan.ops.length} invocations, values and errors round-tripped`);
  }, 150_000);
});
