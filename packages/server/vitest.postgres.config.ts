import { defineProject } from "vitest/config";

// The same protocol scenarios as the "server" project, on the PostgreSQL store (each test file
// starts a throwaway cluster; see test/support/postgres.ts), plus what only exists with several
// replicas on one database (test/cluster/).
export default defineProject({
  test: {
    name: "server-pg",
    root: import.meta.dirname,
    include: [
      "test/promises.test.ts",
      "test/tasks.test.ts",
      "test/schedules.test.ts",
      "test/envelope.test.ts",
      "test/sse.test.ts",
      "test/auth.test.ts",
      "test/history.test.ts",
      "test/metrics.test.ts",
      "test/admin.test.ts",
      "test/strict.test.ts",
      "test/fixed-bugs.test.ts",
      "test/dashboard-overview.test.ts",
      "test/channel-eager.test.ts",
      "test/build.test.ts",
      "test/disconnect-recovery.test.ts",
      "test/cluster/**/*.test.ts",
    ],
    env: { RESONATE_TEST_STORE: "postgres" },
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
