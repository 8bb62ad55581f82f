#!/usr/bin/env node
// Differential test runner: our server (HTTP, debug mode, Node 20 child process) against the
// official SDK's in-memory model (`LocalNetwork`, in this Node 22 process), step by step.
//
//   node packages/e2e/differential/runner.mjs --seeds 1,2,3 --steps 1000
//   node packages/e2e/differential/runner.mjs --replay 7:418          # seed 7, trace steps 408–418
//   node packages/e2e/differential/runner.mjs --seed 7 --steps 50 --trace
//
// Options: --seed N | --seeds a,b,c | --steps N (per seed) | --trace | --trace-from N |
//          --replay SEED:STEP | --no-allowlist | --max-report N (details printed for the first N
//          unexplained differences) | --server URL (use a running server, debug mode) | --coverage
//          (print kind × status counts) | --quiet (no per-seed progress lines)
// Env: NODE20 (Node 20 binary for the server; default: the first v20 `node` on PATH).
// Must run on Node ≥ 22 (the SDK requires it), from anywhere (paths are resolved from this file).
//
// Output: progress lines, details of every unexplained difference (with the replay command), and
// one final line `DIFFERENTIAL-SUMMARY {json}`. Exit code 0 = no unexplained difference, 1 =
// unexplained differences, 2 = harness failure.

import { Rng } from "./prng.mjs";
import { T0, nextStep, resetGenerator, profileName } from "./generator.mjs";
import { Oracle, SDK_VERSION } from "./oracle.mjs";
import { PROTOCOL_VERSION, post, startServer } from "./ours.mjs";
import { RESPONSE_NORMALISERS, SNAP_NORMALISERS, checkPredicted, compare, predict, viewFromSnap } from "./compare.mjs";
import { KNOWN_BUGS } from "./known-bugs.mjs";

// ---------------------------------------------------------------------------------------------
// Arguments

function parseArgs(argv) {
  const opts = { seeds: [1], steps: 500, trace: false, traceFrom: Infinity, allowlist: true, maxReport: 5, server: undefined, quiet: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => argv[++i];
    if (a === "--seed") opts.seeds = [Number(val())];
    else if (a === "--seeds") opts.seeds = val().split(",").map(Number);
    else if (a === "--steps") opts.steps = Number(val());
    else if (a === "--trace") opts.traceFrom = 1;
    else if (a === "--trace-from") opts.traceFrom = Number(val());
    else if (a === "--replay") {
      const [s, n] = val().split(":").map(Number);
      opts.seeds = [s];
      opts.steps = n;
      opts.traceFrom = Math.max(1, n - 10);
      opts.replay = true;
    } else if (a === "--no-allowlist") opts.allowlist = false;
    else if (a === "--max-report") opts.maxReport = Number(val());
    else if (a === "--server") opts.server = val();
    else if (a === "--quiet") opts.quiet = true;
    else if (a === "--coverage") opts.coverage = true;
    else throw new Error(`unknown option ${a}`);
  }
  if (opts.seeds.some((s) => !Number.isInteger(s)) || !Number.isInteger(opts.steps) || opts.steps < 1) throw new Error("bad --seed(s)/--steps");
  return opts;
}

const show = (v) => JSON.stringify(v);
const log = (...a) => process.stdout.write(a.join(" ") + "\n");

