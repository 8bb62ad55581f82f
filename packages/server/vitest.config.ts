import { defineProject } from "vitest/config";

export default defineProject({
  test: {
    name: "server",
    include: ["test/**/*.test.ts"],
    // Only with several replicas on PostgreSQL: the "server-pg" project runs them.
    exclude: ["test/cluster/**"],
    testTimeout: 30_000,
  },
});
