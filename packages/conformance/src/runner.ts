// Runs the selected suites check by check (sequentially: several checks pause the server's
// background loops or count messages, and parallel checks would see each other's traffic).
import type { Api } from "./api.js";
import type { Check, CheckContext, CheckResult, ServerInfo, Suite } from "./check.js";
import { CheckFailure, Skip } from "./expect.js";

export interface RunOptions {
  api: Api;
  server: ServerInfo;
  runId: string;
  group: string;
  timeoutMs: number;
  /** Called when a check starts and when it has a result (progress output). */
  onStart?(suite: Suite, check: Check): void;
  onResult?(result: CheckResult): void;
}

function skipReason(check: Check, server: ServerInfo): string | undefined {
  if (check.needs === "debug" && !server.debug) return "needs a server in debug mode (debug.* answered 403)";
  if (check.needs === "no-debug" && server.debug) return "needs a server not in debug mode";
  return undefined;
}

export async function runSuites(suites: Suite[], opts: RunOptions): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  let counter = 0;
  for (const suite of suites) {
    const finalizers: Array<() => Promise<void> | void> = [];
    const shared = new Map<string, unknown>();
    for (const check of suite.checks) {
      const notes: string[] = [];
      const ctx: CheckContext = {
        api: opts.api,
        server: opts.server,
        runId: opts.runId,
        group: opts.group,
        timeoutMs: opts.timeoutMs,
        id: (name) => `conf-${opts.runId}-${name}-${++counter}`,
        shared,
        atSuiteEnd: (fn) => finalizers.push(fn),
        note: (text) => notes.push(text),
      };
      opts.onStart?.(suite, check);
      const started = Date.now();
      const base = { suite: suite.name, name: check.name, spec: check.spec, notes };
      const reason = skipReason(check, opts.server);
      let result: CheckResult;
      if (reason) {
        result = { ...base, outcome: "skipped", durationMs: 0, reason };
      } else {
        try {
          await withTimeout(check.run(ctx), opts.timeoutMs);
          result = { ...base, outcome: "passed", durationMs: Date.now() - started };
        } catch (e) {
          const outcome = e instanceof Skip ? "skipped" : "failed";
          result = { ...base, outcome, durationMs: Date.now() - started, reason: describe(e) };
        }
      }
      results.push(result);
      opts.onResult?.(result);
    }
    // Newest first: later resources may depend on earlier ones.
    for (const fn of finalizers.reverse()) {
      try {
        await fn();
      } catch (e) {
        process.stderr.write(`conformance: cleanup after suite ${suite.name} failed: ${describe(e)}\n`);
      }
    }
  }
  return results;
}

function describe(e: unknown): string {
  if (e instanceof CheckFailure || e instanceof Skip) return e.message;
  if (e instanceof Error) {
    // fetch failures hide the useful part in `cause` (ECONNREFUSED, …)
    const cause = (e as { cause?: unknown }).cause;
    return `${e.name === "Error" ? "" : `${e.name}: `}${e.message}${cause instanceof Error ? ` (${cause.message})` : ""}`;
  }
  return String(e);
}

class CheckTimeout extends CheckFailure {}

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  // A check that lost the race may still fail later: that must not become an unhandled rejection.
  p.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CheckTimeout(`did not finish within ${ms} ms (--timeout)`)), ms);
  });
  try {
    return await Promise.race([p, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
