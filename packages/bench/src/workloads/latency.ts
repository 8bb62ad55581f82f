// latency: an open-loop producer offers a fixed rate of no-op invocations (each due at its own
// time, whatever happened to the previous ones) to 2 workers. Figures: p50/p90/p99/max of
// dispatch→start (worker's clock at function start − due time) and dispatch→result (producer sees
// the result − due time), against the round trip of a bare Fastify echo on this machine.
import { analyze, correctness, cpuSplit } from "../analysis";
import { type BenchContext, type Row, type WorkloadOutput, measureProducer, perSdkValues, runPerSdk, warningsRow } from "../context";
import { type Sdk, startProducer, startWorkers } from "../sdks";
import { ratio } from "../stats";

const WORKERS = 2;

export async function latency(ctx: BenchContext): Promise<WorkloadOutput> {
  const rate = ctx.smoke ? 50 : 200;
  const seconds = ctx.smoke ? 1 : 15;
  const n = rate * seconds;
  // Five seconds at the same rate, unrecorded: a cold start at 200/s is a transient of its own
  // (seconds of latency while JITs warm up and the clients' connection pools grow), not the steady state.
  const warmup = ctx.smoke ? 10 : rate * 5;
  const params = { ratePerSecond: rate, seconds, invocations: n, warmupInvocations: warmup, workers: WORKERS, function: "noop", dispatchTime: "the open-loop due time" };
  const { per, results, problems } = await runPerSdk(ctx, "latency", async (sdk, server, dir) => {
    ctx.log(`latency/${sdk}: ${rate}/s for ${seconds} s, ${WORKERS} workers`);
    const workers = await startWorkers(sdk, WORKERS, { url: server.url, dir });
    const producer = await startProducer(sdk, {
      url: server.url,
      dir,
      label: "producer",
      plan: { mode: "rate", n, rate, warmup, func: "noop", idPrefix: `lat-${sdk}`, target: "poll://any@workers", resultTimeoutMs: 60_000 },
    });
    const { out, serverCpuMs, workersCpuMs } = await measureProducer(server, workers, producer, seconds * 1000 + 90_000);
    const t = analyze(out);
    return { result: { ...t, cpu: cpuSplit(t, serverCpuMs, out.cpuMs, workersCpuMs) }, problems: correctness(`latency/${sdk}`, t) };
  });

  const c = ctx.ceilings;
  const v = (f: (x: NonNullable<(typeof per)[Sdk]>) => number | string | null) => perSdkValues(ctx, per, f);
  const pct = (s: { p50: number; p90: number; p99: number; max: number }) => `${s.p50} / ${s.p90} / ${s.p99} / ${s.max}`;
  const rows: Row[] = [
    { metric: "dispatch→start ms p50/p90/p99/max", values: v((x) => pct(x.dispatchToStart)) },
    { metric: "dispatch→result ms p50/p90/p99/max", values: v((x) => pct(x.dispatchToResult)) },
    { metric: "  start→result ms p50/p90/p99/max", values: v((x) => pct(x.startToResult)) },
    { metric: "completed / errors", values: v((x) => `${x.completed} / ${x.errors}`) },
    { metric: "producer schedule lag ms p99", values: v((x) => x.scheduleLag?.p99 ?? null) },
    { metric: "busy cores: server / producer / workers", values: v((x) => `${x.cpu.busyCores.server} / ${x.cpu.busyCores.producer} / ${x.cpu.busyCores.workers}`) },
    { metric: "dispatch→result p50 ÷ echo round trip p50", values: v((x) => ratio(x.dispatchToResult.p50, c?.echoSerial.p50, 1)) },
    warningsRow(ctx, results),
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
  return { params, results, rows, problems };
}
