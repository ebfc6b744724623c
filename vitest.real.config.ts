import { defineConfig } from "vitest/config";

// `npm run test:real`: tests against real servers on 127.0.0.1 (Apache Kafka brokers and Kafka Connect from
// Maven Central jars, PostgreSQL 15 from Debian). Each suite starts and stops what it uses. Run serially:
// the machine has 2 cores and the suites share ports.
export default defineConfig({
  test: {
    include: ["test/real/**/*.test.ts"],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    fileParallelism: false,
  },
});
