// Hop-by-hop attribution of an invocation's latency (pnpm bench --hops): given, per invocation, the
// times at which it passed each point of its path (client and server timestamps on one clock), the
// time between consecutive points it passed is one hop. For every hop: its percentiles over all
// invocations, and its mean over the slowest 1 % by dispatch→start — the part of the p99 that hop
// accounts for. Pure: the bench reads the records (hop-records.ts), this only joins and counts.
import { round, summarize } from "../stats";

/**
 * The path of one invocation, in order. A point is "<hop> <kind>" as the server (recv, run,
 * answered, write) or a client (send, wire, head, answer, read, deliver) recorded it, or one of the producer's
 * own: due (dispatch), start (the function began, the worker's clock), result (seen by the producer).
 */
export const INVOCATION_PATH = [
  "due",
  "send promise.create",
  "wire promise.create",
  "recv promise.create",
  "run promise.create",
  "write execute",
  "read execute",
  "deliver execute",
  "send task.acquire",
  "wire task.acquire",
  "recv task.acquire",
  "run task.acquire",
  "answered task.acquire",
  "head task.acquire",
  "answer task.acquire",
  "start",
  "send task.fulfill",
  "wire task.fulfill",
  "recv task.fulfill",
  "run task.fulfill",
  "write unblock",
  "read unblock",
  "result",
] as const;

/** What the time between two points is, for the table (a pair not listed is shown as "a → b"). */
const HOP_MEANING: Record<string, string> = {
  "due → send promise.create": "producer: due → create sent (schedule lag, SDK)",
  "send promise.create → recv promise.create": "create: client → server handler",
  "send promise.create → wire promise.create": "producer SDK (fetch): create → on the socket",
  "wire promise.create → recv promise.create": "create: socket → server handler",
  "recv promise.create → run promise.create": "create: waits for its commit batch",
  "run promise.create → write execute": "create: transaction, commit, dispatch",
  "write execute → read execute": "execute: stream → worker reads it",
  "read execute → deliver execute": "worker SDK: SSE parsing",
  "deliver execute → send task.acquire": "worker SDK: message → acquire sent",
  "read execute → send task.acquire": "worker SDK: message → acquire sent",
  "send task.acquire → recv task.acquire": "acquire: client → server handler",
  "send task.acquire → wire task.acquire": "worker SDK (fetch): acquire → on the socket",
  "wire task.acquire → recv task.acquire": "acquire: socket → server handler",
  "recv task.acquire → run task.acquire": "acquire: waits for its commit batch",
  "run task.acquire → answered task.acquire": "acquire: transaction, commit",
  "answered task.acquire → answer task.acquire": "acquire: answer → worker reads it",
  "answered task.acquire → head task.acquire": "acquire: answer → worker parses its head",
  "head task.acquire → answer task.acquire": "worker SDK (fetch): head → fetch resolves",
  "answer task.acquire → start": "worker SDK: acquired → function starts",
  "start → send task.fulfill": "worker SDK: function → fulfill sent",
  "send task.fulfill → recv task.fulfill": "fulfill: client → server handler",
  "send task.fulfill → wire task.fulfill": "worker SDK (fetch): fulfill → on the socket",
  "wire task.fulfill → recv task.fulfill": "fulfill: socket → server handler",
  "recv task.fulfill → run task.fulfill": "fulfill: waits for its commit batch",
  "run task.fulfill → write unblock": "fulfill: transaction, commit, unblock",
  "write unblock → read unblock": "unblock: stream → producer reads it",
  "read unblock → result": "producer SDK: unblock → result",
};

export interface InvocationPoints {
  id: string;
  /** Epoch ms per point of INVOCATION_PATH that this invocation was seen at. */
  at: Partial<Record<string, number>>;
}

export interface HopRow {
  /** "from → to" */
  hop: string;
  meaning: string;
  /** Invocations that had both points (and none between them). */
  n: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** Mean over the slowest 1 % by dispatch→start (of those that had this hop). */
  meanInSlowest: number;
  /** Whether the hop lies between due and start (counts in dispatch→start). */
  beforeStart: boolean;
}

export interface HopTable {
  invocations: number;
  /** dispatch→start (start − due) over the invocations that have both. */
  dispatchToStart: { p50: number; p90: number; p99: number; max: number };
  /** How many invocations make up "the slowest 1 %", and their mean dispatch→start. */
  slowest: { n: number; meanDispatchToStart: number };
  rows: HopRow[];
}

