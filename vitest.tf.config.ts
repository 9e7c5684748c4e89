import { defineConfig } from "vitest/config";

// The TF tier (`npm run test:tf`): differential tests against real TensorFlow in .venv-tf.
export default defineConfig({
  test: {
    include: ["test/tf/**/*.test.ts"],
    testTimeout: 900_000,
    hookTimeout: 900_000,
    pool: "forks",
    reporters: ["default", "./test/helpers/plain-summary.ts"],
  },
});
