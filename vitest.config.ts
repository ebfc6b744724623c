import { defineConfig } from "vitest/config";

// `npm test`: unit, policy and model tests. No network, no services.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/real/**", "node_modules/**"],
    testTimeout: 30_000,
  },
});
