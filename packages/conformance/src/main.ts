// `pnpm conformance --url http://host:port`: checks a server that claims Resonate protocol
// 2026-04-01. Exit code 0: nothing failed; 1: some check failed; 2: the server is unreachable or
// does not speak the protocol (or the command line is wrong).
import { Command, InvalidArgumentError } from "commander";
import { Api } from "./api.js";
import { probe, Unusable } from "./probe.js";
import { counts, jsonReport, Reporter } from "./report.js";
import { runSuites } from "./runner.js";
import { SUITES, selectSuites } from "./suites.js";

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError("must be a positive integer");
  return n;
}

const program = new Command()
  .name("conformance")
  .description("Checks a server that claims Resonate protocol 2026-04-01: the spec's scenarios, the official SDK's flows, the differential test against LocalNetwork")
  .option("--url <url>", "the server's base URL", "http://127.0.0.1:8001")
  .option("--suite <names...>", `suites to run (${SUITES.map((s) => s.name).join(", ")}); default: all`)
  .option("--token <jwt>", "Bearer token, for a server with authentication (needs a token allowed everything)")
  .option("--group <name>", "worker group name prefix for the SDK suite (default: conformance-<run id>)")
  .option("--timeout <ms>", "time limit of one check", positiveInt, 60_000)
  .option("--json", "print a JSON report on stdout (the readable report goes to stderr)")
  .option("--list", "list the suites and checks, and exit")
  .option("--keep-data", "skip the checks that reset the server (the differential suite calls debug.reset)")
  .showHelpAfterError()
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));

program.parse();
// A check that timed out may fail later in the background; report it, do not crash the run.
process.on("unhandledRejection", (e) => process.stderr.write(`conformance: late error (from a check that already ended): ${String(e)}\n`));
// Ctrl-C / SIGTERM: exit through process.exit so that the SDK programs we started are killed too;
// on a debug-mode server, first try to resume the background loops the debug checks may have paused.
let onInterrupt = async () => {};
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    void Promise.race([onInterrupt(), new Promise((r) => setTimeout(r, 1000))]).finally(() => process.exit(130));
  });
}
const opts = program.opts<{ url: string; suite?: string[]; token?: string; group?: string; timeout: number; json?: boolean; list?: boolean; keepData?: boolean }>();

let suites;
try {
  suites = selectSuites(opts.suite, { keepData: Boolean(opts.keepData) });
} catch (e) {
  process.stderr.write(`conformance: ${(e as Error).message}\n`);
  process.exit(2);
}

if (opts.list) {
  for (const s of suites) {
    process.stdout.write(`${s.name} — ${s.description} (${s.checks.length} checks)\n`);
    for (const c of s.checks) process.stdout.write(`  ${c.name}${c.spec ? `  [${c.spec}]` : ""}${c.needs === "debug" ? "  (debug mode)" : c.needs === "no-debug" ? "  (not in debug mode)" : ""}\n`);
  }
  process.exit(0);
}

const url = opts.url.replace(/\/+$/, "");
// Short and unique enough: base-36 time plus randomness; ids stay readable in a dashboard.
const runId = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const api = new Api(url, opts.token);
const reporter = new Reporter(opts.json ? process.stderr : process.stdout);

let server;
try {
  server = await probe(api, runId);
} catch (e) {
  if (!(e instanceof Unusable)) throw e;
  process.stderr.write(`conformance: ${e.message}\n`);
  process.exit(2);
}

// A debug-mode server may have been left with its background loops paused (debug.start) by an
// interrupted run; the live checks need them running.
if (server.debug) {
  await api.call("debug.stop", {});
  onInterrupt = async () => {
    await api.call("debug.stop", {}).catch(() => undefined);
  };
}

const started = Date.now();
reporter.header(server, runId, suites);
let lastSuite = "";
const results = await runSuites(suites, {
  api,
  server,
  runId,
  group: opts.group ?? `conformance-${runId}`,
  timeoutMs: opts.timeout,
  onStart(suite, check) {
    if (suite.name !== lastSuite) {
      lastSuite = suite.name;
      reporter.suite(suite);
    }
    reporter.start(check);
  },
  onResult: (r) => reporter.result(r),
});
const elapsed = Date.now() - started;
reporter.summary(results, elapsed);
if (opts.json) process.stdout.write(`${jsonReport(server, runId, results, elapsed)}\n`);
// Leftover handles (a stream a timed-out check still holds) must not keep the process alive.
process.exit(counts(results).failed > 0 ? 1 : 0);
