// throughput: one producer dispatches N no-op invocations at poll://any@workers (a window of
// beginRpc calls in flight, every result awaited) to 4 worker processes. Figures: invocations/s end
// to end (first dispatch → last result observed by the producer); the dispatch rate in that run
// (beginRpc returns/s while the workers are busy); the dispatch-only rate (the same producer,
// beginRpc alone, no workers and no result(): what the client side can create); and the CPU each
// role spent per invocation. The echo ceiling is measured again just before and just after each
// SDK's run, and the request rate is also given as a share of that adjacent ceiling.
//
// Then the same on BullMQ (src/bullmq.ts): a fresh Redis, 4 BullMQ workers, the same producer loop
// with queue.add; its figures and every SDK's ratio to them sit in columns of their own (the rows
// about our protocol's requests and the echo ceiling have no BullMQ counterpart).
import { analyze, correctness, cpuSplit, spread } from "../analysis";
import { SDK_DEFAULT_TTL_MS, bullmqParams, serverLabel, runOnFreshRedis, startBullmqProducer, startBullmqWorkers } from "../bullmq";
import { type BenchContext, type Row, type WorkloadOutput, measureProducer, perSdkValues, runPerSdk, warningsRow } from "../context";
import { rssMb } from "../procs";
import { type Sdk, startProducer, startWorkers } from "../sdks";
import { ratio } from "../stats";
import { addRatioCells, bullmqColumns, vsBullmq } from "../vs-bullmq";
import { hopTableOf } from "../hops/hop-tracing";
import { measureEchoRate } from "./ceilings";

const WORKERS = 4;
const WARMUP_PER_WORKER = 3_000;
/** Protocol requests per invocation, both SDKs: promise.create, register_listener, task.acquire, task.fulfill. */
export const REQUESTS_PER_INVOCATION = 4;

