// Server CPU per invocation of two (or more) server builds, in short paired runs: a before/after
// figure that holds on a machine whose speed drifts by tens of percent within minutes, where two
// `pnpm bench` runs a minute apart can differ more than the servers do.
//
// Each run: a fresh server (its own SQLite file, --log-level warn), the no-SDK client
// (children/raw-rpc.ts: producer and worker in one process) running `n` no-op invocations (after
// 2,000 unrecorded) with 64 in flight, and the server's CPU time (/proc/<pid>/stat) from the
// client's "ready" to its "done", divided by the invocations. The servers run one after the other
// within a pair, in turn order A B, then B A, …; the report gives each pair's ratio to the first
// server and their median.
//
// With --gc the servers run under V8's --trace-gc-nvp and each run also reports its garbage
// collection per invocation (scavenges, bytes promoted to the old generation, pauses): the place the
// redesign's extra CPU went (docs/performance.md, "The redesign alone").
//
// usage: pnpm --filter @resonate-compat/bench cpu-pairs <label>=<server main.ts>[,<flag>…] … [--pairs 8] [--n 6000] [--gc]
//   e.g. cpu-pairs before=/tmp/old/packages/server/src/main.ts after=packages/server/src/main.ts off=packages/server/src/main.ts,--history,off
// A flag written node:<flag> goes to Node rather than to the server (e.g. node:--max-semi-space-size=32).
// --client ours-ws runs our SDK over the channel instead of the no-SDK HTTP client: one producer and
// two worker processes (children/ours-*.ts), the path the throughput workload's channel column takes.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { childProgram, nodeProgram } from "../build";
import { Child, childEnv } from "../procs";
import { startProducer, startWorkers } from "../sdks";
import { freePort, waitReady } from "../server";
import { type GcFigures, gcFigures } from "./gc-trace";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    pairs: { type: "string", default: "8" },
    n: { type: "string", default: "6000" },
    gc: { type: "boolean", default: false },
    client: { type: "string", default: "raw" },
  },
});
const servers = positionals.map((spec) => {
  const eq = spec.indexOf("=");
  const [label, rest] = eq < 0 ? [spec, ""] : [spec.slice(0, eq), spec.slice(eq + 1)];
  if (!label || !rest) throw new Error(`expected <label>=<main.ts>[,flags…], not '${spec}'`);
  const [main, ...all] = rest.split(",");
  const nodeFlags = all.filter((f) => f.startsWith("node:")).map((f) => f.slice("node:".length));
  const flags = all.filter((f) => !f.startsWith("node:"));
  // pnpm runs the script in packages/bench; paths are meant from where the command was typed.
  return { label, main: path.resolve(process.env.INIT_CWD ?? process.cwd(), main!), flags, nodeFlags };
});
if (servers.length < 2) throw new Error("give at least two servers to compare");
const pairs = Number(values.pairs);
const n = Number(values.n);
const WARMUP = 2_000;
if (values.client !== "raw" && values.client !== "ours-ws") throw new Error(`--client is raw or ours-ws, not '${values.client}'`);

function cpuMs(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, in clock ticks of 10 ms
}

interface RunFigures {
  cpuMsPerInvocation: number;
  gc?: GcFigures;
}

