// The registry: every suite the kit knows, in the order they run. The differential suite comes last
// because it resets the server's data (debug.reset).
import type { Suite } from "./check.js";
import { debugChecks } from "./checks/debug-time.js";
import { differentialChecks } from "./checks/differential.js";
import { envelopeChecks } from "./checks/envelope.js";
import { listenerChecks } from "./checks/listeners.js";
import { promiseChecks } from "./checks/promises.js";
import { scheduleChecks } from "./checks/schedules.js";
import { taskChecks } from "./checks/tasks.js";
import { Skip } from "./expect.js";
import { sdkChecks } from "./sdk/checks.js";

export const SUITES: Suite[] = [
  {
    name: "protocol",
    description: "the spec's conformance scenarios (§15) over HTTP",
    // Live checks first: the debug-mode checks pause the background loops until the suite ends.
    checks: [...envelopeChecks, ...promiseChecks, ...listenerChecks, ...taskChecks, ...scheduleChecks, ...debugChecks],
  },
  {
    name: "sdk",
    description: "the official SDK 0.11.5 (Node 22 worker and client processes) against the server",
    checks: sdkChecks,
  },
  {
    name: "differential",
    description: "the same request sequences to the server and to the SDK's LocalNetwork model, compared step by step (debug mode; resets the server)",
    checks: differentialChecks,
    destructive: true,
  },
];

/** The suites named on the command line (all by default); --keep-data turns destructive checks into skips. */
export function selectSuites(names: string[] | undefined, opts: { keepData: boolean }): Suite[] {
  const known = new Map(SUITES.map((s) => [s.name, s]));
  const unknown = (names ?? []).filter((n) => !known.has(n));
  if (unknown.length > 0) throw new Error(`unknown suite ${unknown.join(", ")} (known: ${SUITES.map((s) => s.name).join(", ")})`);
  const picked = names && names.length > 0 ? SUITES.filter((s) => names.includes(s.name)) : SUITES;
  return picked.map((s) =>
    s.destructive && opts.keepData
      ? {
          ...s,
          checks: s.checks.map((c) => ({
            ...c,
            run: async () => {
              throw new Skip("would reset the server's data (debug.reset); --keep-data was given");
            },
          })),
        }
      : s,
  );
}