export async function throughput(ctx: BenchContext): Promise<WorkloadOutput> {
  const n = ctx.smoke ? 200 : 10_000;
  const window = 64;
  // 3,000 unrecorded invocations per worker first. Fewer leave the measured run inside V8's warm-up:
  // with 500 per worker (the old 2,000) each of our workers spent 0.68–0.79 ms of CPU per invocation
  // and TurboFan was still compiling; from 3,000 per worker on it is 0.45–0.47 ms, the same as with
  // 5,000 (docs/performance.md, "How long a warm-up"). A worker fleet runs for hours: the steady
  // state is what this workload is meant to measure.
  const warmup = ctx.smoke ? 10 : WARMUP_PER_WORKER * WORKERS;
  const params = {
    invocations: n,
    warmupInvocations: warmup,
    workers: WORKERS,
    window,
    function: "noop",
    target: "poll://any@workers",
    serverFlags: "defaults + --log-level warn",
    bullmq: bullmqParams(ctx, { lockDurationMs: SDK_DEFAULT_TTL_MS, stalledIntervalMs: "default (30,000)", queue: "workers", dispatchAloneQueue: "nobody" }),
  };
  const plan = (sdk: string) => ({ mode: "burst", n, window, warmup, func: "noop", idPrefix: `tp-${sdk}`, target: "poll://any@workers", resultTimeoutMs: ctx.smoke ? 30_000 : 300_000 }) as const;
  /** Dispatch alone: beginRpc (queue.add) only, to a group (queue) nobody serves, never asking for results. */
  const alonePlan = (sdk: string) => ({ mode: "burst", n, window, warmup: 0, func: "noop", idPrefix: `tpd-${sdk}`, target: "poll://any@nobody", awaitResults: false, resultTimeoutMs: 1000 }) as const;
  const { per, results, problems } = await runPerSdk(ctx, "throughput", async (sdk, server, dir) => {
    const echoBefore = await measureEchoRate(ctx, dir, `throughput/${sdk}`);
    ctx.log(`throughput/${sdk}: ${n} no-op invocations, ${WORKERS} workers`);
    const workers = await startWorkers(sdk, WORKERS, { url: server.url, dir });
    const producer = await startProducer(sdk, { url: server.url, dir, label: "producer", plan: plan(sdk) });
    const { out, serverCpuMs, workersCpuMs } = await measureProducer(server, workers, producer, ctx.smoke ? 60_000 : 400_000);
    const t = analyze(out);
    const problems = correctness(`throughput/${sdk}`, t);
    // pnpm bench --hops: where each invocation's time went when saturated, hop by hop.
    const hops = await hopTableOf(ctx.log, `throughput/${sdk}`, dir, [...workers, producer.child], `tp-${sdk}`);
    const serverRssMb = rssMb(server.child.pid);
    const echoAfter = await measureEchoRate(ctx, dir, `throughput/${sdk}`);
    // The ceiling this run is held against: the echo rate just before and just after it.
    const adjacentEcho = { before: echoBefore, after: echoAfter, mean: Math.round((echoBefore + echoAfter) / 2) };

    // Dispatch alone: the same producer, beginRpc only, to a group nobody serves (the tasks stay
    // pending; their executes are dropped), on the same server right after.
    ctx.log(`throughput/${sdk}: dispatch alone, ${n} beginRpc without workers`);
    const alone = await startProducer(sdk, { url: server.url, dir, label: "dispatch-alone", plan: alonePlan(sdk) });
    const aloneOut = await alone.done(ctx.smoke ? 60_000 : 400_000);
    const aloneTimings = analyze(aloneOut);
    if (aloneTimings.errors > 0) problems.push(`throughput/${sdk} dispatch alone: ${aloneTimings.errors} beginRpc failed (${aloneTimings.firstErrors.slice(0, 3).join("; ")})`);
    const result = { ...t, dispatchAloneRate: aloneTimings.dispatchRate, cpu: cpuSplit(t, serverCpuMs, out.cpuMs, workersCpuMs), serverRssMb, adjacentEcho, ...(hops ? { hops } : {}) };
    return { result, problems };
  });

  // BullMQ: same plan, same layout, its Redis's CPU in the server's place; no echo ceiling around it.
  const bq = await runOnFreshRedis(ctx, "throughput/bullmq", async (redis, dir) => {
    ctx.log(`throughput/bullmq: ${n} no-op jobs, ${WORKERS} BullMQ workers`);
    const workers = await startBullmqWorkers(WORKERS, { redis, dir, lockDuration: SDK_DEFAULT_TTL_MS });
    const producer = await startBullmqProducer({ redis, dir, label: "producer", plan: plan("bullmq") });
    const { out, serverCpuMs, workersCpuMs } = await measureProducer(redis, workers, producer, ctx.smoke ? 60_000 : 400_000);
    const t = analyze(out);
    const problems = correctness("throughput/bullmq", t);
    const serverRssMb = rssMb(redis.child.pid);
    ctx.log(`throughput/bullmq: dispatch alone, ${n} queue.add to a queue nobody reads`);
    const alone = await startBullmqProducer({ redis, dir, label: "dispatch-alone", plan: alonePlan("bullmq") });
    const aloneTimings = analyze(await alone.done(ctx.smoke ? 60_000 : 400_000));
    if (aloneTimings.errors > 0) problems.push(`throughput/bullmq dispatch alone: ${aloneTimings.errors} queue.add failed (${aloneTimings.firstErrors.slice(0, 3).join("; ")})`);
    return { result: { ...t, dispatchAloneRate: aloneTimings.dispatchRate, cpu: cpuSplit(t, serverCpuMs, out.cpuMs, workersCpuMs), serverRssMb }, problems };
  });
  if (bq) {
    results.bullmq = bq.record;
    problems.push(...bq.problems);
  } else if (!ctx.bullmq.run) results.bullmq = { skipped: ctx.bullmq.reason };

  const c = ctx.ceilings;
  type Run = NonNullable<(typeof per)[Sdk]>;
  /** One figure per SDK run, and BullMQ's where `both` says the figure has a BullMQ counterpart. */
  const v = (f: (x: Run) => number | string | null, both = false) => ({ ...perSdkValues(ctx, per, f), ...(both && bq ? { bullmq: bq.result ? f(bq.result as Run) : null } : {}) });
  const server = serverLabel(ctx);
  const rows: Row[] = [
    { metric: "end to end, invocations/s", values: v((x) => x.endToEndRate, true), compare: true },
    { metric: "dispatch rate in that run (beginRpc returned), /s", values: v((x) => x.dispatchRate, true), compare: true },
    { metric: "dispatch alone (no workers, no result()), /s", values: v((x) => x.dispatchAloneRate, true), compare: true },
    { metric: "dispatch→result p50 / p99 / max ms", values: v((x) => `${x.dispatchToResult.p50} / ${x.dispatchToResult.p99} / ${x.dispatchToResult.max}`, true), compare: true },
    { metric: "  dispatch→start p50 / p99 / max ms", values: v((x) => `${x.dispatchToStart.p50} / ${x.dispatchToStart.p99} / ${x.dispatchToStart.max}`, true), compare: true },
    { metric: "  start→result p50 / p99 / max ms", values: v((x) => `${x.startToResult.p50} / ${x.startToResult.p99} / ${x.startToResult.max}`, true), compare: true },
    { metric: "completed / errors", values: v((x) => `${x.completed} / ${x.errors}`, true) },
    { metric: "per worker", values: v((x) => spread(x.perWorker, WORKERS), true) },
    { metric: `CPU ms/invocation: ${server} / producer / workers`, values: v((x) => `${x.cpu.perInvocationMs.server} / ${x.cpu.perInvocationMs.producer} / ${x.cpu.perInvocationMs.workers}`, true), compare: true },
    { metric: `busy cores: ${server} / producer / workers`, values: v((x) => `${x.cpu.busyCores.server} / ${x.cpu.busyCores.producer} / ${x.cpu.busyCores.workers}`, true), compare: true },
    { metric: `${server} RSS MB at the end`, values: v((x) => x.serverRssMb ?? null, true), compare: true },
    { metric: "echo req/s just before / after this run", values: v((x) => `${x.adjacentEcho.before} / ${x.adjacentEcho.after}`) },
    { metric: `${REQUESTS_PER_INVOCATION} req/inv ÷ echo req/s (mean of before/after)`, values: v((x) => ratio(x.endToEndRate * REQUESTS_PER_INVOCATION, x.adjacentEcho.mean)) },
    { metric: `${REQUESTS_PER_INVOCATION} req/inv ÷ echo req/s (ceilings, start of the bench)`, values: v((x) => ratio(x.endToEndRate * REQUESTS_PER_INVOCATION, c?.echo.rate)) },
    { metric: "invocations/s ÷ server promise.create/s", values: v((x) => ratio(x.endToEndRate, c?.serverCreate.rate)) },
    { metric: "dispatch alone ÷ server promise.create/s", values: v((x) => ratio(x.dispatchAloneRate, c?.serverCreate.rate)) },
    { metric: `${REQUESTS_PER_INVOCATION} commits/inv ÷ SQLite NORMAL commits/s`, values: v((x) => ratio(x.endToEndRate * REQUESTS_PER_INVOCATION, c?.sqliteNormal.rate)) },
    warningsRow(ctx, results),
  ];
  addRatioCells(rows, ctx.sdks);
  const ratios = vsBullmq(results, ctx.sdks, ["endToEndRate", "dispatchRate", "dispatchAloneRate", "dispatchToResult", "dispatchToStart", "startToResult", "cpu", "serverRssMb"]);
  if (ratios) results.vsBullmq = ratios;
  if (c) {
    for (const sdk of ctx.sdks) {
      const x = per[sdk];
      if (!x) continue;
      (results[sdk] as Record<string, unknown>).vsCeilings = {
        requestsPerInvocation: REQUESTS_PER_INVOCATION,
        requestRateShareOfEcho: ratio(x.endToEndRate * REQUESTS_PER_INVOCATION, c.echo.rate),
        requestRateShareOfAdjacentEcho: ratio(x.endToEndRate * REQUESTS_PER_INVOCATION, x.adjacentEcho.mean),
        shareOfServerCreateRate: ratio(x.endToEndRate, c.serverCreate.rate),
        dispatchAloneShareOfServerCreateRate: ratio(x.dispatchAloneRate, c.serverCreate.rate),
        commitRateShareOfSqliteNormal: ratio(x.endToEndRate * REQUESTS_PER_INVOCATION, c.sqliteNormal.rate),
      };
    }
  }
  return { params, results, rows, problems, extraColumns: bullmqColumns(ctx) };
}
