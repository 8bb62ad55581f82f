// Shared helpers of the robustness tests: the server as a real child process (the CLI), temporary
// folders that are removed afterwards, raw HTTP, memory readings and the database invariants.

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";

const here = dirname(fileURLToPath(import.meta.url));
/** packages/server */
export const SERVER_ROOT = resolve(here, "..", "..");
/** The repository root (its node_modules holds tsx). */
export const REPO_ROOT = resolve(SERVER_ROOT, "..", "..");
export const MAIN = join(SERVER_ROOT, "src", "main.ts");

export const PROTOCOL_VERSION = "2026-04-01";

// ---------------------------------------------------------------------------------------------
// Temporary folders

const tempDirs: string[] = [];

export function tempDir(prefix = "robustness-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/** Removes the folders made by tempDir (call in afterAll). Kept when KEEP_TEMP=1. */
export function removeTempDirs(): void {
  if (process.env["KEEP_TEMP"] === "1") return;
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------
// The server as a child process

export interface LogLine {
  level?: number;
  msg?: string;
  [key: string]: unknown;
}

export interface ChildServer {
  proc: ChildProcess;
  pid: number;
  /** Set once the "server listening" line was seen. */
  url: string;
  /** Every line written to stdout and stderr, in order. */
  lines: string[];
  /** stdout lines that parse as JSON log records. */
  logs(): LogLine[];
  /** Resolves with the exit code (or the signal name) when the process ends. */
  exited: Promise<number | string>;
  exitCode(): number | string | undefined;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
  stop(graceMs?: number): Promise<number | string>;
  output(): string;
}

const children = new Set<ChildProcess>();

/** Kills every child this module spawned that is still alive (call in afterEach/afterAll). */
export async function killChildren(): Promise<void> {
  const waits: Promise<unknown>[] = [];
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      waits.push(new Promise((r) => child.once("exit", r)));
      child.kill("SIGKILL");
    }
  }
  children.clear();
  await Promise.all(waits);
}

export interface SpawnOptions {
  /** Wait for the "server listening" line (default true). */
  waitListening?: boolean;
  /** Deadline for the listening line, or for the exit when not waiting (default 20 s). */
  timeoutMs?: number;
  env?: Record<string, string>;
  /** Extra node flags, e.g. --max-old-space-size=256. */
  nodeArgs?: string[];
  /** The entry point: src/main.ts through tsx by default; a .js file (the build) runs as it is. */
  main?: string;
  /** Runs `command args…` instead of node directly (e.g. unshare … sh -c). Receives the node argv. */
  wrap?: (argv: string[]) => { command: string; args: string[] };
}

/**
 * Starts `node --import tsx src/main.ts <args>` (or `node <options.main> <args>`) with process.execPath (no npx wrapper that could
 * swallow a kill). With waitListening, resolves once the "server listening" line (info level:
 * pass a --log-level of info or lower) names the URL; rejects with both streams if the process
 * exits first or the deadline passes.
 */
