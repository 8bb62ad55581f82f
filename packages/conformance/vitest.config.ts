import { defineProject } from "vitest/config";

export default defineProject({
  test: {
    name: "conformance",
    include: ["test/**/*.test.ts"],
    // Each test runs the whole kit as a process against a real server (20–40 s on a busy machine).
    testTimeout: 150_000,
    hookTimeout: 60_000,
  },
});
