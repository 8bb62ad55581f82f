// A BullMQ worker (Node 20): reads queue BENCH_GROUP with the same functions the SDK workers register
// (job name = function name, job data = { args }), prints {"event":"ready"} once its connections
// are up, then serves until killed. Settings come from the bench (src/bullmq.ts) as BENCH_BULLMQ.
import { Worker } from "bullmq";
import { redisConnection } from "./bullmq-common.mjs";
import { mark } from "./producer-core.mjs";
import { noop, work, workerIndex } from "./worker-functions.mjs";

const FUNCTIONS = { noop, work };
/** { concurrency, lockDuration, stalledInterval? }: see BULLMQ_SETTINGS in src/bullmq.ts for why each. */
const settings = JSON.parse(process.env.BENCH_BULLMQ ?? "{}");

const worker = new Worker(
  process.env.BENCH_GROUP ?? "workers",
  async (job) => {
    const fn = FUNCTIONS[job.name];
    if (!fn) throw new Error(`no function '${job.name}' on this worker`);
    // The SDK functions get a context whose id is the invocation's id: here the job's id.
    return fn({ id: job.id }, ...job.data.args);
  },
  { connection: redisConnection(), ...settings },
);
worker.on("error", (e) => process.stderr.write(`${JSON.stringify({ level: "error", msg: "worker error", error: String(e) })}\n`));
await worker.waitUntilReady();
mark("ready", { pid: process.pid, w: workerIndex });
// SIGTERM ends at once (a profile under --cpu-prof is written on a normal exit, not on SIGKILL).
process.on("SIGTERM", () => process.exit(0));
