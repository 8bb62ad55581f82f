// `pnpm bench --hops`: every server of the run records its hops (RESONATE_TRACE_HOPS, a file in
// the run dir) and every SDK child its own (HOP_TRACE_DIR/<pid>.tsv, which childEnv passes on);
// after an SDK run the latency and throughput workloads join them per invocation and print where
// the time went (hop-attribution.ts). Off by default: tracing costs every process a little CPU.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Child } from "../procs";
import type { ProducerOutput } from "../sdks";
import { type HopTable, attributeHops, formatHopTable } from "./hop-attribution";
import { invocationPoints } from "./hop-records";

let traceDir: string | undefined;

/** Turns hop tracing on for every process started from now on; returns the clients' trace dir. */
export function traceHops(): string {
  traceDir = fs.mkdtempSync(path.join(os.tmpdir(), "resonate-bench-hops-"));
  process.env.HOP_TRACE_DIR = traceDir;
  return traceDir;
}

/** Extra environment for a server process of run dir `dir` (empty unless tracing). */
export function serverHopTraceEnv(dir: string, label: string): Record<string, string> {
  return traceDir ? { RESONATE_TRACE_HOPS: path.join(dir, `hops-${label}.tsv`) } : {};
}

/**
 * When tracing: the hop table of the producer `producerLabel` of run dir `dir` (its invocations
 * `<idPrefix>-<i>`), from the server's records and those of `clients`; it is also logged.
 */
export async function hopTableOf(
  log: (m: string) => void,
  title: string,
  dir: string,
  clients: Child[],
  idPrefix: string,
  producerLabel = "producer",
): Promise<HopTable | undefined> {
  if (!traceDir) return undefined;
  // Every process writes its records every 250 ms; a busy one may write them late.
  await new Promise((r) => setTimeout(r, 1500));
  const out = JSON.parse(fs.readFileSync(path.join(dir, `${producerLabel}.json`), "utf8")) as ProducerOutput;
  const serverFiles = fs.readdirSync(dir).filter((f) => f.startsWith("hops-") && f.endsWith(".tsv")).map((f) => path.join(dir, f));
  const files = [...serverFiles, ...clients.map((c) => path.join(traceDir!, `${c.pid}.tsv`))];
  const table = attributeHops(invocationPoints(out, idPrefix, files));
  log(formatHopTable(`${title} hops`, table));
  return table;
}
