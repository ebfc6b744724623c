import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { servedKinds, strictSchema, validateCustomResource } from "./crdSchema";
import { unknownValuePaths } from "./helmValues";
import { describeWithShared } from "./withShared";

const STRIMZI_VALUES = "../shared/charts/strimzi-kafka-operator-1.2.0/values.yaml";

/** A minimal valid KafkaTopic; tests mutate copies of it. */
function topic(spec: Record<string, unknown> = {}, metadata: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: "kafka.strimzi.io/v1",
    kind: "KafkaTopic",
    metadata: { name: "heartbeats", namespace: "kafka", labels: { "strimzi.io/cluster": "events" }, ...metadata },
    spec: { partitions: 12, replicas: 3, config: { "min.insync.replicas": 2 }, ...spec },
  };
}

describe("strictSchema (pure)", () => {
  it("closes objects that list properties, leaves preserve-unknown and additionalProperties maps open", () => {
    const out = strictSchema({
      type: "object",
      properties: {
        closed: { type: "object", properties: { a: { type: "string" } } },
        preserved: { type: "object", "x-kubernetes-preserve-unknown-fields": true, properties: {} },
        map: { type: "object", additionalProperties: { type: "object", properties: { b: { type: "integer" } } } },
        bare: { type: "object" },
      },
    });
    const props = out.properties as Record<string, Record<string, unknown>>;
    expect(out.additionalProperties).toBe(false);
    expect(props.closed.additionalProperties).toBe(false);
    expect(props.preserved.additionalProperties).toBeUndefined();
    expect((props.map.additionalProperties as Record<string, unknown>).additionalProperties).toBe(false);
    expect(props.bare.additionalProperties).toBeUndefined();
  });

  it("spells out x-kubernetes-int-or-string as integer | string and leaves oneOf branches open", () => {
    const out = strictSchema({
      type: "object",
      properties: { port: { "x-kubernetes-int-or-string": true } },
      oneOf: [{ properties: { a: {} } }],
    });
    expect((out.properties as Record<string, Record<string, unknown>>).port.anyOf).toEqual([{ type: "integer" }, { type: "string" }]);
    expect((out.oneOf as Record<string, unknown>[])[0].additionalProperties).toBeUndefined();
  });
});

