// scale: does the server hold up as state grows? One server for the whole workload, with the
// workers of each SDK in their own group and a steady open-loop load per SDK:
//   A  empty database, no idle streams     — steady load (per SDK) + create/get probe
//   …  the promises table grows to SEED settled rpcs (task.create + task.fulfill, exactly the rows a
//      finished invocation leaves), with a create/get probe at each checkpoint
//   B  SEED settled rows                   — steady load (per SDK)
//   C  SEED rows + IDLE idle poll streams  — steady load (per SDK) + probe; streams opened all at once
// Figures: create/get latency per table size (sequential, one request in flight), steady-load
// dispatch→result p50/p99 in A/B/C, and the server's RSS and the time to accept the idle streams.
import { analyze, correctness } from "../analysis";
import { type BenchContext, type Row, type WorkloadOutput, disposeDir, runChild, stopAll } from "../context";
import { childProgram } from "../build";
import { Child, childEnv, cpuMs, makeRunDir, rssMb } from "../procs";
import { type Sdk, startProducer, startWorkers } from "../sdks";
import { type BenchServer, formatWarnings, serverWarnings, startServer } from "../server";
import { ratio, round } from "../stats";
import path from "node:path";

interface Probe {
  rows: number;
  idle: number;
  create: { p50: number; p90: number; p99: number; max: number };
  get: { p50: number; p90: number; p99: number; max: number };
}

interface Steady {
  phase: string;
  rows: number;
  idle: number;
  completed: number;
  errors: number;
  dispatchToResult: { p50: number; p90: number; p99: number; max: number };
  serverCpuShare: number;
}

