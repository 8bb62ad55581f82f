// Long fuzz run against the real CLI process (the CI variant is test/robustness/fuzz.test.ts).
//
//   node --import tsx packages/server/scripts/fuzz-soak.ts
//
// Environment:
//   FUZZ_SEED          first seed (each round uses seed + round); printed, so a round can be replayed
//                      with the test: FUZZ_SEED=<round seed> FUZZ_CONCURRENCY=1 pnpm vitest run --project server test/robustness/fuzz
//   FUZZ_DURATION_S    how long to run (default 60)
//   FUZZ_COUNT         POST / requests per round (default 5000); FUZZ_POLLS, FUZZ_RAW per round
//   FUZZ_CONCURRENCY   requests in flight (default 4)
//   FUZZ_EXCLUDE=<re>  do not send requests whose JSON text matches (to look past a known bug)
//   KEEP_TEMP=1        keep the database file
//
// Exits 1 when any round found a problem, the server died, or the database check failed.

import { join } from "node:path";
import { formatStats, runFuzz, seedFromEnv } from "../test/robustness/fuzz-core";
import { checkDatabase, killChildren, mib, procMemory, removeTempDirs, spawnServer, tempDir } from "../test/robustness/util";

const BODY_LIMIT = 2 * 1024 * 1024;

async function main(): Promise<number> {
  const firstSeed = seedFromEnv();
  const durationMs = Number(process.env["FUZZ_DURATION_S"] ?? 60) * 1000;
  const count = Number(process.env["FUZZ_COUNT"] ?? 5000);
  const pollCount = Number(process.env["FUZZ_POLLS"] ?? 300);
  const rawCount = Number(process.env["FUZZ_RAW"] ?? 100);
  const concurrency = Number(process.env["FUZZ_CONCURRENCY"] ?? 4);
  const exclude = process.env["FUZZ_EXCLUDE"] ? new RegExp(process.env["FUZZ_EXCLUDE"]) : undefined;
  const dir = tempDir("fuzz-soak-");
  const db = join(dir, "soak.db");
  console.log(`fuzz soak: first seed ${firstSeed}, ${durationMs / 1000} s, ${count} requests per round, database ${db}`);

  const server = await spawnServer(["--port", "0", "--db", db, "--debug", "--log-level", "info", "--timeouts-interval", "100", "--max-connections", "50"]);
  const isDead = () => {
    const code = server.exitCode();
    if (code === undefined) return undefined;
    const plain = server.lines.filter((l) => !l.startsWith("{"));
    return `server exited with ${code}:\n${(plain.length > 0 ? plain.slice(-12) : server.lines.slice(-5)).join("\n")}`;
  };

  let failed = false;
  let total = 0;
  let peakRss = 0;
  const sampler = setInterval(() => {
    const m = procMemory(server.pid);
    if (m) peakRss = Math.max(peakRss, m.rss);
  }, 250);
  const started = Date.now();
  for (let round = 0; Date.now() - started < durationMs; round++) {
    const seed = (firstSeed + round) >>> 0;
    const stats = await runFuzz({ url: server.url, seed, count, pollCount, rawCount, bodyLimit: BODY_LIMIT, concurrency, isDead, exclude });
    total += stats.posts;
    const memory = procMemory(server.pid);
    console.log(`round ${round}: ${formatStats(stats)}\n  server RSS ${memory ? mib(memory.rss) : "?"} (peak so far ${mib(Math.max(peakRss, memory?.rss ?? 0))})`);
    if (stats.failures.length > 0) failed = true;
    if (isDead()) {
      console.log(isDead());
      failed = true;
      break;
    }
  }
  clearInterval(sampler);

  const errors = server.logs().filter((l) => (l.level ?? 0) >= 50);
  if (errors.length > 0) {
    failed = true;
    console.log(`${errors.length} error-level log lines, first: ${JSON.stringify(errors[0]).slice(0, 600)}`);
  }
  const code = await server.stop();
  if (code !== 0) failed = true;
  const memoryHwm = procMemory(server.pid)?.hwm;
  const report = checkDatabase(db);
  console.log(`requests: ${total}; server exit ${code}; peak RSS ${mib(peakRss)}${memoryHwm ? "" : ""}`);
  console.log(`database: integrity ${report.integrity}; rows ${JSON.stringify(report.counts)}`);
  for (const p of report.problems) console.log(`  invariant: ${p}`);
  if (report.integrity !== "ok" || report.problems.length > 0) failed = true;
  await killChildren();
  if (!failed) removeTempDirs();
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  async (error: unknown) => {
    console.error(error);
    await killChildren();
    process.exit(2);
  },
);
