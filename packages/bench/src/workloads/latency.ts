// latency: an open-loop producer offers a fixed rate of no-op invocations (each due at its own
// time, whatever happened to the previous ones) to 2 workers. Figures: p50/p90/p99/max of
// dispatch→start (worker's clock at function start − due time) and dispatch→result (producer sees
// the result − due time), against the round trip of a bare Fastify echo on this machine.
//
// Beside the SDK runs, the same schedule on a fresh server with no SDK at all (column "no SDK"): one
// process, children/raw-rpc.ts, is producer and worker at once and makes the same protocol calls. An
// invocation then wakes two processes instead of four, so the column reads as the server's own path
// (plus one lean client), and the SDK columns minus it as the cost of the client processes.
import { analyze, correctness, cpuSplit } from "../analysis";
import { type BenchContext, type Row, type WorkloadOutput, measureProducer, perSdkValues, runOnFreshServer, runPerSdk, warningsRow } from "../context";
import type { Child } from "../procs";
import { type Producer, type Sdk, startProducer, startRawRpc, startRawWorkers, startWorkers } from "../sdks";
import { type BenchServer, formatWarnings } from "../server";
import { ratio } from "../stats";

const WORKERS = 2;
/** BENCH_RAW_WORKERS=N: the no-SDK run as separate processes, a producer and N workers (default 0: one process). */
const RAW_WORKERS = Number(process.env.BENCH_RAW_WORKERS ?? 0);
if (!Number.isInteger(RAW_WORKERS) || RAW_WORKERS < 0 || RAW_WORKERS > 16) {
  throw new Error(`BENCH_RAW_WORKERS must be an integer from 0 to 16, not '${process.env.BENCH_RAW_WORKERS}'`);
}

export async function latency(ctx: BenchContext): Promise<WorkloadOutput> {
  const rate = ctx.smoke ? 50 : 200;
  const seconds = ctx.smoke ? 1 : 15;
  const n = rate * seconds;
  // Five seconds at the same rate, unrecorded: a cold start at 200/s is a transient of its own
  // (seconds of latency while JITs warm up and the clients' connection pools grow), not the steady state.
  const warmup = ctx.smoke ? 10 : rate * 5;
  const params = { ratePerSecond: rate, seconds, invocations: n, warmupInvocations: warmup, workers: WORKERS, function: "noop", dispatchTime: "the open-loop due time", noSdkBaseline: RAW_WORKERS > 0 ? `children/raw-rpc.ts: a producer and ${RAW_WORKERS} workers, raw protocol` : "children/raw-rpc.ts: one process, producer and worker, raw protocol" };
  const plan = (idPrefix: string) =>
    ({ mode: "rate", n, rate, warmup, func: "noop", idPrefix, target: "poll://any@workers", resultTimeoutMs: 60_000 }) as const;
  /** The figures of one run, from its producer's record and the CPU counted after the warm-up. */
  const figures = async (label: string, server: BenchServer, workers: Child[], producer: Producer) => {
    const { out, serverCpuMs, workersCpuMs } = await measureProducer(server, workers, producer, seconds * 1000 + 90_000);
    const t = analyze(out);
    return { result: { ...t, cpu: cpuSplit(t, serverCpuMs, out.cpuMs, workersCpuMs) }, problems: correctness(label, t) };
  };

  const { per, results, problems } = await runPerSdk(ctx, "latency", async (sdk, server, dir) => {
    ctx.log(`latency/${sdk}: ${rate}/s for ${seconds} s, ${WORKERS} workers`);
    const workers = await startWorkers(sdk, WORKERS, { url: server.url, dir });
    const producer = await startProducer(sdk, { url: server.url, dir, label: "producer", plan: plan(`lat-${sdk}`) });
    return figures(`latency/${sdk}`, server, workers, producer);
  });

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

  const c = ctx.ceilings;
  type Run = NonNullable<(typeof per)[Sdk]>;
  /** A row with one figure per SDK run and the no-SDK run's in the "all" column. */
  const row = (metric: string, f: (x: Run) => number | string | null): Row => ({
    metric,
    values: { ...perSdkValues(ctx, per, f), all: raw.result ? f(raw.result) : null },
  });
  const pct = (s: { p50: number; p90: number; p99: number; max: number }) => `${s.p50} / ${s.p90} / ${s.p99} / ${s.max}`;
  const busy = row("busy cores: server / producer / workers", (x) => `${x.cpu.busyCores.server} / ${x.cpu.busyCores.producer} / ${x.cpu.busyCores.workers}`);
  // One no-SDK process is producer and worker at once: it has no separate workers to show.
  if (RAW_WORKERS === 0 && raw.result) busy.values.all = `${raw.result.cpu.busyCores.server} / ${raw.result.cpu.busyCores.producer} (producer and worker)`;
  const rows: Row[] = [
    row("dispatch→start ms p50/p90/p99/max", (x) => pct(x.dispatchToStart)),
    row("dispatch→result ms p50/p90/p99/max", (x) => pct(x.dispatchToResult)),
    row("  start→result ms p50/p90/p99/max", (x) => pct(x.startToResult)),
    row("completed / errors", (x) => `${x.completed} / ${x.errors}`),
    row("producer schedule lag ms p99", (x) => x.scheduleLag?.p99 ?? null),
    busy,
    row("dispatch→result p50 ÷ echo round trip p50", (x) => ratio(x.dispatchToResult.p50, c?.echoSerial.p50, 1)),
    { metric: "server warnings", values: { ...warningsRow(ctx, results).values, all: formatWarnings(raw.record.serverWarnings as Record<string, number> | undefined) } },
  ];
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
  return { params, results, rows, problems, allColumn: "no SDK" };
}
