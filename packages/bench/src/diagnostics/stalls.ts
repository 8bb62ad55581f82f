// Reads what stall-monitor.mjs recorded in a directory and condenses it: per process, how often its
// event loop stalled and how long its garbage-collection pauses were; and how many long stalls hit
// several processes at once (the machine, not one process's own work).
import fs from "node:fs";
import path from "node:path";
import { summarize } from "../stats";

interface Event {
  t: number;
  kind: "stall" | "gc";
  ms: number;
}

export interface ProcessStalls {
  pid: number;
  name: string;
  /** Seconds observed (after the skipped start-up). */
  seconds: number;
  /** Stalls per second longer than 5, 10 and 20 ms, and the longest. */
  over5PerS: number;
  over10PerS: number;
  over20PerS: number;
  maxStallMs: number;
  /** Garbage-collection pauses over 2 ms per second, their median and longest. */
  gcPerS: number;
  gcP50Ms: number;
  gcMaxMs: number;
}

export interface StallSummary {
  processes: ProcessStalls[];
  /** Stalls over 8 ms, and how many of them began within 5 ms of one in another process. */
  longStalls: number;
  sharedLongStalls: number;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/** `skipMs` ignores each process's first milliseconds (start-up and JIT warm-up are not the steady state). */
export function summarizeStalls(dir: string, skipMs = 5000): StallSummary {
  const observed = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".jsonl"))
    .map((f) => {
      const [head, ...rest] = fs.readFileSync(path.join(dir, f), "utf8").trim().split("\n");
      const meta = JSON.parse(head!) as { pid: number; name: string; start: number };
      const from = meta.start + skipMs;
      const events = rest.map((l) => JSON.parse(l) as Event).filter((e) => e.t >= from);
      const seconds = (Math.max(from, ...events.map((e) => e.t)) - from) / 1000;
      return { meta, events, seconds };
    })
    .filter((p) => p.seconds >= 1)
    .sort((a, b) => a.meta.start - b.meta.start);

  const processes = observed.map(({ meta, events, seconds }): ProcessStalls => {
    const stalls = events.filter((e) => e.kind === "stall").map((e) => e.ms);
    const gcs = events.filter((e) => e.kind === "gc").map((e) => e.ms);
    const rate = (n: number) => round2(n / seconds);
    return {
      pid: meta.pid,
      name: meta.name,
      seconds: round2(seconds),
      over5PerS: rate(stalls.filter((x) => x > 5).length),
      over10PerS: rate(stalls.filter((x) => x > 10).length),
      over20PerS: rate(stalls.filter((x) => x > 20).length),
      maxStallMs: Math.max(0, ...stalls),
      gcPerS: rate(gcs.length),
      gcP50Ms: gcs.length > 0 ? summarize(gcs).p50 : 0,
      gcMaxMs: Math.max(0, ...gcs),
    };
  });

  // A stall's event is written when it ends: it began at t − ms.
  const long = observed.flatMap(({ meta, events }) => events.filter((e) => e.kind === "stall" && e.ms > 8).map((e) => ({ pid: meta.pid, began: e.t - e.ms })));
  const sharedLongStalls = long.filter((a) => long.some((b) => b.pid !== a.pid && Math.abs(b.began - a.began) <= 5)).length;
  return { processes, longStalls: long.length, sharedLongStalls };
}

export function formatStalls(s: StallSummary): string {
  const lines = ["process                                   seconds  stalls>5ms/s  >10ms/s  >20ms/s  max ms  gc>2ms/s  gc p50/max ms"];
  for (const p of s.processes) {
    lines.push(
      [
        `${p.pid} ${p.name}`.slice(0, 40).padEnd(40),
        p.seconds.toFixed(1).padStart(8),
        p.over5PerS.toFixed(2).padStart(13),
        p.over10PerS.toFixed(2).padStart(8),
        p.over20PerS.toFixed(2).padStart(8),
        String(p.maxStallMs).padStart(7),
        p.gcPerS.toFixed(2).padStart(9),
        `${p.gcP50Ms} / ${p.gcMaxMs}`.padStart(14),
      ].join(" "),
    );
  }
  lines.push(`stalls over 8 ms: ${s.longStalls}, of which ${s.sharedLongStalls} began within 5 ms of one in another process`);
  return lines.join("\n");
}
