// The fencing pattern: workers of the group "fenced" run recordResult, which writes its result to an
// external table (fenced-store.ts) under the run's fencing token, and watches ctx.signal.
//
//   tsx packages/examples/src/fencing.ts worker [--json] [--ttl MS] [--store DIR]
//   tsx packages/examples/src/fencing.ts invoke [--json] [--id ID] [--cost MS] [--write-delay MS]
//
// What a run of recordResult(id, cost, writeDelay) does, with its token {taskId, version}:
//   1. claims the token in the table: from then on the table refuses every older holder of the task
//      (refused → a newer holder exists: give up at once);
//   2. works for `cost` ms, watching ctx.signal: if the lease is lost meanwhile it stops there and
//      writes nothing ("abandoned");
//   3. sends its write; `writeDelay` stands for the time the write spends on its way (a network hop,
//      a queue): once sent, no signal can call it back. If the worker stalls now (SIGSTOP, a long GC,
//      a paused VM) past its lease, another worker runs the task again, and this write lands late:
//      the table refuses it, because the later holder's version is higher ("write-refused").
//
// Every step prints a line (JSON with --json); "lease-lost" is printed from ctx.signal's abort event,
// with the LeaseLostError's reason.

import { randomUUID } from "node:crypto";
import path from "node:path";
import { parseArgs } from "node:util";
import { LeaseLostError, Resonate } from "@resonate-compat/sdk";
import { FencedStore } from "./fenced-store";
import { printer } from "./print";

const [mode, ...rest] = process.argv.slice(2).filter((arg) => arg !== "--"); // pnpm passes a literal "--" through
const { values: flags } = parseArgs({
  args: rest,
  options: {
    json: { type: "boolean", default: false },
    ttl: { type: "string" },
    store: { type: "string" },
    id: { type: "string" },
    cost: { type: "string" },
    "write-delay": { type: "string" },
  },
});
const url = process.env.RESONATE_URL ?? "http://127.0.0.1:8001";

if (mode === "worker") {
  const store = new FencedStore(path.resolve(flags.store ?? "fenced-store"));
  const resonate = new Resonate({ url, group: "fenced", ttl: flags.ttl === undefined ? 10_000 : Number(flags.ttl) });
  const print = printer("worker", flags.json, resonate.pid);
  const pause = (ms: number, signal?: AbortSignal) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      signal?.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
    });

  resonate.register("recordResult", async (ctx, id: string, cost: number, writeDelay: number) => {
    const token = ctx.fencingToken;
    ctx.signal.addEventListener("abort", () => {
      const reason: unknown = ctx.signal.reason;
      print("lease-lost", {
        id,
        version: token.version,
        why: reason instanceof LeaseLostError ? reason.why : "stopped",
        reason: reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason),
      });
    });
    print("started", { id, version: token.version });

    if (!store.claim(token).accepted) {
      print("claim-refused", { id, version: token.version });
      throw new Error(`A later holder of ${id} exists`);
    }
    await pause(cost, ctx.signal);
    if (ctx.signal.aborted) {
      print("abandoned", { id, version: token.version });
      throw ctx.signal.reason;
    }

    print("writing", { id, version: token.version });
    await pause(writeDelay); // the write is on its way: the signal cannot stop it any more
    const value = { id, cost, worker: resonate.pid };
    const outcome = store.write(token, value);
    print(outcome.accepted ? "written" : "write-refused", { id, version: token.version, highest: outcome.highest });
    if (!outcome.accepted) throw new Error(`Write of ${id} at version ${token.version} refused: version ${outcome.highest} holds it`);
    return value;
  });

  await resonate.connected();
  print("ready", { pid: resonate.pid, osPid: process.pid, store: store.dir });
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => void resonate.stop().then(() => process.exit(0)));
  }
} else if (mode === "invoke") {
  const resonate = new Resonate({ url, group: "client" });
  const print = printer("client", flags.json, resonate.pid);
  const id = flags.id ?? `fenced-${randomUUID().slice(0, 8)}`;
  const cost = Number(flags.cost ?? 2000);
  const writeDelay = Number(flags["write-delay"] ?? 200);
  try {
    const handle = await resonate.beginRpc(id, "recordResult", id, cost, writeDelay, resonate.options({ target: "poll://any@fenced" }));
    print("invoked", { id, cost, writeDelay });
    print("result", { id, result: await handle.result() });
  } catch (err) {
    print("failed", { id, error: err instanceof Error ? err.message : String(err) });
    process.exitCode = 1;
  } finally {
    await resonate.stop();
  }
} else {
  console.error("usage: fencing.ts worker [--json] [--ttl MS] [--store DIR] | invoke [--json] [--id ID] [--cost MS] [--write-delay MS]");
  process.exitCode = 2;
}
