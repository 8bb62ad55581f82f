// Summarises a V8 .cpuprofile (from `pnpm bench --profile`): where the server spent its CPU, by
// function (self time) and by package/file.
//   node --import tsx packages/bench/src/profile-summary.ts <file.cpuprofile> [top=25]
import fs from "node:fs";

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: Node[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export function summarizeProfile(file: string, top = 25): string {
  const profile = JSON.parse(fs.readFileSync(file, "utf8")) as Profile;
  // Self time per node from the sample stream (timeDeltas are µs between samples).
  const self = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) self.set(samples[i]!, (self.get(samples[i]!) ?? 0) + (deltas[i + 1] ?? deltas[i] ?? 0));
  // "(idle)" is the event loop waiting: not CPU. Everything else, GC and "(program)" included, is.
  const idleUs = profile.nodes.filter((n) => n.callFrame.functionName === "(idle)").reduce((a, n) => a + (self.get(n.id) ?? 0), 0);
  for (const n of profile.nodes) if (n.callFrame.functionName === "(idle)") self.delete(n.id);
  const totalUs = [...self.values()].reduce((a, b) => a + b, 0);
  const byFn = new Map<string, number>();
  const byFile = new Map<string, number>();
  const place = (url: string) => {
    if (!url) return "(native/V8)";
    const m = /node_modules\/\.pnpm\/([^/]+)\//.exec(url) ?? /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
    if (m) return `dep ${m[1]}`;
    const ours = /packages\/([^/]+\/src\/.+)$/.exec(url);
    if (ours) return ours[1]!;
    return url.replace(/^file:\/\//, "").replace(/^node:/, "node:");
  };
  for (const node of profile.nodes) {
    const us = self.get(node.id) ?? 0;
    if (us === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const key = `${functionName || "(anonymous)"}  ${place(url)}${url ? `:${lineNumber + 1}` : ""}`;
    byFn.set(key, (byFn.get(key) ?? 0) + us);
    byFile.set(place(url), (byFile.get(place(url)) ?? 0) + us);
  }
  const fmt = (entries: Map<string, number>) =>
    [...entries.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, us]) => `${((100 * us) / totalUs).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}`)
      .join("\n");
  return [
    `${file}: ${(totalUs / 1000).toFixed(0)} ms busy + ${(idleUs / 1000).toFixed(0)} ms idle over ${((profile.endTime - profile.startTime) / 1000).toFixed(0)} ms wall`,
    "-- self time by function",
    fmt(byFn),
    "-- self time by file / package",
    fmt(byFile),
  ].join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write("usage: profile-summary.ts <file.cpuprofile> [top]\n");
    process.exit(2);
  }
  process.stdout.write(`${summarizeProfile(file, Number(process.argv[3] ?? 25))}\n`);
}
