import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The CLI tests spawn the built binary; every other test imports src/ directly.
    testTimeout: 60_000,
    pool: "forks",
  },
});
