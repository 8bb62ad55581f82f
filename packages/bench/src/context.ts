// What every workload gets: the sizes for this run, the SDKs to run with, the ceilings measured
// earlier in the same run, and helpers to run a child program to its result and to clean up.
import fs from "node:fs";
import path from "node:path";
import { cpuOf } from "./analysis";
import { childProgram } from "./build";
import { Child, type Marker, childEnv, cpuMs, liveChildren, makeRunDir } from "./procs";
import { type BenchServer, formatWarnings, serverWarnings, startServer } from "./server";
import type { BullmqSetup } from "./bullmq";
import type { Producer, ProducerOutput, Sdk } from "./sdks";

export interface Ceilings {
  /** Bare Fastify JSON echo, `concurrency` connections: requests/s and per-request ms. */
  echo: { rate: number; p50: number; p99: number; concurrency: number };
  /** The same echo with one request in flight: the floor of one HTTP round trip. */
  echoSerial: { rate: number; p50: number; p99: number };
  /** Our server, same client: promise.create (a one-row durable write) and promise.get. */
  serverCreate: { rate: number; p50: number; p99: number; concurrency: number };
  serverGet: { rate: number; p50: number; p99: number; concurrency: number };
  /** One-row SQLite write transactions, server pragmas: synchronous NORMAL (server default) and FULL. */
  sqliteNormal: { rate: number };
  sqliteFull: { rate: number };
}

export type Cell = number | string | null | undefined;

export interface Row {
  metric: string;
  /** By column: an SDK, "all", "bullmq", or a ratio column (see vs-bullmq.ts). */
  values: Partial<Record<string, Cell>>;
  /** The figure has a BullMQ counterpart: the table adds its ratio to BullMQ's for each SDK. */
  compare?: boolean;
}

export interface WorkloadOutput {
  /** Per-SDK figures (and `all` for SDK-independent ones), for the JSON line. */
  results: Record<string, unknown>;
  params: Record<string, unknown>;
  rows: Row[];
  /** The heading of the table's "all" column beside the SDK columns (default "shared"). */
  allColumn?: string;
  /** Columns after the SDK columns (BullMQ's, and ratios to it), in order. */
  extraColumns?: Array<{ key: string; label: string }>;
  /** Correctness problems (lost invocations, failed requests): the run is reported as failed. */
  problems: string[];
}

export interface BenchContext {
  smoke: boolean;
  sdks: Sdk[];
  ceilings: Ceilings | undefined;
  /** Whether each workload also runs on BullMQ (and with what), or why not. */
  bullmq: BullmqSetup;
  /** Progress to stderr (stdout carries only tables and JSON lines). */
  log(msg: string): void;
}

/** Runs a Node 20 child program of src/children with a JSON argument and returns its "result" marker. */
export async function runChild(file: string, arg: unknown, o: { dir: string; label: string; timeoutMs: number }): Promise<Marker> {
  const child = new Child(o.label, process.execPath, [...childProgram(file), JSON.stringify(arg)], {
    env: childEnv(),
    logFile: path.join(o.dir, `${o.label}.log`),
  });
  try {
    const [result] = await child.waitFor("result", o.timeoutMs);
    return result!;
  } finally {
    await child.stop("SIGKILL");
  }
}

/**
 * Stops every child of one run dir (a workload run for one SDK) that is still running: workers and
 * producers first (SIGKILL, by pid; SIGTERM when clients are profiled), then the server (SIGTERM, so that it closes its database;
 * SIGKILL after 10 s). Nothing of one run may survive into the next.
 */
export async function stopAll(dir: string, server: { child: Child; stop(): Promise<void> } | undefined): Promise<void> {
  // SIGTERM lets a profiled child write its profile; the children exit on it at once.
  const signal = process.env.BENCH_PROFILE_CLIENTS ? "SIGTERM" : "SIGKILL";
  // Server processes (every replica of a PostgreSQL run) are left to server.stop().
  await Promise.all(liveChildren().filter((c) => c.dir === dir && c !== server?.child && !c.label.startsWith("server")).map((c) => c.stop(signal)));
  if (server) await server.stop();
}

/** What one SDK's run of a workload reports: its figures and the correctness problems it found. */
export interface SdkRun<R> {
  result: R;
  problems: string[];
}

/**
 * Runs a workload once per SDK, one after the other, so that the two never share the machine (side
 * by side was tried for the smoke: on a busy 2-CPU machine it is slower, and requests time out).
 * Each run gets a fresh server (runOnFreshServer); `run` starts its workers and producers on it.
 * Returns the results by SDK (an `{ error }` for a run that threw) and every problem found.
 */
