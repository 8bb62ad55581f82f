// Spawning our example programs and our-SDK fixtures as real processes, on top of the e2e harness
// (packages/e2e/test/harness.ts: a world per test with its own temp dir, database, server and
// processes, markers with deadlines, kill and leak check after each test).
//
// Everything here runs with the machine's Node 20 as `node --import tsx <file>` (one process, so a
// signal reaches the program itself); the official SDK's fixtures run on Node 22 through the harness.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type ManagedProcess, type Marker, type ServerHandle, TSX_LOADER, type World } from "../../../e2e/test/harness";

export * from "../../../e2e/test/harness";

export const EXAMPLES_DIR = fileURLToPath(new URL("../../", import.meta.url));
export const FIXTURES = path.join(EXAMPLES_DIR, "test", "integration", "fixtures");

function tsxArgs(file: string, args: string[]): string[] {
  return ["--import", TSX_LOADER, file, ...args];
}

export interface ExampleWorkerOptions {
  label: string;
  ttl?: number;
  concurrency?: number;
  readyTimeoutMs?: number;
}

/** The example worker (src/worker.ts --json, group "workers"); resolves once it printed `ready`. */
export async function startExampleWorker(w: World, server: ServerHandle, opts: ExampleWorkerOptions): Promise<ManagedProcess> {
  const args = ["--json"];
  if (opts.ttl !== undefined) args.push("--ttl", String(opts.ttl));
  if (opts.concurrency !== undefined) args.push("--concurrency", String(opts.concurrency));
  const p = w.spawnProcess(opts.label, process.execPath, tsxArgs(path.join(EXAMPLES_DIR, "src", "worker.ts"), args), {
    cwd: EXAMPLES_DIR,
    env: { RESONATE_URL: server.url },
  });
  await p.waitFor("ready", { timeoutMs: opts.readyTimeoutMs ?? 30_000 });
  return p;
}

/** The example client (src/client.ts --json): one invocation of computeSomething(id, cost). */
export function runExampleClient(w: World, server: ServerHandle, opts: { label: string; id?: string; cost?: number; wait?: boolean }): ManagedProcess {
  const args = ["--json"];
  if (opts.id !== undefined) args.push("--id", opts.id);
  if (opts.cost !== undefined) args.push("--cost", String(opts.cost));
  if (opts.wait) args.push("--wait");
  return w.spawnProcess(opts.label, process.execPath, tsxArgs(path.join(EXAMPLES_DIR, "src", "client.ts"), args), {
    cwd: EXAMPLES_DIR,
    env: { RESONATE_URL: server.url },
  });
}

export interface SdkWorkerOptions {
  label: string;
  group?: string;
  ttl?: number;
  concurrency?: number;
  pid?: string;
  /** Multiplies every function cost in this process. */
  costFactor?: number;
  readyTimeoutMs?: number;
}

/** Spawn fixtures/sdk-worker.ts (our SDK; computeSomething, effect, echo, fail). */
export function spawnSdkWorker(w: World, url: string, opts: SdkWorkerOptions): ManagedProcess {
  const env: Record<string, string> = { RESONATE_URL: url, WORKER_GROUP: opts.group ?? "workers" };
  if (opts.ttl !== undefined) env.WORKER_TTL = String(opts.ttl);
  if (opts.concurrency !== undefined) env.WORKER_CONCURRENCY = String(opts.concurrency);
  if (opts.pid !== undefined) env.WORKER_PID = opts.pid;
  if (opts.costFactor !== undefined) env.WORKER_COST_FACTOR = String(opts.costFactor);
  return w.spawnProcess(opts.label, process.execPath, tsxArgs(path.join(FIXTURES, "sdk-worker.ts"), []), { cwd: EXAMPLES_DIR, env });
}

export async function startSdkWorker(w: World, server: ServerHandle, opts: SdkWorkerOptions): Promise<ManagedProcess> {
  const p = spawnSdkWorker(w, server.url, opts);
  await p.waitFor("ready", { timeoutMs: opts.readyTimeoutMs ?? 30_000 });
  return p;
}

