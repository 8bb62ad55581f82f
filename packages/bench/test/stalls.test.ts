// The stall monitor and its summary: a real process that blocks its event loop must show up as a
// stall of about that length, and the summary must count rates and coinciding stalls correctly.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { summarizeStalls } from "../src/diagnostics/stalls";

const MONITOR = path.resolve(__dirname, "../src/diagnostics/stall-monitor.mjs");
const dirs: string[] = [];
const tempDir = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stalls-test-"));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe("stall monitor", () => {
  it("records a blocked event loop as a stall of about that length", () => {
    const dir = tempDir();
    // Let the 1 ms timer run, block the loop for 60 ms, let the timer notice, exit (flushes on exit).
    const script = "setTimeout(() => { const end = Date.now() + 60; while (Date.now() < end); setTimeout(() => {}, 20); }, 50);";
    execFileSync(process.execPath, ["--import", MONITOR, "-e", script], { env: { ...process.env, STALL_MONITOR_DIR: dir } });
    const [file] = fs.readdirSync(dir);
    const lines = fs.readFileSync(path.join(dir, file!), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ pid: expect.any(Number), name: expect.any(String) });
    const stalls = lines.slice(1).filter((l) => l.kind === "stall");
    expect(Math.max(...stalls.map((s) => s.ms))).toBeGreaterThanOrEqual(55);
  });

  it("writes nothing without STALL_MONITOR_DIR", () => {
    const env = { ...process.env };
    delete env.STALL_MONITOR_DIR;
    const out = execFileSync(process.execPath, ["--import", MONITOR, "-e", "console.log('ok')"], { env, encoding: "utf8" });
    expect(out.trim()).toBe("ok");
  });
});

describe("summarizeStalls", () => {
  const write = (dir: string, pid: number, start: number, events: object[]) =>
    fs.writeFileSync(path.join(dir, `${pid}.jsonl`), [{ pid, name: `p${pid}`, start }, ...events].map((e) => JSON.stringify(e)).join("\n") + "\n");

  it("counts rates after the skipped start-up and finds stalls shared between processes", () => {
    const dir = tempDir();
    const start = 1_000_000;
    // Process 1: a stall during start-up (skipped), then 10 s observed with stalls of 6, 12, 25 ms
    // and GC pauses of 3 and 5 ms. Process 2: one 9 ms stall that began 2 ms after process 1's 12 ms one.
    write(dir, 1, start, [
      { t: start + 500, kind: "stall", ms: 50 },
      { t: start + 2000, kind: "stall", ms: 6 },
      { t: start + 4000, kind: "stall", ms: 12 },
      { t: start + 6000, kind: "gc", ms: 3 },
      { t: start + 7000, kind: "gc", ms: 5 },
      { t: start + 11_000, kind: "stall", ms: 25 },
    ]);
    write(dir, 2, start, [{ t: start + 4000 - 12 + 2 + 9, kind: "stall", ms: 9 }, { t: start + 11_000, kind: "gc", ms: 2.5 }]);
    const s = summarizeStalls(dir, 1000);
    const p1 = s.processes.find((p) => p.pid === 1)!;
    expect(p1.seconds).toBe(10);
    expect(p1).toMatchObject({ over5PerS: 0.3, over10PerS: 0.2, over20PerS: 0.1, maxStallMs: 25, gcPerS: 0.2, gcP50Ms: 3, gcMaxMs: 5 });
    // Long (> 8 ms) stalls: 12 and 25 of process 1, 9 of process 2; the 12 and the 9 coincide.
    expect(s.longStalls).toBe(3);
    expect(s.sharedLongStalls).toBe(2);
  });
});
