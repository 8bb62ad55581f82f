// The kit must fail wrong servers: a server that answers every envelope 200 gets exit code 1 and
// its failing checks named; an unreachable URL or a non-Resonate server gets exit code 2.
import { afterAll, expect, test } from "vitest";
import { freePort } from "@resonate-compat/testkit";
import { type FakeServer, startFakeServer } from "./fake-server.js";
import { runKit, summary } from "./processes.js";

const servers: FakeServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.close();
});

test("a server that answers everything with 200 fails the protocol suite, with the failing checks named", async () => {
  const fake = await startFakeServer("sloppy");
  servers.push(fake);
  const run = await runKit(["--url", fake.url, "--suite", "protocol", "--timeout", "15000", "--json"]);
  expect(run.code).toBe(1);
  const counts = summary(run.output);
  expect(counts).toBeDefined();
  expect(counts!.failed).toBeGreaterThan(30);
  // Named in the readable report, with the reason …
  expect(run.output).toMatch(/✗ envelope: invalid JSON → 400, kind 'unknown', corrId '0'.*\n\s+invalid JSON: expected status 400, got 200/);
  expect(run.output).toMatch(/✗ promises: get of an unknown id → 404/);
  expect(run.output).toMatch(/Failed checks:\n\s+✗ protocol › envelope: invalid JSON/);
  // … and in the JSON report (stdout; the readable report went to stderr).
  const json = JSON.parse(run.stdout);
  expect(json.failed).toBe(counts!.failed);
  expect(json.results.find((r: { name: string }) => r.name.startsWith("tasks: acquire")).outcome).toBe("failed");
});

test("an unreachable URL or a server that is not Resonate → exit code 2 with a clear message", async () => {
  const closed = await runKit(["--url", `http://127.0.0.1:${await freePort()}`]);
  expect(closed.code).toBe(2);
  expect(closed.output).toMatch(/conformance: cannot reach http:\/\/127\.0\.0\.1:\d+/);

  const foreign = await startFakeServer("foreign");
  servers.push(foreign);
  const other = await runKit(["--url", foreign.url]);
  expect(other.code).toBe(2);
  expect(other.output).toMatch(/does not speak protocol 2026-04-01/);
});

test("--list names every suite and check without contacting a server", async () => {
  const run = await runKit(["--list", "--url", "http://127.0.0.1:9"]);
  expect(run.code).toBe(0);
  expect(run.output).toMatch(/^protocol — .*\(\d+ checks\)$/m);
  expect(run.output).toMatch(/^sdk — .*\(10 checks\)$/m);
  expect(run.output).toMatch(/^differential — .*\(3 checks\)$/m);
});
