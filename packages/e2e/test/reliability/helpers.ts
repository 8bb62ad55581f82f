// Shared pieces of the reliability tests (and of packages/server/scripts/crash-soak.ts):
//   - WarmServer: our server on a fixed port and database that can be SIGKILLed and restarted
//     quickly, through pre-started standby processes (fixtures/standby-server.ts);
//   - LoadGenerator: a steady stream of promise.create requests over raw HTTP, so a test knows
//     exactly which creates the server acknowledged (answered 200);
//   - worker spawning for both SDKs (our SDK: examples' fixtures/sdk-worker.ts; official SDK 0.11.5:
//     fixtures/effect-worker.mjs), and reading the database file with better-sqlite3.
// Nothing here imports vitest, so the soak script can use it outside a test run.
import { randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createInvocation, spawnSdkWorker } from "../../../examples/test/integration/helpers";
import { DeadlineError, type ManagedProcess, REPO_ROOT, SERVER_MAIN, ServerHandle, TSX_LOADER, type World, sleep } from "../harness";

export { createInvocation, spawnSdkWorker };
export const RELIABILITY_FIXTURES = fileURLToPath(new URL("./fixtures/", import.meta.url));

// ---------------------------------------------------------------------------------------------
// A server that restarts fast

export interface WarmServerOptions {
  port: number;
  dbPath: string;
  logLevel?: string;
  extraArgs?: string[];
  readyTimeoutMs?: number;
  /**
   * How many standbys to keep loading ahead (default 1). Loading takes a few seconds of CPU under
   * tsx, so kills every 1–3 s need 2 in the pipeline.
   */
  standbys?: number;
}

/**
 * Our server (the CLI entry point, main.ts) on a fixed port and database, restartable in a few
 * hundred ms: the next process is always pre-started in standby (modules loaded, database not yet
 * opened) and triggered with SIGUSR2 when the previous one is gone.
 */
export class WarmServer {
  readonly handle: ServerHandle;
  current: ManagedProcess | undefined;
  /** Pre-started processes, oldest first. */
  private readonly standbys: ManagedProcess[] = [];
  private spawned = 0;
  /** Trigger → GET /ready answered 200, per start (ms). */
  readonly readyTimes: number[] = [];

  constructor(
    private readonly world: World,
    private readonly opts: WarmServerOptions,
  ) {
    // A ServerHandle for url/call() and for helpers that take one; never started itself.
    this.handle = new ServerHandle(world, opts.port, opts.dbPath, {});
  }

  get url(): string {
    return this.handle.url;
  }

  private spawnStandby(): ManagedProcess {
    const args = [
      "--import",
      TSX_LOADER,
      path.join(RELIABILITY_FIXTURES, "standby-server.ts"),
      SERVER_MAIN,
      "--host",
      "127.0.0.1",
      "--port",
      String(this.opts.port),
      "--db",
      this.opts.dbPath,
      "--log-level",
      this.opts.logLevel ?? "warn",
      ...(this.opts.extraArgs ?? []),
    ];
    this.spawned++;
    return this.world.spawnProcess(`server-${this.spawned}`, process.execPath, args, { cwd: REPO_ROOT });
  }

  /** Test clock of the last trigger (SIGUSR2 to a standby). */
  triggeredAt = 0;
  /** Whether the current server has answered GET /ready with 200. */
  ready = false;
  private readyWait: Promise<number> | undefined;
  private triggerWait: Promise<void> | undefined;

  /** Start the next server (the previous one must be gone) and wait for /ready. */
  async start(): Promise<number> {
    this.trigger();
    return this.waitReady();
  }

  /**
   * Trigger the next server without waiting (its readiness is tracked in the background: `ready`,
   * `waitReady()`). The previous one must be gone.
   */
  trigger(): void {
    if (this.current?.alive) throw new Error("server already running");
    const proc = this.standbys.shift() ?? this.spawnStandby();
    this.topUp();
    this.ready = false;
    this.current = proc;
    this.handle.proc = proc;
    let triggered!: () => void;
    this.triggerWait = new Promise<void>((resolve) => (triggered = resolve));
    this.readyWait = this.watchReady(proc, triggered);
    // A server killed before it is ready makes this rejection expected; waitReady() reports it.
    this.readyWait.catch(() => {});
  }

  /** Wait until the current server answers GET /ready; returns trigger → ready (ms). */
  async waitReady(): Promise<number> {
    if (!this.readyWait) throw new Error("no server triggered");
    return this.readyWait;
  }

