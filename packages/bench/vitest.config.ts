import { defineProject } from "vitest/config";

export default defineProject({
  test: {
    name: "bench",
    include: ["test/**/*.test.ts"],
    // The smoke starts about forty processes one after the other; on a busy 2-CPU machine that
    // takes a few minutes. Nothing here asserts a timing.
    testTimeout: 600_000,
  },
});
