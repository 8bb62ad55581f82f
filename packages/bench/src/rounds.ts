// `pnpm bench --rounds N`: the workloads compared with BullMQ run N times in a row, each round our
// stacks then BullMQ, and a summary gives every round's ratio of the figures the targets are about
// (docs/performance.md, "Beside BullMQ") with their median. On this machine one system's figure
// moves by ±25 % from one minute to the next; a ratio of two runs seconds apart moves less, and the
// median of several such ratios is what a single unlucky round cannot decide.
import type { Row, WorkloadOutput } from "./context";
import type { Sdk } from "./sdks";
import { median, round } from "./stats";

/** The workloads that run more than once under --rounds. */
export const ROUNDED = ["throughput", "latency"] as const;

interface Figure {
  metric: string;
  /** The ratio (SDK ÷ BullMQ) of one round's results, when that round has it. */
  of: (results: Record<string, unknown>, sdk: Sdk) => number | undefined;
}

const at = (tree: unknown, ...path: string[]): number | undefined => {
  let node = tree;
  for (const key of path) node = node && typeof node === "object" ? (node as Record<string, unknown>)[key] : undefined;
  return typeof node === "number" ? node : undefined;
};

const FIGURES: Record<(typeof ROUNDED)[number], Figure[]> = {
  throughput: [{ metric: "end to end, invocations/s", of: (r, sdk) => at(r, "vsBullmq", sdk, "endToEndRate") }],
  latency: [
    { metric: "dispatch→start p99, warm", of: (r, sdk) => at(r, "vsBullmq", sdk, "dispatchToStart", "p99") },
    { metric: "dispatch→start p99, cold", of: (r, sdk) => at(r, "cold", "vsBullmq", sdk, "dispatchToStart", "p99") },
    { metric: "dispatch→start p50, warm", of: (r, sdk) => at(r, "vsBullmq", sdk, "dispatchToStart", "p50") },
  ],
};

export interface RoundsSummary {
  rows: Row[];
  /** For the JSON line: per SDK and figure, each round's ratio (null where a round lacks it) and their median. */
  ratios: Record<string, Record<string, { rounds: Array<number | null>; median: number | null }>>;
}

/** Each round's SDK ÷ BullMQ ratio of the workload's target figures, and their median, per SDK. */
export function summarizeRounds(workload: (typeof ROUNDED)[number], outputs: readonly WorkloadOutput[], sdks: readonly Sdk[]): RoundsSummary {
  const rows: Row[] = [];
  const ratios: RoundsSummary["ratios"] = {};
  for (const figure of FIGURES[workload]) {
    const values: Row["values"] = {};
    for (const sdk of sdks) {
      const each = outputs.map((o) => figure.of(o.results, sdk) ?? null);
      const known = each.filter((x): x is number => x !== null);
      const mid = median(known);
      const rounded = mid === undefined ? null : round(mid, 2);
      (ratios[sdk] ??= {})[figure.metric] = { rounds: each, median: rounded };
      values[sdk] = known.length === 0 ? null : `${each.map((x) => (x === null ? "–" : x.toFixed(2))).join(", ")} → ${rounded!.toFixed(2)}`;
    }
    rows.push({ metric: `${figure.metric}, ÷ BullMQ: each round → median`, values });
  }
  return { rows, ratios };
}