  /** Resolves once the last trigger has reached its process (its standby had loaded). */
  async whenTriggered(): Promise<void> {
    await this.triggerWait;
  }

  private async watchReady(proc: ManagedProcess, triggered: () => void): Promise<number> {
    await proc.waitFor("standby", { timeoutMs: this.opts.readyTimeoutMs ?? 60_000 });
    const t0 = Date.now();
    this.triggeredAt = t0;
    proc.signal("SIGUSR2");
    triggered();
    const deadline = t0 + (this.opts.readyTimeoutMs ?? 30_000);
    for (;;) {
      if (!proc.alive) throw new Error(`server exited before becoming ready\n${proc.dump()}`);
      try {
        const res = await fetch(`${this.url}/ready`, { signal: AbortSignal.timeout(1000) });
        // A 200 from the previous process is impossible: it is reaped before the trigger.
        if (res.status === 200 && proc.alive && this.current === proc) break;
      } catch {
        // not listening yet
      }
      if (Date.now() >= deadline) throw new DeadlineError(`server not ready ${Date.now() - t0} ms after the trigger\n${proc.dump()}`);
      await sleep(20);
    }
    const readyMs = Date.now() - t0;
    this.ready = true;
    this.readyTimes.push(readyMs);
    return readyMs;
  }

  /** The next ones load their modules while the current one serves. */
  private topUp(): void {
    while (this.standbys.length < (this.opts.standbys ?? 1)) this.standbys.push(this.spawnStandby());
  }

  /** SIGKILL (default) or another signal to the running server; waits until it is reaped. */
  async stop(sig: NodeJS.Signals = "SIGKILL"): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }> {
    const proc = this.current;
    if (!proc?.alive) return { code: proc?.exitInfo?.code ?? null, signal: proc?.exitInfo?.signal ?? null, ms: 0 };
    const t0 = Date.now();
    const exit = await proc.kill(sig, 15_000);
    return { ...exit, ms: Date.now() - t0 };
  }

  /** Stop the running server and the standby (the world reaps them anyway). */
  async dispose(sig: NodeJS.Signals = "SIGTERM") {
    const exit = await this.stop(sig);
    for (const standby of this.standbys.splice(0)) if (standby.alive) await standby.kill("SIGKILL");
    return exit;
  }

  call(kind: string, data: Record<string, unknown>): Promise<{ status: number; data: any }> {
    return this.handle.call(kind, data);
  }
}

// ---------------------------------------------------------------------------------------------
// Load

export interface LoadTarget {
  /** Address or group of the workers, e.g. "ours" → poll://any@ours. */
  target: string;
  /** Relative weight of this target in the mix. */
  weight: number;
}

export interface LoadOptions {
  url: string;
  /** Creates per second (each a new id). */
  rate: number;
  targets: LoadTarget[];
  /** Function cost range in ms (uniform). */
  costMs: [number, number];
  /** Attempts per id (the same id, so a retried create is idempotent), spaced by `retryDelayMs`. */
  attempts?: number;
  retryDelayMs?: number;
  idPrefix?: string;
}

export interface Invocation {
  id: string;
  target: string;
  cost: number;
  /** Test clock when the server first answered 200, if it ever did. */
  ackedAt?: number;
  attempts: number;
  lastError?: string;
}

/**
 * A steady load of `effect(id, cost)` invocations over raw HTTP (the same request `beginRpc` sends).
 * Each id is created once and retried on failure (a platform failure such as a refused connection
 * while the server is down); only a 200 counts as acknowledged.
 */
export class LoadGenerator {
  readonly invocations = new Map<string, Invocation>();
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private n = 0;

  constructor(private readonly opts: LoadOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Stops issuing new ids and waits for the ones in progress (their retries included). */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    await Promise.allSettled([...this.inFlight]);
  }

  get acked(): Invocation[] {
    return [...this.invocations.values()].filter((i) => i.ackedAt !== undefined);
  }

  get unacked(): Invocation[] {
    return [...this.invocations.values()].filter((i) => i.ackedAt === undefined);
  }

  private pickTarget(): string {
    const total = this.opts.targets.reduce((s, t) => s + t.weight, 0);
    let r = Math.random() * total;
    for (const t of this.opts.targets) {
      r -= t.weight;
      if (r <= 0) return t.target;
    }
    return this.opts.targets[this.opts.targets.length - 1]!.target;
  }

