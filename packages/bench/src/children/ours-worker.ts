// A worker on our SDK (Node 20): joins BENCH_GROUP, registers the bench functions, prints
// {"event":"ready"} once its poll stream is open, then serves until killed.
// First: with HOP_TRACE_DIR set (pnpm bench --hops) it timestamps this process's protocol traffic.
import "./hop-trace-client.mjs";
import { Resonate } from "@resonate-compat/sdk";
import { mark } from "./producer-core.mjs";
import { noop, work, workerIndex } from "./worker-functions.mjs";

const url = process.env.BENCH_URL;
if (!url) throw new Error("BENCH_URL is required");
const resonate = new Resonate({
  url,
  group: process.env.BENCH_GROUP ?? "workers",
  ttl: process.env.BENCH_TTL ? Number(process.env.BENCH_TTL) : undefined,
  logLevel: "warn",
  transport: process.env.BENCH_TRANSPORT === "websocket" ? "websocket" : "http",
});
resonate.register("noop", noop);
resonate.register("work", work);
await resonate.connected();
mark("ready", { pid: resonate.pid, w: workerIndex });
// SIGTERM ends at once (a profile under --cpu-prof is written on a normal exit, not on SIGKILL).
process.on("SIGTERM", () => process.exit(0));
