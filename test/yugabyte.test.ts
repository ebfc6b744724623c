/**
 * YugabyteDB component: the chart values and YBUniverse specs against the upstream files in ../shared, the sizing
 * rules, and (under component-level mocks that return known passwords, CA key and ECR URL) policies over every
 * resource the YugabyteDB + Connect components register: no plaintext DB password, each password only in its own
 * Secrets (the superuser's in the yugabyte namespace only), Connect logs in as the sink role, prod protected, one CA.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { KafkaConnectCluster } from "../components/sink/connect";
import { YugabyteDatabase, type YugabyteDatabaseArgs } from "../components/sink/yugabyte";
import { schemaContentHash, schemaJobSpecs } from "../components/sink/yugabyteSchemaJobSpec";
import {
  CREDENTIALS_SECRET,
  helmValues,
  masterAddresses,
  networkPolicySpecs,
  PASSWORD_KEY,
  releasePlan,
  SINK_CREDENTIALS_SECRET,
  SINK_PASSWORD_KEY,
  YSQL_PORT,
  YSQL_SINK_USER,
  ybUniverseSpec,
  type UniverseSizing,
} from "../components/sink/yugabyteSpecs";
import { loadMigrations, SINK_PASSWORD_ENV, SINK_PASSWORD_VARIABLE } from "../connectors/schema";
import { KafkaConnectorSpec } from "../connectors/watchSegmentsSink";
import { validateCustomResource } from "./crdSchema";
import { unknownValuePaths } from "./helmValues";
import { describeWithShared } from "./withShared";

/**
 * The operator's CRD schema does not declare apiVersion/kind at its root (Kubernetes always accepts them), and the
 * strict validator reports them as unknown; everything else it reports counts.
 */
function crdProblems(cr: unknown): string[] {
  return validateCustomResource(cr);
}

const CHART_VALUES = "../shared/charts/yugabyte-2026.1.0/values.yaml";
/** gflags.master has a default key in values.yaml, so the checker sees it as closed; the chart writes every key of it as a server flag. */
const GFLAG_PASSTHROUGH = { allow: ["gflags.master"] };

const PROD_SIZING: UniverseSizing = {
  replicationFactor: 3,
  topology: "multi-zone",
  tservers: 3,
  masterResources: { cpu: "2", memory: "4Gi" },
  tserverResources: { cpu: "4", memory: "16Gi" },
  storageGiB: 500,
  masterStorageGiB: 10,
  storageClassName: "gp3",
};
const SINGLE_SIZING: UniverseSizing = { ...PROD_SIZING, topology: "single", replicationFactor: 1, tservers: 1, storageClassName: "standard" };
const ZONES = ["us-east-1a", "us-east-1b", "us-east-1c"];
const CA = { certB64: "Q0VSVA==", keyB64: "S0VZ" };

function multiZoneValues(): Record<string, unknown>[] {
  const plan = releasePlan(PROD_SIZING, 3);
  const masters = masterAddresses(plan, "yugabyte");
  return plan.map((r) => helmValues({
    sizing: PROD_SIZING, plan: r, namespace: "yugabyte", rootCA: CA, setCredentials: r.index === 0,
    masterAddresses: masters, placement: { cloud: "aws", region: "us-east-1", zone: ZONES[r.index] },
  }));
}

