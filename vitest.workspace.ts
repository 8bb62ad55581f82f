// The list of test projects; the root vitest.config.ts imports it (Vitest 4 has no separate workspace file).
export const projects = [
  "packages/protocol",
  "packages/server",
  "packages/server/vitest.postgres.config.ts",
  "packages/sdk",
  "packages/examples",
  "packages/e2e",
  "packages/bench",
  "packages/cli",
  "packages/testkit",
  "packages/conformance",
  "packages/dashboard",
];
