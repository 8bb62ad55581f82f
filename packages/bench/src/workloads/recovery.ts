// recovery: 3 workers with a short lease (ttl), N invocations that each take a few seconds; shortly
// after the start the busiest worker is SIGKILLed. Figures: time until all N results arrived, how
// many were lost (must be 0), how many ran twice (the killed worker's, re-run elsewhere: at-least-
// once), and how long after the kill the orphans started again. Server flags are the defaults, so
// the figure shows what the defaults give (--disconnect-grace 2000: a dead worker's leases are taken
// back 2 s after its stream closed, before the ttl lapses).
//
// Then the same on BullMQ with lockDuration = the same ttl, twice: with BullMQ's default stalled-job
// check (every 30 s) and with a 1 s check (the period of our server's lease pass). A dead BullMQ
// worker's jobs are only found by that check, once their lock has lapsed. At smoke sizes only the
// 1 s check runs (the default one alone takes 30–60 s).
import { analyze } from "../analysis";
import type { ProducerPlan } from "../children/producer-core.mjs";
import { BULLMQ_SETTINGS, bullmqParams, runOnFreshRedis, startBullmqProducer, startBullmqWorkers } from "../bullmq";
import { type BenchContext, type Row, type SdkRun, type WorkloadOutput, perSdkValues, runPerSdk, warningsRow } from "../context";
import { type Child, sleep } from "../procs";
import { type Producer, startProducer, startWorkers } from "../sdks";
import { summarize } from "../stats";
import { addRatioCells, bullmqColumns, vsBullmq } from "../vs-bullmq";

const WORKERS = 3;

interface RecoveryResult {
  invocations: number;
  completed: number;
  lost: number;
  ranTwice: number;
  killedWorker: number;
  killedRunning: number;
  /** First dispatch → last result. */
  allCompleteMs: number;
  /** Kill → last result. */
  killToAllCompleteMs: number;
  /** Kill → second start of each orphaned invocation. */
  killToRestartMs: ReturnType<typeof summarize>;
  errors: number;
}

/** BullMQ's two set-ups here: the column key, its label, and its stalled-job check interval. */
const BULLMQ_VARIANTS = [
  { key: "bullmq", label: "BullMQ", stalledInterval: BULLMQ_SETTINGS.stalledIntervalDefault, note: "default stalled check (30 s)" },
  { key: "bullmqCheck1s", label: "BullMQ 1 s check", stalledInterval: BULLMQ_SETTINGS.stalledIntervalTuned, note: "stalledInterval 1,000 ms" },
] as const;

export async function recovery(ctx: BenchContext): Promise<WorkloadOutput> {
  const n = ctx.smoke ? 6 : 30;
  const workMs = ctx.smoke ? 1500 : 4000;
  const killAfterMs = ctx.smoke ? 500 : 1000;
  const ttl = ctx.smoke ? 2000 : 5000;
  const variants = ctx.smoke ? BULLMQ_VARIANTS.filter((v) => v.key !== "bullmq") : BULLMQ_VARIANTS;
  const params = {
    invocations: n,
    workers: WORKERS,
    workMs,
    killAfterMs,
    ttlMs: ttl,
    signal: "SIGKILL",
    victim: "the worker running the most invocations",
    serverFlags: "defaults (--disconnect-grace 2000, --reoffer-after 1000, --retry-timeout 30000)",
    bullmq: bullmqParams(ctx, { lockDurationMs: ttl, maxStalledCount: "default (1)", runs: Object.fromEntries(variants.map((v) => [v.key, { stalledIntervalMs: v.stalledInterval }])) }),
  };
  const plan = (system: string): Omit<ProducerPlan, "out"> => ({ mode: "burst", n, window: n, func: "work", args: [workMs], idPrefix: `rec-${system}`, target: "poll://any@workers", resultTimeoutMs: 120_000 });
  const { per, results, problems } = await runPerSdk<RecoveryResult>(ctx, "recovery", async (sdk, server, dir) => {
    ctx.log(`recovery/${sdk}: ${n} × ${workMs} ms on ${WORKERS} workers, SIGKILL the busiest after ${killAfterMs} ms (ttl ${ttl} ms)`);
    const workers = await startWorkers(sdk, WORKERS, { url: server.url, dir, ttl, markStarts: true });
    const producer = await startProducer(sdk, { url: server.url, dir, label: "producer", plan: plan(sdk) });
    return killBusiestAndWait(ctx, `recovery/${sdk}`, workers, producer, { n, killAfterMs });
  });

  const bq: Partial<Record<string, RecoveryResult | null>> = {};
  for (const variant of variants) {
    const label = `recovery/${variant.key}`;
    const one = await runOnFreshRedis<RecoveryResult>(ctx, label, async (redis, dir) => {
      ctx.log(`${label}: ${n} × ${workMs} ms on ${WORKERS} BullMQ workers (lockDuration ${ttl} ms, ${variant.note}), SIGKILL the busiest after ${killAfterMs} ms`);
      const workers = await startBullmqWorkers(WORKERS, { redis, dir, lockDuration: ttl, stalledInterval: variant.stalledInterval, markStarts: true });
      const producer = await startBullmqProducer({ redis, dir, label: "producer", plan: plan(variant.key) });
      return killBusiestAndWait(ctx, label, workers, producer, { n, killAfterMs });
    });
    if (!one) {
      if (!ctx.bullmq.run) results[variant.key] = { skipped: ctx.bullmq.reason };
      continue;
    }
    results[variant.key] = one.record;
    bq[variant.key] = one.result ?? null;
    problems.push(...one.problems);
  }

  /** One figure per SDK run and per BullMQ set-up that ran. */
  const v = (f: (x: RecoveryResult) => number | string | null) => ({
    ...perSdkValues(ctx, per, f),
    ...Object.fromEntries(Object.entries(bq).map(([k, x]) => [k, x ? f(x) : null])),
  });
  const rows: Row[] = [
    { metric: "all complete, ms after first dispatch", values: v((x) => x.allCompleteMs), compare: true },
    { metric: "  of which after the kill, ms", values: v((x) => x.killToAllCompleteMs), compare: true },
    { metric: `  ÷ the ideal (${workMs} ms: nothing lost)`, values: v((x) => Math.round((100 * x.allCompleteMs) / workMs) / 100), compare: true },
    { metric: "lost (must be 0)", values: v((x) => x.lost) },
    { metric: "ran twice", values: v((x) => x.ranTwice) },
    { metric: "running on the killed worker", values: v((x) => x.killedRunning) },
    { metric: "kill→restart (re-dispatch) of orphans ms p50 / max", values: v((x) => `${x.killToRestartMs.p50} / ${x.killToRestartMs.max}`), compare: true },
    warningsRow(ctx, results),
  ];
  const keys = ["allCompleteMs", "killToAllCompleteMs", "killToRestartMs"];
  const ratios: Record<string, unknown> = {};
  for (const variant of variants) {
    addRatioCells(rows, ctx.sdks, variant.key);
    const r = vsBullmq(results, ctx.sdks, keys, variant.key);
    if (r) ratios[variant.key] = r;
  }
  if (Object.keys(ratios).length > 0) results.vsBullmq = ratios;
  return { params, results, rows, problems, extraColumns: bullmqColumns(ctx, variants.map((x) => ({ key: x.key, label: x.label }))) };
}

