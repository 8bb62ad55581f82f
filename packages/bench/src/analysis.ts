// Turns what a producer recorded into figures. All timestamps are epoch milliseconds of processes on
// the same machine (one clock, sub-millisecond: preciseNow in producer-core.mjs), so worker-side
// start times and producer-side times can be subtracted. Latencies are reported to 0.1 ms.
import { type Child, cpuMs } from "./procs";
import type { ProducerOutput } from "./sdks";
import { type Summary, round, summarize } from "./stats";

export interface Timings {
  /** Invocations asked for / whose beginRpc returned / whose result was observed. */
  n: number;
  dispatched: number;
  completed: number;
  errors: number;
  firstErrors: string[];
  /** First dispatch → last result, ms. */
  spanMs: number;
  /** Completed invocations per second over that span. */
  endToEndRate: number;
  /** Invocations whose beginRpc returned, per second, from the first dispatch to the last return. */
  dispatchRate: number;
  dispatchToStart: Summary;
  dispatchToResult: Summary;
  /** Worker start → result observed by the producer (fulfill, unblock): where a tail comes from. */
  startToResult: Summary;
  /** Invocations run by each worker index. */
  perWorker: Record<string, number>;
  /** Rate mode: how late the producer issued dispatches against its schedule. */
  scheduleLag?: Summary;
}

export function analyze(out: ProducerOutput): Timings {
  const completedIdx: number[] = [];
  const createdIdx: number[] = [];
  for (let i = 0; i < out.n; i++) {
    if (out.c[i]! > 0) createdIdx.push(i);
    if (out.r[i]! > 0) completedIdx.push(i);
  }
  const first = Math.min(...out.d.filter((x) => x > 0));
  const lastResult = completedIdx.length ? Math.max(...completedIdx.map((i) => out.r[i]!)) : NaN;
  const lastCreated = createdIdx.length ? Math.max(...createdIdx.map((i) => out.c[i]!)) : NaN;
  const perWorker: Record<string, number> = {};
  for (const i of completedIdx) perWorker[String(out.w[i])] = (perWorker[String(out.w[i])] ?? 0) + 1;
  const spanMs = Math.round(lastResult - first);
  return {
    n: out.n,
    dispatched: out.dispatched,
    completed: out.resolved,
    errors: out.errorCount,
    firstErrors: out.errors.map((e) => `${e.where} #${e.i}: ${e.error}`),
    spanMs,
    endToEndRate: round((completedIdx.length * 1000) / spanMs),
    dispatchRate: round((createdIdx.length * 1000) / Math.max(1, lastCreated - first)),
    dispatchToStart: latencies(completedIdx.filter((i) => out.s[i]! > 0).map((i) => out.s[i]! - out.d[i]!)),
    dispatchToResult: latencies(completedIdx.map((i) => out.r[i]! - out.d[i]!)),
    startToResult: latencies(completedIdx.filter((i) => out.s[i]! > 0).map((i) => out.r[i]! - out.s[i]!)),
    perWorker,
    ...(out.lag ? { scheduleLag: latencies(out.lag.filter((_, i) => out.d[i]! > 0)) } : {}),
  };
}

/** Percentiles of millisecond differences, to 0.1 ms (the clocks are finer than that, the figures need not be). */
function latencies(ms: number[]): Summary {
  return summarize(ms.map((x) => round(x, 1)));
}

/** "2500 / 2500 / 2500 / 2500": how evenly the workers shared the invocations. */
export function spread(perWorker: Record<string, number>, workers: number): string {
  return Array.from({ length: workers }, (_, i) => perWorker[String(i)] ?? 0).join(" / ");
}

/** Problems that make a run invalid (not timing): invocations lost or failed. */
export function correctness(label: string, t: Timings): string[] {
  const problems: string[] = [];
  if (t.errors > 0) problems.push(`${label}: ${t.errors} invocations failed (${t.firstErrors.slice(0, 3).join("; ")})`);
  if (t.completed < t.n) problems.push(`${label}: only ${t.completed} of ${t.n} results arrived`);
  return problems;
}

/** CPU time (ms) used so far by a set of processes, summed. */
export function cpuOf(children: Child[]): number {
  return children.reduce((sum, c) => sum + (cpuMs(c.pid) ?? 0), 0);
}

/** Where the CPU went over a run, per invocation and as busy cores. */
export interface CpuSplit {
  /** ms of CPU per completed invocation: server, producer, all workers together. */
  perInvocationMs: { server: number; producer: number; workers: number };
  /** Average cores kept busy over the span (2 = both cores of a 2-CPU machine). */
  busyCores: { server: number; producer: number; workers: number; total: number };
}

export function cpuSplit(t: Timings, server: number, producer: number, workers: number): CpuSplit {
  const per = (x: number) => round(x / Math.max(1, t.completed), 3);
  const busy = (x: number) => round(x / t.spanMs, 2);
  return {
    perInvocationMs: { server: per(server), producer: per(producer), workers: per(workers) },
    busyCores: { server: busy(server), producer: busy(producer), workers: busy(workers), total: busy(server + producer + workers) },
  };
}