export async function spawnServer(args: string[], options: SpawnOptions = {}): Promise<ChildServer> {
  const { waitListening = true, timeoutMs = 20_000 } = options;
  const main = options.main ?? MAIN;
  const argv = [...(options.nodeArgs ?? []), ...(main.endsWith(".ts") ? ["--import", "tsx"] : []), main, ...args];
  const { command, args: finalArgs } = options.wrap ? options.wrap([process.execPath, ...argv]) : { command: process.execPath, args: argv };
  const proc = spawn(command, finalArgs, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...options.env, NODE_OPTIONS: "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(proc);
  const lines: string[] = [];
  let code: number | string | undefined;
  const exited = new Promise<number | string>((resolveExit) => {
    proc.once("exit", (c, signal) => {
      code = c ?? signal ?? "unknown";
      children.delete(proc);
      resolveExit(code);
    });
  });
  const collect = (stream: NodeJS.ReadableStream) => {
    let buffer = "";
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        lines.push(buffer.slice(0, nl));
        buffer = buffer.slice(nl + 1);
      }
    });
    stream.on("end", () => {
      if (buffer !== "") lines.push(buffer);
      buffer = "";
    });
  };
  collect(proc.stdout!);
  collect(proc.stderr!);

  const server: ChildServer = {
    proc,
    pid: proc.pid ?? -1,
    url: "",
    lines,
    logs: () =>
      lines.flatMap((line) => {
        try {
          const parsed = JSON.parse(line) as unknown;
          return parsed && typeof parsed === "object" ? [parsed as LogLine] : [];
        } catch {
          return [];
        }
      }),
    exited,
    exitCode: () => code,
    async stop(graceMs = 10_000) {
      if (code !== undefined) return code;
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), graceMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
    output: () => lines.join("\n"),
  };

  if (!waitListening) return server;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const listening = server.logs().find((l) => l.msg === "server listening" && typeof l["url"] === "string");
    if (listening) {
      server.url = listening["url"] as string;
      return server;
    }
    if (code !== undefined) throw new Error(`server exited (${code}) before listening:\n${server.output()}`);
    if (Date.now() > deadline) {
      proc.kill("SIGKILL");
      throw new Error(`server did not listen within ${timeoutMs} ms:\n${server.output()}`);
    }
    await sleep(20);
  }
}

/** Waits for the process to exit, or kills it and throws after the deadline. */
export async function waitExit(server: ChildServer, timeoutMs = 20_000): Promise<number | string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      server.proc.kill("SIGKILL");
      reject(new Error(`process did not exit within ${timeoutMs} ms:\n${server.output()}`));
    }, timeoutMs);
  });
  try {
    return await Promise.race([server.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------
// Memory of a process (Linux /proc)

export interface ProcMemory {
  /** Resident set size now, bytes. */
  rss: number;
  /** Peak resident set size since start (VmHWM), bytes. */
  hwm: number;
}

export function procMemory(pid: number): ProcMemory | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (name: string) => Number(/^(\w+):\s+(\d+) kB/m.exec(status.split("\n").find((l) => l.startsWith(`${name}:`)) ?? "")?.[2] ?? NaN) * 1024;
    return { rss: kb("VmRSS"), hwm: kb("VmHWM") };
  } catch {
    return undefined;
  }
}

export const mib = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;

// ---------------------------------------------------------------------------------------------
// HTTP

export interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

export async function post(url: string, body: string | Uint8Array, headers: Record<string, string> = {}): Promise<RawResponse> {
  const res = await fetch(`${url}/`, { method: "POST", body, headers });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

let corr = 0;
export function envelope(kind: string, data: unknown, head: Record<string, unknown> = {}): Record<string, unknown> {
  return { kind, head: { corrId: `r-${++corr}`, version: PROTOCOL_VERSION, ...head }, data };
}

export async function call(url: string, kind: string, data: unknown, head: Record<string, unknown> = {}): Promise<RawResponse> {
  return post(url, JSON.stringify(envelope(kind, data, head)), { "content-type": "application/json" });
}

export async function health(url: string, timeoutMs = 5000): Promise<number> {
  const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(timeoutMs) });
  await res.arrayBuffer();
  return res.status;
}

/**
 * Sends one GET and reports the status line and headers, then drops the connection (an SSE
 * stream would otherwise stay open). `raw` paths are sent as given, without normalisation.
 */
