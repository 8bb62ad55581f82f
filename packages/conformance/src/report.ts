// The readable report: one line per check as it finishes (that is the progress display), a recap
// of the failures, and the final `N passed, M failed, K skipped` line. --json adds a machine
// report on stdout (the human lines then go to stderr).
import type { Check, CheckResult, ServerInfo, Suite } from "./check.js";

const MARK = { passed: "✓", failed: "✗", skipped: "-" } as const;

export class Reporter {
  private transient = false;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly live = Boolean(out.isTTY),
  ) {}

  header(server: ServerInfo, runId: string, suites: Suite[]): void {
    this.line(`Resonate conformance kit — protocol 2026-04-01`);
    this.line(`server ${server.url}  debug mode: ${server.debug ? "yes" : "no"}  run id: ${runId}`);
    this.line(`suites: ${suites.map((s) => `${s.name} (${s.checks.length})`).join(", ")}`);
  }

  suite(suite: Suite): void {
    this.line("");
    this.line(`${suite.name} — ${suite.description}`);
  }

  /** On a terminal, show the running check until its result replaces it. */
  start(check: Check): void {
    if (!this.live) return;
    this.out.write(`  … ${check.name}`);
    this.transient = true;
  }

  result(r: CheckResult): void {
    const spec = r.spec ? `  [${r.spec}]` : "";
    const tail = r.outcome === "skipped" ? `  skipped: ${r.reason}` : `  ${formatMs(r.durationMs)}`;
    this.line(`  ${MARK[r.outcome]} ${r.name}${spec}${tail}`);
    if (r.outcome === "failed") this.line(indent(r.reason ?? "failed", 6));
    for (const n of r.notes) this.line(`      · ${n}`);
  }

  summary(results: CheckResult[], elapsedMs: number): void {
    const failed = results.filter((r) => r.outcome === "failed");
    if (failed.length > 0) {
      this.line("");
      this.line("Failed checks:");
      for (const r of failed) this.line(`  ✗ ${r.suite} › ${r.name}: ${firstLine(r.reason)}`);
    }
    const { passed, skipped } = counts(results);
    this.line("");
    this.line(`${passed} passed, ${failed.length} failed, ${skipped} skipped (${formatMs(elapsedMs)})`);
  }

  line(text: string): void {
    if (this.transient) {
      this.out.write("\r\x1b[K");
      this.transient = false;
    }
    this.out.write(`${text}\n`);
  }
}

export function counts(results: CheckResult[]): { passed: number; failed: number; skipped: number } {
  return {
    passed: results.filter((r) => r.outcome === "passed").length,
    failed: results.filter((r) => r.outcome === "failed").length,
    skipped: results.filter((r) => r.outcome === "skipped").length,
  };
}

/** The --json report. */
export function jsonReport(server: ServerInfo, runId: string, results: CheckResult[], elapsedMs: number): string {
  return JSON.stringify({ protocol: "2026-04-01", server, runId, elapsedMs, ...counts(results), results }, null, 2);
}

function formatMs(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

function firstLine(s: string | undefined): string {
  return (s ?? "").split("\n")[0]!;
}

function indent(s: string, n: number): string {
  return s
    .split("\n")
    .map((l) => " ".repeat(n) + l)
    .join("\n");
}
