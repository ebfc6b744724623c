/**
 * YugabyteDB and Kafka Connect inside the whole program under mocks, per stack: both installers build, prod is
 * protected and spread over three AZs, the sink connector and the schema Job are wired to the database, and Connect
 * logs in as the sink's own role (never the superuser).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { KAFKA_CLIENT_LABEL, SINK_CONNECTOR_NAME } from "../contract/clients";
import { CREDENTIALS_SECRET, SINK_CREDENTIALS_SECRET, SINK_PASSWORD_KEY, YSQL_ADMIN_USER, YSQL_SINK_USER } from "../components/sink/yugabyteSpecs";
import { SINK_PASSWORD_ENV } from "../connectors/schema";
import { WATCH_SEGMENTS_DLQ_TOPIC } from "../contract/topics";
import { programRunsTimeout, runProgram, type ProgramRun } from "./harness";
import { validateCustomResource } from "./crdSchema";
import { describeWithShared } from "./withShared";

const RELEASE = "kubernetes:helm.sh/v3:Release";
const KAFKA_CONNECT = "kubernetes:kafka.strimzi.io/v1:KafkaConnect";
const KAFKA_CONNECTOR = "kubernetes:kafka.strimzi.io/v1:KafkaConnector";
const YB_UNIVERSE = "kubernetes:operator.yugabyte.io/v1alpha1:YBUniverse";
const OPERATOR_OVERRIDE = {
  "watchpipe:yugabyte": {
    installer: "operator",
    operatorChart: { repo: "https://charts.example.invalid/yugabyte", chart: "yugabyte-k8s-operator", version: "2026.1.0" },
    replicationFactor: 3,
    topology: "multi-zone",
  },
};

const ybReleases = (run: ProgramRun) => run.ofType(RELEASE).filter((r) => r.inputs.chart === "yugabyte");
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
/** Release values are a Pulumi secret (they carry the CA key): the harness records the secret envelope. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- recorded provider inputs are untyped
const valuesOf = (r: { inputs: Record<string, any> }) => r.inputs.values?.value;

describe("YugabyteDB + Connect in the whole program", () => {
  const runs: Record<string, ProgramRun> = {};
  beforeAll(async () => {
    for (const stack of ["prod", "dev", "local"]) runs[stack] = await runProgram(stack);
    runs.operator = await runProgram("prod", OPERATOR_OVERRIDE);
  }, programRunsTimeout(4));

  it("prod runs one yugabyte release per AZ, each pinned to its zone, all protected", () => {
    const releases = ybReleases(runs.prod);
    expect(releases).toHaveLength(3);
    expect(releases.map((r) => valuesOf(r).AZ).sort()).toEqual(["us-east-1a", "us-east-1b", "us-east-1c"]);
    expect(releases.every((r) => r.protect && r.inputs.version === "2026.1.0")).toBe(true);
  });

  it("dev and local run one release, unprotected; local with RF 1 on the configured StorageClass", () => {
    expect(ybReleases(runs.dev).map((r) => [valuesOf(r).replicas.master, r.protect])).toEqual([[3, false]]);
    expect(ybReleases(runs.local).map((r) => [valuesOf(r).replicas.master, valuesOf(r).storage.tserver.storageClass])).toEqual([[1, "standard"]]);
  });

  it("yugabyte release values (they hold the root CA key) are secret in every stack", () => {
    for (const stack of ["prod", "dev", "local"]) {
      for (const r of ybReleases(runs[stack])) expect(Object.keys(r.inputs.values)).toContain(SECRET_SIG);
    }
  });

  it("the operator installer builds: operator release + one protected YBUniverse over the three AZs, no chart releases", () => {
    const run = runs.operator;
    expect(ybReleases(run)).toEqual([]);
    const universe = run.one(YB_UNIVERSE);
    expect(universe.protect).toBe(true);
    expect(universe.inputs.spec).toMatchObject({ replicationFactor: 3, enableYSQLAuth: true, zoneFilter: ["us-east-1a", "us-east-1b", "us-east-1c"] });
  });

  it("no yugabyte Service is a LoadBalancer", () => {
    for (const run of Object.values(runs)) {
      const lbs = run.ofType("kubernetes:core/v1:Service").filter((s) => s.inputs.metadata?.namespace === "yugabyte" && s.inputs.spec?.type === "LoadBalancer");
      expect(lbs).toEqual([]);
    }
  });

  it("Connect pods carry the Kafka client label and the connector writes failures to the DLQ", () => {
    for (const run of Object.values(runs)) {
      const connect = run.one(KAFKA_CONNECT);
      expect(connect.inputs.spec.template.pod.metadata.labels).toMatchObject(KAFKA_CLIENT_LABEL);
      const sink = run.one(KAFKA_CONNECTOR);
      expect(sink.inputs.metadata.name).toBe(SINK_CONNECTOR_NAME);
      expect(sink.inputs.spec.config["errors.deadletterqueue.topic.name"]).toBe(WATCH_SEGMENTS_DLQ_TOPIC);
      expect(sink.inputs.spec.config["connection.password"]).toMatch(/^\$\{secrets:kafka\//);
    }
  });

  it("Connect internal topics are RF 3 in every stack", () => {
    for (const run of Object.values(runs)) {
      const cfg = run.one(KAFKA_CONNECT).inputs.spec.config;
      for (const t of ["config", "offset", "status"]) expect(cfg[`${t}.storage.replication.factor`]).toBe(3);
    }
  });

  it("EKS stacks push the Connect image to their own ECR repository through an IRSA role; local uses its registry", () => {
    for (const stack of ["prod", "dev"]) {
      const repo = runs[stack].one("aws:ecr/repository:Repository");
      expect(repo.inputs).toMatchObject({ imageTagMutability: "IMMUTABLE", imageScanningConfiguration: { scanOnPush: true } });
      const annotations = runs[stack].one(KAFKA_CONNECT).inputs.spec.template.buildServiceAccount.metadata.annotations;
      expect(annotations["eks.amazonaws.com/role-arn"]).toMatch(/^arn:aws:iam::/);
    }
    expect(runs.local.ofType("aws:ecr/repository:Repository")).toEqual([]);
    expect(runs.local.one(KAFKA_CONNECT).inputs.spec.build.output.image).toMatch(/^localhost:5001\/watchpipe\/watchpipe-connect:b-[0-9a-f]{16}$/);
  });

  it("the superuser's Secret is in the yugabyte namespace only; the sink's in yugabyte (schema Job) and kafka (Connect)", () => {
    for (const run of Object.values(runs)) {
      const namespacesOf = (name: string) =>
        run.ofType("kubernetes:core/v1:Secret").filter((s) => s.inputs.metadata?.name === name).map((s) => s.inputs.metadata.namespace).sort();
      expect(namespacesOf(CREDENTIALS_SECRET)).toEqual(["yugabyte"]);
      expect(namespacesOf(SINK_CREDENTIALS_SECRET)).toEqual(["kafka", "yugabyte"]);
    }
  });

  it("Connect logs in as the sink role, reads its password from the sink Secret, and may get only that Secret", () => {
    for (const run of Object.values(runs)) {
      const config = run.one(KAFKA_CONNECTOR).inputs.spec.config;
      expect(config["connection.username"]).toBe(YSQL_SINK_USER);
      expect(config["connection.username"]).not.toBe(YSQL_ADMIN_USER);
      expect(config["connection.password"]).toBe(`\${secrets:kafka/${SINK_CREDENTIALS_SECRET}:${SINK_PASSWORD_KEY}}`);
      const role = run.ofType("kubernetes:rbac.authorization.k8s.io/v1:Role").filter((r) => r.name.startsWith("connect-"));
      expect(role.map((r) => r.inputs.rules)).toEqual([[{ apiGroups: [""], resources: ["secrets"], resourceNames: [SINK_CREDENTIALS_SECRET], verbs: ["get"] }]]);
      // Nothing in the kafka namespace may read the superuser's Secret (there is none there, and no rule names it).
      expect(JSON.stringify(run.ofType("kubernetes:rbac.authorization.k8s.io/v1:Role").map((r) => r.inputs))).not.toContain(CREDENTIALS_SECRET);
    }
  });

  it("the schema Job applies the files as the superuser over TLS and gets the sink password from the sink Secret", () => {
    for (const run of Object.values(runs)) {
      const job = run.one("kubernetes:batch/v1:Job", "yugabyte-schema-job");
      type EnvVar = { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } };
      const env = Object.fromEntries((job.inputs.spec.template.spec.containers[0].env as EnvVar[]).map((e) => [e.name, e]));
      expect(["verify-ca", "require"]).toContain(env.PGSSLMODE.value);
      expect(env.PGUSER.value).toBe(YSQL_ADMIN_USER);
      expect(env.PGPASSWORD.valueFrom?.secretKeyRef?.name).toBe(CREDENTIALS_SECRET);
      expect(env[SINK_PASSWORD_ENV].valueFrom?.secretKeyRef).toEqual({ name: SINK_CREDENTIALS_SECRET, key: SINK_PASSWORD_KEY });
    }
  });

  describeWithShared("custom resources validate against the CRDs", () => {
    it("KafkaConnect, KafkaConnector and YBUniverse in every run", () => {
      for (const run of Object.values(runs)) {
        for (const type of [KAFKA_CONNECT, KAFKA_CONNECTOR, YB_UNIVERSE]) {
          for (const r of run.ofType(type)) {
            // The YugabyteDB CRD omits apiVersion/kind from its root schema; Kubernetes always accepts them.
            const problems = validateCustomResource(r.inputs);
            expect(problems, `${type} ${r.name}`).toEqual([]);
          }
        }
      }
    });
  });
});
