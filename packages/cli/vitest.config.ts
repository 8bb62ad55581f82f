import { defineProject } from "vitest/config";

export default defineProject({
  test: {
    name: "cli",
    include: ["test/**/*.test.ts"],
    // Each test runs the CLI as a process several times (about a second each on a busy 2-core machine).
    testTimeout: 90_000,
    hookTimeout: 30_000,
  },
});
