// A producer on our SDK (Node 20): runs the plan given as argv[2] (see producer-core.mjs) with
// beginRpc to plan.target, writes the timings to plan.out and prints {"event":"done"}.
// First: with HOP_TRACE_DIR set (pnpm bench --hops) it timestamps this process's protocol traffic.
import "./hop-trace-client.mjs";
import { Resonate } from "@resonate-compat/sdk";
import { type ProducerPlan, mark, runProducer } from "./producer-core.mjs";

const url = process.env.BENCH_URL;
if (!url) throw new Error("BENCH_URL is required");
const plan = JSON.parse(process.argv[2] ?? "{}") as ProducerPlan;
const resonate = new Resonate({
  url,
  group: process.env.BENCH_GROUP ?? "producer",
  logLevel: "warn",
  transport: process.env.BENCH_TRANSPORT === "websocket" ? "websocket" : "http",
});
const options = resonate.options({ target: plan.target });
await resonate.connected();
mark("ready", { pid: resonate.pid });
await runProducer(plan, (id, args) => resonate.beginRpc(id, plan.func, ...args, options));
await resonate.stop();
process.exit(0);