export function peek(url: string, path: string, options: { method?: string; headers?: Record<string, string>; timeoutMs?: number } = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string } | { error: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolvePeek) => {
    let done = false;
    const finish = (value: { status: number; headers: http.IncomingHttpHeaders; body: string } | { error: string }) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.destroy();
      resolvePeek(value);
    };
    const req = http.request({ host: hostname, port: Number(port), path, method: options.method ?? "GET", headers: options.headers ?? {}, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
        if (body.length > 4096) finish({ status: res.statusCode ?? 0, headers: res.headers, body });
      });
      res.on("end", () => finish({ status: res.statusCode ?? 0, headers: res.headers, body }));
      // A stream stays open: what arrived within a moment is enough.
      if (String(res.headers["content-type"] ?? "").startsWith("text/event-stream")) {
        setTimeout(() => finish({ status: res.statusCode ?? 0, headers: res.headers, body }), 20);
      }
    });
    const timer = setTimeout(() => finish({ error: "timeout" }), options.timeoutMs ?? 5000);
    req.on("error", (error) => finish({ error: error.message }));
    req.end();
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function eventually(predicate: () => boolean | Promise<boolean>, timeoutMs = 5000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

// ---------------------------------------------------------------------------------------------
// Database invariants (after the server has closed the file)

const PROMISE_STATES = new Set(["pending", "resolved", "rejected", "rejected_canceled", "rejected_timedout"]);
const TASK_STATES = new Set(["pending", "acquired", "suspended", "halted", "fulfilled"]);

function isStringMap(v: unknown): boolean {
  return typeof v === "object" && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === "string");
}

function isValue(v: unknown): boolean {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const o = v as Record<string, unknown>;
  if ("headers" in o && !isStringMap(o["headers"])) return false;
  if ("data" in o && typeof o["data"] !== "string") return false;
  return Object.keys(o).every((k) => k === "headers" || k === "data");
}

export interface DbReport {
  integrity: string;
  counts: Record<string, number>;
  /** Every broken invariant, one line each (capped per rule). */
  problems: string[];
}

/**
 * Opens the file read-only and checks it: SQLite's own integrity and foreign keys, then the
 * protocol's invariants, i.e. that no transaction was left half-written (spec §3, §5).
 */
