// Our server as one child process (Node 20, `--import tsx`), on a free port, with a fresh database
// in the run's temp dir and `--log-level warn`.
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { Child, DeadlineError, REPO_ROOT, TSX_LOADER, childEnv, sleep } from "./procs";

export const SERVER_MAIN = process.env.BENCH_SERVER_MAIN ?? path.join(REPO_ROOT, "packages", "server", "src", "main.ts");

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

/** Extra server flags for every server of the run, e.g. BENCH_SERVER_ARGS="--timeouts-interval 5000" to try a setting. */
export const EXTRA_SERVER_ARGS = (process.env.BENCH_SERVER_ARGS ?? "").split(/\s+/).filter(Boolean);

/** When set (pnpm bench --profile), servers run with V8's --cpu-prof and write their profile here on exit. */
let profileDir: string | undefined;
export function profileServersInto(dir: string | undefined): void {
  profileDir = dir;
}

export interface BenchServer {
  url: string;
  child: Child;
  args: string[];
  stop(): Promise<void>;
}

/** Starts a server and waits for GET /ready; `extraArgs` are server flags (e.g. --max-connections). */
export async function startServer(dir: string, extraArgs: string[] = [], label = "server"): Promise<BenchServer> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const flags = ["--host", "127.0.0.1", "--port", String(port), "--db", path.join(dir, `${label}.db`), "--log-level", "warn", ...extraArgs, ...EXTRA_SERVER_ARGS];
    const prof = profileDir ? ["--cpu-prof", "--cpu-prof-dir", profileDir] : [];
    const child = new Child(label, process.execPath, [...prof, "--import", TSX_LOADER, SERVER_MAIN, ...flags], {
      env: childEnv(),
      logFile: path.join(dir, `${label}.log`),
    });
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitReady(url, child, 30_000);
      return { url, child, args: flags, stop: () => child.stop("SIGTERM", 10_000) };
    } catch (e) {
      await child.stop("SIGKILL");
      if (attempt >= 2 || !child.dump().includes("EADDRINUSE")) throw e;
    }
  }
}

async function waitReady(url: string, child: Child, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!child.alive) throw new Error(`server exited before becoming ready\n${child.dump()}`);
    try {
      const res = await fetch(`${url}/ready`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() >= deadline) throw new DeadlineError(`server not ready after ${timeoutMs} ms\n${child.dump()}`);
    await sleep(50);
  }
}

/**
 * The server's warnings and errors of a run, counted by message (its log is JSON lines, pino
 * levels: 40 warn, 50 error, 60 fatal). A healthy run has none; "poll stream disconnected" or
 * "message dropped" explain a bad latency figure.
 */
export function serverWarnings(dir: string, label = "server"): Record<string, number> {
  const counts: Record<string, number> = {};
  let text = "";
  try {
    text = fs.readFileSync(path.join(dir, `${label}.log`), "utf8");
  } catch {
    return counts;
  }
  for (const line of text.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      const entry = JSON.parse(line) as { level?: number; msg?: string };
      if ((entry.level ?? 0) >= 40) counts[entry.msg ?? "?"] = (counts[entry.msg ?? "?"] ?? 0) + 1;
    } catch {
      // not a log line
    }
  }
  return counts;
}

export function formatWarnings(counts: Record<string, number> | undefined): string {
  if (!counts) return "–";
  const entries = Object.entries(counts);
  const short = (msg: string) => (msg.length > 40 ? `${msg.slice(0, 39)}…` : msg);
  return entries.length === 0 ? "none" : entries.map(([msg, n]) => `${n}× ${short(msg)}`).join("; ");
}
