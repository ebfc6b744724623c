/**
 * Schema Registry, ksqlDB, the migrations Job and the tick source as index.ts wires them, per stack (one whole-program
 * run per stack): the policies hold on what the program registers, and the pieces point at each other.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { KAFKA_CLIENT_LABEL } from "../contract/clients";
import { MIN_INSYNC_REPLICAS, REPLICATION_FACTOR } from "../contract/durability";
import { KSQL_PROCESSING_LOG_TOPIC } from "../contract/acls";
import { SCHEMAS_TOPIC } from "../contract/topics";
import { programRunsTimeout, type ProgramRun, runProgram } from "./harness";
import { containersOf, STACKS } from "./ksqldb.mocks";

const runs = new Map<string, ProgramRun>();

beforeAll(async () => {
  for (const stack of STACKS) runs.set(stack, await runProgram(stack));
}, programRunsTimeout(STACKS.length));

describe.each(STACKS)("stream processing in the %s program", (stack) => {
  const run = () => runs.get(stack)!;
  const byName = (type: string, name: string) => run().ofType(type).find((r) => r.inputs.metadata?.name === name);
  const workloads = () => [
    byName("kubernetes:apps/v1:Deployment", "schema-registry"),
    byName("kubernetes:apps/v1:StatefulSet", "ksqldb"),
    byName("kubernetes:apps/v1:Deployment", "session-ticker"),
    run().ofType("kubernetes:batch/v1:Job").find((r) => r.inputs.metadata.name.startsWith("ksql-migrations-")),
  ];

  it("creates Schema Registry, ksqlDB, the migrations Job and the ticker", () => {
    for (const w of workloads()) expect(w).toBeDefined();
  });

  it("every container of these workloads runs a pinned image (exact version tag, never latest)", () => {
    for (const w of workloads()) for (const c of containersOf(w!)) expect(c.image, `${w!.name}/${c.name}`).toMatch(/:\d+\.\d+\.\d+(-kafka-\d+\.\d+\.\d+)?$/);
  });

  it("no secret value appears in any of their env vars; credentials come from secretKeyRef only", () => {
    for (const w of workloads()) {
      for (const c of containersOf(w!)) {
        for (const e of c.env ?? []) {
          if (e.valueFrom) continue;
          expect(String(e.value), `${w!.name}/${c.name} ${e.name}`).not.toMatch(/password|ScramLoginModule|BEGIN .*PRIVATE KEY/i);
        }
      }
    }
  });

  it("runs every pod non-root with service links off", () => {
    for (const w of workloads()) {
      const pod = w!.inputs.spec.template.spec;
      expect(pod.securityContext.runAsNonRoot, w!.name).toBe(true);
      expect(pod.enableServiceLinks, w!.name).toBe(false);
    }
  });

  it("labels the Kafka clients (Schema Registry, ksqlDB) for the brokers' NetworkPolicy", () => {
    const [sr, ksql] = workloads();
    expect(sr!.inputs.spec.template.metadata.labels).toMatchObject(KAFKA_CLIENT_LABEL);
    expect(ksql!.inputs.spec.template.metadata.labels).toMatchObject(KAFKA_CLIENT_LABEL);
  });

  it("pre-creates _schemas and the processing log with replicas >= 3 and min.insync.replicas >= 2", () => {
    for (const topicName of [SCHEMAS_TOPIC, KSQL_PROCESSING_LOG_TOPIC]) {
      const topic = run().ofType("kubernetes:kafka.strimzi.io/v1:KafkaTopic").find((t) => t.inputs.spec.topicName === topicName);
      expect(topic, topicName).toBeDefined();
      expect(topic!.inputs.spec.replicas).toBeGreaterThanOrEqual(REPLICATION_FACTOR);
      expect(topic!.inputs.spec.config["min.insync.replicas"]).toBeGreaterThanOrEqual(MIN_INSYNC_REPLICAS);
    }
  });

  it("points ksqlDB at Schema Registry, the Job at ksqlDB and the ticker at the brokers' TLS bootstrap (not the Bridge)", () => {
    const out = run().outputs;
    const [, ksql, ticker, job] = workloads();
    const env = (w: NonNullable<ReturnType<typeof workloads>[number]>, name: string) =>
      containersOf(w).flatMap((c) => c.env ?? []).find((e: { name: string }) => e.name === name)?.value;
    expect(env(ksql!, "KSQL_KSQL_SCHEMA_REGISTRY_URL")).toBe(out.schemaRegistryServiceUrl);
    expect(env(job!, "KSQLDB_URL")).toBe(out.ksqldbServiceUrl);
    expect(env(ticker!, "BOOTSTRAP_SERVERS")).toBe(`events-kafka-bootstrap.${out.kafkaNamespace}.svc:9093`);
    expect(env(ticker!, "BRIDGE_URL")).toBeUndefined();
    expect(job!.inputs.metadata.name).toBe(out.ksqlMigrationsJob);
  });

  it("sizes the SQL's session table and the ticks to the heartbeats topic's partitions", () => {
    const out = run().outputs;
    const cm = run().ofType("kubernetes:core/v1:ConfigMap").find((r) => r.inputs.metadata.name === out.ksqlMigrationsJob);
    expect(cm!.inputs.data["apply-migrations.sh"]).toContain(`--define sessionsPartitions=${out.heartbeatPartitions}`);
    const tickCm = run().ofType("kubernetes:core/v1:ConfigMap").find((r) => r.inputs.metadata.name.startsWith("session-ticker-"));
    // One line per partition: the session key, a tab, the value template (the console producer's keyed input).
    expect((tickCm!.inputs.data["records.tsv"] as string).trim().split("\n")).toHaveLength(out.heartbeatPartitions as number);
  });
});

describe("sessionization.maxPlaybackRate", () => {
  it("reaches the SQL as maxRatePermille (default 2 → 2000; 1.5 → 1500)", async () => {
    for (const [overrides, permille] of [[{}, 2000], [{ "watchpipe:sessionization": { maxPlaybackRate: 1.5 } }, 1500]] as const) {
      const run = await runProgram("dev", overrides);
      const cm = run.ofType("kubernetes:core/v1:ConfigMap").find((r) => r.inputs.metadata.name === run.outputs.ksqlMigrationsJob);
      expect(cm!.inputs.data["apply-migrations.sh"]).toContain(`--define maxRatePermille=${permille}`);
    }
  }, programRunsTimeout(2));
});