describe("YugabyteDB sizing", () => {
  it.each([
    { sizing: PROD_SIZING, zones: 3, expected: [[1, 1], [1, 1], [1, 1]] },
    { sizing: { ...PROD_SIZING, tservers: 6 }, zones: 3, expected: [[1, 2], [1, 2], [1, 2]] },
    { sizing: { ...PROD_SIZING, topology: "single" as const }, zones: 1, expected: [[3, 3]] },
    { sizing: SINGLE_SIZING, zones: 1, expected: [[1, 1]] },
  ])("plans masters/tservers per release: $expected", ({ sizing, zones, expected }) => {
    expect(releasePlan(sizing, zones).map((r) => [r.masters, r.tservers])).toEqual(expected);
  });

  it.each([
    { sizing: PROD_SIZING, zones: 2, message: /number of zones must be equal to yugabyte.replicationFactor \(3\).*got 2/ },
    { sizing: { ...PROD_SIZING, tservers: 4 }, zones: 3, message: /tservers must be a multiple of the zone count \(3\), got 4/ },
    { sizing: { ...PROD_SIZING, tservers: 2 }, zones: 3, message: /tservers must be >= replicationFactor \(3\), got 2/ },
  ])("rejects an impossible layout with an actionable message: $message", ({ sizing, zones, message }) => {
    expect(() => releasePlan(sizing, zones)).toThrow(message);
  });

  it("multi-zone releases list all three zones' masters under the new naming style", () => {
    const addrs = masterAddresses(releasePlan(PROD_SIZING, 3), "yugabyte").split(",");
    expect(addrs).toEqual([0, 1, 2].map((i) => `yugabyte-az${i}-yb-master-0.yugabyte-az${i}-yb-masters.yugabyte.svc.cluster.local:7100`));
  });

  it("memory that the chart cannot turn into a hard limit is refused", () => {
    const bad = { ...PROD_SIZING, tserverResources: { cpu: "1", memory: "1536Mi" } };
    expect(() => helmValues({ sizing: bad, plan: releasePlan(bad, 3)[0], namespace: "y", rootCA: CA, setCredentials: true, masterAddresses: "m", placement: { cloud: "aws", region: "r", zone: "z" } }))
      .toThrow(/memory must be whole Gi\/G like 4Gi.*got "1536Mi"/);
  });
});

describe("YugabyteDB chart values", () => {
  const values = multiZoneValues();

  it("every release is multi-AZ, pinned to its zone, with placement flags and RF 3 over all masters", () => {
    values.forEach((v, i) => {
      expect(v).toMatchObject({
        isMultiAz: true,
        AZ: ZONES[i],
        nodeSelector: { "topology.kubernetes.io/zone": ZONES[i] },
        replicas: { master: 1, tserver: 1, totalMasters: 3 },
        gflags: { master: { placement_cloud: "aws", placement_region: "us-east-1", placement_zone: ZONES[i] } },
      });
      expect(String(v.masterAddresses).split(",")).toHaveLength(3);
    });
  });

  it("all releases share one root CA and run TLS node-to-node and client-to-server", () => {
    for (const v of values) {
      expect(v.tls).toMatchObject({ enabled: true, nodeToNode: true, clientToServer: true, insecure: false, rootCA: { cert: CA.certB64, key: CA.keyB64 } });
    }
  });

  it("no LoadBalancer: the chart's public endpoints are off", () => {
    for (const v of values) expect(v.enableLoadBalancer).toBe(false);
  });

  it("YSQL auth is on everywhere; the password is a Secret reference, never a value", () => {
    for (const v of values) expect(v.gflags).toMatchObject({ tserver: { ysql_enable_auth: "true" } });
    expect(values[0].authCredentials).toEqual({ ysql: { user: "yugabyte", database: "watchpipe", passwordSecretName: CREDENTIALS_SECRET } });
    expect(values.slice(1).every((v) => v.authCredentials === undefined)).toBe(true);
    expect(JSON.stringify(values)).not.toMatch(/"password"\s*:/);
  });

  it("storage on the configured class, sized from config: masters get their own (small) size, not the tservers'", () => {
    expect(values[0].storage).toMatchObject({ master: { size: "10Gi", storageClass: "gp3" }, tserver: { size: "500Gi", storageClass: "gp3" } });
    const universe = ybUniverseSpec({ sizing: { ...PROD_SIZING, masterStorageGiB: 25 }, zones: ZONES });
    expect(universe).toMatchObject({ deviceInfo: { volumeSize: 500 }, masterDeviceInfo: { volumeSize: 25 } });
  });
});