  private async run(): Promise<void> {
    const interval = 1000 / this.opts.rate;
    let next = Date.now();
    while (this.running) {
      const id = `${this.opts.idPrefix ?? "load"}-${++this.n}-${randomUUID().slice(0, 6)}`;
      const [lo, hi] = this.opts.costMs;
      const inv: Invocation = { id, target: this.pickTarget(), cost: Math.round(lo + Math.random() * (hi - lo)), attempts: 0 };
      this.invocations.set(id, inv);
      const p = this.create(inv).finally(() => this.inFlight.delete(p));
      this.inFlight.add(p);
      next += interval;
      const wait = next - Date.now();
      if (wait > 0) await sleep(wait);
      else next = Date.now();
    }
  }

  private async create(inv: Invocation): Promise<void> {
    const attempts = this.opts.attempts ?? 10;
    for (let i = 0; i < attempts; i++) {
      inv.attempts++;
      try {
        const res = await createInvocation(this.opts.url, inv.id, "effect", [inv.id, inv.cost], inv.target, { requestTimeoutMs: 5000 });
        if (res.status === 200) {
          inv.ackedAt = Date.now();
          return;
        }
        inv.lastError = `status ${res.status}`;
      } catch (e) {
        inv.lastError = String((e as Error).cause ?? e);
      }
      await sleep(this.opts.retryDelayMs ?? 300);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Workers

/** Our SDK's worker (examples' fixtures/sdk-worker.ts) in `group`; resolves once ready. */
export async function startOurWorker(w: World, url: string, opts: { label: string; group: string; ttl?: number; concurrency?: number; costFactor?: number }): Promise<ManagedProcess> {
  const p = spawnSdkWorker(w, url, opts);
  await p.waitFor("ready", { timeoutMs: 60_000 });
  return p;
}

/** The official SDK's effect worker (fixtures/effect-worker.mjs on Node 22); resolves once ready. */
export async function startOfficialEffectWorker(w: World, server: ServerHandle, opts: { label: string; group: string; ttl?: number }): Promise<ManagedProcess> {
  return w.startWorker({ ...opts, server, file: path.relative(path.join(REPO_ROOT, "packages", "e2e", "fixtures"), path.join(RELIABILITY_FIXTURES, "effect-worker.mjs")), readyTimeoutMs: 60_000 });
}

// ---------------------------------------------------------------------------------------------
// The database file

/** better-sqlite3 as the server package has it (the e2e package does not depend on it). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function openDatabase(file: string): any {
  const require = createRequire(path.join(REPO_ROOT, "packages", "server", "package.json"));
  const Database = require("better-sqlite3") as new (file: string, opts?: Record<string, unknown>) => unknown;
  return new Database(file, { fileMustExist: true });
}

export interface DbPromise {
  id: string;
  state: string;
  value: string;
  settled_at: number | null;
}
export interface DbTask {
  id: string;
  state: string;
  version: number;
  pid: string | null;
  ttl: number | null;
  timeout_type: number | null;
  timeout_at: number | null;
}

const PROMISE_STATES = new Set(["pending", "resolved", "rejected", "rejected_canceled", "rejected_timedout"]);
const TASK_STATES = new Set(["pending", "acquired", "suspended", "halted", "fulfilled"]);

/**
 * Reads the stopped server's database and lists every invariant violation found:
 *   promise states valid, settled_at present exactly when settled;
 *   acquired tasks have a lease (pid, ttl, timeout type 1 with a time); pending tasks have a retry
 *   timeout (type 0 with a time), so none can be stuck; fulfilled tasks have no timeout;
 *   the task of a settled promise is fulfilled, and a fulfilled task's promise is settled.
 */
export function inspectDatabase(file: string): { promises: Map<string, DbPromise>; tasks: Map<string, DbTask>; problems: string[]; outbox: number } {
  const db = openDatabase(file);
  try {
    const promises = new Map<string, DbPromise>();
    for (const row of db.prepare("SELECT id, state, value, settled_at FROM promises").all() as DbPromise[]) promises.set(row.id, row);
    const tasks = new Map<string, DbTask>();
    for (const row of db.prepare("SELECT id, state, version, pid, ttl, timeout_type, timeout_at FROM tasks").all() as DbTask[]) tasks.set(row.id, row);
    const outbox = (db.prepare("SELECT (SELECT COUNT(*) FROM outgoing_execute) + (SELECT COUNT(*) FROM outgoing_unblock) AS n").get() as { n: number }).n;
    const problems: string[] = [];
    for (const p of promises.values()) {
      if (!PROMISE_STATES.has(p.state)) problems.push(`promise ${p.id}: invalid state ${p.state}`);
      if ((p.state === "pending") !== (p.settled_at === null)) problems.push(`promise ${p.id}: state ${p.state} with settled_at ${p.settled_at}`);
    }
    for (const t of tasks.values()) {
      if (!TASK_STATES.has(t.state)) problems.push(`task ${t.id}: invalid state ${t.state}`);
      if (t.state === "acquired" && (t.pid === null || t.ttl === null || t.timeout_type !== 1 || t.timeout_at === null)) {
        problems.push(`task ${t.id}: acquired without a lease (pid ${t.pid}, ttl ${t.ttl}, timeout ${t.timeout_type}@${t.timeout_at})`);
      }
      if (t.state === "pending" && (t.timeout_type !== 0 || t.timeout_at === null)) problems.push(`task ${t.id}: pending without a retry timeout (${t.timeout_type}@${t.timeout_at})`);
      if (t.state === "fulfilled" && t.timeout_at !== null) problems.push(`task ${t.id}: fulfilled with a timeout at ${t.timeout_at}`);
      if (t.state !== "acquired" && (t.pid !== null || t.ttl !== null)) problems.push(`task ${t.id}: ${t.state} with lease fields pid ${t.pid} ttl ${t.ttl}`);
      const p = promises.get(t.id);
      if (!p) problems.push(`task ${t.id}: no promise`);
      else if (p.state !== "pending" && t.state !== "fulfilled") problems.push(`task ${t.id}: ${t.state} but its promise is ${p.state}`);
      else if (p.state === "pending" && t.state === "fulfilled") problems.push(`task ${t.id}: fulfilled but its promise is pending`);
    }
    return { promises, tasks, problems, outbox };
  } finally {
    db.close();
  }
}

/** Decode a stored Value (JSON text of {headers?, data?}) into the JSON value it carries. */
export function decodeStoredValue(valueJson: string): unknown {
  const v = JSON.parse(valueJson) as { data?: string };
  if (!v.data) return undefined;
  return JSON.parse(Buffer.from(v.data, "base64").toString("utf8"));
}

/** The server's JSON log lines (pino) of one server process. */
export function serverLog(proc: ManagedProcess | undefined): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const line of (proc?.stdout ?? "").split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a partial line
    }
  }
  return out;
}

