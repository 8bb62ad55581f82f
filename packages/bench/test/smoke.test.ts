// CI runs the bench at smoke sizes so that it cannot rot: every workload must still run with both
// SDKs and print its one JSON line. No figure is asserted (smoke sizes on a shared machine mean
// nothing); only correctness is: nothing lost, nothing failed. Where redis-server is installed the
// BullMQ runs must have completed every job too; where it is not, they must be skipped, not fail.
import { execFileSync, spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";

const BENCH_ROOT = fileURLToPath(new URL("../", import.meta.url));
const TSX_LOADER = path.join(BENCH_ROOT, "..", "..", "node_modules", "tsx", "dist", "loader.mjs");
const WORKLOADS = ["ceilings", "throughput", "latency", "recovery", "scale"];

/** Asked here, not of the bench, so that a bench that wrongly skips BullMQ fails the test. */
function redisServerInstalled(): boolean {
  try {
    execFileSync("redis-server", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

function runSmoke(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // The bench itself, without the pnpm wrapper: one process whose pid we hold.
    const child = spawn(process.execPath, ["--import", TSX_LOADER, path.join(BENCH_ROOT, "src", "main.ts"), "--smoke"], {
      cwd: BENCH_ROOT,
      // BENCH_NO_BULLMQ is dropped too: the smoke is there to exercise the BullMQ path wherever it can run.
      env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("VITEST") && k !== "NODE_OPTIONS" && k !== "BENCH_NO_BULLMQ")),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

test("pnpm bench --smoke: one valid JSON line per workload, with both SDKs and BullMQ, nothing lost", async () => {
  const { code, stdout, stderr } = await runSmoke();
  const context = `\n--- stdout ---\n${stdout}\n--- stderr (tail) ---\n${stderr.slice(-6000)}`;
  const lines = stdout.split("\n").filter((l) => l.startsWith('{"bench":'));
  const parsed = lines.map((l) => JSON.parse(l) as { bench: string; ok: boolean; problems: string[]; smoke: boolean; bullmq: { run: boolean; reason?: string }; results: Record<string, any>; params: Record<string, any> });

  expect(parsed.map((p) => p.bench), context).toEqual(WORKLOADS);
  for (const p of parsed) {
    expect(p.smoke).toBe(true);
    expect(p.problems, `${p.bench}${context}`).toEqual([]);
    expect(p.ok).toBe(true);
    if (p.bench !== "ceilings") for (const sdk of ["ours", "ours-ws", "official"]) expect(Object.keys(p.results), p.bench).toContain(sdk);
  }
  const recovery = parsed.find((p) => p.bench === "recovery")!;
  for (const sdk of ["ours", "ours-ws", "official"]) expect(recovery.results[sdk].lost, `recovery/${sdk}${context}`).toBe(0);
  // The latency workload's baseline without an SDK (children/raw-rpc.ts) ran every invocation.
  const latency = parsed.find((p) => p.bench === "latency")!;
  expect(latency.results.raw.completed, `latency/raw${context}`).toBe(latency.params.invocations);
  expect(latency.results.raw.errors).toBe(0);

  // BullMQ beside us: every job of its throughput and latency runs completed, none lost in recovery
  // (at smoke sizes recovery runs BullMQ with the 1 s stalled check only).
  if (redisServerInstalled()) {
    for (const p of parsed) expect(p.bullmq.run, `${p.bench}: BullMQ did not run (${p.bullmq.reason})${context}`).toBe(true);
    const throughput = parsed.find((p) => p.bench === "throughput")!;
    for (const p of [throughput, latency]) {
      expect(p.results.bullmq.completed, `${p.bench}/bullmq${context}`).toBe(p.params.invocations);
      expect(p.results.bullmq.errors, `${p.bench}/bullmq${context}`).toBe(0);
    }
    expect(recovery.results.bullmqCheck1s.completed, `recovery/bullmq${context}`).toBe(recovery.params.invocations);
    expect(recovery.results.bullmqCheck1s.lost).toBe(0);
    expect(recovery.results.bullmqCheck1s.errors).toBe(0);
  } else {
    for (const p of parsed) expect(p.bullmq, p.bench).toEqual({ run: false, reason: expect.stringContaining("redis-server is not installed") });
  }
  expect(code, context).toBe(0);
});
