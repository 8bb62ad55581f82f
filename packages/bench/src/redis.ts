// A Redis for the BullMQ runs: the machine's `redis-server` (Debian's 7.0 here) as one child process
// on a free loopback port, with its own folder in the run dir, persisting the way BullMQ's docs ask
// for production (AOF, fsync once a second), stopped by pid (SIGTERM: it flushes the AOF and exits).
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { Child, DeadlineError, childEnv, sleep } from "./procs";
import { freePort } from "./server";

/** How this Redis persists. AOF with `appendfsync everysec` is what the comparison is stated for. */
export const REDIS_PERSISTENCE = {
  appendonly: "yes",
  appendfsync: "everysec",
  // No RDB snapshots beside the AOF: Redis's built-in save points would fork a snapshot in the
  // middle of a throughput run, a cost the AOF set-up being compared does not ask for.
  save: "",
} as const;

/**
 * The redis-server binary (BENCH_REDIS_SERVER, else `redis-server` on PATH), or undefined when there
 * is none: the bench then skips BullMQ with one line instead of failing.
 */
export function findRedisServer(): string | undefined {
  const asked = process.env.BENCH_REDIS_SERVER;
  if (asked) return isExecutable(asked) ? asked : undefined;
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, "redis-server");
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** "7.0.15" from `redis-server --version` ("Redis server v=7.0.15 sha=…"), or undefined. */
export function redisVersion(binary: string): string | undefined {
  try {
    return /v=(\S+)/.exec(execFileSync(binary, ["--version"], { encoding: "utf8" }))?.[1];
  } catch {
    return undefined;
  }
}

export interface BenchRedis {
  host: "127.0.0.1";
  port: number;
  /** `redis://127.0.0.1:<port>`: what the BullMQ children get as BENCH_URL. */
  url: string;
  child: Child;
  args: string[];
  stop(): Promise<void>;
}

/**
 * Starts redis-server in `<dir>/<label>/` (its AOF folder goes there) on a free loopback port and
 * waits until it answers PING. Options are Redis config directives, added after the defaults here.
 */
export async function startRedis(dir: string, o: { binary: string; label?: string; extraConfig?: Record<string, string> }): Promise<BenchRedis> {
  const label = o.label ?? "redis";
  const dataDir = path.join(dir, label);
  fs.mkdirSync(dataDir, { recursive: true });
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const config: Record<string, string> = {
      port: String(port),
      bind: "127.0.0.1",
      "protected-mode": "yes",
      dir: dataDir,
      ...REDIS_PERSISTENCE,
      daemonize: "no",
      logfile: "", // stdout, which goes to the run dir's log
      ...o.extraConfig,
    };
    const args = Object.entries(config).flatMap(([k, v]) => [`--${k}`, v]);
    const child = new Child(label, o.binary, args, { env: childEnv(), logFile: path.join(dir, `${label}.log`), nodeArgs: false });
    try {
      await waitForPong(port, child, 15_000);
      return { host: "127.0.0.1", port, url: `redis://127.0.0.1:${port}`, child, args, stop: () => child.stop("SIGTERM", 10_000) };
    } catch (e) {
      await child.stop("SIGKILL");
      // The free port can be taken between freePort() and Redis's bind: try another.
      if (attempt >= 2 || !/Address already in use/i.test(child.dump())) throw e;
    }
  }
}

async function waitForPong(port: number, child: Child, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!child.alive) throw new Error(`redis-server exited before answering PING\n${child.dump()}`);
    if (await ping(port)) return;
    if (Date.now() >= deadline) throw new DeadlineError(`redis-server did not answer PING within ${timeoutMs} ms\n${child.dump()}`);
    await sleep(50);
  }
}

/** One PING over a fresh connection: true on +PONG (a Redis still loading answers -LOADING). */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    let reply = "";
    const finish = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => finish(false));
    socket.on("error", () => finish(false));
    socket.on("connect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk) => {
      reply += chunk.toString("utf8");
      if (reply.includes("\r\n")) finish(reply.startsWith("+PONG"));
    });
  });
}
