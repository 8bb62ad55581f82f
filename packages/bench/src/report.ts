// Output: a plain-text table per workload on stdout, followed by its one JSON line
// ({"bench": <workload>, …}); progress goes to stderr so stdout stays parseable.
import { execFileSync } from "node:child_process";
import os from "node:os";
import type { Row } from "./context";
import { NODE22 } from "./procs";
import type { Sdk } from "./sdks";

export interface Machine {
  nproc: number;
  cpu: string;
  memGb: number;
  node: string;
  nodeOfficial: string | undefined;
  platform: string;
  /** 1/5/15-minute load averages when the run (or, in a JSON line, the workload) started. */
  loadavgAtStart: number[];
}

export function machineInfo(): Machine {
  let nodeOfficial: string | undefined;
  try {
    nodeOfficial = execFileSync(NODE22, ["--version"], { encoding: "utf8" }).trim();
  } catch {
    nodeOfficial = undefined;
  }
  return {
    nproc: os.availableParallelism(),
    cpu: os.cpus()[0]?.model.trim() ?? "unknown",
    memGb: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    nodeOfficial,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    loadavgAtStart: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

export function cell(v: number | string | null | undefined): string {
  if (v === undefined) return "";
  if (v === null) return "–";
  if (typeof v === "number") {
    if (!Number.isFinite(v)) return "–";
    if (Number.isInteger(v)) return String(v);
    return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2);
  }
  return v;
}

/**
 * `allLabel`: the heading of the "all" column when SDK columns sit beside it (default "shared");
 * `extra`: columns after the SDK columns (BullMQ's, ratios). A column no row fills is left out.
 */
export function table(title: string, rows: Row[], sdks: readonly Sdk[], allLabel = "shared", extra: ReadonlyArray<{ key: string; label: string }> = []): string {
  const filled = (key: string) => rows.some((r) => r.values[key] !== undefined);
  const hasSdk = sdks.some(filled);
  const columns = [
    ...(filled("all") ? [{ key: "all", label: hasSdk ? allLabel : "value" }] : []),
    ...(hasSdk ? sdks.map((sdk) => ({ key: sdk, label: sdk })) : []),
    ...extra.filter((c) => filled(c.key)),
  ];
  const header = ["", ...columns.map((c) => c.label)];
  const body = rows.map((r) => [r.metric, ...columns.map((c) => cell(r.values[c.key]))]);
  const widths = header.map((_, i) => Math.max(header[i]!.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [`== ${title}`, line(header), line(widths.map((w) => "-".repeat(w))), ...body.map(line), ""].join("\n");
}
