// The differential test against the official SDK's in-memory model (LocalNetwork), run through the
// runner of packages/e2e/differential with `--server <url>`: it sends seeded request sequences to
// the server and to the model and compares every answer and debug.snap. It needs debug mode, and it
// calls debug.reset between episodes — so it wipes the server's data (hence the suite runs last and
// --keep-data skips it).
import { spawn } from "node:child_process";
import fs from "node:fs";
import type { Check } from "../check.js";
import { fail, Skip } from "../expect.js";
import { DIFFERENTIAL_RUNNER, NODE22, REPO_ROOT } from "../paths.js";

/** Steps per seed: about 2 s per 100 steps against a local server on a file database. */
const STEPS = 300;

interface Summary {
  stepsRun: number;
  unexplainedCount: number;
  unexplained: { seed: number; step: number; kind: string; what: string[]; replay: string }[];
  requestsCompared: number;
}

async function runSeed(url: string, seed: number, timeoutMs: number): Promise<Summary & { output: string }> {
  const args = [DIFFERENTIAL_RUNNER, "--server", url, "--seeds", String(seed), "--steps", String(STEPS), "--quiet", "--max-report", "3"];
  const child = spawn(NODE22, args, { cwd: REPO_ROOT, env: { ...process.env, TZ: "UTC" }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
  child.stderr.setEncoding("utf8").on("data", (c: string) => (out += c));
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
  clearTimeout(timer);
  const line = out.split("\n").find((l) => l.startsWith("DIFFERENTIAL-SUMMARY "));
  if (!line) fail(`the differential runner printed no summary (exit ${code}):\n${out.trim().split("\n").slice(-15).join("\n")}`);
  return { ...(JSON.parse(line.slice("DIFFERENTIAL-SUMMARY ".length)) as Summary), output: out };
}

// The generator picks its profile from seed % 3 (mixed, deep, clock): three seeds cover all three.
export const differentialChecks: Check[] = [1, 2, 3].map((seed) => ({
  name: `differential: seed ${seed}, ${STEPS} steps vs LocalNetwork`,
  spec: "§14",
  needs: "debug" as const,
  async run(ctx) {
    if (!fs.existsSync(DIFFERENTIAL_RUNNER)) throw new Skip(`the differential runner is not here (${DIFFERENTIAL_RUNNER})`);
    if (ctx.api.authHeaders().authorization) throw new Skip("the differential runner sends no token (run it against a server without auth)");
    // The runner pauses the background loops (debug.start) and leaves them paused: resume them.
    if (!ctx.shared.has("resume")) {
      ctx.shared.set("resume", true);
      ctx.atSuiteEnd(async () => {
        await ctx.api.call("debug.stop", {});
      });
    }
    const s = await runSeed(ctx.server.url, seed, ctx.timeoutMs - 1000);
    ctx.note(`${s.stepsRun} steps, ${s.requestsCompared} answers compared`);
    if (s.unexplainedCount > 0) {
      const first = s.unexplained.map((u) => `step ${u.step} (${u.kind}): ${u.what.join(" | ")}\n  replay: ${u.replay}`).join("\n");
      fail(`${s.unexplainedCount} unexplained difference(s) from LocalNetwork:\n${first}`);
    }
    if (s.stepsRun !== STEPS) fail(`the runner stopped after ${s.stepsRun} of ${STEPS} steps:\n${s.output.trim().split("\n").slice(-10).join("\n")}`);
  },
}));