/**
 * The measurement all systems share: `killAfterMs` after the producer started dispatching, SIGKILL
 * the worker running the most invocations (workers mark "start" and "finish"), then wait for every
 * result and see what ran twice and how long after the kill the orphans started again.
 */
async function killBusiestAndWait(
  ctx: BenchContext,
  label: string,
  workers: Child[],
  producer: Producer,
  o: { n: number; killAfterMs: number },
): Promise<SdkRun<RecoveryResult>> {
  const { n, killAfterMs } = o;
  const dispatchStart = producer.child.events("ready")[0]!.at;
  await sleep(Math.max(0, dispatchStart + killAfterMs - Date.now()));

  const running = (w: Child) => {
    const finished = new Set(w.events("finish").map((m) => m.id));
    return w.events("start").filter((m) => !finished.has(m.id)).length;
  };
  const victimIndex = workers.map(running).reduce((best, count, i, all) => (count > all[best]! ? i : best), 0);
  const victim = workers[victimIndex]!;
  const killedRunning = running(victim);
  victim.signal("SIGKILL");
  const killAt = Date.now();
  ctx.log(`${label}: killed worker ${victimIndex} (pid ${victim.pid}) running ${killedRunning}`);

  const out = await producer.done(150_000);
  const t = analyze(out);
  const starts = workers.flatMap((w) => w.events("start").map((m) => ({ id: String(m.id), at: m.t as number, w: m.w as number })));
  const byId = new Map<string, Array<{ at: number; w: number }>>();
  for (const s of starts) byId.set(s.id, [...(byId.get(s.id) ?? []), s]);
  const ranTwice = [...byId.values()].filter((list) => list.length >= 2).length;
  const orphanRestarts = [...byId.values()]
    .filter((list) => list.some((s) => s.w === victimIndex && s.at <= killAt) && list.length >= 2)
    .map((list) => Math.min(...list.filter((s) => s.at > killAt).map((s) => s.at)) - killAt);
  const lastResult = Math.max(...out.r.filter((x) => x > 0));
  const r: RecoveryResult = {
    invocations: n,
    completed: t.completed,
    lost: n - t.completed,
    ranTwice,
    killedWorker: victimIndex,
    killedRunning,
    allCompleteMs: t.spanMs,
    killToAllCompleteMs: Math.round(lastResult - killAt),
    killToRestartMs: summarize(orphanRestarts),
    errors: t.errors,
  };
  const problems: string[] = [];
  if (r.lost > 0) problems.push(`${label}: ${r.lost} of ${n} invocations lost`);
  if (r.errors > 0) problems.push(`${label}: ${r.errors} invocations failed (${t.firstErrors.slice(0, 3).join("; ")})`);
  return { result: r, problems };
}
