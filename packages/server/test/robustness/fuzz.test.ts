// Item 5 of "Reliability and security": thousands of random and mutated requests against the real
// CLI process with a file database. Every answer to POST / must be a protocol envelope (never a
// 500, never a crash), /health must keep answering, poll slots must not leak, and afterwards the
// database must pass SQLite's integrity check and the protocol's invariants (no half-written
// transaction).
//
//   FUZZ_SEED=<n>      replay a run (the seed is printed at the start and in every failure)
//   FUZZ_COUNT=<n>     POST / requests (default 3000), FUZZ_POLLS, FUZZ_RAW likewise
//   FUZZ_CONCURRENCY   requests in flight (default 4; 1 makes a seed replay exactly)
//   FUZZ_BUDGET_MS     time budget of the request phase (default 14 s unless FUZZ_COUNT is set;
//                      the counts reached are printed)
//   FUZZ_EXCLUDE=<re>  do not send requests whose JSON text matches (to look past a known bug)
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

/** A stream that is read all along; `check()` validates the SSE framing of what arrived. */
function readStream(url: string, path: string): { ended: () => boolean; close(): void; check(): { events: number; problems: string[] } } {
  const { hostname, port } = new URL(url);
  let raw = "";
  let ended = false;
  const req = http.request({ host: hostname, port: Number(port), path, agent: false, headers: { accept: "text/event-stream" } }, (res) => {
    res.setEncoding("utf8");
    res.on("data", (chunk: string) => (raw += chunk));
    res.on("end", () => (ended = true));
    res.on("error", () => (ended = true));
  });
  req.on("error", () => (ended = true));
  req.end();
  return {
    ended: () => ended,
    close: () => req.destroy(),
    check() {
      const problems: string[] = [];
      let events = 0;
      const blocks = raw.split("\n\n");
      blocks.pop(); // an unfinished block
      for (const block of blocks) {
        const lines = block.split("\n").filter((l) => !l.startsWith(":"));
        if (lines.length === 0) continue;
        events++;
        if (lines.length !== 1 || !lines[0]!.startsWith("data: ")) {
          problems.push(`event is not one data line: ${JSON.stringify(block.slice(0, 200))}`);
          continue;
        }
        try {
          const message = JSON.parse(lines[0]!.slice(6)) as { kind?: string; head?: unknown };
          if ((message.kind !== "execute" && message.kind !== "unblock") || typeof message.head !== "object") problems.push(`odd message ${lines[0]!.slice(0, 200)}`);
        } catch {
          problems.push(`data is not JSON: ${lines[0]!.slice(0, 200)}`);
        }
      }
      return { events, problems };
    },
  };
}

describe("fuzzing POST / and /poll (CLI process, file database)", () => {
  it("answers every request with an envelope, never a 500 or a crash, and leaves a consistent database", async () => {
    const seed = seedFromEnv();
    const count = Number(process.env["FUZZ_COUNT"] ?? 3000);
    const pollCount = Number(process.env["FUZZ_POLLS"] ?? 300);
    const rawCount = Number(process.env["FUZZ_RAW"] ?? 100);
    const concurrency = Number(process.env["FUZZ_CONCURRENCY"] ?? 4);
    // The CI variant must stay under 20 s even on a busy machine: stop early rather than overrun.
    const budgetMs = Number(process.env["FUZZ_BUDGET_MS"] ?? (process.env["FUZZ_COUNT"] ? Infinity : 14_000));
    console.log(`[fuzz] seed ${seed} (replay with FUZZ_SEED=${seed}); ${count} POST /, ${pollCount} /poll, ${rawCount} raw, ${concurrency} in flight (FUZZ_CONCURRENCY=1 replays exactly)`);

    const dir = tempDir("fuzz-");
    const db = join(dir, "fuzz.db");
    const server: ChildServer = await spawnServer([
      "--port", "0", "--db", db, "--debug", "--log-level", "info",
      "--timeouts-interval", "100", "--max-connections", String(MAX_CONNECTIONS), "--body-limit", String(BODY_LIMIT),
    ]);

    // Live streams for the fuzzer's addresses, so that its messages are really delivered.
    const streams = ["/poll/workers/live1", "/poll/client/c1", "/poll/fuzz/f1"].map((path) => ({ path, stream: readStream(server.url, path) }));

    const isDead = () => {
      const code = server.exitCode();
      if (code === undefined) return undefined;
      // A crash prints its stack on stderr (not JSON); otherwise show the last log records.
      const plain = server.lines.filter((l) => !l.startsWith("{"));
      const tail = (plain.length > 0 ? plain.slice(-12) : server.lines.slice(-5)).join("\n");
      return `server process exited with ${code}; last lines:\n${tail}`;
    };
    const stats = await runFuzz({
      url: server.url,
      seed,
      count,
      pollCount,
      rawCount,
      bodyLimit: BODY_LIMIT,
      concurrency,
      budgetMs,
      exclude: process.env["FUZZ_EXCLUDE"] ? new RegExp(process.env["FUZZ_EXCLUDE"]) : undefined,
      progress: (done, s) => console.log(`[fuzz] ${done} requests, ${s.failures.length} failures`),
      isDead,
    });
    console.log(`[fuzz] ${formatStats(stats)}`);
    // Even a slow machine must get through a meaningful share within the budget.
    expect.soft(stats.posts, "POST / requests sent within the budget").toBeGreaterThanOrEqual(Math.min(count, 1000));

    // Soft expectations: one run reports every kind of problem, not just the first.
    const death = isDead();
    expect.soft(death, "the server process must survive the fuzz").toBeUndefined();
    expect.soft(stats.failures.length, `wrong answers (grouped above; seed ${seed})`).toBe(0);
    if (!death) {
      // Errors the server logged without showing them in a response (e.g. a failing timeout pass).
      const errors = server.logs().filter((l) => (l.level ?? 0) >= 50).map((l) => `${l.msg} ${JSON.stringify(l["err"] ?? "").slice(0, 300)}`);
      expect.soft(errors.slice(0, 10), `error-level log lines during the fuzz (seed ${seed}; ${errors.length} in all)`).toEqual([]);

      // The live streams: never cut off (they read), and every event is one `data:` line of JSON.
      for (const { path, stream } of streams) {
        const { events, problems } = stream.check();
        console.log(`[fuzz] ${path}: ${events} events delivered`);
        expect.soft(stream.ended(), `${path} stayed open`).toBe(false);
        expect.soft(problems.slice(0, 5), `SSE framing on ${path}`).toEqual([]);
        stream.close();
      }

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
    }
    for (const { stream } of streams) stream.close();

    // Also after a crash: what was committed must be whole.
    const report = checkDatabase(db);
    console.log(`[fuzz] database: integrity ${report.integrity}; rows ${JSON.stringify(report.counts)}`);
    expect.soft(report.integrity).toBe("ok");
    expect.soft(report.problems, `database invariants (seed ${seed})`).toEqual([]);
  }, 120_000);
});