// ---------------------------------------------------------------------------------------------
// Main

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (Number(process.versions.node.split(".")[0]) < 22) throw new Error(`the runner needs Node >= 22 (this is ${process.version})`);
  process.env.TZ = "UTC"; // the model evaluates cron in local time (D28)

  const started = Date.now();
  const server = opts.server ? { url: opts.server, stop: async () => {}, pid: undefined } : await startServer();
  const cleanup = async () => {
    await server.stop();
  };
  for (const sig of ["SIGINT", "SIGTERM"]) {
    process.on(sig, () => {
      cleanup().finally(() => process.exit(130));
    });
  }

  const summary = {
    sdk: SDK_VERSION,
    seeds: opts.seeds,
    stepsPerSeed: opts.steps,
    stepsRun: 0,
    requestsCompared: 0,
    oursOnlyChecks: 0,
    episodes: 0,
    normalised: {}, // deviation id → steps where the normaliser removed a difference
    predicted: {}, // deviation id → steps where a predicted deviation occurred
    resyncs: {}, // deviation id → episodes restarted because the stores diverged
    oracleShapeFailures: {}, // kind → count (the SDK's own guard rejects the model's answer)
    knownBugs: {}, // bug id → count
    coverage: {}, // "kind status" → count (our server's answers), to see what the run exercised
    unexplained: [],
    unexplainedCount: 0,
    durationMs: 0,
  };
  const bump = (obj, key) => (obj[key] = (obj[key] ?? 0) + 1);

  try {
    const oracle = new Oracle();
    for (const seed of opts.seeds) {
      await runSeed(seed, opts, server.url, oracle, summary, bump);
    }
  } finally {
    await cleanup();
  }

  summary.durationMs = Date.now() - started;
  summary.c1ShimNote = "oracle: promise timeouts added for target-less pending promises (0.11.4 behaviour, C1)";
  const unhit = opts.allowlist ? KNOWN_BUGS.filter((b) => !summary.knownBugs[b.id]).map((b) => b.id) : [];
  if (unhit.length > 0) log(`note: allow-listed bugs never hit in this run (fixed? remove them from known-bugs.mjs): ${unhit.join(", ")}`);

  log("");
  log(`differential: seeds ${opts.seeds.join(",")} × ${opts.steps} steps = ${summary.stepsRun} steps in ${(summary.durationMs / 1000).toFixed(1)} s (SDK ${SDK_VERSION} LocalNetwork vs our server)`);
  log(`  compared on both sides: ${summary.requestsCompared}; invalid input checked on ours only (D9/D1): ${summary.oursOnlyChecks}; episodes: ${summary.episodes}`);
  log(`  differences removed by documented normalisations: ${fmt(summary.normalised)}`);
  log(`  predicted deviations: ${fmt(summary.predicted)}; episodes restarted after them: ${fmt(summary.resyncs)}`);
  log(`  model answers its own SDK guard rejects: ${fmt(summary.oracleShapeFailures)}`);
  log(`  known (allow-listed) server bugs: ${fmt(summary.knownBugs)}`);
  log(`  UNEXPLAINED differences: ${summary.unexplainedCount}`);
  if (opts.coverage) {
    log(`  coverage (kind, our status):`);
    for (const [k, v] of Object.entries(summary.coverage).sort()) log(`    ${k}: ${v}`);
  }
  const { unexplained, ...rest } = summary;
  log(`DIFFERENTIAL-SUMMARY ${JSON.stringify({ ...rest, unexplained: unexplained.map((u) => ({ seed: u.seed, step: u.step, kind: u.kind, label: u.label, what: u.what, replay: u.replay })) })}`);
  process.exitCode = summary.unexplainedCount > 0 ? 1 : 0;
}

const fmt = (o) => (Object.keys(o).length === 0 ? "none" : Object.entries(o).map(([k, v]) => `${k}=${v}`).join(" "));

