// The client/worker stacks every workload runs with: our SDK (Node 20, bundled: build.ts) over plain HTTP, our SDK
// over the channel (one WebSocket per process, `transport: "websocket"`), and the official
// @resonatehq/sdk 0.11.5 (Node 22). Same functions, same plan, same output files.
import fs from "node:fs";
import path from "node:path";
import type { ProducerPlan } from "./children/producer-core.mjs";
import { childProgram } from "./build";
import { CHILDREN_DIR, Child, NODE22, childEnv } from "./procs";

export type Sdk = "ours" | "ours-ws" | "official";
export const SDKS: readonly Sdk[] = ["ours", "ours-ws", "official"];

export const SDK_LABEL: Record<Sdk, string> = {
  ours: "ours (@resonate-compat/sdk, Node 20)",
  "ours-ws": "ours over the channel (@resonate-compat/sdk with transport \"websocket\", Node 20)",
  official: "official (@resonatehq/sdk 0.11.5, Node 22)",
};

/** Our SDK's children read BENCH_TRANSPORT for their `transport` option. */
const transportEnv = (sdk: Sdk): Record<string, string> => (sdk === "ours-ws" ? { BENCH_TRANSPORT: "websocket" } : {});

/** BENCH_PROFILE_CLIENTS=<dir>: workers and producers run under V8's --cpu-prof, profiles in <dir>. */
export const clientProfile = (): string[] => (process.env.BENCH_PROFILE_CLIENTS ? ["--cpu-prof", "--cpu-prof-dir", process.env.BENCH_PROFILE_CLIENTS] : []);

function command(sdk: Sdk, role: "worker" | "producer"): { exe: string; args: string[] } {
  if (sdk !== "official") return { exe: process.execPath, args: [...clientProfile(), ...childProgram(`ours-${role}.ts`)] };
  if (!fs.existsSync(NODE22)) throw new Error(`Node 22 for the official SDK not found at ${NODE22} (pnpm install in the workspace installs it with packages/e2e)`);
  return { exe: NODE22, args: [...clientProfile(), path.join(CHILDREN_DIR, `official-${role}.mjs`)] };
}

export interface WorkerOptions {
  url: string;
  dir: string;
  index: number;
  group?: string;
  ttl?: number;
  markStarts?: boolean;
}

export function spawnWorker(sdk: Sdk, o: WorkerOptions): Child {
  const { exe, args } = command(sdk, "worker");
  const env = childEnv({
    BENCH_URL: o.url,
    BENCH_GROUP: o.group ?? "workers",
    BENCH_WORKER_INDEX: String(o.index),
    ...(o.ttl !== undefined ? { BENCH_TTL: String(o.ttl) } : {}),
    ...(o.markStarts ? { BENCH_MARK_STARTS: "1" } : {}),
    ...transportEnv(sdk),
  });
  return new Child(`${sdk}-worker-${o.index}`, exe, args, { env, logFile: path.join(o.dir, `${sdk}-worker-${o.index}.log`) });
}

/** Starts `count` workers in parallel and waits until every poll stream is open. */
export async function startWorkers(sdk: Sdk, count: number, o: Omit<WorkerOptions, "index">): Promise<Child[]> {
  const workers = Array.from({ length: count }, (_, index) => spawnWorker(sdk, { ...o, index }));
  await Promise.all(workers.map((w) => w.waitFor("ready", 30_000)));
  return workers;
}

/** What a producer recorded per invocation (see children/producer-core.mjs). */
export interface ProducerOutput {
  n: number;
  t0: number;
  dispatchEnd: number;
  end: number;
  /** The producer's own CPU time (user + system) from its first dispatch to its last result. */
  cpuMs: number;
  dispatched: number;
  resolved: number;
  errorCount: number;
  errors: Array<{ i: number; where: string; error: string }>;
  timedOut: boolean;
  d: number[];
  c: number[];
  s: number[];
  r: number[];
  w: number[];
  lag?: number[];
}

export interface Producer {
  child: Child;
  /** Waits for the producer's "done" and reads what it recorded. */
  done(timeoutMs: number): Promise<ProducerOutput>;
}

/** Spawns a producer with its plan and waits until its poll stream is open (it then starts at once). */
export function startProducer(sdk: Sdk, o: { url: string; dir: string; label: string; plan: Omit<ProducerPlan, "out"> }): Promise<Producer> {
  const { exe, args } = command(sdk, "producer");
  return launchProducer(`${sdk}-${o.label}`, exe, args, o, transportEnv(sdk));
}

const RAW_RPC = (): string[] => childProgram("raw-rpc.ts");

/**
 * Spawns children/raw-rpc.ts with its plan: the latency workload's baseline on the protocol without
 * any SDK. `split` false: one process that is producer and worker at once; true: the producer half
 * only, for workers started with startRawWorkers.
 */
export function startRawRpc(o: { url: string; dir: string; label: string; split: boolean; plan: Omit<ProducerPlan, "out"> }): Promise<Producer> {
  return launchProducer(`raw-${o.label}`, process.execPath, RAW_RPC(), o, { RAW_ROLE: o.split ? "producer" : "both" });
}

/** Starts `count` raw-rpc.ts worker halves (group "workers") and waits until their streams are open. */
export async function startRawWorkers(count: number, o: { url: string; dir: string }): Promise<Child[]> {
  const workers = Array.from({ length: count }, (_, index) => {
    const env = childEnv({ BENCH_URL: o.url, RAW_ROLE: "worker", BENCH_WORKER_INDEX: String(index) });
    return new Child(`raw-worker-${index}`, process.execPath, [...RAW_RPC(), "{}"], { env, logFile: path.join(o.dir, `raw-worker-${index}.log`) });
  });
  await Promise.all(workers.map((w) => w.waitFor("ready", 30_000)));
  return workers;
}

/** Spawns a producer program with its plan (argv) and waits for its "ready"; its record goes to <dir>/<label>.json. */
export async function launchProducer(
  name: string,
  exe: string,
  args: string[],
  o: { url: string; dir: string; label: string; plan: Omit<ProducerPlan, "out"> },
  extraEnv: Record<string, string> = {},
): Promise<Producer> {
  const out = path.join(o.dir, `${o.label}.json`);
  const plan: ProducerPlan = { ...o.plan, out };
  const child = new Child(name, exe, [...args, JSON.stringify(plan)], {
    env: childEnv({ BENCH_URL: o.url, BENCH_GROUP: "producer", ...extraEnv }),
    logFile: path.join(o.dir, `${name}.log`),
  });
  await child.waitFor("ready", 30_000);
  return {
    child,
    async done(timeoutMs) {
      await child.waitFor("done", timeoutMs);
      return JSON.parse(fs.readFileSync(out, "utf8")) as ProducerOutput;
    },
  };
}
