// A worker on the official SDK 0.11.5 (Node 22): same functions, same markers as ours-worker.ts.
// First: with HOP_TRACE_DIR set (pnpm bench --hops) it timestamps this process's protocol traffic.
import "./hop-trace-client.mjs";
import { Resonate } from "@resonatehq/sdk";
import { makeLogger } from "./official-common.mjs";
import { mark } from "./producer-core.mjs";
import { noop, work, workerIndex } from "./worker-functions.mjs";

const url = process.env.BENCH_URL;
if (!url) throw new Error("BENCH_URL is required");
const { logger, connected } = makeLogger();
const config = { url, group: process.env.BENCH_GROUP ?? "workers", logger };
if (process.env.BENCH_TTL) config.ttl = Number(process.env.BENCH_TTL);
const resonate = new Resonate(config);
resonate.register("noop", noop);
resonate.register("work", work);
await connected;
mark("ready", { pid: resonate.pid, w: workerIndex });
// SIGTERM ends at once (a profile under --cpu-prof is written on a normal exit, not on SIGKILL).
process.on("SIGTERM", () => process.exit(0));