export interface SdkClientOp {
  id: string;
  func: string;
  args: unknown[];
  target?: string;
}

/** Run fixtures/sdk-client.ts (our SDK) with a plan of beginRpc calls; see the header of that file. */
export function startSdkClient(
  w: World,
  server: ServerHandle,
  opts: { label: string; ops: SdkClientOp[]; concurrent?: boolean; exitAfterDispatch?: boolean; group?: string },
): ManagedProcess {
  const plan = { ops: opts.ops, concurrent: opts.concurrent ?? false, exitAfterDispatch: opts.exitAfterDispatch ?? false };
  return w.spawnProcess(opts.label, process.execPath, tsxArgs(path.join(FIXTURES, "sdk-client.ts"), [JSON.stringify(plan)]), {
    cwd: EXAMPLES_DIR,
    env: { RESONATE_URL: server.url, CLIENT_GROUP: opts.group ?? "client" },
  });
}

/** fixtures/sse-trap.mjs: opens a worker's poll stream and dies on the first execute, unacquired. */
export async function startTrap(w: World, server: ServerHandle, opts: { label: string; group?: string; pid: string; mode?: "kill" | "exit" }): Promise<ManagedProcess> {
  const p = w.spawnProcess(opts.label, process.execPath, [path.join(FIXTURES, "sse-trap.mjs"), server.url, opts.group ?? "workers", opts.pid, opts.mode ?? "kill"], {
    cwd: EXAMPLES_DIR,
  });
  await p.waitFor("ready", { timeoutMs: 15_000 });
  return p;
}

/** The pid a worker printed in its `ready` marker. */
export function pidOf(p: ManagedProcess): string {
  const ready = p.events("ready")[0];
  if (!ready) throw new Error(`${p.label} has not printed ready`);
  return String(ready.pid);
}

/** Count markers per promise id. */
export function countBy(markers: Marker[], key = "id"): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of markers) out.set(String(m[key]), (out.get(String(m[key])) ?? 0) + 1);
  return out;
}

/** Decode a promise value the way both SDKs encode it (base64 JSON in `data`). */
export function decodeValue(value: { data?: string } | undefined): unknown {
  if (!value?.data) return undefined;
  return JSON.parse(Buffer.from(value.data, "base64").toString("utf8"));
}

/** Base64 JSON, as the SDKs put it in `param.data`. */
export function encodeValue(v: unknown): string {
  return Buffer.from(JSON.stringify(v), "utf8").toString("base64");
}

/**
 * Create a root invocation over raw HTTP exactly as `beginRpc` does (official 0.11.5 tags and param
 * encoding). Used where a test must know precisely which creates the server acknowledged.
 */
export async function createInvocation(
  url: string,
  id: string,
  func: string,
  args: unknown[],
  target: string,
  opts: { timeoutMs?: number; requestTimeoutMs?: number } = {},
): Promise<{ status: number; data: any }> {
  const body = {
    kind: "promise.create",
    head: { corrId: `it-${Math.random().toString(16).slice(2)}`, version: "2026-04-01" },
    data: {
      id,
      timeoutAt: Date.now() + (opts.timeoutMs ?? 3_600_000),
      param: { headers: {}, data: encodeValue({ func, args, version: 1 }) },
      tags: {
        "resonate:origin": id,
        "resonate:branch": id,
        "resonate:parent": id,
        "resonate:scope": "global",
        "resonate:target": target.includes("://") ? target : `poll://any@${target}`,
      },
    },
  };
  const res = await fetch(`${url}/`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(opts.requestTimeoutMs ?? 10_000),
  });
  const text = await res.text();
  let parsed: { head?: { status?: number }; data?: unknown } = {};
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    // not an envelope (e.g. a 503 during shutdown): the HTTP status is all there is
  }
  return { status: parsed.head?.status ?? res.status, data: parsed.data };
}

/** Spread of work: counts per worker, and the max/min ratio of their shares. */
export function spread(counts: number[]): { counts: number[]; max: number; min: number; ratio: number } {
  const max = Math.max(...counts);
  const min = Math.min(...counts);
  return { counts, max, min, ratio: min === 0 ? Infinity : max / min };
}