describeWithShared("YugabyteDB against the upstream chart and CRDs", () => {
  it("every Helm value path exists in the yugabyte 2026.1.0 values.yaml (multi-zone and single)", () => {
    const single = helmValues({ sizing: SINGLE_SIZING, plan: releasePlan(SINGLE_SIZING, 1)[0], namespace: "yugabyte", rootCA: CA, setCredentials: true });
    for (const v of [...multiZoneValues(), single]) expect(unknownValuePaths(v, CHART_VALUES, GFLAG_PASSTHROUGH)).toEqual([]);
  });

  it("the path checker would catch a misspelt key (guards the test above)", () => {
    expect(unknownValuePaths({ enableLoadBalancers: false }, CHART_VALUES)).toEqual(["enableLoadBalancers"]);
  });

  it.each([["multi-zone", PROD_SIZING, ZONES], ["single", SINGLE_SIZING, []]] as const)("the %s YBUniverse validates against the operator CRD", (_, sizing, zones) => {
    const cr = { apiVersion: "operator.yugabyte.io/v1alpha1", kind: "YBUniverse", metadata: { name: "watchpipe" }, spec: ybUniverseSpec({ sizing, zones }) };
    expect(crdProblems(cr)).toEqual([]);
    expect(cr.spec).toMatchObject({ enableYSQLAuth: true, ysqlPassword: { secretName: CREDENTIALS_SECRET }, enableNodeToNodeEncrypt: true, enableClientToNodeEncrypt: true, enableLoadBalancer: false });
  });

  it("a YBUniverse with a misspelt field fails validation (guards the test above)", () => {
    const cr = { apiVersion: "operator.yugabyte.io/v1alpha1", kind: "YBUniverse", metadata: { name: "x" }, spec: { ...ybUniverseSpec({ sizing: PROD_SIZING }), replicationFactr: 3 } };
    expect(crdProblems(cr).join("\n")).toMatch(/replicationFactr/);
  });
});

