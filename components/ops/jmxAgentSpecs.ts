/**
 * The Prometheus JMX exporter java agent for the Confluent servers (ksqlDB, Schema Registry), whose images do not
 * ship one. An init container copies the agent jar out of the Strimzi Kafka image the brokers already run (pinned,
 * pulled through the same mirror), the exporter rules come from a ConfigMap, and the server's `<PREFIX>OPTS` env
 * var, which its start script passes to the JVM, loads the agent on the metrics port. Nothing is downloaded at start.
 *
 * Pure builders: no Pulumi.
 */
import type { types } from "@pulumi/kubernetes";
import { mirrorImage, type ImageSourceSettings } from "../../contract/sources";
import { STRIMZI_CHART_VERSION } from "../../operators/strimziValues";
import { KAFKA_VERSION } from "../kafka/kafkaSpecs";
import { containerSecurityContext } from "../stream/streamingSpecs";
import { STRIMZI_METRICS_PORT, STRIMZI_METRICS_PORT_NAME } from "../kafka/kafkaNetworkPolicySpecs";

/** The image the Strimzi 1.2.0 operator runs Kafka 4.3.1 brokers from (its chart's kafka image map). */
export const STRIMZI_KAFKA_IMAGE = `quay.io/strimzi/kafka:${STRIMZI_CHART_VERSION}-kafka-${KAFKA_VERSION}`;
/**
 * Where that image keeps the agent (Strimzi 1.2.0's Kafka Dockerfile: JMX exporter 1.6.0 under
 * /opt/prometheus-jmx-exporter). An exact path: an image that moved it fails the init container, loudly.
 */
export const STRIMZI_JMX_AGENT_JAR = "/opt/prometheus-jmx-exporter/jmx_prometheus_javaagent-1.6.0.jar";
/** Same port and port name as Strimzi's own exporters, so one PodMonitor shape and one policy port serve all. */
export const JMX_AGENT_PORT = STRIMZI_METRICS_PORT;
export const JMX_AGENT_PORT_NAME = STRIMZI_METRICS_PORT_NAME;

const AGENT_VOLUME = "jmx-agent";
const AGENT_DIR = "/opt/watchpipe/jmx-agent";
const RULES_VOLUME = "jmx-rules";
const RULES_DIR = "/etc/watchpipe/jmx-rules";
const AGENT_JAR = `${AGENT_DIR}/jmx_prometheus_javaagent.jar`;

export interface JmxAgentArgs {
  /** ConfigMap holding the exporter rules under `rulesKey`. */
  readonly rulesConfigMap: string;
  readonly rulesKey: string;
  readonly images?: ImageSourceSettings;
}

/**
 * What a pod spec adds to run the agent: an init container, two volumes, the main container's mounts and port. The
 * server's env var gets {@link jmxAgentJavaOption}.
 */
export interface JmxAgentPodParts {
  readonly initContainer: types.input.core.v1.Container;
  readonly volumes: types.input.core.v1.Volume[];
  readonly volumeMounts: types.input.core.v1.VolumeMount[];
  readonly port: types.input.core.v1.ContainerPort;
}

/** `-javaagent:<jar>=<port>:<rules>`: loads the agent with the rules mounted from `rulesKey` on {@link JMX_AGENT_PORT}. */
export function jmxAgentJavaOption(rulesKey: string): string {
  return `-javaagent:${AGENT_JAR}=${JMX_AGENT_PORT}:${RULES_DIR}/${rulesKey}`;
}

export function jmxAgentPodParts(a: JmxAgentArgs): JmxAgentPodParts {
  return {
    initContainer: {
      name: "copy-jmx-agent",
      image: mirrorImage(STRIMZI_KAFKA_IMAGE, a.images),
      command: ["cp", STRIMZI_JMX_AGENT_JAR, AGENT_JAR],
      resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "64Mi" } },
      securityContext: containerSecurityContext(true),
      volumeMounts: [{ name: AGENT_VOLUME, mountPath: AGENT_DIR }],
    },
    volumes: [
      // The jar is about 3 MiB (1.0.1: 2.9 MB); the limit keeps a runaway copy from filling the node.
      { name: AGENT_VOLUME, emptyDir: { sizeLimit: "16Mi" } },
      { name: RULES_VOLUME, configMap: { name: a.rulesConfigMap, items: [{ key: a.rulesKey, path: a.rulesKey }] } },
    ],
    volumeMounts: [
      { name: AGENT_VOLUME, mountPath: AGENT_DIR, readOnly: true },
      { name: RULES_VOLUME, mountPath: RULES_DIR, readOnly: true },
    ],
    port: { name: JMX_AGENT_PORT_NAME, containerPort: JMX_AGENT_PORT, protocol: "TCP" },
  };
}