async function run(server: (typeof servers)[number], round: number): Promise<RunFigures> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cpu-pairs-"));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const args = [...(values.gc ? ["--trace-gc-nvp"] : []), ...server.nodeFlags, ...nodeProgram(server.main), "--host", "127.0.0.1", "--port", String(port), "--db", path.join(dir, "s.db"), "--log-level", "warn", ...server.flags];
  const log = path.join(dir, "server.log");
  const child = new Child(server.label, process.execPath, args, { env: childEnv(), logFile: log });
  try {
    await waitReady(url, child, 30_000);
    if (values.client === "ours-ws") return await runOursWs(child, log, url, dir, round);
    const plan = { mode: "burst", n, window: 64, warmup: WARMUP, func: "noop", idPrefix: `r${round}`, target: "poll://any@workers", out: path.join(dir, "out.json") };
    const client = spawn(process.execPath, [...childProgram("raw-rpc.ts"), JSON.stringify(plan)], {
      env: childEnv({ BENCH_URL: url, RAW_ROLE: "both" }),
      stdio: ["ignore", "pipe", "inherit"],
    });
    let started = 0;
    let used = Number.NaN;
    // The GC trace goes to the server's log: the part written while the client ran is its figures.
    let logFrom = 0;
    let logTo = 0;
    const logSize = () => (fs.existsSync(log) ? fs.statSync(log).size : 0);
    let pending = "";
    client.stdout.setEncoding("utf8");
    client.stdout.on("data", (chunk: string) => {
      pending += chunk;
      for (let nl = pending.indexOf("\n"); nl >= 0; nl = pending.indexOf("\n")) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (line.includes('"event":"ready"')) {
          started = cpuMs(child.pid!);
          logFrom = logSize();
        }
        if (line.includes('"event":"done"')) {
          used = cpuMs(child.pid!) - started;
          logTo = logSize();
        }
      }
    });
    await new Promise((resolve) => client.on("exit", resolve));
    if (Number.isNaN(used)) throw new Error(`${server.label}: the client ended without "done"`);
    const figures: RunFigures = { cpuMsPerInvocation: used / (n + WARMUP) };
    if (values.gc) figures.gc = gcFigures(fs.readFileSync(log, "utf8").slice(logFrom, logTo));
    return figures;
  } finally {
    await child.stop("SIGTERM", 10_000);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The same run with our SDK over the channel: two workers and a producer; the server's CPU from the
 * producer's "warm" (its warm-up done) to its "done", per measured invocation.
 */
async function runOursWs(server: Child, log: string, url: string, dir: string, round: number): Promise<RunFigures> {
  const logSize = () => (fs.existsSync(log) ? fs.statSync(log).size : 0);
  const workers = await startWorkers("ours-ws", 2, { url, dir });
  const plan = { mode: "burst", n, window: 64, warmup: WARMUP, func: "noop", idPrefix: `w${round}`, target: "poll://any@workers", resultTimeoutMs: 300_000 } as const;
  const producer = await startProducer("ours-ws", { url, dir, label: "producer", plan });
  try {
    await producer.child.waitFor("warm", 120_000);
    const started = cpuMs(server.pid!);
    const logFrom = logSize();
    await producer.done(300_000);
    const figures: RunFigures = { cpuMsPerInvocation: (cpuMs(server.pid!) - started) / n };
    if (values.gc) figures.gc = gcFigures(fs.readFileSync(log, "utf8").slice(logFrom, logSize()));
    return figures;
  } finally {
    await Promise.all([producer.child, ...workers].map((c) => c.stop("SIGTERM", 10_000)));
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ratios = new Map(servers.slice(1).map((s) => [s.label, [] as number[]]));
const gcRuns = new Map(servers.map((s) => [s.label, [] as GcFigures[]]));
// The GC figures cover what the CPU figure covers: the raw client's whole run, the SDK's measured part.
const invocations = values.client === "ours-ws" ? n : n + WARMUP;
for (let round = 0; round < pairs; round++) {
  const order = round % 2 === 0 ? servers : [...servers].reverse();
  const figures = new Map<string, RunFigures>();
  for (const server of order) figures.set(server.label, await run(server, round));
  const ms = (label: string) => figures.get(label)!.cpuMsPerInvocation;
  const base = ms(servers[0]!.label);
  for (const s of servers.slice(1)) ratios.get(s.label)!.push(ms(s.label) / base);
  const cells = servers.map((s) => `${s.label} ${ms(s.label).toFixed(3)}`).join("  ");
  const rel = servers.slice(1).map((s) => `${s.label}/${servers[0]!.label} ${(ms(s.label) / base).toFixed(3)}`).join("  ");
  process.stdout.write(`pair ${round + 1}: server CPU ms per invocation: ${cells}   ${rel}\n`);
  if (values.gc) {
    for (const s of servers) {
      const gc = figures.get(s.label)!.gc!;
      gcRuns.get(s.label)!.push(gc);
      process.stdout.write(`        ${s.label}: ${describeGc(gc)}\n`);
    }
  }
}
for (const [label, list] of ratios) process.stdout.write(`median of the pairs, ${label}/${servers[0]!.label}: ${median(list).toFixed(3)}\n`);
if (values.gc) {
  for (const [label, runs] of gcRuns) {
    const pick = (f: (g: GcFigures) => number) => median(runs.map(f));
    process.stdout.write(
      `median GC, ${label}: ${pick((g) => (g.scavenges * 1000) / invocations).toFixed(1)} scavenges per 1,000 invocations, ` +
        `${pick((g) => g.promotedBytes / invocations / 1024).toFixed(2)} KB promoted and ${pick((g) => (g.pauseMs * 1000) / invocations).toFixed(1)} µs of pauses per invocation\n`,
    );
  }
}

function describeGc(gc: GcFigures): string {
  return `${gc.scavenges} scavenges, ${gc.markCompacts} mark-compacts, ${(gc.promotedBytes / invocations / 1024).toFixed(2)} KB promoted per invocation, ${((gc.pauseMs * 1000) / invocations).toFixed(1)} µs of GC pauses per invocation`;
}
