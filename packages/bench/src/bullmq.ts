// BullMQ beside us: how the bench runs BullMQ 6 on a Redis of its own, with the SDK runs' process
// layout (one producer process, N worker processes, all on this Node 20), the same plans and the same
// functions. The settings below are the only ones changed from BullMQ's defaults; each says why.
import fs from "node:fs";
import path from "node:path";
import type { ProducerPlan } from "./children/producer-core.mjs";
import type { BenchContext, SdkRun } from "./context";
import { disposeDir, stopAll } from "./context";
import { BENCH_ROOT, CHILDREN_DIR, Child, childEnv, makeRunDir } from "./procs";
import { type BenchRedis, REDIS_PERSISTENCE, findRedisServer, redisVersion, startRedis } from "./redis";
import { type Producer, clientProfile, launchProducer } from "./sdks";

/** Our SDK's and the official SDK's default lease (ttl), which the throughput and latency runs keep. */
export const SDK_DEFAULT_TTL_MS = 60_000;

export const BULLMQ_SETTINGS = {
  /**
   * Jobs one worker runs at once. BullMQ's default is 1; our SDK's workers have no limit (the SDK's
   * default, which the bench keeps), and BullMQ needs a finite number. 100 is more than any workload
   * ever has in flight (throughput keeps 64, recovery 30), so no BullMQ worker is held back by it,
   * as none of ours is.
   */
  concurrency: 100,
  /**
   * The events stream is trimmed to ~10,000 entries by default. Each job writes three or four
   * (waiting, active, completed, …), and the producer learns results from that stream, so at
   * thousands of jobs a second a reader that falls behind could lose completions. 1,000,000 holds
   * every event of the largest run (22,000 jobs).
   */
  eventsMaxLen: 1_000_000,
  /**
   * The stalled-job check: BullMQ's default runs it every 30 s (once per interval for the whole
   * queue), and a dead worker's job is moved back to wait by the first check after its lock lapsed
   * *and* after an earlier check marked it: 30–60 s after a kill. The recovery workload runs BullMQ
   * with that default and again with 1 s, the period of our server's lease pass (--timeouts-interval).
   */
  stalledIntervalDefault: 30_000,
  stalledIntervalTuned: 1_000,
} as const;

export const BULLMQ_LABEL = "BullMQ";

/** What the bench found out about BullMQ before the workloads: whether it runs, and with what. */
export type BullmqSetup =
  | { run: true; redisServer: string; redisVersion: string | undefined; bullmqVersion: string | undefined }
  | { run: false; reason: string };

/**
 * BullMQ runs unless it was turned off (`--no-bullmq`, BENCH_NO_BULLMQ=1) or there is no
 * redis-server on this machine; either way the reason is one line, not a failure.
 */
export function bullmqSetup(turnedOff: boolean): BullmqSetup {
  if (turnedOff) return { run: false, reason: "turned off (--no-bullmq or BENCH_NO_BULLMQ=1)" };
  const redisServer = findRedisServer();
  if (!redisServer && process.env.BENCH_REDIS_SERVER) return { run: false, reason: `BENCH_REDIS_SERVER=${process.env.BENCH_REDIS_SERVER} is not an executable file` };
  if (!redisServer) return { run: false, reason: "redis-server is not installed (apt-get install -y redis-server, or BENCH_REDIS_SERVER=/path/to/redis-server)" };
  return { run: true, redisServer, redisVersion: redisVersion(redisServer), bullmqVersion: bullmqVersion() };
}

function bullmqVersion(): string | undefined {
  try {
    return (JSON.parse(fs.readFileSync(path.join(BENCH_ROOT, "node_modules", "bullmq", "package.json"), "utf8")) as { version: string }).version;
  } catch {
    return undefined;
  }
}

/** What the "server" of a CPU row is: our server, and for BullMQ its Redis. */
export function serverLabel(ctx: BenchContext): string {
  return ctx.bullmq.run ? "server (BullMQ: Redis)" : "server";
}