async function runSeed(seed, opts, url, oracle, summary, bump) {
  const rng = new Rng(seed);
  resetGenerator(seed);
  let T = T0;
  let schedules = new Set();
  const history = [];

  const resetBoth = async () => {
    const head = { corrId: `reset-${seed}`, version: PROTOCOL_VERSION, "resonate:debug_time": T };
    for (const kind of ["debug.start", "debug.reset"]) {
      const r = await post(url, { kind, head, data: {} });
      if (r.env?.head?.status !== 200) throw new Error(`${kind} failed on our server: ${show(r.env)}`);
    }
    oracle.reset();
    schedules = new Set();
    summary.episodes++;
  };
  const snapOurs = async (corrId) => (await post(url, { kind: "debug.snap", head: { corrId, version: PROTOCOL_VERSION, "resonate:debug_time": T }, data: {} })).env;
  const snapOracle = (corrId) => oracle.apply(T, { kind: "debug.snap", head: { corrId, version: PROTOCOL_VERSION }, data: {} }).env;

  await resetBoth();
  let view = viewFromSnap(undefined, T, schedules);

  for (let stepNo = 1; stepNo <= opts.steps; stepNo++) {
    summary.stepsRun++;
    const step = nextStep(rng, view);
    T += step.advance;
    view = { ...view, T };
    const corrId = `s${seed}-${stepNo}`;
    const head = { corrId, version: step.headVersion ?? PROTOCOL_VERSION, "resonate:debug_time": step.debugTime ?? T };
    const request = { kind: step.kind, head, data: step.data };
    const prediction = predict(step, view);
    const tracing = stepNo >= opts.traceFrom;

    // --- send
    const oursRes = await post(url, request);
    const ours = oursRes.env;
    let oracleRes;
    if (step.mode !== "oursOnly") oracleRes = oracle.apply(T, request);
    else if (step.oracleLazy) {
      // The reference (and our server, per §6.2.7) times these ids out lazily before rejecting the
      // request; the model does not validate it at all, so the same lazy timeouts are applied to
      // the model through reads (promise.get times out an expired promise, §5.4).
      for (const id of step.oracleLazy) oracle.apply(T, { kind: "promise.get", head: { corrId: `${corrId}-lazy`, version: PROTOCOL_VERSION }, data: { id } });
    }
    const oracleEnv = oracleRes?.env;
    if (oracleRes && oracleRes.env && !oracleRes.shapeOk) bump(summary.oracleShapeFailures, step.kind);

    // --- envelope checks on ours (spec §2.3)
    const problems = [];
    if (typeof ours !== "object" || ours === null) problems.push(`non-JSON body: ${String(ours).slice(0, 200)}`);
    else {
      if (oursRes.httpStatus !== ours.head?.status) problems.push(`HTTP status ${oursRes.httpStatus} != head.status ${ours.head?.status}`);
      if (ours.kind !== request.kind) problems.push(`kind ${ours.kind} != ${request.kind}`);
      if (ours.head?.corrId !== corrId) problems.push(`corrId ${ours.head?.corrId} != ${corrId}`);
      if (ours.head?.version !== PROTOCOL_VERSION) problems.push(`version ${ours.head?.version}`);
      if (!oursRes.contentType.includes("application/json")) problems.push(`content-type ${oursRes.contentType}`);
      if (ours.head?.status >= 400 && typeof ours.data !== "string") problems.push(`error data is not a string`);
    }

    // --- response comparison
    let responseDiffs = [];
    let credited = [];
    const oursStatus = ours?.head?.status;
    bump(summary.coverage, `${step.kind} ${oursStatus}${step.mode === "both" ? "" : ` (${step.mode})`}`);
    if (step.kind === "task.fence" && oursStatus === 200) bump(summary.coverage, `task.fence 200 inner ${ours.data?.action?.kind} ${ours.data?.action?.head?.status}`);
    if (step.mode === "oursOnly") {
      summary.oursOnlyChecks++;
      if (oursStatus !== step.expect) problems.push(`invalid input (${step.label}): ours answered ${oursStatus}, expected ${step.expect}`);
    } else if (oracleRes.threw !== undefined) {
      problems.push(`the model threw: ${oracleRes.threw}`);
    } else if (prediction && !prediction.compareResponse) {
      bump(summary.predicted, prediction.id);
      if (oursStatus !== prediction.expectOurs) problems.push(`predicted ${prediction.id}: ours answered ${oursStatus}, expected ${prediction.expectOurs}`);
    } else {
      if (prediction) bump(summary.predicted, prediction.id);
      summary.requestsCompared++;
      const ctx = { what: "response", kind: step.kind, corrId, request, oracle, T };
      const r = compare(ours, oracleEnv, RESPONSE_NORMALISERS, ctx);
      responseDiffs = r.diffs;
      credited.push(...r.credited);
      if (step.mode === "bothInvalid" && oursStatus !== step.expect) problems.push(`invalid input (${step.label}): ours answered ${oursStatus}, expected ${step.expect}`);
    }

    // --- snapshot comparison
    const oursSnap = await snapOurs(`${corrId}-snap`);
    const oracleSnap = snapOracle(`${corrId}-snap`);
    const s = compare(oursSnap, oracleSnap, SNAP_NORMALISERS, { what: "snap", T, oracle });
    const snapDiffs = s.diffs;
    credited.push(...s.credited);
    for (const id of new Set(credited)) bump(summary.normalised, id);
    if (prediction && problems.length === 0) problems.push(...checkPredicted(prediction, step, view, s.ours.data));

    // --- schedules known to exist (not in debug.snap)
    if (oursStatus === 200) {
      if (step.kind === "schedule.create" || step.kind === "schedule.get") schedules.add(step.data.id);
      if (step.kind === "schedule.delete") schedules.delete(step.data.id);
      if (step.kind === "debug.reset") schedules.clear();
    } else if (oursStatus === 404 && (step.kind === "schedule.get" || step.kind === "schedule.delete")) schedules.delete(step.data.id);

    // --- classification
    const different = problems.length > 0 || responseDiffs.length > 0 || snapDiffs.length > 0;
    let outcome = "ok";
    let restart = false;
    if (different) {
      if (problems.length === 0 && responseDiffs.length === 0 && prediction?.diverges) {
        outcome = `deviation ${prediction.id} (stores diverge: new episode)`;
        bump(summary.resyncs, prediction.id);
        restart = true;
      } else {
        const event = { step, request, view, ours, oracle: oracleEnv, problems, responseDiffs, snapDiffs, oursSnap: s.ours.data, oracleSnap: s.oracle.data };
        const bug = opts.allowlist ? KNOWN_BUGS.find((b) => safeMatch(b, event)) : undefined;
        if (bug) {
          outcome = `known bug ${bug.id}`;
          bump(summary.knownBugs, bug.id);
        } else {
          outcome = "UNEXPLAINED";
          summary.unexplainedCount++;
          const record = {
            seed,
            step: stepNo,
            kind: step.kind,
            label: step.label,
            mode: step.mode,
            what: [...problems, ...responseDiffs.slice(0, 6).map((d) => `response ${d.path}: ours=${show(d.ours)} oracle=${show(d.oracle)}`), ...snapDiffs.slice(0, 6).map((d) => `snap ${d.path}: ours=${show(d.ours)} oracle=${show(d.oracle)}`)],
            replay: `node packages/e2e/differential/runner.mjs --replay ${seed}:${stepNo}`,
          };
          summary.unexplained.push(record);
          if (summary.unexplained.length <= opts.maxReport) reportUnexplained(record, request, ours, oracleEnv, history);
        }
        restart = true;
      }
    } else if (prediction) {
      outcome = `deviation ${prediction.id}`;
    }

    if (tracing) {
      log(`--- seed ${seed} step ${stepNo} T=${T} (T0+${T - T0}) mode=${step.mode}${step.label ? ` [${step.label}]` : ""}${prediction ? ` predicted=${prediction.id}` : ""}`);
      log(`  request: ${show(request)}`);
      log(`  ours:    ${show(ours)}`);
      if (oracleRes) log(`  oracle:  ${show(oracleRes.env ?? oracleRes)}`);
      if (credited.length) log(`  normalised: ${[...new Set(credited)].join(", ")}`);
      for (const p of problems) log(`  problem: ${p}`);
      for (const d of responseDiffs) log(`  response diff ${d.path}: ours=${show(d.ours)} oracle=${show(d.oracle)}`);
      for (const d of snapDiffs) log(`  snap diff ${d.path}: ours=${show(d.ours)} oracle=${show(d.oracle)}`);
      log(`  outcome: ${outcome}`);
      if (stepNo === opts.steps && opts.replay) {
        log(`  our snap after:    ${show(s.ours.data)}`);
        log(`  oracle snap after: ${show(s.oracle.data)}`);
      }
    }

    history.push(`${stepNo} ${step.kind}${step.label ? ` [${step.label}]` : ""} → ours ${oursStatus}${oracleEnv ? ` / oracle ${oracleEnv.head.status}` : ""}`);
    if (history.length > 8) history.shift();

    if (restart) {
      await resetBoth();
      view = viewFromSnap(undefined, T, schedules);
    } else {
      view = viewFromSnap(s.ours.data, T, schedules);
    }
  }
  if (!opts.quiet) log(`seed ${seed} (profile ${profileName}): ${opts.steps} steps done (T0+${T - T0} ms)`);
}

function safeMatch(bug, event) {
  try {
    return Boolean(bug.match(event));
  } catch {
    return false;
  }
}

function reportUnexplained(record, request, ours, oracleEnv, history) {
  log("");
  log(`=== UNEXPLAINED difference: seed ${record.seed} step ${record.step} (${record.kind}${record.label ? `, ${record.label}` : ""}, mode ${record.mode})`);
  log(`  recent steps:\n    ${history.join("\n    ")}`);
  log(`  request: ${show(request)}`);
  log(`  ours:    ${show(ours)}`);
  if (oracleEnv) log(`  oracle:  ${show(oracleEnv)}`);
  for (const w of record.what) log(`  ${w}`);
  log(`  replay:  ${record.replay}`);
  log("");
}

main().catch((error) => {
  process.stderr.write(`differential runner failed: ${error?.stack ?? error}\n`);
  process.exitCode = 2;
});
