/**
 * Where the real-service harness keeps the jars it runs (fetched by `npm run real:setup`, never committed) and how
 * a test decides whether it can run. `.cache/` is gitignored.
 */
import { existsSync, readdirSync } from "node:fs";
import * as path from "node:path";

/** The repository root: this file lives in test/real/kafka/. */
export const REPO_ROOT = path.resolve(__dirname, "..", "..", "..");
/** Everything fetched for the Kafka harness lives under here. */
export const KAFKA_CACHE_DIR = path.join(REPO_ROOT, ".cache", "kafka");
/** Apache Kafka jars (broker, Connect runtime, kafka-tools) copied by Maven from test/real/kafka/pom.xml. */
export const KAFKA_LIBS_DIR = path.join(KAFKA_CACHE_DIR, "libs");
/** Kafka Connect plugin.path: one sub-folder per plugin (the Debezium JDBC sink). */
export const CONNECT_PLUGINS_DIR = path.join(KAFKA_CACHE_DIR, "plugins");
/** The pom that lists the jars. */
export const HARNESS_POM = path.join(REPO_ROOT, "test", "real", "kafka", "pom.xml");

/** The broker's main jar; its presence means `real:setup` has run. */
const BROKER_JAR_PREFIX = "kafka_2.13-";

/** Java classpath for every JVM the harness starts (the Kafka distribution's `libs/*` layout). */
export function kafkaClasspath(): string {
  return path.join(KAFKA_LIBS_DIR, "*");
}

/** Null when the Kafka jars are in place, otherwise why not and what to run. */
export function missingKafkaJars(): string | null {
  if (!existsSync(KAFKA_LIBS_DIR)) {
    return `Kafka jars not found: ${KAFKA_LIBS_DIR} does not exist. Run \`npm run real:setup\` (needs Maven Central).`;
  }
  const hasBroker = readdirSync(KAFKA_LIBS_DIR).some((f) => f.startsWith(BROKER_JAR_PREFIX) && f.endsWith(".jar"));
  return hasBroker
    ? null
    : `Kafka jars incomplete: no ${BROKER_JAR_PREFIX}*.jar in ${KAFKA_LIBS_DIR}. Run \`npm run real:setup\` again.`;
}

/**
 * Decides whether a real-Kafka suite runs. Outside CI a missing prerequisite skips the suite (with the reason
 * printed); under CI=true it is an error, because a CI run that silently skipped proves nothing.
 */
export function shouldSkipRealKafka(extraMissing: string | null = null): boolean {
  const reason = missingKafkaJars() ?? extraMissing;
  if (reason === null) return false;
  if (process.env.CI === "true") {
    throw new Error(`${reason} CI=true: real-service tests must run in CI, so this is a failure, not a skip.`);
  }
  console.warn(`SKIPPING real Kafka tests: ${reason}`);
  return true;
}
