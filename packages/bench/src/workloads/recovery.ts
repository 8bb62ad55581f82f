// recovery: 3 workers with a short lease (ttl), N invocations that each take a few seconds; shortly
// after the start the busiest worker is SIGKILLed. Figures: time until all N results arrived, how
// many were lost (must be 0), how many ran twice (the killed worker's, re-run elsewhere: at-least-
// once), and how long after the kill the orphans started again. Server flags are the defaults, so
// the figure shows what the defaults give (--disconnect-grace 2000: a dead worker's leases are taken
// back 2 s after its stream closed, before the ttl lapses).
import { analyze } from "../analysis";
import { type BenchContext, type Row, type WorkloadOutput, perSdkValues, runPerSdk, warningsRow } from "../context";
import { type Child, sleep } from "../procs";
import { startProducer, startWorkers } from "../sdks";
import { summarize } from "../stats";

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

export async function recovery(ctx: BenchContext): Promise<WorkloadOutput> {
  const n = ctx.smoke ? 6 : 30;
  const workMs = ctx.smoke ? 1500 : 4000;
  const killAfterMs = ctx.smoke ? 500 : 1000;
  const ttl = ctx.smoke ? 2000 : 5000;
  const params = { invocations: n, workers: WORKERS, workMs, killAfterMs, ttlMs: ttl, signal: "SIGKILL", victim: "the worker running the most invocations", serverFlags: "defaults (--disconnect-grace 2000, --reoffer-after 1000, --retry-timeout 30000)" };
  const { per, results, problems } = await runPerSdk<RecoveryResult>(ctx, "recovery", async (sdk, server, dir) => {
    ctx.log(`recovery/${sdk}: ${n} × ${workMs} ms on ${WORKERS} workers, SIGKILL the busiest after ${killAfterMs} ms (ttl ${ttl} ms)`);
    const workers = await startWorkers(sdk, WORKERS, { url: server.url, dir, ttl, markStarts: true });
    const producer = await startProducer(sdk, {
      url: server.url,
      dir,
      label: "producer",
      plan: { mode: "burst", n, window: n, func: "work", args: [workMs], idPrefix: `rec-${sdk}`, target: "poll://any@workers", resultTimeoutMs: 120_000 },
    });
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
    ctx.log(`recovery/${sdk}: killed worker ${victimIndex} (pid ${victim.pid}) running ${killedRunning}`);

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
    if (r.lost > 0) problems.push(`recovery/${sdk}: ${r.lost} of ${n} invocations lost`);
    if (r.errors > 0) problems.push(`recovery/${sdk}: ${r.errors} invocations failed (${t.firstErrors.slice(0, 3).join("; ")})`);
    return { result: r, problems };
  });

  const v = (f: (x: RecoveryResult) => number | string | null) => perSdkValues(ctx, per, f);
  const rows: Row[] = [
    { metric: "all complete, ms after first dispatch", values: v((x) => x.allCompleteMs) },
    { metric: "  of which after the kill, ms", values: v((x) => x.killToAllCompleteMs) },
    { metric: `  ÷ the ideal (${workMs} ms: nothing lost)`, values: v((x) => Math.round((100 * x.allCompleteMs) / workMs) / 100) },
    { metric: "lost (must be 0)", values: v((x) => x.lost) },
    { metric: "ran twice", values: v((x) => x.ranTwice) },
    { metric: "running on the killed worker", values: v((x) => x.killedRunning) },
    { metric: "kill→restart of orphans ms p50 / max", values: v((x) => `${x.killToRestartMs.p50} / ${x.killToRestartMs.max}`) },
    warningsRow(ctx, results),
  ];
  return { params, results, rows, problems };
}