describe("YugabyteDB NetworkPolicies", () => {
  const policies = networkPolicySpecs("yugabyte", "kafka");
  it("deny all ingress by default", () => {
    expect(policies[0].spec).toEqual({ podSelector: {}, policyTypes: ["Ingress"] });
  });
  it("Kafka Connect pods from the kafka namespace reach YSQL (5433) only", () => {
    const fromKafka = policies.filter((p) => JSON.stringify(p.spec).includes('"kafka"'));
    expect(fromKafka).toHaveLength(1);
    const rule = fromKafka[0].spec.ingress?.[0] as { ports: { port: number }[]; from: unknown[] };
    expect(rule.ports).toEqual([{ protocol: "TCP", port: YSQL_PORT }]);
    expect(rule.from).toEqual([{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kafka" } }, podSelector: { matchLabels: { "strimzi.io/kind": "KafkaConnect" } } }]);
  });
});

describe("schema Job", () => {
  const migrations = loadMigrations();
  const args = {
    namespace: "yugabyte", migrations, host: "yb-ysql.yugabyte.svc.cluster.local", database: "watchpipe", user: "yugabyte",
    credentials: { secretName: CREDENTIALS_SECRET, passwordKey: PASSWORD_KEY }, tls: { sslMode: "verify-ca" as const, caSecret: "yugabyte-root-ca" },
    sinkPassword: { secretName: SINK_CREDENTIALS_SECRET, passwordKey: SINK_PASSWORD_KEY },
  };
  const specs = schemaJobSpecs(args);

  it("mounts every schema file and the script, and is named after their content", () => {
    expect(Object.keys(specs.configMap.data).sort()).toEqual([...migrations.map((m) => m.file), "apply-schema.sh"].sort());
    expect(specs.job.metadata.name).toBe(`watchpipe-schema-${schemaContentHash(specs.configMap.data)}`);
  });

  it("a new schema file yields a new Job name (so it re-runs); the same files keep the name", () => {
    const extra = { version: migrations.length + 1, name: "extra", file: `V${String(migrations.length + 1).padStart(3, "0")}__extra.sql`, sql: "SELECT 1;" };
    expect(schemaJobSpecs({ ...args, migrations: [...migrations, extra] }).job.metadata.name).not.toBe(specs.job.metadata.name);
    expect(schemaJobSpecs(args).job.metadata.name).toBe(specs.job.metadata.name);
  });

  it("connects with TLS verified against the root CA and takes the password from the Secret", () => {
    const env = specs.job.spec.template.spec.containers[0].env;
    const byName = Object.fromEntries(env.map((e) => [e.name, e]));
    expect(byName.PGSSLMODE.value).toBe("verify-ca");
    expect(byName.PGSSLROOTCERT.value).toBe("/etc/yugabyte-ca/ca.crt");
    expect(byName.PGPASSWORD).toEqual({ name: "PGPASSWORD", valueFrom: { secretKeyRef: { name: CREDENTIALS_SECRET, key: PASSWORD_KEY } } });
    expect(specs.job.spec.activeDeadlineSeconds).toBeGreaterThan(0);
    expect(specs.job.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
  });

  it("applies the files as the superuser and hands the sink role's password to V003 from its own Secret", () => {
    const env = specs.job.spec.template.spec.containers[0].env;
    const byName = Object.fromEntries(env.map((e) => [e.name, e]));
    expect(byName.PGUSER.value).toBe("yugabyte");
    expect(byName[SINK_PASSWORD_ENV]).toEqual({
      name: SINK_PASSWORD_ENV, valueFrom: { secretKeyRef: { name: SINK_CREDENTIALS_SECRET, key: SINK_PASSWORD_KEY } },
    });
    // Only Secret references: no env entry carries a literal value that could be a password.
    expect(env.filter((e) => /PASSWORD/.test(e.name)).every((e) => !("value" in e))).toBe(true);
    const script = specs.configMap.data["apply-schema.sh"];
    expect(script).toContain(`\\set ${SINK_PASSWORD_VARIABLE} \`printenv ${SINK_PASSWORD_ENV}\``);
    expect(script).toContain(`: "\${${SINK_PASSWORD_ENV}:?`);
  });

  it("the sink role V003 creates is the user Connect logs in as", () => {
    const v003 = migrations.find((m) => m.name === "sink_role");
    expect(v003?.sql).toContain(`CREATE ROLE ${YSQL_SINK_USER} LOGIN`);
    expect(v003?.sql).toMatch(new RegExp(`GRANT SELECT, INSERT, UPDATE ON TABLE watch_segments TO ${YSQL_SINK_USER};`));
    expect(v003?.sql).toContain(`PASSWORD :'${SINK_PASSWORD_VARIABLE}'`);
  });
});

// ---- component-level mocks: known secrets so the policies can look for them ------------------------------------

/** Known, distinct passwords per RandomPassword, so a test can tell which one leaked where. */
const MOCK_PASSWORDS: Readonly<Record<string, string>> = {
  "yugabyte-ysql-password": "MOCKysqlADMINxyz0123456789abcdef",
  "yugabyte-sink-password": "MOCKysqlSINKxyz01234567890abcdef",
};
const MOCK_CA_KEY = "-----BEGIN RSA PRIVATE KEY-----\nMOCKCAKEYMATERIAL\n-----END RSA PRIVATE KEY-----\n";
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

interface Registered {
  type: string; name: string; inputs: Record<string, unknown>; protect: boolean; plainLeaks: string[];
  /** Names (last URN segment) of the resources it dependsOn. */
  dependsOn: string[];
  /** RandomPassword name -> paths where its value sits inside a secret envelope. */
  passwordHits: Record<string, string[]>;
}

/** Paths where `needle` occurs in the serialized inputs, split into inside / outside a Pulumi secret envelope. */
function occurrences(value: unknown, path: string, inSecret: boolean, needle: string, out: { plain: string[]; secret: string[] }): void {
  if (typeof value === "string") {
    const decoded = /^[A-Za-z0-9+/=]{16,}$/.test(value) ? Buffer.from(value, "base64").toString("utf8") : "";
    if (value.includes(needle) || decoded.includes(needle)) (inSecret ? out.secret : out.plain).push(path);
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => occurrences(v, `${path}[${i}]`, inSecret, needle, out));
  } else if (value && typeof value === "object") {
    const o = value as Record<string, unknown>;
    const secret = o[SECRET_SIG] === "1b47061264138c4ac30d75fd1eb44270";
    for (const [k, v] of Object.entries(o)) occurrences(v, path ? `${path}.${k}` : k, inSecret || secret, needle, out);
  }
}

async function runComponents(installer: "helm" | "operator", protect: boolean): Promise<Registered[]> {
  const registered: Registered[] = [];
  await pulumi.runtime.setMocks({
    newResource(args) {
      const state: Record<string, unknown> = { ...args.inputs };
      if (args.type === "random:index/randomPassword:RandomPassword") {
        const pw = MOCK_PASSWORDS[args.name];
        if (pw === undefined) throw new Error(`unexpected RandomPassword ${args.name}; add it to MOCK_PASSWORDS with its own value`);
        state.result = pw;
      }
      if (args.type === "tls:index/privateKey:PrivateKey") state.privateKeyPem = MOCK_CA_KEY;
      if (args.type === "tls:index/selfSignedCert:SelfSignedCert") state.certPem = "-----BEGIN CERTIFICATE-----\nMOCKCA\n-----END CERTIFICATE-----\n";
      if (args.type === "aws:ecr/repository:Repository") state.repositoryUrl = `111122223333.dkr.ecr.us-east-1.amazonaws.com/${String(args.inputs.name)}`;
      if (args.type.startsWith("aws:")) state.arn = `arn:aws:x:us-east-1:111122223333:${args.name}`;
      return { id: `${args.name}-id`, state };
    },
    call(args) {
      throw new Error(`unexpected invoke ${args.token}: the components under test take zones as arguments`);
    },
  }, "watchpipe", "prod", false);
  const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource(req: RegisterRequest, cb: unknown): unknown };
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: RegisterRequest, cb: unknown) => {
    const inputs = (req.getObject()?.toJavaScript() ?? {}) as Record<string, unknown>;
    const plainLeaks: string[] = [];
    const passwordHits: Record<string, string[]> = {};
    for (const [pwName, value] of Object.entries(MOCK_PASSWORDS)) {
      const pw = { plain: [] as string[], secret: [] as string[] };
      occurrences(inputs, "", false, value, pw);
      plainLeaks.push(...pw.plain.map((p) => `${pwName} at ${p}`));
      if (pw.secret.length > 0) passwordHits[pwName] = pw.secret;
    }
    const key = { plain: [] as string[], secret: [] as string[] };
    occurrences(inputs, "", false, "MOCKCAKEYMATERIAL", key);
    plainLeaks.push(...key.plain.map((p) => `CA key at ${p}`));
    const dependsOn = req.getDependenciesList().map((urn) => urn.slice(urn.lastIndexOf("::") + 2));
    registered.push({ type: req.getType(), name: req.getName(), inputs, protect: req.getProtect(), plainLeaks, passwordHits, dependsOn });
    return register(req, cb);
  };

  const provider = new k8s.Provider("k8s", { kubeconfig: "{}" });
  const dbArgs: YugabyteDatabaseArgs = {
    namespace: "yugabyte", kafkaNamespace: "kafka", installer,
    ...(installer === "operator" ? { operatorChart: { repo: "https://example.invalid/charts", chart: "yugabyte-k8s-operator", version: "2026.1.0" } } : {}),
    sizing: PROD_SIZING, zones: ZONES, region: "us-east-1", provider, protect,
  };
  const db = new YugabyteDatabase("yugabyte", dbArgs);
  new KafkaConnectCluster("connect", {
    kafkaNamespace: "kafka", replicas: 2, tasksMax: 6, resources: { cpu: "2", memory: "4Gi" },
    image: { irsa: { oidcProviderArn: "arn:aws:iam::111122223333:oidc-provider/oidc.example", oidcProviderUrl: "oidc.example" }, stack: "prod", tags: {} },
    database: db.connection, schemaRegistryUrl: "http://schema-registry.kafka.svc:8081", provider,
    dependsOn: [db.schemaJob, ...db.kafkaNamespaceObjects],
  });
  await new Promise((r) => setTimeout(r, 50));
  await pulumi.runtime.disconnect();
  return registered;
}

interface RegisterRequest {
  getType(): string; getName(): string; getProtect(): boolean; getDependenciesList(): string[];
  getObject(): { toJavaScript(): unknown } | undefined;
}

describe("YugabyteDB + Connect components under mocks (helm installer, prod-like)", () => {
  let resources: Registered[];
  beforeAll(async () => { resources = await runComponents("helm", true); });
  const ofType = (t: string) => resources.filter((r) => r.type === t);

  it("no plaintext DB password or CA key anywhere: only inside secret values", () => {
    const leaks = resources.flatMap((r) => r.plainLeaks.map((p) => `${r.type} ${r.name}: ${p}`));
    expect(leaks).toEqual([]);
  });

  const holdersOf = (pwName: string): string[] =>
    resources.filter((r) => r.passwordHits[pwName] !== undefined)
      .map((r) => `${r.type} ${r.name} ${String((r.inputs.metadata as { namespace?: string } | undefined)?.namespace)}`).sort();

  it("the superuser password is in one Secret, in the yugabyte namespace: nothing in the kafka namespace can log in as it", () => {
    expect(holdersOf("yugabyte-ysql-password")).toEqual(["kubernetes:core/v1:Secret yugabyte-credentials yugabyte"]);
  });

  it("the sink password is in the sink Secrets only: yugabyte (schema Job) and kafka (Connect)", () => {
    expect(holdersOf("yugabyte-sink-password")).toEqual([
      "kubernetes:core/v1:Secret yugabyte-sink-credentials yugabyte",
      "kubernetes:core/v1:Secret yugabyte-sink-credentials-kafka kafka",
    ]);
  });

  it("Connect logs in as the sink role with its Secret, and its RBAC may get only that Secret", () => {
    const [connector] = ofType("kubernetes:kafka.strimzi.io/v1:KafkaConnector");
    const config = (connector.inputs.spec as KafkaConnectorSpec).config;
    expect(config["connection.username"]).toBe(YSQL_SINK_USER);
    expect(config["connection.password"]).toBe(`\${secrets:kafka/${SINK_CREDENTIALS_SECRET}:${SINK_PASSWORD_KEY}}`);
    const roles = ofType("kubernetes:rbac.authorization.k8s.io/v1:Role");
    expect(roles.map((r) => r.inputs.rules)).toEqual([[{ apiGroups: [""], resources: ["secrets"], resourceNames: [SINK_CREDENTIALS_SECRET], verbs: ["get"] }]]);
  });

  it("the schema Job reads both passwords through secretKeyRef and is created after both Secrets", () => {
    const job = ofType("kubernetes:batch/v1:Job")[0];
    expect(job.dependsOn).toEqual(expect.arrayContaining(["yugabyte-credentials", "yugabyte-sink-credentials"]));
    const refs = (job.inputs.spec as { template: { spec: { containers: { env: { name: string; valueFrom?: { secretKeyRef?: { name: string } } }[] }[] } } })
      .template.spec.containers[0].env.flatMap((e) => (e.valueFrom?.secretKeyRef ? [`${e.name}<-${e.valueFrom.secretKeyRef.name}`] : []));
    expect(refs.sort()).toEqual([`PGPASSWORD<-${CREDENTIALS_SECRET}`, `${SINK_PASSWORD_ENV}<-${SINK_CREDENTIALS_SECRET}`].sort());
  });

  it("one Helm release per AZ, all protected in prod, sharing one CA", () => {
    const releases = ofType("kubernetes:helm.sh/v3:Release");
    expect(releases.map((r) => r.name).sort()).toEqual(["yugabyte-helm-yugabyte-az0", "yugabyte-helm-yugabyte-az1", "yugabyte-helm-yugabyte-az2"]);
    expect(releases.every((r) => r.protect)).toBe(true);
    expect(ofType("tls:index/privateKey:PrivateKey")).toHaveLength(1);
  });

  it("namespace, CA and both passwords are protected in prod", () => {
    for (const t of ["kubernetes:core/v1:Namespace", "tls:index/privateKey:PrivateKey", "tls:index/selfSignedCert:SelfSignedCert"]) {
      expect(ofType(t).map((r) => r.protect), t).toEqual([true]);
    }
    expect(ofType("random:index/randomPassword:RandomPassword").map((r) => [r.name, r.protect]).sort())
      .toEqual([["yugabyte-sink-password", true], ["yugabyte-ysql-password", true]]);
  });

  it("the schema Job and the KafkaConnector are created", () => {
    expect(ofType("kubernetes:batch/v1:Job")).toHaveLength(1);
    expect(ofType("kubernetes:kafka.strimzi.io/v1:KafkaConnector")).toHaveLength(1);
  });
});

describe("YugabyteDB component under mocks (operator installer)", () => {
  let resources: Registered[];
  beforeAll(async () => { resources = await runComponents("operator", true); });

  it("installs the operator and a protected YBUniverse, no yugabyte chart releases", () => {
    const releases = resources.filter((r) => r.type === "kubernetes:helm.sh/v3:Release");
    expect(releases.map((r) => r.name)).toEqual(["yugabyte-operator-operator-release"]);
    const universe = resources.filter((r) => r.type === "kubernetes:operator.yugabyte.io/v1alpha1:YBUniverse");
    expect(universe.map((r) => r.protect)).toEqual([true]);
  });

  it("no plaintext DB password anywhere", () => {
    expect(resources.flatMap((r) => r.plainLeaks.map((p) => `${r.type} ${r.name}: ${p}`))).toEqual([]);
  });
});
