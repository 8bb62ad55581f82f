import { defineProject } from "vitest/config";

// The dashboard in a real browser: Debian's headless Chromium driven by playwright-core, against a
// real server process with real workers (test/world.ts). Generous timeouts: a busy CI machine
// starts processes slowly; the tests themselves wait for what they look for, never for durations.
export default defineProject({
  test: {
    name: "dashboard",
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/build-dashboard.ts"],
    testTimeout: 90_000,
    hookTimeout: 60_000,
    // One browser and one world per file, one file at a time: in parallel they were no faster on a
    // 2-core machine (Chromium, a server and workers per file), and less predictable.
    fileParallelism: false,
  },
});
