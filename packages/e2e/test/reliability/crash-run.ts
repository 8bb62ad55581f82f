// The server-crash durability run (Issue 5 item 1), shared by the CI test (crash-durability.test.ts)
// and the longer soak (packages/server/scripts/crash-soak.ts).
//
// A steady load of `effect(id, cost)` invocations goes through real workers of both SDKs while the
// server is SIGKILLed at random moments and restarted on the same database. Then the load stops,
// everything drains, the server stops cleanly and its database file is read. Violations are
// collected in `problems` (the run itself never throws for them):
//   - an acknowledged create (the client got 200) whose promise is missing, not resolved in the end,
//     or whose value does not come from an execution of that id (each execution prints a nonce);
//   - a settled value that changed between reads (first read while the kills go on or during the
//     drain, re-read at random during the kills, and finally read from the file);
//   - a nonce settled for two promises;
//   - any database invariant (inspectDatabase): a task acquired without a lease, a pending task
//     without a retry timeout, a settled promise whose task is not fulfilled, …;
//   - a promise of the run still pending at the end (every dispatched invocation must complete);
//   - a worker process that died.
import path from "node:path";
import { isDeepStrictEqual } from "node:util";
import { freePort, type ManagedProcess, type World, sleep } from "../harness";
import { decodeStoredValue, inspectDatabase, LoadGenerator, serverLog, startOfficialEffectWorker, startOurWorker, waitSettled, WarmServer } from "./helpers";

export interface CrashRunOptions {
  /** Stop killing after this many kills... */
  kills: number;
  /** ...or after this long (ms), whichever comes first (0 = no time limit). */
  maxDurationMs: number;
  /** A server that became ready is SIGKILLed after serving this long (uniform, ms). */
  serveMs: [number, number];
  /** This share of the kills hits the server while it starts (opens and recovers the database). */
  startupKillShare: number;
  /** Creates per second. */
  rate: number;
  costMs: [number, number];
  retryTimeoutMs: number;
  ourWorkers: number;
  officialWorkers: number;
  workerTtlMs: number;
  drainTimeoutMs: number;
  log?: (line: string) => void;
}

export const CI_OPTIONS: CrashRunOptions = {
  kills: 20,
  maxDurationMs: 0,
  serveMs: [700, 2200],
  startupKillShare: 0.2,
  rate: 6,
  costMs: [50, 600],
  retryTimeoutMs: 1000,
  ourWorkers: 2,
  officialWorkers: 1,
  workerTtlMs: 3000,
  drainTimeoutMs: 60_000,
};

export interface CrashRunReport {
  kills: number;
  /** Kills that hit a server which had answered /ready (the others hit it while starting). */
  killsWhileServing: number;
  durationMs: number;
  invocations: number;
  acked: number;
  unacked: number;
  /** Executions (effect markers) of acknowledged ids, and how many of them were repeats. */
  executions: number;
  repeats: number;
  readyMs: { avg: number; max: number };
  drainMs: number;
  finalStopMs: number;
  finalExitCode: number | null;
  /** Acknowledged promises first read as settled while the kills went on, and re-reads compared then. */
  seenDuringKills: number;
  rereads: number;
  /** Poll streams the servers cut as "client is not reading" (see backlog.test.ts). */
  streamCuts: number;
  problems: string[];
  dbDir: string;
}