describeWithShared("validateCustomResource against ../shared/crds", () => {
  it("loads Strimzi v1 and YugabyteDB operator kinds", () => {
    const kinds = servedKinds();
    for (const k of ["Kafka", "KafkaNodePool", "KafkaTopic", "KafkaUser", "KafkaBridge", "KafkaConnect", "KafkaConnector"]) {
      expect(kinds).toContain(`kafka.strimzi.io/v1 ${k}`);
    }
    expect(kinds.some((k) => k.startsWith("operator.yugabyte.io/") && k.endsWith(" YBUniverse"))).toBe(true);
  });

  it("accepts a valid KafkaTopic", () => {
    expect(validateCustomResource(topic())).toEqual([]);
  });

  it("rejects an unknown field and names it with the allowed ones", () => {
    const errors = validateCustomResource(topic({ replicationFactor: 3 }));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('KafkaTopic kafka/heartbeats: spec: unknown field "replicationFactor"');
    expect(errors[0]).toContain("partitions, replicas");
  });

  it("rejects a wrong type, a value under the minimum and a bad label value", () => {
    const errors = validateCustomResource(topic({ partitions: "12", replicas: 0 }, { labels: { "strimzi.io/cluster": 1 } }));
    expect(errors.some((e) => e.includes('spec.partitions: expected type integer; got "12"'))).toBe(true);
    expect(errors.some((e) => e.includes("spec.replicas: must be >= 1"))).toBe(true);
    expect(errors.some((e) => e.includes("metadata.labels.strimzi.io/cluster: expected type string"))).toBe(true);
  });

  it("rejects an apiVersion the CRDs no longer serve and says which one they do", () => {
    const errors = validateCustomResource({ ...topic(), apiVersion: "kafka.strimzi.io/v1beta2" });
    expect(errors).toEqual([expect.stringContaining("this kind is served as kafka.strimzi.io/v1")]);
    expect(validateCustomResource({ ...topic(), kind: "KafkaTopik" })[0]).toContain("no CRD");
  });

  it("checks enums and required fields deep in a Kafka listener", () => {
    const kafka = {
      apiVersion: "kafka.strimzi.io/v1",
      kind: "Kafka",
      metadata: { name: "events", namespace: "kafka" },
      spec: { kafka: { listeners: [{ name: "tls", port: 9093, type: "internall" }] } },
    };
    const errors = validateCustomResource(kafka);
    expect(errors.some((e) => e.includes("spec.kafka.listeners[0].type: expected one of") && e.includes('"internal"'))).toBe(true);
    expect(errors.some((e) => e.includes('spec.kafka.listeners[0]: missing required field "tls"'))).toBe(true);
  });

  it("keeps preserve-unknown maps open (Kafka spec.kafka.config) and accepts int-or-string quantities", () => {
    const pool = {
      apiVersion: "kafka.strimzi.io/v1",
      kind: "KafkaNodePool",
      metadata: { name: "brokers", namespace: "kafka", labels: { "strimzi.io/cluster": "events" } },
      spec: {
        replicas: 3,
        roles: ["broker"],
        storage: { type: "persistent-claim", size: "100Gi", deleteClaim: false },
        resources: { requests: { cpu: 2, memory: "8Gi" }, limits: { memory: "8Gi" } },
      },
    };
    expect(validateCustomResource(pool)).toEqual([]);
    const badRole = { ...pool, spec: { ...pool.spec, roles: ["leader"] } };
    expect(validateCustomResource(badRole).join("\n")).toContain("spec.roles[0]: expected one of");
  });
});

describeWithShared("unknownValuePaths against ../shared/charts", () => {
  it("accepts paths that exist, open maps ({} / null) and arrays", () => {
    const values = {
      watchNamespaces: ["kafka"],
      resources: { requests: { cpu: "200m" } },
      nodeSelector: { "kubernetes.io/os": "linux" },
      podDisruptionBudget: { enabled: true, maxUnavailable: { anything: 1 } },
      extraEnvs: [{ name: "JAVA_OPTS", value: "-Xmx256m" }],
    };
    expect(unknownValuePaths(values, STRIMZI_VALUES)).toEqual([]);
  });

  it("lists every misspelled or invented leaf path", () => {
    const values = { watchNamespace: ["kafka"], resources: { request: { cpu: "1" } }, image: { tag: { major: 1 } } };
    expect(unknownValuePaths(values, STRIMZI_VALUES)).toEqual(["watchNamespace", "resources.request.cpu", "image.tag.major"]);
  });

  it("accepts an explicitly allowed path documented only in a values.yaml comment", () => {
    const values = { image: { imagePullSecrets: [{ name: "pull" }] } };
    expect(unknownValuePaths(values, STRIMZI_VALUES)).toEqual(["image.imagePullSecrets"]);
    expect(unknownValuePaths(values, STRIMZI_VALUES, { allow: ["image.imagePullSecrets"] })).toEqual([]);
  });
});

describe("unknownValuePaths (own fixture, no ../shared needed)", () => {
  const dir = mkdtempSync(join(tmpdir(), "helm-values-"));
  const file = join(dir, "values.yaml");
  writeFileSync(file, "a:\n  b: 1\n  open: {}\n  nothing: ~\nlist: []\n");

  it("quotes keys with dots and reports the full leaf path", () => {
    expect(unknownValuePaths({ a: { "x.y": { z: 1 }, open: { deep: { deeper: 1 } } }, list: [1] }, file)).toEqual(['a["x.y"].z']);
  });

  it("treats an empty map we set under a missing key as one unknown leaf", () => {
    expect(unknownValuePaths({ a: { nothing: { ok: true } }, missing: {} }, file)).toEqual(["missing"]);
  });
});
