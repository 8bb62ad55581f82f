// The producer loop shared by both producers (ours on Node 20, the official SDK's on Node 22): it
// only needs a `dispatch(id, args)` that starts an invocation and returns something with `result()`.
// Plain JavaScript so that both runtimes load the same file.
//
// Per invocation i it records, in ms since the epoch on this machine's clock (`preciseNow`, to a
// microsecond, so that a 10 ms percentile is not read off a 1 ms grid):
//   d[i] dispatch (burst: just before beginRpc; rate: the intended time of the open-loop schedule)
//   c[i] beginRpc returned (the promise exists on the server)
//   s[i] the worker's clock when the function started (carried back in the result value)
//   r[i] the result observed by this process
//   w[i] the index of the worker that ran it
// plus its own CPU time over the run (cpuMs),
// and writes them to plan.out as one JSON file (no per-invocation stdout: 10k lines would make
// parsing part of the measurement).
import fs from "node:fs";

export function mark(event, fields = {}) {
  process.stdout.write(`${JSON.stringify({ event, t: Date.now(), ...fields })}\n`);
}

/**
 * Milliseconds since the epoch with sub-millisecond resolution. Date.now() floors to whole
 * milliseconds, which alone moves a dispatch→start difference by up to 1 ms; this is the same
 * system clock (performance.timeOrigin is the epoch time of the process's start), so values of
 * different processes on this machine can still be subtracted.
 */
export function preciseNow() {
  return performance.timeOrigin + performance.now();
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function describe(e) {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/**
 * One phase: `n` invocations in the plan's mode (burst: `window` beginRpc in flight; rate: open
 * loop, invocation i due at origin + i/rate), results awaited unless awaitResults is false.
 * Returns the per-invocation arrays and the promises of the pending results.
 */
async function phase(plan, dispatch, n, idPrefix) {
  const d = new Array(n).fill(0);
  const c = new Array(n).fill(0);
  const s = new Array(n).fill(0);
  const r = new Array(n).fill(0);
  const w = new Array(n).fill(-1);
  const lag = plan.mode === "rate" ? new Array(n).fill(0) : undefined;
  const errors = [];
  const state = { errorCount: 0, dispatched: 0, resolved: 0 };
  const waits = [];

  const fail = (i, where, e) => {
    state.errorCount++;
    if (errors.length < 10) errors.push({ i, where, error: describe(e) });
  };

  const start = async (i) => {
    let handle;
    try {
      handle = await dispatch(`${idPrefix}-${i}`, [i, ...(plan.args ?? [])]);
    } catch (e) {
      fail(i, "dispatch", e);
      return;
    }
    c[i] = preciseNow();
    state.dispatched++;
    if (plan.awaitResults === false) return;
    waits.push(
      handle.result().then(
        (v) => {
          r[i] = preciseNow();
          if (v && typeof v === "object") {
            s[i] = typeof v.s === "number" ? v.s : 0;
            w[i] = typeof v.w === "number" ? v.w : -1;
          }
          state.resolved++;
        },
        (e) => fail(i, "result", e),
      ),
    );
  };

  const t0 = preciseNow();
  if (plan.mode === "burst") {
    let next = 0;
    const slot = async () => {
      while (next < n) {
        const i = next++;
        d[i] = preciseNow();
        await start(i);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, plan.window ?? 64) }, slot));
  } else {
    // Open loop: invocation i is due at origin + i/rate whatever happened to the ones before, so a
    // slow server shows up as latency, not as a lower offered rate. Latency counts from the due time.
    const origin = t0 + 20;
    const due = (i) => origin + (i * 1000) / plan.rate;
    const inFlight = [];
    let next = 0;
    while (next < n) {
      const now = preciseNow();
      while (next < n && due(next) <= now) {
        const i = next++;
        d[i] = due(i);
        lag[i] = now - d[i];
        inFlight.push(start(i));
      }
      if (next < n) await sleep(Math.max(0, due(next) - preciseNow()));
    }
    await Promise.all(inFlight);
  }
  return { t0, d, c, s, r, w, lag, errors, state, waits };
}

/**
 * plan: { mode: "burst" | "rate", n, window?, rate?, warmup?, func, args: [...extra args after i],
 *         idPrefix, awaitResults? (default true), resultTimeoutMs, out }
 *
 * `warmup` invocations run first in the same mode (same window or rate), unrecorded, and are all
 * awaited: the measured phase then starts on a warm JIT in every process and with the connection
 * pools already grown to what the load needs.
 */
export async function runProducer(plan, dispatch) {
  if (plan.warmup > 0) {
    const w0 = Date.now();
    const warm = await phase(plan, dispatch, plan.warmup, `${plan.idPrefix}-warm`);
    await Promise.race([Promise.all(warm.waits), sleep(plan.resultTimeoutMs ?? 120_000)]);
    mark("warm", { n: plan.warmup, ms: Date.now() - w0, errors: warm.state.errorCount });
  } else {
    // "warm" means "the measured phase starts now", which a cold run (no warm-up) also needs to say.
    mark("warm", { n: 0, ms: 0, errors: 0 });
  }
  const cpu0 = process.cpuUsage();
  const { t0, d, c, s, r, w, lag, errors, state, waits } = await phase(plan, dispatch, plan.n, plan.idPrefix);
  const n = plan.n;
  const { dispatched } = state;
  const dispatchEnd = preciseNow();
  mark("dispatched", { n: dispatched, ms: Math.round(dispatchEnd - t0) });

  const all = Promise.all(waits);
  const timedOut = await Promise.race([all.then(() => false), sleep(plan.resultTimeoutMs ?? 120_000).then(() => true)]);
  const end = preciseNow();
  const { resolved, errorCount } = state;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = Math.round((cpu.user + cpu.system) / 1000);
  fs.writeFileSync(
    plan.out,
    JSON.stringify({ n, t0, dispatchEnd, end, cpuMs, dispatched, resolved, errorCount, errors, timedOut, d, c, s, r, w, lag }),
  );
  mark("done", { dispatched, resolved, errorCount, timedOut });
}
