// What a check is, and what it gets to work with. Checks are grouped into suites; the registry
// (suites.ts) lists them in the order they run.
import type { Api } from "./api.js";

export interface ServerInfo {
  url: string;
  /** The server answered debug.snap with 200: `resonate:debug_time`, debug.tick and debug.snap work. */
  debug: boolean;
}

export interface CheckContext {
  api: Api;
  server: ServerInfo;
  /** Unique per kit run; every id, group and tag the kit creates contains it. */
  runId: string;
  /** Worker group name prefix for the SDK suite (`--group`). */
  group: string;
  /** Per-check time limit (ms); long waits inside a check should stay well below it. */
  timeoutMs: number;
  /** A fresh id in the run's namespace: `conf-<runId>-<name>-<n>`. */
  id(name: string): string;
  /** Objects shared by the checks of one suite (e.g. the SDK suite's worker processes). */
  shared: Map<string, unknown>;
  /** Runs after the last check of the current suite, also when checks failed. */
  atSuiteEnd(fn: () => Promise<void> | void): void;
  /** A note printed under the check in the report (measurements, what was observed). */
  note(text: string): void;
}

export interface Check {
  name: string;
  /** Where the expectation comes from, e.g. "§15.3 #18". */
  spec?: string;
  /** "debug": only against a server in debug mode; "no-debug": only against one that is not. */
  needs?: "debug" | "no-debug";
  run(ctx: CheckContext): Promise<void>;
}

export interface Suite {
  name: string;
  description: string;
  checks: Check[];
  /** Its checks wipe the server's data (debug.reset); --keep-data skips them. */
  destructive?: boolean;
}

export type Outcome = "passed" | "failed" | "skipped";

export interface CheckResult {
  suite: string;
  name: string;
  spec?: string;
  outcome: Outcome;
  durationMs: number;
  /** Failure message or skip reason. */
  reason?: string;
  notes: string[];
}
