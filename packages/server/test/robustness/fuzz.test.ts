// Item 5 of "Reliability and security": thousands of random and mutated requests against the real
// CLI process with a file database. Every answer to POST / must be a protocol envelope (never a
// 500, never a crash), /health must keep answering, poll slots must not leak, and afterwards the
// database must pass SQLite's integrity check and the protocol's invariants (no half-written
// transaction).
//
//   FUZZ_SEED=<n>      replay a run (the seed is printed at the start and in every failure)
//   FUZZ_COUNT=<n>     POST / requests (default 3000), FUZZ_POLLS, FUZZ_RAW likewise
//   KEEP_TEMP=1        keep the database file for inspection

import http from "node:http";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { formatStats, runFuzz, seedFromEnv } from "./fuzz-core";
import { type ChildServer, call, checkDatabase, eventually, killChildren, removeTempDirs, spawnServer, tempDir } from "./util";

const BODY_LIMIT = 2 * 1024 * 1024;
const MAX_CONNECTIONS = 20;

afterEach(killChildren);
afterAll(removeTempDirs);

/** Opens `n` SSE streams and keeps them; returns their statuses and a closer. */
async function holdStreams(url: string, n: number, group: string): Promise<{ statuses: number[]; close(): void }> {
  const { hostname, port } = new URL(url);
  const requests: http.ClientRequest[] = [];
  const statuses = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      new Promise<number>((resolve) => {
        const req = http.request({ host: hostname, port: Number(port), path: `/poll/${group}/p${i}`, agent: false, headers: { accept: "text/event-stream" } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on("error", () => resolve(0));
        req.end();
        requests.push(req);
      }),
    ),
  );
  return { statuses, close: () => requests.forEach((r) => r.destroy()) };
}

describe("fuzzing POST / and /poll (CLI process, file database)", () => {
  it("answers every request with an envelope, never a 500 or a crash, and leaves a consistent database", async () => {
    const seed = seedFromEnv();
    const count = Number(process.env["FUZZ_COUNT"] ?? 3000);
    const pollCount = Number(process.env["FUZZ_POLLS"] ?? 300);
    const rawCount = Number(process.env["FUZZ_RAW"] ?? 100);
    console.log(`[fuzz] seed ${seed} (replay with FUZZ_SEED=${seed}); ${count} POST /, ${pollCount} /poll, ${rawCount} raw`);

    const dir = tempDir("fuzz-");
    const db = join(dir, "fuzz.db");
    const server: ChildServer = await spawnServer([
      "--port", "0", "--db", db, "--debug", "--log-level", "info",
      "--timeouts-interval", "100", "--max-connections", String(MAX_CONNECTIONS), "--body-limit", String(BODY_LIMIT),
    ]);

    const isDead = () => {
      const code = server.exitCode();
      if (code === undefined) return undefined;
      const tail = server.lines.filter((l) => !l.startsWith("{\"level\":30") && !l.startsWith("{\"level\":40")).slice(-15).join("\n");
      return `server process exited with ${code}; last lines:\n${tail}`;
    };
    const stats = await runFuzz({
      url: server.url,
      seed,
      count,
      pollCount,
      rawCount,
      bodyLimit: BODY_LIMIT,
      progress: (done, s) => console.log(`[fuzz] ${done} requests, ${s.failures.length} failures`),
      isDead,
    });
    console.log(`[fuzz] ${formatStats(stats)}`);

    // Soft expectations: one run reports every kind of problem, not just the first.
    const death = isDead();
    expect.soft(death, "the server process must survive the fuzz").toBeUndefined();
    expect.soft(stats.failures.length, `wrong answers (grouped above; seed ${seed})`).toBe(0);
    if (death) return;

    // Errors the server logged without showing them in a response (e.g. a failing timeout pass).
    const errors = server.logs().filter((l) => (l.level ?? 0) >= 50).map((l) => `${l.msg} ${JSON.stringify(l["err"] ?? "").slice(0, 300)}`);
    expect.soft(errors.slice(0, 10), `error-level log lines during the fuzz (seed ${seed}; ${errors.length} in all)`).toEqual([]);

    // Poll slots: every probe stream was closed, so all MAX_CONNECTIONS slots are free again.
    await call(server.url, "debug.stop", {});
    let held: Awaited<ReturnType<typeof holdStreams>> | undefined;
    await eventually(async () => {
      held?.close();
      held = await holdStreams(server.url, MAX_CONNECTIONS, "after-fuzz");
      return held.statuses.every((s) => s === 200);
    }, 5000, `${MAX_CONNECTIONS} free poll slots after the fuzz`);
    const extra = await holdStreams(server.url, 1, "after-fuzz-extra");
    expect.soft(extra.statuses).toEqual([503]);
    extra.close();
    held!.close();

    expect.soft(await server.stop(), "graceful shutdown exit code").toBe(0);

    const report = checkDatabase(db);
    console.log(`[fuzz] database: integrity ${report.integrity}; rows ${JSON.stringify(report.counts)}`);
    expect.soft(report.integrity).toBe("ok");
    expect.soft(report.problems, `database invariants (seed ${seed})`).toEqual([]);
  }, 120_000);
});
