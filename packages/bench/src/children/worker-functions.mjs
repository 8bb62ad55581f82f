// The functions both kinds of worker register (plain JavaScript, loaded by Node 20 and Node 22).
// Each returns { s, w }: the worker's clock (preciseNow) when the function started and the worker's index,
// so the producer learns dispatch→start without a stdout line per invocation.
import { mark, preciseNow } from "./producer-core.mjs";

const INDEX = Number(process.env.BENCH_WORKER_INDEX ?? -1);
/** Recovery runs print a line per start so the bench can see who runs what (30 lines, not 10k). */
const MARK_STARTS = process.env.BENCH_MARK_STARTS === "1";

export const workerIndex = INDEX;

/** A no-op: the cost of an invocation is all protocol. */
export function noop(_ctx, _i) {
  return { s: preciseNow(), w: INDEX };
}

/** Takes `ms` of wall time (a timer, not CPU). */
export async function work(ctx, i, ms) {
  const s = preciseNow();
  if (MARK_STARTS) mark("start", { id: ctx.id, i, w: INDEX });
  await new Promise((r) => setTimeout(r, ms));
  if (MARK_STARTS) mark("finish", { id: ctx.id, i, w: INDEX });
  return { s, w: INDEX };
}
