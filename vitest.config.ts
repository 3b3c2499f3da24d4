import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Builds dist/ first: CLI tests run the compiled program in real processes.
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Tests spawn real servers, browsers and writer processes; two cores are shared.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
