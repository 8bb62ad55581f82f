// Event-loop stall monitor, loaded into every bench process with
//   BENCH_NODE_ARGS="--import <abs path>/stall-monitor.mjs" STALL_MONITOR_DIR=<dir> pnpm bench …
// Plain JavaScript so that Node 20 (server, our SDK) and Node 22 (official SDK) load the same file.
//
// A 1 ms timer records every time it fires more than 4 ms late (the process was busy, or runnable but
// not on a CPU), and V8's garbage-collection pauses over 2 ms. Each process appends JSON lines
// { t, kind: "stall" | "gc", ms, gc? } to <dir>/<pid>.jsonl, whose first line names the process.
// Times are epoch ms, so stalls of different processes can be lined up (summarize-stalls.ts).
// The monitor costs each process about a thousand wake-ups per second: it is a diagnostic, and
// figures measured with it on are not the bench's figures.
import fs from "node:fs";
import path from "node:path";
import { PerformanceObserver, performance } from "node:perf_hooks";
import { preciseNow as now } from "../children/producer-core.mjs";

const dir = process.env.STALL_MONITOR_DIR;
if (dir) {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${process.pid}.jsonl`);
  const name = process.argv.slice(1).map((a) => path.basename(a)).join(" ").slice(0, 120);
  fs.writeFileSync(file, `${JSON.stringify({ pid: process.pid, name, start: Date.now() })}\n`);
  const lines = [];
  let last = performance.now();
  setInterval(() => {
    const t = performance.now();
    const late = t - last - 1;
    last = t;
    if (late > 4) lines.push({ t: now(), kind: "stall", ms: Math.round(late * 10) / 10 });
  }, 1).unref();
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (e.duration > 2) lines.push({ t: now(), kind: "gc", ms: Math.round(e.duration * 10) / 10, gc: e.detail?.kind });
    }
  }).observe({ entryTypes: ["gc"] });
  const flush = () => {
    if (lines.length) fs.appendFileSync(file, `${lines.splice(0).map((l) => JSON.stringify(l)).join("\n")}\n`);
  };
  // Flushed twice a second: a SIGKILLed process loses at most the last half second.
  setInterval(flush, 500).unref();
  process.on("exit", flush);
}
