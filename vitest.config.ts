import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";
import { projects } from "./vitest.workspace.ts";

export default defineConfig({
  test: {
    projects,
    // Most test files wait on processes, sockets and timers rather than compute, so two files at a
    // time even on 2 CPUs (Vitest's default, CPUs − 1, runs one file at a time there) nearly halves
    // the suite's wall time. At most 4: each file may start servers, workers and a PostgreSQL.
    maxWorkers: Math.min(4, Math.max(2, availableParallelism())),
  },
});
