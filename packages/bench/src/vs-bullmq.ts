// Every figure also as a ratio to BullMQ's of the same run: extra table columns ("ours ÷ BullMQ")
// computed from the rows' own cells, and the same ratios for the JSON line computed from the results.
// A ratio is SDK ÷ BullMQ, whatever the figure: above 1 is more invocations/s, or more milliseconds.
import type { BenchContext, Cell, Row } from "./context";
import { cell } from "./report";
import { round } from "./stats";

/** The key of the ratio column of `sdk` against the BullMQ column `base`. */
export const ratioKey = (sdk: string, base = "bullmq") => `${sdk}÷${base}`;

/**
 * The BullMQ columns of a table: BullMQ's figures (`variants`: more than one BullMQ set-up, e.g.
 * recovery's two stalled-check intervals) and, for each SDK, its ratio to each of them.
 */
export function bullmqColumns(ctx: BenchContext, variants: Array<{ key: string; label: string }> = [{ key: "bullmq", label: "BullMQ" }]): Array<{ key: string; label: string }> {
  if (!ctx.bullmq.run) return [];
  return [...variants, ...variants.flatMap((v) => ctx.sdks.map((sdk) => ({ key: ratioKey(sdk, v.key), label: `${sdk} ÷ ${v.label}` })))];
}

/** Fills the ratio cells of every row marked `compare` that has a figure in the base column. */
export function addRatioCells(rows: Row[], sdks: readonly string[], base = "bullmq"): void {
  for (const row of rows) {
    if (!row.compare || row.values[base] === undefined || row.values[base] === null) continue;
    for (const sdk of sdks) {
      const r = ratioCell(row.values[sdk], row.values[base]);
      if (r !== undefined) row.values[ratioKey(sdk, base)] = r;
    }
  }
}

/**
 * a ÷ b for one cell: numbers give a number; "p50 / p99 / max"-style strings give the same shape
 * part by part ("1.9 / 2.3 / 1.4"); anything else (or a zero) gives a dash.
 */
export function ratioCell(a: Cell, b: Cell): Cell {
  if (a === undefined || a === null || b === undefined || b === null) return null;
  if (typeof a === "number" && typeof b === "number") return divide(a, b);
  const as = String(a).split(" / ");
  const bs = String(b).split(" / ");
  if (as.length !== bs.length) return null;
  const parts = as.map((x, i) => divide(Number(x), Number(bs[i])));
  return parts.every((p) => p === null) ? null : parts.map((p) => cell(p)).join(" / ");
}

function divide(a: number, b: number): number | null {
  if (!Number.isFinite(a) || !Number.isFinite(b) || b === 0) return null;
  return round(a / b, a / b >= 10 ? 1 : 2);
}

/**
 * The JSON counterpart: for every number found at the same place in `a` and `b` (objects walked
 * key by key), a ÷ b. Sample sizes ("n") are left out: their ratio says nothing.
 */
export function ratioTree(a: unknown, b: unknown): unknown {
  if (typeof a === "number" && typeof b === "number") return divide(a, b);
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object" || Array.isArray(a) || Array.isArray(b)) return undefined;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(a as Record<string, unknown>)) {
    if (k === "n") continue;
    const r = ratioTree(v, (b as Record<string, unknown>)[k]);
    if (r !== undefined && !(typeof r === "object" && r !== null && Object.keys(r).length === 0)) out[k] = r;
  }
  return out;
}

/** `results[sdk] ÷ results[base]` for the chosen figures of each SDK's run (undefined when BullMQ did not run). */
export function vsBullmq(results: Record<string, unknown>, sdks: readonly string[], keys: readonly string[], base = "bullmq"): Record<string, unknown> | undefined {
  const b = results[base] as Record<string, unknown> | undefined;
  if (!b || "error" in b || "skipped" in b) return undefined;
  const out: Record<string, unknown> = {};
  for (const sdk of sdks) {
    const a = results[sdk] as Record<string, unknown> | undefined;
    if (!a || "error" in a) continue;
    out[sdk] = ratioTree(Object.fromEntries(keys.filter((k) => k in a).map((k) => [k, a[k]])), Object.fromEntries(keys.filter((k) => k in b).map((k) => [k, b[k]])));
  }
  return out;
}
