// latency: an open-loop producer offers a fixed rate of no-op invocations (each due at its own
// time, whatever happened to the previous ones) to 2 workers. Figures: p50/p90/p99/max of
// dispatch→start (worker's clock at function start − due time) and dispatch→result (producer sees
// the result − due time), against the round trip of a bare Fastify echo on this machine.
//
// Beside the SDK runs, the same schedule on a fresh server with no SDK at all (column "no SDK"): one
// process, children/raw-rpc.ts, is producer and worker at once and makes the same protocol calls. An
// invocation then wakes two processes instead of four, so the column reads as the server's own path
// (plus one lean client), and the SDK columns minus it as the cost of the client processes.
//
// Then the same schedule on BullMQ (a fresh Redis, 2 BullMQ workers, queue.add), and finally a cold
// run of each system: fresh server (or Redis) and processes, no warm-up, the same 15 s measured
// from the first invocation: what a freshly started fleet gives, beside the warm figures.
import { analyze, correctness, cpuSplit } from "../analysis";
import { SDK_DEFAULT_TTL_MS, bullmqParams, serverLabel, runOnFreshRedis, startBullmqProducer, startBullmqWorkers } from "../bullmq";
import { type BenchContext, type Row, type WorkloadOutput, measureProducer, perSdkValues, runOnFreshServer, runPerSdk, warningsRow } from "../context";
import type { Child } from "../procs";
import { type Producer, type Sdk, startProducer, startRawRpc, startRawWorkers, startWorkers } from "../sdks";
import { hopTableOf } from "../hops/hop-tracing";
import { type BenchServer, formatWarnings } from "../server";
import { ratio } from "../stats";
import { addRatioCells, bullmqColumns, vsBullmq } from "../vs-bullmq";

const WORKERS = 2;
/** BENCH_RAW_WORKERS=N: the no-SDK run as separate processes, a producer and N workers (default 0: one process). */
const RAW_WORKERS = Number(process.env.BENCH_RAW_WORKERS ?? 0);
if (!Number.isInteger(RAW_WORKERS) || RAW_WORKERS < 0 || RAW_WORKERS > 16) {
  throw new Error(`BENCH_RAW_WORKERS must be an integer from 0 to 16, not '${process.env.BENCH_RAW_WORKERS}'`);
}

