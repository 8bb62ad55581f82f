// Issue 5 item 1 — server crash durability: steady load through real workers (our SDK and the
// official SDK 0.11.5) while the server is SIGKILLed and restarted on the same database at least 20
// times at random moments; afterwards every acknowledged promise exists and completed with the value
// of one of its executions, no settled value changed, and the database file holds no task acquired
// without a lease (read with better-sqlite3 after the server stopped). See crash-run.ts; the longer
// soak is packages/server/scripts/crash-soak.ts.
import { describe, expect, it } from "vitest";
import { note, useWorld } from "../harness";
import { CI_OPTIONS, formatReport, runCrashDurability } from "./crash-run";

const world = useWorld();

describe("server crash durability", () => {
  it("20 SIGKILLs at random moments under load: nothing acknowledged is lost, nothing settles twice, no task is left without a lease", async () => {
    const report = await runCrashDurability(world(), { ...CI_OPTIONS, log: (line) => note(`crash: ${line}`) });
    note(`crash durability:\n${formatReport(report)}`);
    expect(report.problems).toEqual([]);
    expect(report.kills).toBeGreaterThanOrEqual(CI_OPTIONS.kills);
    expect(report.acked).toBeGreaterThan(50);
    expect(report.finalExitCode).toBe(0);
  }, 300_000);
});
