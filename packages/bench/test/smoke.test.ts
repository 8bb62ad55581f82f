// CI runs the bench at smoke sizes so that it cannot rot: every workload must still run with both
// SDKs and print its one JSON line. No figure is asserted (smoke sizes on a shared machine mean
// nothing); only correctness is: nothing lost, nothing failed.
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";

const BENCH_ROOT = fileURLToPath(new URL("../", import.meta.url));
const TSX_LOADER = path.join(BENCH_ROOT, "..", "..", "node_modules", "tsx", "dist", "loader.mjs");
const WORKLOADS = ["ceilings", "throughput", "latency", "recovery", "scale"];

function runSmoke(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // The bench itself, without the pnpm wrapper: one process whose pid we hold.
    const child = spawn(process.execPath, ["--import", TSX_LOADER, path.join(BENCH_ROOT, "src", "main.ts"), "--smoke"], {
      cwd: BENCH_ROOT,
      env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("VITEST") && k !== "NODE_OPTIONS")),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

test("pnpm bench --smoke: one valid JSON line per workload, with both SDKs, nothing lost", async () => {
  const { code, stdout, stderr } = await runSmoke();
  const context = `\n--- stdout ---\n${stdout}\n--- stderr (tail) ---\n${stderr.slice(-6000)}`;
  const lines = stdout.split("\n").filter((l) => l.startsWith('{"bench":'));
  const parsed = lines.map((l) => JSON.parse(l) as { bench: string; ok: boolean; problems: string[]; smoke: boolean; results: Record<string, any>; params: Record<string, any> });

  expect(parsed.map((p) => p.bench), context).toEqual(WORKLOADS);
  for (const p of parsed) {
    expect(p.smoke).toBe(true);
    expect(p.problems, `${p.bench}${context}`).toEqual([]);
    expect(p.ok).toBe(true);
    if (p.bench !== "ceilings") for (const sdk of ["ours", "official"]) expect(Object.keys(p.results), p.bench).toContain(sdk);
  }
  const recovery = parsed.find((p) => p.bench === "recovery")!;
  for (const sdk of ["ours", "official"]) expect(recovery.results[sdk].lost, `recovery/${sdk}${context}`).toBe(0);
  // The latency workload's baseline without an SDK (children/raw-rpc.ts) ran every invocation.
  const latency = parsed.find((p) => p.bench === "latency")!;
  expect(latency.results.raw.completed, `latency/raw${context}`).toBe(latency.params.invocations);
  expect(latency.results.raw.errors).toBe(0);
  expect(code, context).toBe(0);
});
