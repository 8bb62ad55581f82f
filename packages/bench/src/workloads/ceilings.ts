// Ceilings, measured in the same run as the workloads: what this machine allows for the two things
// every invocation is made of — an HTTP JSON request (bare Fastify echo, same Fastify version as the
// server, same load generator) and a durable one-row SQLite commit (server pragmas). Our server's
// own promise.create / promise.get rates with that same client sit between the two.
import path from "node:path";
import { type BenchContext, type Ceilings, type WorkloadOutput, disposeDir, runChild, stopAll } from "../context";
import { childProgram } from "../build";
import { Child, childEnv, makeRunDir } from "../procs";
import { type BenchServer, startServer } from "../server";
import { round } from "../stats";

const CONCURRENCY = 32;

interface LoadResult {
  rate: number;
  p50: number;
  p99: number;
  errors: number;
  requests: number;
}

/** How long each load measurement runs, after how long a warm-up (the same for every ceiling). */
function loadTimes(ctx: BenchContext): { durationMs: number; warmupMs: number } {
  return ctx.smoke ? { durationMs: 400, warmupMs: 300 } : { durationMs: 3000, warmupMs: 2000 };
}

/** Runs `fn` against a bare Fastify echo server (a child process), which is stopped afterwards. */
async function withEchoServer<T>(dir: string, fn: (url: string) => Promise<T>): Promise<T> {
  const echoServer = new Child("echo-server", process.execPath, childProgram("echo-server.ts"), {
    env: childEnv(),
    logFile: path.join(dir, "echo-server.log"),
  });
  try {
    const [ready] = await echoServer.waitFor("ready", 30_000);
    return await fn(`http://127.0.0.1:${ready!.port as number}`);
  } finally {
    await echoServer.stop("SIGKILL");
  }
}

/**
 * The echo rate (32 in flight) measured again next to a workload, in its run dir: this VM's speed
 * drifts by tens of percent within minutes, so a ratio to a ceiling measured minutes earlier says as
 * much about the drift as about the server. Same load generator and durations as the ceilings.
 */
export async function measureEchoRate(ctx: BenchContext, dir: string, label: string): Promise<number> {
  const { durationMs, warmupMs } = loadTimes(ctx);
  ctx.log(`${label}: echo ceiling next to the run (${CONCURRENCY} in flight, ${durationMs} ms)`);
  return withEchoServer(dir, async (url) => {
    const m = await runChild("loadgen.ts", { url, body: "echo", concurrency: CONCURRENCY, durationMs, warmupMs }, { dir, label: `${label.replace(/\W+/g, "-")}-echo`, timeoutMs: durationMs + warmupMs + 30_000 });
    return Math.round(m.rate as number);
  });
}

export async function measureCeilings(ctx: BenchContext): Promise<{ ceilings: Ceilings; output: WorkloadOutput }> {
  const { durationMs: duration, warmupMs: warmup } = loadTimes(ctx);
  const dir = makeRunDir("ceilings");
  const problems: string[] = [];
  let server: BenchServer | undefined;
  let failed = true;
  try {
    const load = async (url: string, body: string, concurrency: number, label: string, getId?: string): Promise<LoadResult> => {
      ctx.log(`ceilings: ${label} (${concurrency} in flight, ${duration} ms)`);
      const m = await runChild("loadgen.ts", { url, body, concurrency, durationMs: duration, warmupMs: warmup, getId }, { dir, label, timeoutMs: duration + warmup + 30_000 });
      const r = { rate: m.rate as number, p50: m.p50 as number, p99: m.p99 as number, errors: m.errors as number, requests: m.requests as number };
      if (r.errors > 0) problems.push(`${label}: ${r.errors} of ${r.requests} requests did not answer 200`);
      return r;
    };

    // 1. Bare Fastify echo.
    const { echo, echoSerial } = await withEchoServer(dir, async (echoUrl) => ({
      echo: await load(echoUrl, "echo", CONCURRENCY, "echo"),
      echoSerial: await load(echoUrl, "echo", 1, "echo-serial"),
    }));

    // 2. Our server with the same client: a durable one-row create, and a read.
    server = await startServer(dir);
    const probeId = "ceiling-get";
    await fetch(`${server.url}/`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ kind: "promise.create", head: { corrId: "c", version: "2026-04-01" }, data: { id: probeId, timeoutAt: Date.now() + 86_400_000, param: {}, tags: {} } }),
    });
    const create = await load(server.url, "create", CONCURRENCY, "server-create");
    const get = await load(server.url, "get", CONCURRENCY, "server-get", probeId);
    await stopAll(dir, server);
    server = undefined;

    // 3. SQLite commits.
    const sqlite = async (sync: "normal" | "full") => {
      ctx.log(`ceilings: sqlite commits, synchronous=${sync} (${duration} ms)`);
      const m = await runChild("sqlite-commits.ts", { path: path.join(dir, `commits-${sync}.db`), sync, durationMs: duration }, { dir, label: `sqlite-${sync}`, timeoutMs: duration + 30_000 });
      return { rate: m.rate as number };
    };
    const sqliteNormal = await sqlite("normal");
    const sqliteFull = await sqlite("full");

    const ceilings: Ceilings = {
      echo: { rate: round(echo.rate), p50: round(echo.p50, 3), p99: round(echo.p99, 3), concurrency: CONCURRENCY },
      echoSerial: { rate: round(echoSerial.rate), p50: round(echoSerial.p50, 3), p99: round(echoSerial.p99, 3) },
      serverCreate: { rate: round(create.rate), p50: round(create.p50, 3), p99: round(create.p99, 3), concurrency: CONCURRENCY },
      serverGet: { rate: round(get.rate), p50: round(get.p50, 3), p99: round(get.p99, 3), concurrency: CONCURRENCY },
      sqliteNormal: { rate: round(sqliteNormal.rate) },
      sqliteFull: { rate: round(sqliteFull.rate) },
    };
    const pct = (a: number, b: number) => `${round((100 * a) / b, 1)} %`;
    const output: WorkloadOutput = {
      params: { durationMs: duration, warmupMs: warmup, concurrency: CONCURRENCY, client: "node:http keep-alive, closed loop (children/loadgen.ts)" },
      results: { all: ceilings },
      problems,
      rows: [
        { metric: `Fastify JSON echo, req/s (${CONCURRENCY} in flight)`, values: { all: ceilings.echo.rate } },
        { metric: "Fastify JSON echo, round trip p50 ms (1 in flight)", values: { all: ceilings.echoSerial.p50 } },
        { metric: "SQLite one-row commits/s, synchronous=NORMAL (server default)", values: { all: ceilings.sqliteNormal.rate } },
        { metric: "SQLite one-row commits/s, synchronous=FULL", values: { all: ceilings.sqliteFull.rate } },
        { metric: "server promise.create req/s (same client)", values: { all: ceilings.serverCreate.rate } },
        { metric: "  as a share of the echo rate", values: { all: pct(create.rate, echo.rate) } },
        { metric: "  as a share of the NORMAL commit rate", values: { all: pct(create.rate, sqliteNormal.rate) } },
        { metric: "server promise.get req/s (same client)", values: { all: ceilings.serverGet.rate } },
        { metric: "  as a share of the echo rate", values: { all: pct(get.rate, echo.rate) } },
      ],
    };
    failed = problems.length > 0;
    return { ceilings, output };
  } finally {
    await stopAll(dir, server);
    disposeDir(dir, failed, ctx.log);
  }
}
