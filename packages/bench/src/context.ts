// What every workload gets: the sizes for this run, the SDKs to run with, the ceilings measured
// earlier in the same run, and helpers to run a child program to its result and to clean up.
import fs from "node:fs";
import path from "node:path";
import { CHILDREN_DIR, Child, type Marker, TSX_LOADER, childEnv, liveChildren } from "./procs";
import type { BenchServer } from "./server";
import type { Sdk } from "./sdks";

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

export interface Row {
  metric: string;
  values: Partial<Record<Sdk | "all", number | string | null | undefined>>;
}

export interface WorkloadOutput {
  /** Per-SDK figures (and `all` for SDK-independent ones), for the JSON line. */
  results: Record<string, unknown>;
  params: Record<string, unknown>;
  rows: Row[];
  /** Correctness problems (lost invocations, failed requests): the run is reported as failed. */
  problems: string[];
}

export interface BenchContext {
  smoke: boolean;
  sdks: Sdk[];
  ceilings: Ceilings | undefined;
  /** Progress to stderr (stdout carries only tables and JSON lines). */
  log(msg: string): void;
}

/** Runs a Node 20 child program of src/children with a JSON argument and returns its "result" marker. */
export async function runChild(file: string, arg: unknown, o: { dir: string; label: string; timeoutMs: number }): Promise<Marker> {
  const child = new Child(o.label, process.execPath, ["--import", TSX_LOADER, path.join(CHILDREN_DIR, file), JSON.stringify(arg)], {
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
export async function stopAll(dir: string, server: BenchServer | undefined): Promise<void> {
  // SIGTERM lets a profiled child write its profile; the children exit on it at once.
  const signal = process.env.BENCH_PROFILE_CLIENTS ? "SIGTERM" : "SIGKILL";
  await Promise.all(liveChildren().filter((c) => c.dir === dir && c !== server?.child).map((c) => c.stop(signal)));
  if (server) await server.stop();
}

/**
 * Runs `fn` once per SDK, one after the other, so that the two never share the machine. (Side by
 * side was tried for the smoke: on a busy 2-CPU machine it is slower, and requests time out.)
 */
export async function forEachSdk(ctx: BenchContext, fn: (sdk: Sdk) => Promise<void>): Promise<void> {
  for (const sdk of ctx.sdks) await fn(sdk);
}

/** Removes a run dir, unless asked to keep them (BENCH_KEEP=1) or the run failed. */
export function disposeDir(dir: string, failed: boolean, log: (m: string) => void): void {
  if (failed || process.env.BENCH_KEEP === "1") {
    log(`logs and database kept in ${dir}`);
    return;
  }
  fs.rmSync(dir, { recursive: true, force: true });
}
