// pnpm bench [--workload throughput|latency|recovery|scale|ceilings]… [--sdk ours,ours-ws,official|all] [--smoke]
//
// Starts a fresh server (temp database, --log-level warn) and real worker processes per workload,
// prints a table and one JSON line per workload on stdout (progress on stderr). The ceilings (bare
// Fastify echo, SQLite commits) are always measured first in the same run, so that every figure
// can be read as a share of what this machine allows. See docs/performance.md.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { type Loader, loader } from "./build";
import { BULLMQ_LABEL, bullmqSetup } from "./bullmq";
import type { BenchContext, WorkloadOutput } from "./context";
import { NODE_ARGS, cpuAccounts, killAllSync } from "./procs";
import { traceHops } from "./hops/hop-tracing";
import { summarizeProfile } from "./profile-summary";
import { machineInfo, table } from "./report";
import { ROUNDED, summarizeRounds } from "./rounds";
import { EXTRA_SERVER_ARGS, type StoreChoice, profileServersInto, stopStore, useStore } from "./server";
import { SDKS, type Sdk } from "./sdks";
import { measureCeilings } from "./workloads/ceilings";
import { latency } from "./workloads/latency";
import { recovery } from "./workloads/recovery";
import { scale } from "./workloads/scale";
import { throughput } from "./workloads/throughput";

const WORKLOADS = ["ceilings", "throughput", "latency", "recovery", "scale"] as const;
type Workload = (typeof WORKLOADS)[number];
const RUNNERS: Record<Exclude<Workload, "ceilings">, (ctx: BenchContext) => Promise<WorkloadOutput>> = { throughput, latency, recovery, scale };

const USAGE = `usage: pnpm bench [--workload ${WORKLOADS.join("|")}]… [--sdk ours,ours-ws,official|all] [--no-bullmq] [--rounds N] [--store sqlite|postgres] [--replicas N] [--smoke]
  --workload  may be repeated or comma-separated; default: all (the ceilings always run first)
  --sdk       which client stacks run, comma-separated: ours (our SDK over HTTP), ours-ws (our SDK
              over the channel, one WebSocket per process), official (@resonatehq/sdk); default: all
  --no-bullmq do not run throughput, latency and recovery on BullMQ + Redis beside ours (also
              BENCH_NO_BULLMQ=1); without redis-server installed they are skipped anyway
  --rounds    run throughput and latency N times (1–9, default 1), each round our stacks then BullMQ,
              and print each round's ratio to BullMQ of the targets' figures with their median
  --store     sqlite (default) or postgres: our servers' store; postgres starts its own throwaway
              PostgreSQL (default durability: fsync and synchronous_commit on)
  --replicas  with --store postgres: server replicas per run, behind HAProxy when more than 1
  --smoke     tiny sizes, a few seconds per workload: checks that every workload still runs
  --profile   run every server under V8's --cpu-prof; after each workload print where its CPU went
              (the profiles are kept; profiling itself slows the server, so its figures are not comparable)
  --hops      every server and SDK process timestamps each hop of each invocation; latency and
              throughput then print, per SDK, where dispatch→start went (a diagnostic: tracing
              costs CPU, so its figures are not the bench's figures)`;

