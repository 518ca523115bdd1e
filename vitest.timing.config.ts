import { defineConfig } from "vitest/config";

/**
 * Tests whose subject is wall-clock timing (downtime intervals within one inter-arrival gap
 * + 50 ms, and the like). They run one file at a time after the main suite, so another test
 * file's processes cannot steal the CPU they are measuring.
 */
export default defineConfig({
  test: {
    include: ["test/**/*.timing.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    maxWorkers: 1,
    fileParallelism: false,
  },
});
