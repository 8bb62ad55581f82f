// The latency workload's baseline without any SDK: ONE process that is both the producer and the
// only worker, speaking the protocol with the bench's own lean client (raw-protocol.ts). Each
// invocation makes the same server calls an SDK makes (spec §12.2): promise.create with a target,
// promise.register_listener, then on the execute message task.acquire, the "function" (a no-op
// stamped with this clock, as worker-functions.mjs does) and task.fulfill; the producer side sees the
// result in the unblock message. What is left of dispatch→start is the server's path plus a single
// client process; set beside the SDK runs it separates the server's share of the latency from the
// share of the client processes (two more processes, two more wake-ups per invocation).
//
// With BENCH_RAW_WORKERS=N the bench splits it as the SDK runs are split: RAW_ROLE=worker processes
// (index BENCH_WORKER_INDEX) that only run the worker half, and one RAW_ROLE=producer process. Same
// client code, the SDK runs' number of processes: what is left is the cost of the processes themselves.
//
// argv[2]: the ProducerPlan of producer-core.mjs (plan.target must route to group "workers"); a
// worker ignores it. Prints "ready" once its streams are open, then (unless a worker) what
// runProducer prints.
import { PROTOCOL_VERSION } from "@resonate-compat/protocol";
import { type ProducerPlan, mark, preciseNow, runProducer } from "./producer-core.mjs";
import { DAY, RawClient, decodeValue, encodedValue, invocationParam, rootTags } from "./raw-protocol";

const url = process.env.BENCH_URL;
if (!url) throw new Error("BENCH_URL is required");
const plan = JSON.parse(process.argv[2] ?? "{}") as ProducerPlan;
const ROLE = process.env.RAW_ROLE ?? "both";
if (!["both", "producer", "worker"].includes(ROLE)) throw new Error(`RAW_ROLE must be both, producer or worker, not ${ROLE}`);
const INDEX = Number(process.env.BENCH_WORKER_INDEX ?? 0);
const WORKER = { group: "workers", pid: `raw-worker-${INDEX}` };
const CLIENT = { group: "raw-client", pid: "raw-producer" };
const TTL = 60_000;

const client = new RawClient(url);
/** Results not seen yet, by promise id: settled by the unblock message, or failed by the worker half. */
const waiting = new Map<string, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
/** Failures of the worker half for ids whose result nobody waits for yet. */
const failedEarly = new Map<string, Error>();

function settle(promise: { id: string; state: string; value?: { data?: string } }): void {
  const w = waiting.get(promise.id);
  if (!w) return;
  waiting.delete(promise.id);
  if (promise.state === "resolved") w.resolve(decodeValue(promise.value));
  else w.reject(new Error(`promise ${promise.id} is ${promise.state}`));
}

/** The worker half failed for `id`: its result fails now instead of at the producer's time-out. */
function fail(id: string, error: Error): void {
  const w = waiting.get(id);
  if (!w) {
    failedEarly.set(id, error);
    return;
  }
  waiting.delete(id);
  w.reject(error);
}

/** The worker half: acquire, run the no-op, fulfill. A lost race (409) is not ours to run. */
async function execute(task: { id: string; version: number }): Promise<void> {
  const acquired = await client.call("task.acquire", { id: task.id, version: task.version, pid: WORKER.pid, ttl: TTL });
  if (acquired.status === 409) return;
  if (acquired.status !== 200) throw new Error(`task.acquire: ${acquired.status} ${JSON.stringify(acquired.data)}`);
  const value = encodedValue({ s: preciseNow(), w: INDEX });
  const { version } = acquired.data.task as { version: number };
  const done = await client.call("task.fulfill", {
    id: task.id,
    version,
    action: { kind: "promise.settle", head: { corrId: `f-${task.id}`, version: PROTOCOL_VERSION }, data: { id: task.id, state: "resolved", value } },
  });
  if (done.status !== 200) throw new Error(`task.fulfill: ${done.status} ${JSON.stringify(done.data)}`);
}

if (ROLE !== "producer") {
  // A worker on its own has nobody to tell about a failure but its log.
  const onFailure = ROLE === "worker" ? (_id: string, e: Error) => mark("worker-error", { error: e.message }) : fail;
  await client.poll(WORKER.group, WORKER.pid, (message) => {
    if (message.kind === "execute") execute(message.data.task).catch((e: Error) => onFailure(message.data.task.id, e));
  });
}
if (ROLE === "worker") {
  mark("ready", { role: ROLE, pid: WORKER.pid });
  // Runs until the bench stops it.
  await new Promise(() => {});
}
await client.poll(CLIENT.group, CLIENT.pid, (message) => {
  if (message.kind === "unblock") settle(message.data.promise);
});
mark("ready", { role: ROLE });

const listener = `poll://uni@${CLIENT.group}/${CLIENT.pid}`;
await runProducer(plan, async (id, args) => {
  const created = await client.call("promise.create", {
    id,
    timeoutAt: Date.now() + DAY,
    param: invocationParam(plan.func, args),
    tags: { ...rootTags(id), "resonate:target": plan.target },
  });
  if (created.status !== 200) throw new Error(`promise.create: ${created.status} ${JSON.stringify(created.data)}`);
  return {
    // As the SDKs do: the listener is registered when the result is asked for; an answer that is
    // already settled is the result.
    result: () =>
      new Promise((resolve, reject) => {
        const early = failedEarly.get(id);
        if (early) {
          failedEarly.delete(id);
          reject(early);
          return;
        }
        waiting.set(id, { resolve, reject });
        client.call("promise.register_listener", { awaited: id, address: listener }).then(
          (answer) => {
            if (answer.status !== 200) {
              waiting.delete(id);
              reject(new Error(`promise.register_listener: ${answer.status}`));
            } else if (answer.data.promise.state !== "pending") settle(answer.data.promise);
          },
          (e: Error) => {
            waiting.delete(id);
            reject(e);
          },
        );
      }),
  };
});
client.close();
process.exit(0);
