import { defineConfig } from "vitest/config";

// `npm test`: unit, policy and model tests. No network, no services.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/real/**", "node_modules/**"],
    testTimeout: 30_000,
    // beforeAll hooks run the whole program under mocks (1-3 s on a quiet machine); a busy 2-core one needs far
    // more than the 10 s default.
    hookTimeout: 120_000,
  },
});
