import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "test/**/*.test.tsx"],
    // *.timing.test.ts measure wall-clock behaviour: they run alone afterwards (vitest.timing.config.ts).
    exclude: ["test/browser/**", "node_modules/**", "dist/**", "test/**/*.timing.test.ts"],
    // Tests spawn real processes and bind real sockets; two cores are shared by every file.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    maxWorkers: 2,
  },
});