function parse(): { workloads: Workload[]; sdks: Sdk[]; smoke: boolean; profile: boolean; hops: boolean; noBullmq: boolean; rounds: number; store: StoreChoice; loader: Loader } {
  const { values } = parseArgs({
    args: process.argv.slice(2).filter((a) => a !== "--"), // pnpm passes a literal "--" through
    options: {
      workload: { type: "string", multiple: true },
      sdk: { type: "string", default: "all" },
      smoke: { type: "boolean", default: false },
      profile: { type: "boolean", default: false },
      hops: { type: "boolean", default: false },
      "no-bullmq": { type: "boolean", default: false },
      store: { type: "string", default: "sqlite" },
      replicas: { type: "string", default: "1" },
      rounds: { type: "string", default: "1" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const asked = (values.workload ?? []).flatMap((w) => w.split(",")).filter(Boolean);
  for (const w of asked) if (!(WORKLOADS as readonly string[]).includes(w)) fail(`unknown workload '${w}'`);
  const workloads = asked.length === 0 ? [...WORKLOADS] : WORKLOADS.filter((w) => w === "ceilings" || asked.includes(w));
  // "both" is what this option was called when there were two.
  const sdkList = values.sdk === "all" || values.sdk === "both" ? [...SDKS] : values.sdk!.split(",").filter(Boolean);
  for (const s of sdkList) if (!(SDKS as readonly string[]).includes(s)) fail(`unknown sdk '${s}'`);
  const sdks = SDKS.filter((s) => sdkList.includes(s));
  const noBullmq = values["no-bullmq"]! || process.env.BENCH_NO_BULLMQ === "1";
  if (values.store !== "sqlite" && values.store !== "postgres") fail(`unknown store '${values.store}' (sqlite or postgres)`);
  const replicas = Number(values.replicas);
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 8) fail(`--replicas: a whole number from 1 to 8, not '${values.replicas}'`);
  if (replicas > 1 && values.store !== "postgres") fail("--replicas above 1 needs --store postgres (replicas share a PostgreSQL database)");
  const rounds = Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 9) fail(`--rounds: a whole number from 1 to 9, not '${values.rounds}'`);
  const store: StoreChoice = { store: values.store, replicas };
  let chosenLoader: Loader;
  try {
    chosenLoader = loader();
  } catch (e) {
    fail((e as Error).message);
  }
  return { workloads, sdks, smoke: values.smoke!, profile: values.profile!, hops: values.hops!, noBullmq, rounds, store, loader: chosenLoader };
}

function fail(msg: string): never {
  process.stderr.write(`${msg}\n${USAGE}\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  const { workloads, sdks, smoke, profile, hops, noBullmq, rounds, store, loader: chosenLoader } = parse();
  useStore(store);
  // Before any process starts: every server and SDK child of the run records its hops.
  const hopDir = hops ? traceHops() : undefined;
  const profileDir = profile ? fs.mkdtempSync(path.join(os.tmpdir(), "resonate-bench-profiles-")) : undefined;
  profileServersInto(profileDir);
  const profilesSeen = new Set<string>();
  if (Number(process.versions.node.split(".")[0]) !== 20) {
    process.stderr.write(`note: the server and our SDK are measured on ${process.version}; the product targets Node 20\n`);
  }
  const machine = machineInfo();
  const ctx: BenchContext = {
    smoke,
    sdks,
    ceilings: undefined,
    bullmq: bullmqSetup(noBullmq),
    log: (msg) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`),
  };
  ctx.log(`${smoke ? "smoke run" : "full run"}: ${workloads.join(", ")} with ${sdks.join(", ")} on ${machine.nproc} × ${machine.cpu}, ${machine.node}, load ${machine.loadavgAtStart.join(" ")}`);
  const b = ctx.bullmq;
  const bullmqLine = b.run ? `${BULLMQ_LABEL} ${b.bullmqVersion ?? "?"} on Redis ${b.redisVersion ?? "?"} (${b.redisServer}) beside ours in throughput, latency and recovery` : `${BULLMQ_LABEL}: skipped, ${b.reason}`;
  ctx.log(bullmqLine);
  if (!smoke && machine.loadavgAtStart[0]! >= 1) ctx.log(`warning: 1-minute load average is ${machine.loadavgAtStart[0]}: other work on this machine will skew the figures`);

  // A run with extra flags is not the default configuration: say so in the header and in every JSON line.
  const overrides = { nodeArgs: NODE_ARGS, serverArgs: EXTRA_SERVER_ARGS, loader: chosenLoader };
  const overridden = NODE_ARGS.length > 0 || EXTRA_SERVER_ARGS.length > 0 || overrides.loader !== "build";
  const storeLine = store.store === "sqlite" ? "our server on SQLite" : `our server on PostgreSQL, ${store.replicas} replica${store.replicas > 1 ? "s behind HAProxy" : ""}`;
  ctx.log(storeLine);
  if (overridden) ctx.log(`settings changed for this run: BENCH_NODE_ARGS="${NODE_ARGS.join(" ")}" BENCH_SERVER_ARGS="${EXTRA_SERVER_ARGS.join(" ")}" BENCH_LOADER=${overrides.loader}`);
  process.stdout.write(
    `Machine: ${machine.nproc} CPUs (${machine.cpu}), ${machine.memGb} GB, ${machine.platform}; server/our SDK on Node ${machine.node}, official SDK on Node ${machine.nodeOfficial ?? "?"}; load average at start ${machine.loadavgAtStart.join(" ")}${smoke ? "; SMOKE sizes (figures mean nothing)" : ""}${overridden ? `; NOT the defaults: node args [${NODE_ARGS.join(" ")}], server args [${EXTRA_SERVER_ARGS.join(" ")}], loader ${overrides.loader}` : ""}\n${storeLine}\n${bullmqLine}\n\n`,
  );

  let failures = 0;
  const emit = (name: Workload, output: WorkloadOutput, startedAt: number, loadavgAtStart: number[], cpu0: ReturnType<typeof cpuAccounts>, round?: { round: number; of: number }) => {
    const cpu1 = cpuAccounts();
    const seconds = (Date.now() - startedAt) / 1000;
    // Other programs' CPU over this workload, in cores (our children are reaped by now).
    const otherCores = cpu0 && cpu1 ? Math.max(0, Math.round(((cpu1.machineMs - cpu0.machineMs - (cpu1.oursMs - cpu0.oursMs)) / 1000 / seconds) * 100) / 100) : null;
    const oursCores = cpu0 && cpu1 ? Math.round(((cpu1.oursMs - cpu0.oursMs) / 1000 / seconds) * 100) / 100 : null;
    const title = `${name}${round ? `, round ${round.round} of ${round.of}` : ""}${smoke ? " (smoke)" : ""}`;
    process.stdout.write(`${table(title, output.rows, sdks, output.allColumn, output.extraColumns)}`);
    process.stdout.write(`(bench processes used ${oursCores ?? "?"} cores on average, other programs ${otherCores ?? "?"} of ${machine.nproc}${otherCores !== null && otherCores > 0.2 ? ": NOT a quiet machine, figures skewed" : ""})\n\n`);
    for (const p of output.problems) process.stdout.write(`PROBLEM (${name}): ${p}\n`);
    const line = {
      bench: name,
      ...(round ? { round: round.round, rounds: round.of } : {}),
      smoke,
      ok: output.problems.length === 0,
      problems: output.problems,
      at: new Date(startedAt).toISOString(),
      durationMs: Date.now() - startedAt,
      machine: { ...machine, loadavgAtStart, loadavgAtEnd: os.loadavg().map((x) => Math.round(x * 100) / 100) },
      cpuCores: { bench: oursCores, otherPrograms: otherCores },
      sdks,
      bullmq: b.run ? { run: true, bullmq: b.bullmqVersion, redis: b.redisVersion } : { run: false, reason: b.reason },
      store,
      ...(overridden ? { overrides } : {}),
      params: output.params,
      results: output.results,
    };
    process.stdout.write(`${JSON.stringify(line)}\n\n`);
    if (output.problems.length > 0) failures++;
  };

  for (const name of workloads) {
    const rounded = (ROUNDED as readonly string[]).includes(name) ? rounds : 1;
    const outputs: WorkloadOutput[] = [];
    for (let round = 1; round <= rounded; round++) {
      if (rounded > 1) ctx.log(`${name}: round ${round} of ${rounded}`);
      const startedAt = Date.now();
      const loadavgAtStart = os.loadavg().map((x) => Math.round(x * 100) / 100);
      const cpu0 = cpuAccounts();
      let output: WorkloadOutput;
      try {
        if (name === "ceilings") {
          const measured = await measureCeilings(ctx);
          ctx.ceilings = measured.ceilings;
          output = measured.output;
        } else {
          output = await RUNNERS[name](ctx);
        }
      } catch (error) {
        ctx.log(`${name} failed: ${(error as Error).stack ?? String(error)}`);
        output = { params: {}, results: {}, rows: [], problems: [`the workload did not finish: ${(error as Error).message.split("\n")[0]}`] };
      }
      emit(name, output, startedAt, loadavgAtStart, cpu0, rounded > 1 ? { round, of: rounded } : undefined);
      outputs.push(output);
    }
    if (rounded > 1 && ctx.bullmq.run) {
      const summary = summarizeRounds(name as (typeof ROUNDED)[number], outputs, sdks);
      process.stdout.write(`${table(`${name} over ${rounded} rounds, each round our stacks then BullMQ`, summary.rows, sdks)}\n`);
      process.stdout.write(`${JSON.stringify({ bench: `${name}-rounds`, rounds: rounded, smoke, sdks, at: new Date().toISOString(), machine, ratios: summary.ratios })}\n\n`);
    }
    if (profileDir) {
      for (const file of fs.readdirSync(profileDir).filter((f) => f.endsWith(".cpuprofile") && !profilesSeen.has(f))) {
        profilesSeen.add(file);
        // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile: thread 0 is the server's main thread
        // (the others are tsx's module-loader thread, idle after start-up).
        if (file.split(".")[4] !== "0") continue;
        ctx.log(`${name}: server profile\n${summarizeProfile(path.join(profileDir, file), 30)}`);
      }
    }
  }
  await stopStore();
  if (profileDir) ctx.log(`server profiles kept in ${profileDir} (open them in Chrome DevTools → Performance)`);
  if (hopDir) ctx.log(`client hop records kept in ${hopDir} (servers' in their run dirs with BENCH_KEEP=1)`);
  ctx.log(failures === 0 ? "done" : `done; ${failures} workload(s) reported problems`);
  process.exitCode = failures === 0 ? 0 : 1;
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    killAllSync();
    process.exit(130);
  });
}
process.on("exit", () => killAllSync());

await main();
