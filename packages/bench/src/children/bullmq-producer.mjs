// A BullMQ producer (Node 20): runs the plan given as argv[2] (producer-core.mjs, the loop the SDK
// producers share) with queue.add to the queue the target names (job id = invocation id, name =
// function, data = { args }) and learns each result from the queue's events stream (QueueEvents
// "completed", which carries the return value), the way a BullMQ application awaits one.
import { Queue, QueueEvents } from "bullmq";
import { queueOf, redisConnection } from "./bullmq-common.mjs";
import { mark, runProducer } from "./producer-core.mjs";

const plan = JSON.parse(process.argv[2] ?? "{}");
const connection = redisConnection();
const name = queueOf(plan.target);
/** { eventsMaxLen }: see BULLMQ_SETTINGS in src/bullmq.ts. */
const settings = JSON.parse(process.env.BENCH_BULLMQ ?? "{}");

// The events stream is trimmed to about 10,000 entries by default; at several events per job a
// reader that falls behind would lose completions. The queue writes the larger bound into the
// queue's meta hash when it starts, before any job exists.
const queue = new Queue(name, { connection, streams: { events: { maxLen: settings.eventsMaxLen } } });
await queue.getVersion(); // resolves once the queue's meta (the maxLen above) is written

/** Invocation id → its result's settle functions, registered before queue.add so no event can come first. */
const waiting = new Map();
// Read the stream from its start ("0"), not from "now" ("$", the default): the run's Redis is fresh,
// and a completion that lands before the first XREAD would otherwise be missed.
const events = new QueueEvents(name, { connection, lastEventId: "0" });
events.on("completed", ({ jobId, returnvalue }) => {
  waiting.get(jobId)?.resolve(returnvalue);
  waiting.delete(jobId);
});
events.on("failed", ({ jobId, failedReason }) => {
  waiting.get(jobId)?.reject(new Error(`job failed: ${failedReason}`));
  waiting.delete(jobId);
});
events.on("error", (e) => process.stderr.write(`${JSON.stringify({ level: "error", msg: "queue events error", error: String(e) })}\n`));
await events.waitUntilReady();
mark("ready", { pid: process.pid, queue: name });

await runProducer(plan, async (id, args) => {
  let settle;
  const result = new Promise((resolve, reject) => (settle = { resolve, reject }));
  result.catch(() => {}); // a failure nobody asked for (dispatch-only runs) must not crash the process
  waiting.set(id, settle);
  try {
    await queue.add(plan.func, { args }, { jobId: id });
  } catch (e) {
    waiting.delete(id);
    throw e;
  }
  return { result: () => result };
});
process.exit(0);
