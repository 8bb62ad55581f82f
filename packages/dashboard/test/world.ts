import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "@resonate-compat/testkit";

// What the browser tests look at: a real server process (from source, on a SQLite file of a fresh
// temp dir, serving the built dashboard) and real workers of the example (packages/examples). Each
// process is node itself with tsx as a loader, so its pid is the one to signal (the tsx CLI would
// fork a child that a SIGKILL misses). Waits are for output or answers, with deadlines.

export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const TSX_LOADER = path.join(REPO_ROOT, "node_modules", "tsx", "dist", "loader.mjs");
const SERVER_MAIN = path.join(REPO_ROOT, "packages", "server", "src", "main.ts");
const WORKER_MAIN = path.join(REPO_ROOT, "packages", "examples", "src", "worker.ts");

export class Proc {
  output = "";
  exited = false;
  readonly exit: Promise<void>;

  constructor(
    readonly label: string,
    readonly child: ChildProcess,
  ) {
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (this.output += chunk));
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (this.output += chunk));
    this.exit = new Promise((resolve) => child.on("exit", () => ((this.exited = true), resolve())));
  }

  /** Resolves with the first line matching `pattern`; fails after `ms` with what the process printed. */
  async line(pattern: RegExp, ms = 30_000): Promise<string> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.output.split("\n").find((l) => pattern.test(l));
      if (found) return found;
      if (this.exited) throw new Error(`${this.label} exited before printing ${pattern}:\n${this.output}`);
      if (Date.now() > deadline) throw new Error(`${this.label} did not print ${pattern} within ${ms} ms:\n${this.output}`);
      await sleep(50);
    }
  }

  async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    if (!this.exited) this.child.kill(signal);
    await this.exit;
  }
}

export interface Worker {
  proc: Proc;
  /** The worker's process id in the protocol (what the dashboard shows). */
  pid: string;
  /** The OS process running it. */
  osPid: number;
}

export class World {
  readonly dir = mkdtempSync(path.join(tmpdir(), "dashboard-test-"));
  private readonly procs: Proc[] = [];
  url = "";

  /**
   * Starts a server on a free port, on a SQLite file of the temp dir unless `args` name another
   * storage; resolves with its URL when GET /ready answers 200. The first one started is `url`.
   */
  async startServer(args: string[] = []): Promise<string> {
    const port = await freePort();
    const storage = args.includes("--storage-type") ? [] : ["--db", path.join(this.dir, "resonate.db")];
    const proc = this.track(
      "server",
      spawn(process.execPath, ["--import", TSX_LOADER, SERVER_MAIN, "--host", "127.0.0.1", "--port", String(port), ...storage, "--log-level", "warn", ...args], {
        cwd: REPO_ROOT,
        env: cleanEnv(),
        stdio: ["ignore", "pipe", "pipe"],
      }),
    );
    const url = `http://127.0.0.1:${port}`;
    this.url ||= url;
    await until(async () => (await fetch(`${url}/ready`).catch(() => undefined))?.status === 200, 30_000, () => `server not ready:\n${proc.output}`);
    return url;
  }

  /** Starts a worker of the group "workers" (the example) on `url`; resolves when it is connected. */
  async startWorker(args: string[] = [], url = this.url): Promise<Worker> {
    const proc = this.track(
      "worker",
      spawn(process.execPath, ["--import", TSX_LOADER, WORKER_MAIN, "--json", ...args], {
        cwd: REPO_ROOT,
        env: { ...cleanEnv(), RESONATE_URL: url },
        stdio: ["ignore", "pipe", "pipe"],
      }),
    );
    const ready = JSON.parse(await proc.line(/"event":"ready"/)) as { pid: string; osPid: number };
    if (ready.osPid !== proc.child.pid) throw new Error(`the worker runs as ${ready.osPid}, not as the process started (${proc.child.pid})`);
    return { proc, pid: ready.pid, osPid: ready.osPid };
  }

  /** One protocol request; throws unless it answers 200. */
  async call<T = any>(kind: string, data: object): Promise<T> {
    const response = await fetch(`${this.url}/`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ kind, head: { corrId: `t${Math.random()}`, version: "2026-04-01" }, data }),
    });
    const body = (await response.json()) as { head: { status: number }; data: T };
    if (body.head.status !== 200) throw new Error(`${kind} answered ${body.head.status}: ${JSON.stringify(body.data)}`);
    return body.data;
  }

  /** Starts computeSomething(id, cost) on any worker of the group, as an SDK's beginRpc would. */
  async invoke(id: string, cost: number): Promise<void> {
    const param = { data: Buffer.from(JSON.stringify({ func: "computeSomething", args: [id, cost], version: 1 })).toString("base64") };
    const tags = { "resonate:origin": id, "resonate:branch": id, "resonate:parent": id, "resonate:scope": "global", "resonate:target": "poll://any@workers" };
    await this.call("promise.create", { id, timeoutAt: Date.now() + 3_600_000, param, tags });
  }

  async promise(id: string): Promise<{ state: string; value: { data?: string }; tags: Record<string, string> }> {
    return (await this.call<{ promise: any }>("promise.get", { id })).promise;
  }

  async admin<T = any>(pathAndQuery: string): Promise<T> {
    const response = await fetch(`${this.url}/admin/${pathAndQuery}`);
    if (!response.ok) throw new Error(`/admin/${pathAndQuery} answered ${response.status}`);
    return (await response.json()) as T;
  }

  /** Kills every process (SIGKILL) and removes the temp dir. */
  async close(): Promise<void> {
    await Promise.all(this.procs.map((p) => p.kill()));
    rmSync(this.dir, { recursive: true, force: true });
  }

  private track(label: string, child: ChildProcess): Proc {
    const proc = new Proc(label, child);
    this.procs.push(proc);
    return proc;
  }
}

/** Our environment minus anything that would point a server or worker elsewhere. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith("RESONATE_")) delete env[key];
  return env;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits until `check` holds; fails after `ms` with `what()`. */
export async function until(check: () => boolean | Promise<boolean>, ms: number, what: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what()}`);
    await sleep(100);
  }
}