/** The hops of one invocation: consecutive points of the path that it has, with the time between. */
export function hopsOf(inv: InvocationPoints, path: readonly string[] = INVOCATION_PATH): { hop: string; ms: number; beforeStart: boolean }[] {
  const out: { hop: string; ms: number; beforeStart: boolean }[] = [];
  let prev: string | undefined;
  let startSeen = false;
  for (const point of path) {
    const t = inv.at[point];
    if (t === undefined) continue;
    if (prev !== undefined) out.push({ hop: `${prev} → ${point}`, ms: t - inv.at[prev]!, beforeStart: !startSeen });
    if (point === "start") startSeen = true;
    prev = point;
  }
  return out;
}

export function attributeHops(invocations: InvocationPoints[], path: readonly string[] = INVOCATION_PATH): HopTable {
  const total = (inv: InvocationPoints) => (inv.at.due !== undefined && inv.at.start !== undefined ? inv.at.start - inv.at.due : undefined);
  const withTotal = invocations.filter((inv) => total(inv) !== undefined);
  const totals = summarize(withTotal.map((inv) => total(inv)!));
  // The slowest 1 % (at least one): what the p99 is made of.
  const byTotal = [...withTotal].sort((a, b) => total(b)! - total(a)!);
  const slowest = new Set(byTotal.slice(0, Math.max(1, Math.ceil(byTotal.length / 100))));

  const all = new Map<string, { values: number[]; slow: number[]; beforeStart: boolean }>();
  for (const inv of invocations) {
    for (const h of hopsOf(inv, path)) {
      let e = all.get(h.hop);
      if (!e) all.set(h.hop, (e = { values: [], slow: [], beforeStart: h.beforeStart }));
      e.values.push(h.ms);
      if (slowest.has(inv)) e.slow.push(h.ms);
    }
  }
  // Rows in path order (by where the hop starts, then where it ends).
  const order = (hop: string) => hop.split(" → ").map((p) => path.indexOf(p));
  const rows = [...all.entries()]
    .sort(([a], [b]) => {
      const [a0, a1] = order(a);
      const [b0, b1] = order(b);
      return a0! - b0! || a1! - b1!;
    })
    .map(([hop, e]): HopRow => {
      const s = summarize(e.values);
      return {
        hop,
        meaning: HOP_MEANING[hop] ?? hop,
        n: s.n,
        p50: round(s.p50, 2),
        p90: round(s.p90, 2),
        p99: round(s.p99, 2),
        max: round(s.max, 2),
        meanInSlowest: e.slow.length ? round(e.slow.reduce((a, b) => a + b, 0) / e.slow.length, 2) : NaN,
        beforeStart: e.beforeStart,
      };
    });
  const slowTotals = [...slowest].map((inv) => total(inv)!);
  return {
    invocations: invocations.length,
    dispatchToStart: { p50: round(totals.p50, 2), p90: round(totals.p90, 2), p99: round(totals.p99, 2), max: round(totals.max, 2) },
    slowest: { n: slowest.size, meanDispatchToStart: slowTotals.length ? round(slowTotals.reduce((a, b) => a + b, 0) / slowTotals.length, 2) : NaN },
    rows,
  };
}

/** The table as text: one line per hop, ms. */
export function formatHopTable(title: string, t: HopTable): string {
  const cell = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : "–");
  const width = Math.max(...t.rows.map((r) => r.meaning.length), 10);
  const head = `${"hop".padEnd(width)}  ${"n".padStart(5)}  ${"p50".padStart(7)}  ${"p90".padStart(7)}  ${"p99".padStart(7)}  ${"max".padStart(7)}  ${"slowest 1%".padStart(10)}`;
  const lines = t.rows.map(
    (r) => `${r.meaning.padEnd(width)}  ${String(r.n).padStart(5)}  ${cell(r.p50).padStart(7)}  ${cell(r.p90).padStart(7)}  ${cell(r.p99).padStart(7)}  ${cell(r.max).padStart(7)}  ${cell(r.meanInSlowest).padStart(10)}${r.beforeStart ? "" : "  (after start)"}`,
  );
  const d = t.dispatchToStart;
  return [
    `${title}: ${t.invocations} invocations; dispatch→start p50 ${cell(d.p50)} / p90 ${cell(d.p90)} / p99 ${cell(d.p99)} / max ${cell(d.max)} ms; slowest 1 % (${t.slowest.n}): mean ${cell(t.slowest.meanDispatchToStart)} ms`,
    head,
    ...lines,
  ].join("\n");
}