export async function runPerSdk<R extends object>(
  ctx: BenchContext,
  workload: string,
  run: (sdk: Sdk, server: BenchServer, dir: string) => Promise<SdkRun<R>>,
): Promise<{ per: Partial<Record<Sdk, R>>; results: Record<string, unknown>; problems: string[] }> {
  const per: Partial<Record<Sdk, R>> = {};
  const results: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const sdk of ctx.sdks) {
    const one = await runOnFreshServer(ctx, `${workload}/${sdk}`, (server, dir) => run(sdk, server, dir));
    if (one.result) per[sdk] = one.result;
    results[sdk] = one.record;
    problems.push(...one.problems);
  }
  return { per, results, problems };
}

/**
 * One run of a workload (`label`, e.g. "latency/ours") on a fresh server in a fresh run dir.
 * Whatever happens, every process of the run is stopped, the server's warnings join the result
 * (`record`, which is `{ error }` if `run` threw), and the run dir is removed unless the run found a
 * problem or the server warned.
 */
export async function runOnFreshServer<R extends object>(
  ctx: BenchContext,
  label: string,
  run: (server: BenchServer, dir: string) => Promise<SdkRun<R>>,
): Promise<{ result: R | undefined; record: Record<string, unknown>; problems: string[] }> {
  const dir = makeRunDir(label.replace(/\//g, "-"));
  let server: BenchServer | undefined;
  let failed = true;
  let result: R | undefined;
  let record: Record<string, unknown> = {};
  const problems: string[] = [];
  try {
    server = await startServer(dir);
    const outcome = await run(server, dir);
    result = outcome.result;
    record = outcome.result as Record<string, unknown>;
    problems.push(...outcome.problems);
    failed = outcome.problems.length > 0;
  } catch (error) {
    problems.push(`${label}: ${(error as Error).message.split("\n")[0]}`);
    record = { error: (error as Error).message.slice(0, 2000) };
  } finally {
    await stopAll(dir, server);
    const warnings = serverWarnings(dir);
    record.serverWarnings = warnings;
    if (Object.keys(warnings).length > 0) failed = true; // keep the logs
    disposeDir(dir, failed, ctx.log);
  }
  return { result, record, problems };
}

/**
 * Waits for the producer's warm-up to end, then for its output, and counts the CPU the server (or
 * Redis) and the workers spent in between: CPU is counted from the end of the warm-up, as the
 * producer counts its own.
 */
export async function measureProducer(
  server: { child: Child; cpuMs?: () => number },
  workers: Child[],
  producer: Producer,
  timeoutMs: number,
): Promise<{ out: ProducerOutput; serverCpuMs: number; workersCpuMs: number }> {
  // Our server side may be several processes (replicas, PostgreSQL, the proxy); Redis is one.
  const serverCpu = () => server.cpuMs?.() ?? cpuMs(server.child.pid) ?? 0;
  await producer.child.waitFor("warm", 120_000);
  const server0 = serverCpu();
  const workers0 = cpuOf(workers);
  const out = await producer.done(timeoutMs);
  return { out, serverCpuMs: serverCpu() - server0, workersCpuMs: cpuOf(workers) - workers0 };
}

/** One table row per SDK from its figures (a dash where the SDK's run failed). */
export function perSdkValues<R>(ctx: BenchContext, per: Partial<Record<Sdk, R>>, f: (x: R) => number | string | null): Row["values"] {
  return Object.fromEntries(ctx.sdks.map((s) => [s, per[s] ? f(per[s]) : null]));
}

/** The "server warnings" row of a per-SDK table. */
export function warningsRow(ctx: BenchContext, results: Record<string, unknown>): Row {
  const of = (s: Sdk) => (results[s] as { serverWarnings?: Record<string, number> } | undefined)?.serverWarnings;
  return { metric: "server warnings", values: Object.fromEntries(ctx.sdks.map((s) => [s, formatWarnings(of(s))])) };
}

/** Removes a run dir, unless asked to keep them (BENCH_KEEP=1) or the run failed. */
export function disposeDir(dir: string, failed: boolean, log: (m: string) => void): void {
  if (failed || process.env.BENCH_KEEP === "1") {
    log(`logs and database kept in ${dir}`);
    return;
  }
  fs.rmSync(dir, { recursive: true, force: true });
}
