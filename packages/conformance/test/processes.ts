// Real processes for the kit's tests: our server (SQLite or PostgreSQL replicas) and the kit itself.
// Every process is started in its own process group and killed by that group's id.
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort } from "@resonate-compat/testkit";
import { REPO_ROOT } from "../src/paths.js";

const SERVER_MAIN = path.join(REPO_ROOT, "packages", "server", "src", "main.ts");
const TSX_LOADER = path.join(REPO_ROOT, "node_modules", "tsx", "dist", "loader.mjs");

export interface Proc {
  child: ChildProcess;
  /** Both streams, in arrival order. */
  output(): string;
  stdout(): string;
  exited: Promise<number | null>;
  kill(): Promise<void>;
}

export function start(command: string, args: string[], env: NodeJS.ProcessEnv = {}): Proc {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("RESONATE_") && !k.startsWith("VITEST") && k !== "NODE_OPTIONS"));
  const child = spawn(command, args, { cwd: REPO_ROOT, env: { ...clean, ...env }, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let out = "";
  let stdout = "";
  child.stdout!.setEncoding("utf8").on("data", (c: string) => {
    out += c;
    stdout += c;
  });
  child.stderr!.setEncoding("utf8").on("data", (c: string) => (out += c));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  let done = false;
  void exited.then(() => (done = true));
  return {
    child,
    output: () => out,
    stdout: () => stdout,
    exited,
    async kill() {
      if (done || child.pid === undefined) return;
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
      await exited;
    },
  };
}

async function waitReady(url: string, proc: Proc): Promise<void> {
  const deadline = Date.now() + 30_000;
  let gone = false;
  void proc.exited.then(() => (gone = true));
  for (;;) {
    if (gone) throw new Error(`server exited before becoming ready:\n${proc.output()}`);
    try {
      if ((await fetch(`${url}/ready`, { signal: AbortSignal.timeout(1000) })).status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`server not ready after 30 s:\n${proc.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Our server as a process; `args` after the port (e.g. --debug, storage flags). */
export async function startServer(args: string[], port?: number): Promise<{ url: string; proc: Proc }> {
  const p = port ?? (await freePort());
  const proc = start(process.execPath, ["--import", TSX_LOADER, SERVER_MAIN, "--host", "127.0.0.1", "--port", String(p), "--log-level", "warn", ...args]);
  const url = `http://127.0.0.1:${p}`;
  await waitReady(url, proc);
  return { url, proc };
}

export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "resonate-conformance-"));
}

export interface KitRun {
  code: number | null;
  output: string;
  /** stdout alone: the JSON report with --json. */
  stdout: string;
  ms: number;
}

/** Runs the kit as a process — through `pnpm conformance` when `viaPnpm`, as a user would. */
export async function runKit(args: string[], opts: { viaPnpm?: boolean; timeoutMs?: number } = {}): Promise<KitRun> {
  const started = Date.now();
  const proc = opts.viaPnpm
    ? start("pnpm", ["conformance", ...args])
    : start(process.execPath, ["--import", TSX_LOADER, path.join(REPO_ROOT, "packages", "conformance", "src", "main.ts"), ...args]);
  const timer = setTimeout(() => void proc.kill(), opts.timeoutMs ?? 120_000);
  const code = await proc.exited;
  clearTimeout(timer);
  const ms = Date.now() - started;
  // Shown in the test output: the report is the useful diagnostic when an assertion fails.
  process.stdout.write(`[conformance] ${args.join(" ")} → exit ${code} in ${(ms / 1000).toFixed(1)} s\n${proc.output()}\n`);
  return { code, output: proc.output(), stdout: proc.stdout(), ms };
}

/** The numbers of the final summary line. */
export function summary(output: string): { passed: number; failed: number; skipped: number } | undefined {
  const m = /^(\d+) passed, (\d+) failed, (\d+) skipped/m.exec(output);
  return m ? { passed: Number(m[1]), failed: Number(m[2]), skipped: Number(m[3]) } : undefined;
}
