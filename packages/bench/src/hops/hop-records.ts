// Reads the hop records the server (RESONATE_TRACE_HOPS) and the SDK children (HOP_TRACE_DIR,
// children/hop-trace-client.mjs) wrote: one line per hop, "epoch ms \t hop \t kind \t id", and
// joins them with the producer's own record into the points of each measured invocation.
import fs from "node:fs";
import type { ProducerOutput } from "../sdks";
import type { InvocationPoints } from "./hop-attribution";

/** Every record of `text` for an id in `ids`, as id → "<hop> <kind>" → the first time seen. */
export function parseHopRecords(text: string, ids: ReadonlySet<string>, into = new Map<string, Record<string, number>>()): Map<string, Record<string, number>> {
  for (const line of text.split("\n")) {
    const [t, hop, kind, id] = line.split("\t");
    if (id === undefined || !ids.has(id)) continue;
    let points = into.get(id);
    if (!points) into.set(id, (points = {}));
    // The first time counts: a message offered again, or a request retried, is not the invocation's path.
    const point = `${hop} ${kind}`;
    if (points[point] === undefined) points[point] = Number(t);
  }
  return into;
}

/**
 * The measured invocations of a producer (ids `<idPrefix>-<i>`) with every point recorded for them
 * in `files` (missing files are skipped: a process may have written nothing), plus due, start and
 * result from the producer's own record.
 */
export function invocationPoints(out: ProducerOutput, idPrefix: string, files: string[]): InvocationPoints[] {
  const ids = Array.from({ length: out.n }, (_, i) => `${idPrefix}-${i}`);
  const idSet = new Set(ids);
  const points = new Map<string, Record<string, number>>();
  for (const file of files) {
    if (fs.existsSync(file)) parseHopRecords(fs.readFileSync(file, "utf8"), idSet, points);
  }
  return ids.map((id, i) => {
    const at: Record<string, number> = { ...points.get(id) };
    if (out.d[i]! > 0) at.due = out.d[i]!;
    if (out.s[i]! > 0) at.start = out.s[i]!;
    if (out.r[i]! > 0) at.result = out.r[i]!;
    return { id, at };
  });
}