export async function latency(ctx: BenchContext): Promise<WorkloadOutput> {
  // BENCH_LATENCY_RATE: another open-loop rate, e.g. for a store that cannot sustain 200/s on this machine.
  const rate = ctx.smoke ? 50 : Number(process.env.BENCH_LATENCY_RATE ?? 200);
  if (!Number.isInteger(rate) || rate < 1 || rate > 5000) throw new Error(`BENCH_LATENCY_RATE must be an integer from 1 to 5000, not '${process.env.BENCH_LATENCY_RATE}'`);
  const seconds = ctx.smoke ? 1 : 15;
  const n = rate * seconds;
  // Five seconds at the same rate, unrecorded: a cold start at 200/s is a transient of its own
  // (seconds of latency while JITs warm up and the clients' connection pools grow), not the steady state.
  const warmup = ctx.smoke ? 10 : rate * 5;
  const params = {
    ratePerSecond: rate,
    seconds,
    invocations: n,
    warmupInvocations: warmup,
    workers: WORKERS,
    function: "noop",
    dispatchTime: "the open-loop due time",
    noSdkBaseline: RAW_WORKERS > 0 ? `children/raw-rpc.ts: a producer and ${RAW_WORKERS} workers, raw protocol` : "children/raw-rpc.ts: one process, producer and worker, raw protocol",
    cold: ctx.smoke ? "not at smoke sizes" : "each system once more on a fresh server (or Redis) with fresh processes and no warm-up",
    bullmq: bullmqParams(ctx, { lockDurationMs: SDK_DEFAULT_TTL_MS, stalledIntervalMs: "default (30,000)" }),
  };
  /** The schedule every run follows; a cold run has no warm-up. */
  const plan = (idPrefix: string, cold = false) =>
    ({ mode: "rate", n, rate, warmup: cold ? 0 : warmup, func: "noop", idPrefix, target: "poll://any@workers", resultTimeoutMs: 60_000 }) as const;
  /** The figures of one run, from its producer's record and the CPU counted after the warm-up. */
  const figures = async (label: string, server: { child: Child }, workers: Child[], producer: Producer) => {
    const { out, serverCpuMs, workersCpuMs } = await measureProducer(server, workers, producer, seconds * 1000 + 90_000);
    const t = analyze(out);
    return { result: { ...t, cpu: cpuSplit(t, serverCpuMs, out.cpuMs, workersCpuMs) }, problems: correctness(label, t) };
  };

  /** One run of an SDK: `cold` skips the warm-up (the server and every process are fresh either way). */
  const sdkRun = (cold: boolean) => async (sdk: Sdk, server: BenchServer, dir: string) => {
    const name = `latency${cold ? "-cold" : ""}/${sdk}`;
    ctx.log(`${name}: ${rate}/s for ${seconds} s, ${WORKERS} workers${cold ? ", no warm-up" : ""}`);
    const workers = await startWorkers(sdk, WORKERS, { url: server.url, dir });
    const producer = await startProducer(sdk, { url: server.url, dir, label: "producer", plan: plan(`lat-${sdk}`, cold) });
    const run = await figures(name, server, workers, producer);
    // pnpm bench --hops: where each invocation's time went, hop by hop.
    const hops = await hopTableOf(ctx.log, name, dir, [...workers, producer.child], `lat-${sdk}`);
    return hops ? { ...run, result: { ...run.result, hops } } : run;
  };
  /** The same on BullMQ, lease = the SDKs' default ttl. */
  const bullmqRun = (cold: boolean) =>
    runOnFreshRedis(ctx, `latency${cold ? "-cold" : ""}/bullmq`, async (redis, dir) => {
      const name = `latency${cold ? "-cold" : ""}/bullmq`;
      ctx.log(`${name}: ${rate}/s for ${seconds} s, ${WORKERS} BullMQ workers${cold ? ", no warm-up" : ""}`);
      const workers = await startBullmqWorkers(WORKERS, { redis, dir, lockDuration: SDK_DEFAULT_TTL_MS });
      const producer = await startBullmqProducer({ redis, dir, label: "producer", plan: plan("lat-bullmq", cold) });
      return figures(name, redis, workers, producer);
    });

  const { per, results, problems } = await runPerSdk(ctx, "latency", sdkRun(false));

  // The baseline: same plan, one raw-protocol process for producer and worker (or, with
  // BENCH_RAW_WORKERS=N, a raw producer and N raw workers: the SDK runs' process count without SDK code).
  const raw = await runOnFreshServer(ctx, "latency/raw", async (server, dir) => {
    ctx.log(`latency/no SDK: ${rate}/s for ${seconds} s, ${RAW_WORKERS > 0 ? `a raw-protocol producer and ${RAW_WORKERS} raw-protocol workers` : "one raw-protocol process as producer and worker"}`);
    const workers = RAW_WORKERS > 0 ? await startRawWorkers(RAW_WORKERS, { url: server.url, dir }) : [];
    const producer = await startRawRpc({ url: server.url, dir, label: "raw-rpc", split: RAW_WORKERS > 0, plan: plan("lat-raw") });
    return figures("latency/raw", server, workers, producer);
  });
  problems.push(...raw.problems);
  results.raw = raw.record;

  const bq = await bullmqRun(false);
  if (bq) {
    results.bullmq = bq.record;
    problems.push(...bq.problems);
  } else if (!ctx.bullmq.run) results.bullmq = { skipped: ctx.bullmq.reason };

  // Cold: every system once more, in the same order, with no warm-up. Not at smoke sizes: a cold run
  // is the warm run's code without its warm-up, and five more process sets would double the
  // workload's share of the CI smoke.
  const cold = ctx.smoke ? { per: {} as typeof per, results: {} as Record<string, unknown>, problems: [] } : await runPerSdk(ctx, "latency-cold", sdkRun(true));
  problems.push(...cold.problems);
  const coldBq = ctx.smoke ? undefined : await bullmqRun(true);
  if (coldBq) {
    cold.results.bullmq = coldBq.record;
    problems.push(...coldBq.problems);
  }
  if (!ctx.smoke) results.cold = cold.results;

  const c = ctx.ceilings;
  type Run = NonNullable<(typeof per)[Sdk]>;
  /** A row with one figure per SDK run, the no-SDK run's in the "all" column and BullMQ's beside them. */
  const row = (metric: string, f: (x: Run) => number | string | null, compare = true): Row => ({
    metric,
    values: { ...perSdkValues(ctx, per, f), all: raw.result ? f(raw.result) : null, ...(bq ? { bullmq: bq.result ? f(bq.result) : null } : {}) },
    compare,
  });
  /** The same for the cold runs (no "no SDK" cold run). */
  const coldRow = (metric: string, f: (x: Run) => number | string | null, compare = true): Row => ({
    metric,
    values: { ...perSdkValues(ctx, cold.per, f), ...(coldBq ? { bullmq: coldBq.result ? f(coldBq.result) : null } : {}) },
    compare,
  });
  const server = serverLabel(ctx);
  const pct = (s: { p50: number; p90: number; p99: number; max: number }) => `${s.p50} / ${s.p90} / ${s.p99} / ${s.max}`;
  const busy = row(`busy cores: ${server} / producer / workers`, (x) => `${x.cpu.busyCores.server} / ${x.cpu.busyCores.producer} / ${x.cpu.busyCores.workers}`);
  // One no-SDK process is producer and worker at once: it has no separate workers to show.
  if (RAW_WORKERS === 0 && raw.result) busy.values.all = `${raw.result.cpu.busyCores.server} / ${raw.result.cpu.busyCores.producer} (producer and worker)`;
  const rows: Row[] = [
    row("dispatch→start ms p50/p90/p99/max", (x) => pct(x.dispatchToStart)),
    row("dispatch→result ms p50/p90/p99/max", (x) => pct(x.dispatchToResult)),
    row("  start→result ms p50/p90/p99/max", (x) => pct(x.startToResult)),
    row("completed / errors", (x) => `${x.completed} / ${x.errors}`, false),
    row("producer schedule lag ms p99", (x) => x.scheduleLag?.p99 ?? null),
    busy,
    row("dispatch→result p50 ÷ echo round trip p50", (x) => ratio(x.dispatchToResult.p50, c?.echoSerial.p50, 1), false),
    { metric: "server warnings", values: { ...warningsRow(ctx, results).values, all: formatWarnings(raw.record.serverWarnings as Record<string, number> | undefined) } },
    ...(ctx.smoke
      ? []
      : [
          coldRow("cold (no warm-up): dispatch→start ms p50/p90/p99/max", (x) => pct(x.dispatchToStart)),
          coldRow("cold: dispatch→result ms p50/p90/p99/max", (x) => pct(x.dispatchToResult)),
          coldRow("cold: completed / errors", (x) => `${x.completed} / ${x.errors}`, false),
          coldRow(`cold: busy cores: ${server} / producer / workers`, (x) => `${x.cpu.busyCores.server} / ${x.cpu.busyCores.producer} / ${x.cpu.busyCores.workers}`),
        ]),
  ];
  addRatioCells(rows, ctx.sdks);
  const keys = ["dispatchToStart", "dispatchToResult", "startToResult", "scheduleLag", "cpu"];
  const ratios = vsBullmq(results, ctx.sdks, keys);
  if (ratios) results.vsBullmq = ratios;
  const coldRatios = vsBullmq(cold.results, ctx.sdks, keys);
  if (coldRatios) cold.results.vsBullmq = coldRatios;
  if (c) {
    for (const sdk of ctx.sdks) {
      const x = per[sdk];
      if (!x) continue;
      (results[sdk] as Record<string, unknown>).vsCeilings = {
        echoRoundTripP50Ms: c.echoSerial.p50,
        dispatchToResultP50InEchoRoundTrips: ratio(x.dispatchToResult.p50, c.echoSerial.p50, 1),
        dispatchToStartP50InEchoRoundTrips: ratio(x.dispatchToStart.p50, c.echoSerial.p50, 1),
      };
    }
  }
  return { params, results, rows, problems, allColumn: "no SDK", extraColumns: bullmqColumns(ctx) };
}
