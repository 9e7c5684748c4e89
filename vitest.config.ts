import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // test/tf needs real TensorFlow: `npm run test:tf` (vitest.tf.config.ts).
    exclude: ["test/tf/**", "**/node_modules/**"],
    // The CLI tests spawn the built binary; every other test imports src/ directly.
    testTimeout: 60_000,
    pool: "forks",
    // The default reporter, then one plain closing line ("N passed, N failed") for CI.
    reporters: ["default", "./test/helpers/plain-summary.ts"],
  },
});