export async function runCrashDurability(w: World, opts: CrashRunOptions): Promise<CrashRunReport> {
  const log = opts.log ?? (() => {});
  const problems: string[] = [];
  const dbPath = path.join(w.dir, "crash.db");
  const server = new WarmServer(w, {
    port: await freePort(),
    dbPath,
    logLevel: "warn",
    extraArgs: ["--retry-timeout", String(opts.retryTimeoutMs)],
    standbys: 2,
  });
  await server.start();

  const workers: ManagedProcess[] = await Promise.all([
    ...Array.from({ length: opts.ourWorkers }, (_, i) => startOurWorker(w, server.url, { label: `ours-${i + 1}`, group: "ours", ttl: opts.workerTtlMs })),
    ...Array.from({ length: opts.officialWorkers }, (_, i) => startOfficialEffectWorker(w, server.handle, { label: `official-${i + 1}`, group: "official", ttl: opts.workerTtlMs })),
  ]);

  const targets = [];
  if (opts.ourWorkers > 0) targets.push({ target: "ours", weight: opts.ourWorkers });
  if (opts.officialWorkers > 0) targets.push({ target: "official", weight: opts.officialWorkers });
  const load = new LoadGenerator({ url: server.url, rate: opts.rate, targets, costMs: opts.costMs, attempts: 12, retryDelayMs: 250, idPrefix: "crash" });

  const t0 = Date.now();
  load.start();

  // Settled values are read during the kills as well: the first read of each is kept, and some are
  // read again every round, so a settlement that a crash and a replay changed would show.
  const firstSeen = new Map<string, { value: unknown; settledAt: number }>();
  let rereads = 0;
  let observing = true;
  const read = async (id: string) => {
    const r = await server.call("promise.get", { id }).catch(() => undefined);
    return r?.status === 200 && r.data.promise.state !== "pending" ? (r.data.promise as { value: unknown; settledAt: number }) : undefined;
  };
  const observer = (async () => {
    while (observing) {
      const unseen = load.acked.filter((i) => !firstSeen.has(i.id)).slice(0, 30);
      const seen = [...firstSeen.keys()].sort(() => Math.random() - 0.5).slice(0, 10);
      await Promise.all([
        ...unseen.map(async (i) => {
          const p = await read(i.id);
          if (p && !firstSeen.has(i.id)) firstSeen.set(i.id, { value: p.value, settledAt: p.settledAt });
        }),
        ...seen.map(async (id) => {
          const p = await read(id);
          if (!p) return;
          rereads++;
          const first = firstSeen.get(id)!;
          if (!isDeepStrictEqual(first.value, p.value) || first.settledAt !== p.settledAt) {
            problems.push(`${id}: settled value changed between reads during the run: ${JSON.stringify(first)} then ${JSON.stringify({ value: p.value, settledAt: p.settledAt })}`);
          }
        }),
      ]);
      await sleep(300);
    }
  })();

  let kills = 0;
  let killsWhileServing = 0;
  // Kills at random moments: mostly while the server serves (a random time after it became
  // ready), sometimes while it starts (a random time after its trigger, before or around ready).
  // The first kill waits until some work is in flight.
  await sleep(1500);
  while (kills < opts.kills && (opts.maxDurationMs === 0 || Date.now() - t0 < opts.maxDurationMs)) {
    if (Math.random() < opts.startupKillShare) {
      await server.whenTriggered();
      const killAt = server.triggeredAt + Math.random() * 600;
      if (killAt > Date.now()) await sleep(killAt - Date.now());
    } else {
      await server.waitReady();
      const [lo, hi] = opts.serveMs;
      await sleep(lo + Math.random() * (hi - lo));
    }
    const serving = server.ready;
    await server.stop("SIGKILL");
    kills++;
    if (serving) killsWhileServing++;
    server.trigger();
    if (kills % 5 === 0) log(`kill ${kills}: ${load.acked.length} creates acknowledged so far`);
  }
  await server.waitReady();
  // Some load after the last restart, then stop issuing.
  await sleep(2000);
  await load.stop();
  observing = false;
  await observer;
  const seenDuringKills = firstSeen.size;
  const loadEnd = Date.now();
  const acked = load.acked;
  log(`kills done: ${kills} in ${loadEnd - t0} ms; ${acked.length} acknowledged, ${load.unacked.length} never acknowledged; draining`);

  // Every acknowledged invocation must complete; note the first settled record seen for each.
  const drain = await waitSettled((k, d) => server.call(k, d), acked.map((i) => i.id), {
    timeoutMs: opts.drainTimeoutMs,
    onSettled: (id, promise) => {
      if (!firstSeen.has(id)) firstSeen.set(id, { value: promise.value, settledAt: promise.settledAt });
    },
  });
  const drainMs = Date.now() - loadEnd;
  for (const id of drain.pending) problems.push(`acknowledged ${id} not settled ${opts.drainTimeoutMs} ms after the load stopped`);
  // Creates that were committed but whose answer was lost must complete too: wait until the server
  // has no pending promise at all (the file check below reports any left).
  await waitSettled((k, d) => server.call(k, d), load.unacked.map((i) => i.id), { timeoutMs: Math.max(0, loadEnd + opts.drainTimeoutMs - Date.now()), ignoreMissing: true });

  for (const worker of workers) if (!worker.alive) problems.push(`worker ${worker.label} died: ${JSON.stringify(worker.exitInfo)}`);
  // Settle in-flight fulfils of late duplicates before reading the file.
  await sleep(500);
  const finalStop = await server.dispose("SIGTERM");
  if (finalStop.code !== 0) problems.push(`final SIGTERM: exit code ${finalStop.code} signal ${finalStop.signal}`);

  // The database file.
  const db = inspectDatabase(dbPath);
  problems.push(...db.problems);
  for (const p of db.promises.values()) if (p.state === "pending") problems.push(`promise ${p.id} still pending in the file`);

  // Side effects: executions per id, with their nonces and executors.
  const effects = new Map<string, Array<{ nonce: string; pid: string }>>();
  for (const m of w.events("effect")) {
    const list = effects.get(String(m.id)) ?? [];
    list.push({ nonce: String(m.nonce), pid: String(m.pid) });
    effects.set(String(m.id), list);
  }
  const settledNonces = new Map<string, string>();
  let executions = 0;
  for (const inv of acked) {
    const row = db.promises.get(inv.id);
    if (!row) {
      problems.push(`acknowledged ${inv.id} missing from the database`);
      continue;
    }
    if (row.state !== "resolved") {
      problems.push(`acknowledged ${inv.id} is ${row.state}`);
      continue;
    }
    const task = db.tasks.get(inv.id);
    if (task?.state !== "fulfilled") problems.push(`acknowledged ${inv.id}: task ${task?.state ?? "missing"}`);
    const value = decodeStoredValue(row.value) as { id?: string; nonce?: string; worker?: string } | undefined;
    const runs = effects.get(inv.id) ?? [];
    executions += runs.length;
    const producer = runs.find((r) => r.nonce === value?.nonce);
    if (!value || value.id !== inv.id || !producer) problems.push(`${inv.id}: settled value ${JSON.stringify(value)} is not the output of one of its ${runs.length} executions`);
    else if (producer.pid !== value.worker) problems.push(`${inv.id}: value names worker ${value.worker} but nonce came from ${producer.pid}`);
    if (value?.nonce) {
      const other = settledNonces.get(value.nonce);
      if (other) problems.push(`nonce ${value.nonce} settled for both ${other} and ${inv.id}`);
      settledNonces.set(value.nonce, inv.id);
    }
    const seen = firstSeen.get(inv.id);
    if (seen && (!isDeepStrictEqual(seen.value, JSON.parse(row.value)) || seen.settledAt !== row.settled_at)) {
      problems.push(`${inv.id}: settled value changed between reads: ${JSON.stringify(seen)} then ${row.value}@${row.settled_at}`);
    }
  }

  const readyTimes = server.readyTimes;
  return {
    kills,
    killsWhileServing,
    durationMs: loadEnd - t0,
    invocations: load.invocations.size,
    acked: acked.length,
    unacked: load.unacked.length,
    executions,
    repeats: executions - acked.length,
    readyMs: { avg: Math.round(readyTimes.reduce((a, b) => a + b, 0) / readyTimes.length), max: Math.max(...readyTimes) },
    drainMs,
    finalStopMs: finalStop.ms,
    finalExitCode: finalStop.code,
    seenDuringKills,
    rereads,
    streamCuts: w.procs.filter((p) => p.label.startsWith("server")).flatMap((p) => serverLog(p)).filter((l) => l.msg === "poll stream disconnected: client is not reading").length,
    problems,
    dbDir: w.dir,
  };
}

export function formatReport(r: CrashRunReport): string {
  return [
    `kills survived: ${r.kills} (${r.killsWhileServing} while serving, the rest while starting)`,
    `duration of the load: ${r.durationMs} ms; drain afterwards: ${r.drainMs} ms`,
    `invocations: ${r.invocations} issued, ${r.acked} acknowledged, ${r.unacked} never acknowledged`,
    `executions of acknowledged invocations: ${r.executions} (${r.repeats} repeats: at-least-once across crashes)`,
    `settled values: ${r.seenDuringKills} first read while the kills went on, ${r.rereads} re-reads compared then, all compared with the file at the end`,
    `restart (trigger -> ready): avg ${r.readyMs.avg} ms, max ${r.readyMs.max} ms; final SIGTERM: exit ${r.finalExitCode} in ${r.finalStopMs} ms`,
    `poll streams cut by the server as "not reading": ${r.streamCuts}`,
    `problems: ${r.problems.length === 0 ? "none" : `\n  ${r.problems.slice(0, 50).join("\n  ")}${r.problems.length > 50 ? `\n  … ${r.problems.length - 50} more` : ""}`}`,
  ].join("\n");
}