export function checkDatabase(path: string): DbReport {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  const problems: string[] = [];
  const perRule = new Map<string, number>();
  const problem = (rule: string, detail: string) => {
    const n = (perRule.get(rule) ?? 0) + 1;
    perRule.set(rule, n);
    if (n <= 5) problems.push(`${rule}: ${detail}`);
    else if (n === 6) problems.push(`${rule}: … more`);
  };
  try {
    const integrity = (db.pragma("integrity_check") as { integrity_check: string }[]).map((r) => r.integrity_check).join("; ");
    for (const fk of db.pragma("foreign_key_check") as unknown[]) problem("foreign key", JSON.stringify(fk));

    const counts: Record<string, number> = {};
    for (const table of ["promises", "tasks", "callbacks", "listeners", "outgoing_execute", "outgoing_unblock", "schedules"]) {
      counts[table] = (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    }

    const short = (id: unknown) => JSON.stringify(String(id).slice(0, 60));
    const promises = new Map<string, { state: string; tags: Record<string, string> | undefined }>();
    for (const row of db.prepare("SELECT *, typeof(timeout_at) AS tt, typeof(created_at) AS tc, typeof(settled_at) AS ts FROM promises").all() as Record<string, any>[]) {
      const id = short(row["id"]);
      if (!PROMISE_STATES.has(row["state"])) problem("promise state", `${id} ${row["state"]}`);
      let tags: Record<string, string> | undefined;
      for (const column of ["param", "value", "tags"]) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(row[column]);
        } catch {
          problem("promise JSON", `${id}.${column} does not parse`);
          continue;
        }
        if (column === "tags") {
          if (!isStringMap(parsed)) problem("promise tags", `${id} tags not a string map`);
          else tags = parsed as Record<string, string>;
        } else if (!isValue(parsed)) problem("promise value", `${id}.${column} is not a Value: ${String(row[column]).slice(0, 80)}`);
      }
      if (row["tt"] !== "integer" || row["tc"] !== "integer") problem("promise times", `${id} timeout_at ${row["tt"]}, created_at ${row["tc"]}`);
      if (row["state"] === "pending" && row["settled_at"] !== null) problem("promise settled_at", `${id} pending with settled_at`);
      if (row["state"] !== "pending" && row["ts"] !== "integer") problem("promise settled_at", `${id} ${row["state"]} without settled_at`);
      if (tags) {
        if ((tags["resonate:target"] ?? null) !== row["target"]) problem("promise target column", `${id} target column ≠ tag`);
        if ((tags["resonate:branch"] ?? null) !== row["branch"]) problem("promise branch column", `${id} branch column ≠ tag`);
      }
      promises.set(row["id"], { state: row["state"], tags });
    }

    const tasks = new Set<string>();
    for (const row of db.prepare("SELECT *, typeof(timeout_at) AS tt FROM tasks").all() as Record<string, any>[]) {
      const id = short(row["id"]);
      tasks.add(row["id"]);
      const promise = promises.get(row["id"]);
      if (!promise) {
        problem("task without promise", id);
        continue;
      }
      const state = row["state"];
      if (!TASK_STATES.has(state)) problem("task state", `${id} ${state}`);
      if (!Number.isInteger(row["version"]) || row["version"] < 0) problem("task version", `${id} ${row["version"]}`);
      if (state === "pending" && !(row["timeout_type"] === 0 && row["tt"] === "integer")) problem("pending task without retry timeout", `${id} type=${row["timeout_type"]} at=${row["timeout_at"]}`);
      if (state === "acquired" && !(row["timeout_type"] === 1 && row["tt"] === "integer" && row["pid"] !== null && Number.isInteger(row["ttl"]) && row["ttl"] > 0)) problem("acquired task without lease", `${id}`);
      if (state !== "acquired" && (row["pid"] !== null || row["ttl"] !== null)) problem("lease fields outside acquired", `${id} ${state}`);
      if ((state === "suspended" || state === "halted" || state === "fulfilled") && row["timeout_at"] !== null) problem("timeout on an idle task", `${id} ${state}`);
      if (state === "fulfilled" && promise.state === "pending") problem("fulfilled task of a pending promise", id);
      if (state !== "fulfilled" && promise.state !== "pending") problem("live task of a settled promise", `${id} task ${state}, promise ${promise.state}`);
      if (promise.tags && promise.tags["resonate:target"] === undefined) problem("task without target", id);
    }
    for (const [id, promise] of promises) {
      if (promise.tags?.["resonate:target"] !== undefined && !tasks.has(id)) problem("promise with target but no task", short(id));
    }

    for (const row of db.prepare("SELECT * FROM callbacks").all() as Record<string, any>[]) {
      if (!promises.has(row["awaited"])) problem("callback on a missing promise", short(row["awaited"]));
      if (!tasks.has(row["awaiter"])) problem("callback of an awaiter without task", short(row["awaiter"]));
    }
    for (const row of db.prepare("SELECT * FROM listeners").all() as Record<string, any>[]) {
      const promise = promises.get(row["promise_id"]);
      if (!promise) problem("listener on a missing promise", short(row["promise_id"]));
      else if (promise.state !== "pending") problem("listener left on a settled promise", short(row["promise_id"]));
    }
    for (const row of db.prepare("SELECT * FROM outgoing_execute").all() as Record<string, any>[]) {
      if (!tasks.has(row["task_id"])) problem("queued execute of a missing task", short(row["task_id"]));
    }
    for (const row of db.prepare("SELECT * FROM schedules").all() as Record<string, any>[]) {
      const id = short(row["id"]);
      for (const column of ["promise_param", "promise_tags"]) {
        try {
          JSON.parse(row[column]);
        } catch {
          problem("schedule JSON", `${id}.${column} does not parse`);
        }
      }
      if (!Number.isInteger(row["next_run_at"])) problem("schedule next_run_at", `${id} ${row["next_run_at"]}`);
      if (row["last_run_at"] !== null && !(row["last_run_at"] < row["next_run_at"])) problem("schedule run times", `${id} last ${row["last_run_at"]} ≥ next ${row["next_run_at"]}`);
    }
    return { integrity, counts, problems };
  } finally {
    db.close();
  }
}
