// Long server-crash soak (the CI variant is packages/e2e/test/reliability/crash-durability.test.ts,
// same run, 20 kills). A steady load of invocations through real workers of both SDKs while the
// server (the real CLI, main.ts) is SIGKILLed at random moments and restarted on the same database;
// then the load stops, everything drains, the server stops cleanly and the database file is checked.
//
//   node --import tsx packages/server/scripts/crash-soak.ts [--kills 200] [--duration-s 0]
//        [--serve-min-ms 700] [--serve-max-ms 2200] [--startup-kill-share 0.2] [--rate 6]
//        [--cost-min-ms 50] [--cost-max-ms 600] [--retry-timeout-ms 1000] [--our-workers 2]
//        [--official-workers 1] [--ttl-ms 3000] [--drain-timeout-ms 120000] [--keep]
//
// It stops after --kills kills or --duration-s seconds of killing, whichever comes first (0 = no limit).
// Checked: every create the server acknowledged exists and completed with the value of one of its
// own executions; no settled value changed between reads; no nonce settled two promises; nothing is
// left pending; in the database file no task is acquired without a lease and no pending task lacks
// its retry timeout. Exits 1 with the list of problems otherwise; the world dir (per-process logs and
// the database) is kept on failure or with --keep.
import fs from "node:fs";
import { parseArgs } from "node:util";
import { World } from "../../e2e/test/harness";
import { CI_OPTIONS, formatReport, runCrashDurability } from "../../e2e/test/reliability/crash-run";

const { values } = parseArgs({
  options: {
    kills: { type: "string", default: "200" },
    "duration-s": { type: "string", default: "0" },
    "serve-min-ms": { type: "string", default: String(CI_OPTIONS.serveMs[0]) },
    "serve-max-ms": { type: "string", default: String(CI_OPTIONS.serveMs[1]) },
    "startup-kill-share": { type: "string", default: String(CI_OPTIONS.startupKillShare) },
    rate: { type: "string", default: String(CI_OPTIONS.rate) },
    "cost-min-ms": { type: "string", default: String(CI_OPTIONS.costMs[0]) },
    "cost-max-ms": { type: "string", default: String(CI_OPTIONS.costMs[1]) },
    "retry-timeout-ms": { type: "string", default: String(CI_OPTIONS.retryTimeoutMs) },
    "our-workers": { type: "string", default: String(CI_OPTIONS.ourWorkers) },
    "official-workers": { type: "string", default: String(CI_OPTIONS.officialWorkers) },
    "ttl-ms": { type: "string", default: String(CI_OPTIONS.workerTtlMs) },
    "drain-timeout-ms": { type: "string", default: "120000" },
    keep: { type: "boolean", default: false },
  },
});

const num = (name: keyof typeof values): number => {
  const n = Number(values[name]);
  if (!Number.isFinite(n) || n < 0) {
    console.error(`--${name} must be a non-negative number (got ${values[name]})`);
    process.exit(2);
  }
  return n;
};

async function main(): Promise<number> {
  const world = new World("crash-soak");
  const started = Date.now();
  console.log(`crash soak: world dir ${world.dir}`);
  let failed = true;
  try {
    const report = await runCrashDurability(world, {
      kills: num("kills"),
      maxDurationMs: num("duration-s") * 1000,
      serveMs: [num("serve-min-ms"), num("serve-max-ms")],
      startupKillShare: num("startup-kill-share"),
      rate: num("rate"),
      costMs: [num("cost-min-ms"), num("cost-max-ms")],
      retryTimeoutMs: num("retry-timeout-ms"),
      ourWorkers: num("our-workers"),
      officialWorkers: num("official-workers"),
      workerTtlMs: num("ttl-ms"),
      drainTimeoutMs: num("drain-timeout-ms"),
      log: (line) => console.log(`[${Math.round((Date.now() - started) / 1000)} s] ${line}`),
    });
    console.log(formatReport(report));
    failed = report.problems.length > 0;
  } catch (error) {
    console.error(`crash soak aborted: ${(error as Error).stack ?? String(error)}`);
  } finally {
    const leaked = await world.dispose();
    if (leaked.length > 0) {
      console.error(`processes that could not be reaped: ${leaked.join(", ")}`);
      failed = true;
    }
    if (failed || values.keep) console.log(`logs and database kept in ${world.dir}`);
    else fs.rmSync(world.dir, { recursive: true, force: true });
  }
  console.log(failed ? "crash soak: FAILED" : "crash soak: passed");
  return failed ? 1 : 0;
}

process.exitCode = await main();