export async function scale(ctx: BenchContext): Promise<WorkloadOutput> {
  const idle = ctx.smoke ? 20 : 1000;
  const seed = ctx.smoke ? 2000 : 100_000;
  const checkpoints = ctx.smoke ? [0, 2000] : [0, 25_000, 50_000, 100_000];
  const rate = ctx.smoke ? 20 : 100;
  const seconds = ctx.smoke ? 1 : 10;
  const probeCount = ctx.smoke ? 30 : 300;
  const workersPerSdk = 2;
  const maxConnections = idle + 100;
  const params = {
    idleStreams: idle,
    settledRows: seed,
    checkpoints,
    steadyLoad: { ratePerSecond: rate, seconds, workersPerSdk, function: "noop", warmupInvocations: ctx.smoke ? 5 : rate * 3 },
    probe: { sequentialRequests: probeCount, ops: ["promise.create (no target)", "promise.get (random settled id)"] },
    seeding: "task.create + task.fulfill per row (a finished rpc), 16 in flight",
    serverFlags: `--max-connections ${maxConnections}`,
  };
  const problems: string[] = [];
  const probes: Probe[] = [];
  const steady: Partial<Record<Sdk, Steady[]>> = {};
  const extra: Record<string, unknown> = {};
  const dir = makeRunDir("scale");
  let server: BenchServer | undefined;
  let failed = true;

  try {
    server = await startServer(dir, ["--max-connections", String(maxConnections)]);
    const url = server.url;
    await Promise.all(ctx.sdks.map((sdk) => startWorkers(sdk, workersPerSdk, { url, dir, group: `workers-${sdk}` })));

    let rows = 0;
    let idleOpen = 0;
    let probeNo = 0;
    const probe = async () => {
      ctx.log(`scale: probe at ${rows} rows, ${idleOpen} idle streams`);
      const m = await runChild("api-client.ts", { mode: "probe", url, prefix: `probe${probeNo++}`, count: probeCount, existing: { prefix: "seed", size: rows } }, { dir, label: `probe-${probeNo}`, timeoutMs: 120_000 });
      if ((m.errors as number) > 0) problems.push(`scale: probe at ${rows} rows: ${m.errors} requests failed`);
      probes.push({ rows, idle: idleOpen, create: m.create as Probe["create"], get: m.get as Probe["get"] });
    };
    const load = async (phase: string) => {
      for (const sdk of ctx.sdks) {
        ctx.log(`scale/${sdk}: steady ${rate}/s for ${seconds} s (phase ${phase}: ${rows} rows, ${idleOpen} idle)`);
        const producer = await startProducer(sdk, {
          url,
          dir,
          label: `producer-${phase}`,
          plan: { mode: "rate", n: rate * seconds, rate, warmup: ctx.smoke ? 5 : rate * 3, func: "noop", idPrefix: `scale-${phase}-${sdk}`, target: `poll://any@workers-${sdk}`, resultTimeoutMs: 60_000 },
        });
        await producer.child.waitFor("warm", 120_000);
        const cpu0 = server!.cpuMs();
        const out = await producer.done(seconds * 1000 + 90_000);
        const cpu = server!.cpuMs() - cpu0;
        await producer.child.stop("SIGKILL");
        const t = analyze(out);
        problems.push(...correctness(`scale/${sdk} phase ${phase}`, t));
        (steady[sdk] ??= []).push({ phase, rows, idle: idleOpen, completed: t.completed, errors: t.errors, dispatchToResult: t.dispatchToResult, serverCpuShare: round(cpu / t.spanMs, 2) });
      }
    };

    extra.serverRssMbEmpty = rssMb(server.child.pid);
    await probe();
    await load("A");
    for (const target of checkpoints.slice(1)) {
      ctx.log(`scale: seeding rows ${rows}…${target - 1}`);
      const m = await runChild("api-client.ts", { mode: "seed", url, prefix: "seed", from: rows, to: target, concurrency: 16 }, { dir, label: `seed-${target}`, timeoutMs: 900_000 });
      if ((m.errors as number) > 0) problems.push(`scale: seeding to ${target}: ${m.errors} rows failed (${String(m.firstError)})`);
      ((extra.seedRates ??= []) as unknown[]).push({ to: target, rowsPerSecond: round(m.rate as number), requestsPerSecond: round(m.requestRate as number) });
      rows = target;
      await probe();
    }
    await load("B");
    extra.serverRssMbSeeded = rssMb(server.child.pid);

    ctx.log(`scale: opening ${idle} idle poll streams`);
    const holder = new Child("idle-holder", process.execPath, [...childProgram("idle-holder.ts"), JSON.stringify({ url, n: idle, group: "idle" })], {
      env: childEnv(),
      logFile: path.join(dir, "idle-holder.log"),
    });
    const [opened] = await holder.waitFor("opened", 120_000);
    const statuses = opened!.statuses as Record<string, number>;
    idleOpen = statuses["200"] ?? 0;
    extra.idleOpen = { asked: idle, open: idleOpen, ms: opened!.ms, statuses };
    if (idleOpen < idle) problems.push(`scale: only ${idleOpen} of ${idle} idle streams were accepted (${JSON.stringify(statuses)})`);
    extra.serverRssMbWithIdle = rssMb(server.child.pid);
    await load("C");
    await probe();
    failed = problems.length > 0;
  } catch (error) {
    problems.push(`scale: ${(error as Error).message.split("\n")[0]}`);
    extra.error = (error as Error).message.slice(0, 2000);
  } finally {
    await stopAll(dir, server);
    extra.serverWarnings = serverWarnings(dir);
    if (Object.keys(extra.serverWarnings as object).length > 0) failed = true; // keep the logs
    disposeDir(dir, failed, ctx.log);
  }

  const firstProbe = probes[0];
  const lastSeeded = [...probes].reverse().find((p) => p.idle === 0);
  const degradation = {
    createP50: ratio(lastSeeded?.create.p50, firstProbe?.create.p50, 2),
    createP99: ratio(lastSeeded?.create.p99, firstProbe?.create.p99, 2),
    getP50: ratio(lastSeeded?.get.p50, firstProbe?.get.p50, 2),
    getP99: ratio(lastSeeded?.get.p99, firstProbe?.get.p99, 2),
  };
  const results: Record<string, unknown> = { all: { probes, degradation, ...extra } };
  for (const sdk of ctx.sdks) results[sdk] = { steady: steady[sdk] ?? [] };

  const c = ctx.ceilings;
  const rowsOut: Row[] = [];
  for (const p of probes) {
    rowsOut.push({
      metric: `create / get p50 (p99) ms at ${p.rows} rows${p.idle ? ` + ${p.idle} idle` : ""}`,
      values: { all: `${round(p.create.p50, 2)} (${round(p.create.p99, 2)}) / ${round(p.get.p50, 2)} (${round(p.get.p99, 2)})` },
    });
  }
  rowsOut.push({ metric: `create p50 at ${lastSeeded?.rows ?? "?"} rows ÷ at 0 rows`, values: { all: degradation.createP50 } });
  rowsOut.push({ metric: `get p50 at ${lastSeeded?.rows ?? "?"} rows ÷ at 0 rows`, values: { all: degradation.getP50 } });
  if (c && firstProbe) rowsOut.push({ metric: "create p50 at 0 rows ÷ echo round trip p50", values: { all: ratio(firstProbe.create.p50, c.echoSerial.p50, 1) } });
  const idleInfo = extra.idleOpen as { open: number; ms: number } | undefined;
  if (idleInfo) rowsOut.push({ metric: `idle streams accepted / ms to accept all`, values: { all: `${idleInfo.open} / ${idleInfo.ms}` } });
  rowsOut.push({ metric: "server RSS MB: empty / seeded / + idle", values: { all: `${extra.serverRssMbEmpty ?? "?"} / ${extra.serverRssMbSeeded ?? "?"} / ${extra.serverRssMbWithIdle ?? "?"}` } });
  rowsOut.push({ metric: "server warnings", values: { all: formatWarnings(extra.serverWarnings as Record<string, number> | undefined) } });
  for (const phase of ["A", "B", "C"]) {
    const sample = steady[ctx.sdks[0]!]?.find((s) => s.phase === phase);
    rowsOut.push({
      metric: `steady ${rate}/s dispatch→result p50 / p99 ms, ${phase}${sample ? ` (${sample.rows} rows, ${sample.idle} idle)` : ""}`,
      values: Object.fromEntries(ctx.sdks.map((s) => {
        const x = steady[s]?.find((y) => y.phase === phase);
        return [s, x ? `${x.dispatchToResult.p50} / ${x.dispatchToResult.p99}` : null];
      })),
    });
  }
  return { params, results, rows: rowsOut, problems };
}