type Call = (kind: string, data: Record<string, unknown>) => Promise<{ status: number; data: any }>;

/** Ids of every pending promise (promise.search, all pages). */
async function pendingIds(call: Call): Promise<Set<string>> {
  const out = new Set<string>();
  let cursor: string | undefined;
  for (;;) {
    const r = await call("promise.search", { state: "pending", limit: 1000, ...(cursor === undefined ? {} : { cursor }) });
    if (r.status !== 200) throw new Error(`promise.search answered ${r.status}: ${JSON.stringify(r.data)}`);
    for (const p of r.data.promises as Array<{ id: string }>) out.add(p.id);
    cursor = r.data.cursor;
    if (cursor === undefined) return out;
  }
}

/**
 * Wait until every id is settled (or the deadline); `onSettled` gets the first settled record read
 * for each. Returns the ids still unsettled (or missing, unless `ignoreMissing`) and the records read.
 */
export async function waitSettled(
  call: Call,
  ids: string[],
  opts: { timeoutMs: number; onSettled?: (id: string, promise: any) => void; ignoreMissing?: boolean },
): Promise<{ pending: string[]; records: Map<string, any> }> {
  const records = new Map<string, any>();
  let pending = [...ids];
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    let stillPending: Set<string> | undefined;
    try {
      stillPending = await pendingIds(call);
    } catch {
      // server busy or restarting: try again
    }
    if (stillPending) {
      const candidates = pending.filter((id) => !stillPending.has(id));
      const next = new Set(pending.filter((id) => stillPending.has(id)));
      // Read the newly settled ones (a few at a time) to keep their first settled record.
      for (let i = 0; i < candidates.length; i += 16) {
        await Promise.all(
          candidates.slice(i, i + 16).map(async (id) => {
            const r = await call("promise.get", { id }).catch(() => undefined);
            if (r?.status === 200 && r.data.promise.state !== "pending") {
              records.set(id, r.data.promise);
              opts.onSettled?.(id, r.data.promise);
            } else if (r?.status === 404 && opts.ignoreMissing) {
              // never created: nothing to wait for
            } else {
              next.add(id); // missing (404) or read failed: keep asking until the deadline
            }
          }),
        );
      }
      pending = ids.filter((id) => next.has(id));
    }
    if (pending.length === 0 || Date.now() >= deadline) return { pending, records };
    await sleep(250);
  }
}