/** The BullMQ part of a workload's params (the JSON line): versions, Redis persistence, settings. */
export function bullmqParams(ctx: BenchContext, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const b = ctx.bullmq;
  if (!b.run) return { skipped: b.reason };
  return {
    bullmq: b.bullmqVersion,
    redis: b.redisVersion,
    redisPersistence: { ...REDIS_PERSISTENCE, save: "off" },
    layout: "one producer process (Queue + QueueEvents) and N worker processes (Worker), Node 20",
    concurrency: BULLMQ_SETTINGS.concurrency,
    eventsMaxLen: BULLMQ_SETTINGS.eventsMaxLen,
    ...extra,
  };
}

export interface BullmqWorkerOptions {
  redis: BenchRedis;
  dir: string;
  /** The lease: BullMQ's lockDuration, set to the ttl the SDK workers of the same workload use. */
  lockDuration: number;
  /** Omitted: BullMQ's default (30 s). */
  stalledInterval?: number;
  markStarts?: boolean;
}

/** Starts `count` BullMQ workers (queue "workers") in parallel and waits until each is connected. */
export async function startBullmqWorkers(count: number, o: BullmqWorkerOptions): Promise<Child[]> {
  const settings = {
    concurrency: BULLMQ_SETTINGS.concurrency,
    lockDuration: o.lockDuration,
    ...(o.stalledInterval !== undefined ? { stalledInterval: o.stalledInterval } : {}),
  };
  const workers = Array.from({ length: count }, (_, index) => {
    const env = childEnv({
      BENCH_URL: o.redis.url,
      BENCH_GROUP: "workers",
      BENCH_WORKER_INDEX: String(index),
      BENCH_BULLMQ: JSON.stringify(settings),
      ...(o.markStarts ? { BENCH_MARK_STARTS: "1" } : {}),
    });
    return new Child(`bullmq-worker-${index}`, process.execPath, [...clientProfile(), path.join(CHILDREN_DIR, "bullmq-worker.mjs")], {
      env,
      logFile: path.join(o.dir, `bullmq-worker-${index}.log`),
    });
  });
  await Promise.all(workers.map((w) => w.waitFor("ready", 30_000)));
  return workers;
}

/** Spawns the BullMQ producer with its plan (the queue is the target's group) and waits until it is connected. */
export function startBullmqProducer(o: { redis: BenchRedis; dir: string; label: string; plan: Omit<ProducerPlan, "out"> }): Promise<Producer> {
  return launchProducer(`bullmq-${o.label}`, process.execPath, [...clientProfile(), path.join(CHILDREN_DIR, "bullmq-producer.mjs")], { ...o, url: o.redis.url }, {
    BENCH_BULLMQ: JSON.stringify({ eventsMaxLen: BULLMQ_SETTINGS.eventsMaxLen }),
  });
}

/**
 * One BullMQ run of a workload (`label`, e.g. "latency/bullmq") on a fresh Redis in a fresh run dir,
 * the counterpart of runOnFreshServer: whatever happens, its workers and producers are stopped by
 * pid, then Redis (SIGTERM), and the dir is removed unless the run found a problem.
 * Returns undefined when BullMQ does not run in this bench.
 */
export async function runOnFreshRedis<R extends object>(
  ctx: BenchContext,
  label: string,
  run: (redis: BenchRedis, dir: string) => Promise<SdkRun<R>>,
): Promise<{ result: R | undefined; record: Record<string, unknown>; problems: string[] } | undefined> {
  const setup = ctx.bullmq;
  if (!setup.run) return undefined;
  const dir = makeRunDir(label.replace(/\//g, "-"));
  let redis: BenchRedis | undefined;
  let failed = true;
  let result: R | undefined;
  let record: Record<string, unknown> = {};
  const problems: string[] = [];
  try {
    redis = await startRedis(dir, { binary: setup.redisServer });
    const outcome = await run(redis, dir);
    result = outcome.result;
    record = outcome.result as Record<string, unknown>;
    problems.push(...outcome.problems);
    failed = outcome.problems.length > 0;
  } catch (error) {
    problems.push(`${label}: ${(error as Error).message.split("\n")[0]}`);
    record = { error: (error as Error).message.slice(0, 2000) };
  } finally {
    await stopAll(dir, redis);
    disposeDir(dir, failed, ctx.log);
  }
  return { result, record, problems };
}
