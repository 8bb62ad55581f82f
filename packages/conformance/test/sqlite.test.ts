// The kit against our server on SQLite in debug mode, started as a real process the way a user
// would, and the kit run through the root script `pnpm conformance`: every suite runs, none fails.
import path from "node:path";
import fs from "node:fs";
import { afterAll, expect, test } from "vitest";
import { type Proc, runKit, startServer, summary, tempDir } from "./processes.js";

let server: Proc | undefined;
const dir = tempDir();
afterAll(async () => {
  await server?.kill();
  fs.rmSync(dir, { recursive: true, force: true });
});

test("pnpm conformance against our server on SQLite (debug mode): all suites pass", async () => {
  const s = await startServer(["--db", path.join(dir, "resonate.db"), "--debug"]);
  server = s.proc;
  const run = await runKit(["--url", s.url], { viaPnpm: true });
  const counts = summary(run.output);
  expect(counts, "the summary line").toBeDefined();
  expect(run.output).not.toMatch(/^\s+✗ /m);
  expect(counts!.failed).toBe(0);
  // In debug mode only the check for servers *not* in debug mode is skipped.
  expect(counts!.skipped).toBe(1);
  expect(counts!.passed).toBeGreaterThanOrEqual(70);
  expect(run.output).toMatch(/✓ differential: seed 1/);
  expect(run.output).toMatch(/✓ sdk: kill mid-claim/);
  expect(run.code).toBe(0);
});
