// A producer on the official SDK 0.11.5 (Node 22): same plan and output as ours-producer.ts.
// First: with HOP_TRACE_DIR set (pnpm bench --hops) it timestamps this process's protocol traffic.
import "./hop-trace-client.mjs";
import { Resonate } from "@resonatehq/sdk";
import { makeLogger } from "./official-common.mjs";
import { mark, runProducer } from "./producer-core.mjs";
import { noop, work } from "./worker-functions.mjs";

const url = process.env.BENCH_URL;
if (!url) throw new Error("BENCH_URL is required");
const plan = JSON.parse(process.argv[2] ?? "{}");
const { logger, connected } = makeLogger();
const resonate = new Resonate({ url, group: process.env.BENCH_GROUP ?? "producer", logger });
// Registered so that beginRpc takes the name and version from the registry, as an application would.
resonate.register("noop", noop);
resonate.register("work", work);
await connected;
mark("ready", { pid: resonate.pid });
await runProducer(plan, (id, args) => resonate.beginRpc(id, plan.func, ...args, resonate.options({ target: plan.target })));
resonate.stop();
process.exit(0);
