import { describe, expect, it } from "vitest";
import type { WorkloadOutput } from "../src/context";
import { summarizeRounds } from "../src/rounds";
import { median } from "../src/stats";

const round = (results: Record<string, unknown>): WorkloadOutput => ({ params: {}, results, rows: [], problems: [] });

describe("--rounds summary", () => {
  it("median of odd and even counts, nothing for none", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeUndefined();
  });

  it("gives each round's throughput ratio to BullMQ and their median, per SDK", () => {
    const outputs = [0.49, 0.62, 0.55].map((r, i) =>
      round({ vsBullmq: { "ours-ws": { endToEndRate: r }, ours: { endToEndRate: 0.2 + i / 100 } } }),
    );
    const { rows, ratios } = summarizeRounds("throughput", outputs, ["ours", "ours-ws"]);
    expect(ratios["ours-ws"]!["end to end, invocations/s"]).toEqual({ rounds: [0.49, 0.62, 0.55], median: 0.55 });
    expect(ratios.ours!["end to end, invocations/s"]!.median).toBe(0.21);
    expect(rows[0]!.values["ours-ws"]).toBe("0.49, 0.62, 0.55 → 0.55");
  });

  it("reads the cold ratios where the latency workload puts them, and marks a round that lacks a figure", () => {
    const outputs = [
      round({ vsBullmq: { "ours-ws": { dispatchToStart: { p50: 0.9, p99: 1.1 } } }, cold: { vsBullmq: { "ours-ws": { dispatchToStart: { p99: 1.4 } } } } }),
      round({ vsBullmq: { "ours-ws": { dispatchToStart: { p50: 1.0, p99: 1.3 } } }, cold: { vsBullmq: {} } }),
      round({ vsBullmq: { "ours-ws": { dispatchToStart: { p50: 0.8, p99: 0.9 } } }, cold: { vsBullmq: { "ours-ws": { dispatchToStart: { p99: 1.2 } } } } }),
    ];
    const { ratios, rows } = summarizeRounds("latency", outputs, ["ours-ws"]);
    expect(ratios["ours-ws"]!["dispatch→start p99, warm"]).toEqual({ rounds: [1.1, 1.3, 0.9], median: 1.1 });
    expect(ratios["ours-ws"]!["dispatch→start p99, cold"]).toEqual({ rounds: [1.4, null, 1.2], median: 1.3 });
    expect(rows.find((r) => r.metric.startsWith("dispatch→start p99, cold"))!.values["ours-ws"]).toBe("1.40, –, 1.20 → 1.30");
  });

  it("an SDK with no ratio in any round gets a dash, not a median of nothing", () => {
    const { ratios, rows } = summarizeRounds("throughput", [round({}), round({ vsBullmq: {} })], ["official"]);
    expect(ratios.official!["end to end, invocations/s"]).toEqual({ rounds: [null, null], median: null });
    expect(rows[0]!.values.official).toBeNull();
  });
});
