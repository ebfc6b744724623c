/**
 * `npm run real:setup`: fetches what the real-service Kafka harness runs, into .cache/kafka (gitignored):
 *  1. Apache Kafka jars via Maven (`dependency:copy-dependencies` on test/real/kafka/pom.xml) -> .cache/kafka/libs
 *  2. the Debezium JDBC sink connector plugin tar.gz from Maven Central, checked against a pinned SHA-512,
 *     unpacked into .cache/kafka/plugins (the Connect worker's plugin.path).
 * Idempotent: re-running replaces both.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, rmSync, writeFileSync, existsSync } from "node:fs";
import * as path from "node:path";
import { CONNECT_PLUGINS_DIR, HARNESS_POM, KAFKA_CACHE_DIR, KAFKA_LIBS_DIR } from "./paths";
import { DEBEZIUM_JDBC_PLUGIN_SHA512, DEBEZIUM_JDBC_PLUGIN_URL, DEBEZIUM_JDBC_VERSION } from "./plugins";
import { parseCommandLine, runTool } from "../../../tools/cli";
import { EXIT_CODES_HELP } from "../../../tools/exitCodes";

const HELP = `Usage: npm run real:setup

Fetches what the real-server tests run into .cache/kafka: the Apache Kafka jars (Maven, test/real/kafka/pom.xml)
and the Debezium JDBC sink plugin (Maven Central, SHA-512 checked). Needs mvn and network access; re-running
replaces both.

${EXIT_CODES_HELP}`;

function run(cmd: string, args: readonly string[]): void {
  const started = Date.now();
  console.log(`$ ${cmd} ${args.join(" ")}`);
  const res = spawnSync(cmd, args, { stdio: "inherit" });
  if (res.error) throw new Error(`could not start ${cmd}: ${res.error.message}. Is it installed and on PATH?`);
  if (res.status !== 0) throw new Error(`${cmd} exited with status ${res.status}; see its output above.`);
  console.log(`  done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

async function fetchKafkaJars(): Promise<void> {
  rmSync(KAFKA_LIBS_DIR, { recursive: true, force: true });
  mkdirSync(KAFKA_LIBS_DIR, { recursive: true });
  run("mvn", [
    "-q",
    "-B",
    "-f",
    HARNESS_POM,
    "dependency:copy-dependencies",
    `-DoutputDirectory=${KAFKA_LIBS_DIR}`,
    "-DincludeScope=runtime",
  ]);
}

async function fetchDebeziumJdbcPlugin(): Promise<void> {
  console.log(`fetching Debezium JDBC sink ${DEBEZIUM_JDBC_VERSION}: ${DEBEZIUM_JDBC_PLUGIN_URL}`);
  const res = await fetch(DEBEZIUM_JDBC_PLUGIN_URL);
  if (!res.ok) {
    throw new Error(`GET ${DEBEZIUM_JDBC_PLUGIN_URL} returned HTTP ${res.status}, expected 200. Is Maven Central reachable?`);
  }
  const body = Buffer.from(await res.arrayBuffer());
  const actual = createHash("sha512").update(body).digest("hex");
  if (actual !== DEBEZIUM_JDBC_PLUGIN_SHA512) {
    throw new Error(
      `SHA-512 mismatch for ${DEBEZIUM_JDBC_PLUGIN_URL}: expected ${DEBEZIUM_JDBC_PLUGIN_SHA512}, got ${actual}. ` +
        "Refusing to install it; check the pinned version and checksum in test/real/kafka/plugins.ts.",
    );
  }
  console.log(`  ${(body.length / 1e6).toFixed(1)} MB, SHA-512 verified`);
  rmSync(CONNECT_PLUGINS_DIR, { recursive: true, force: true });
  mkdirSync(CONNECT_PLUGINS_DIR, { recursive: true });
  const tarball = path.join(KAFKA_CACHE_DIR, `debezium-connector-jdbc-${DEBEZIUM_JDBC_VERSION}-plugin.tar.gz`);
  writeFileSync(tarball, body);
  run("tar", ["-xzf", tarball, "-C", CONNECT_PLUGINS_DIR]);
  rmSync(tarball);
  if (!existsSync(path.join(CONNECT_PLUGINS_DIR, "debezium-connector-jdbc"))) {
    throw new Error(`unpacked plugin has no debezium-connector-jdbc/ folder in ${CONNECT_PLUGINS_DIR}; layout changed?`);
  }
}

async function main(): Promise<void> {
  await fetchKafkaJars();
  await fetchDebeziumJdbcPlugin();
  console.log(`real:setup complete: jars in ${KAFKA_LIBS_DIR}, Connect plugins in ${CONNECT_PLUGINS_DIR}`);
}

runTool("real:setup", async () => {
  if (parseCommandLine({ name: "real:setup", help: HELP, options: {} }, process.argv.slice(2)) === undefined) return;
  await main();
});
