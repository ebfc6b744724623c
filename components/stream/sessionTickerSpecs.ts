/**
 * Pure builders for the tick source. EMIT FINAL closes a session window only when stream time on its partition
 * passes end + gap + grace; a partition that stops receiving heartbeats would hold its last sessions forever. The
 * ticker writes one heartbeat of the reserved user TICK_USER_ID per `heartbeats` partition to heartbeats_raw every
 * tick interval, each with a video id that ksql/ticks.ts chose so its session key lands on that partition. The SQL
 * validates ticks like any heartbeat, and they contribute no points to any segment.
 *
 * The ticks go straight to Kafka (issue 24): the players' path (the ingest gateway) binds every heartbeat to its
 * token's subject, and ticks have no player token. One long-lived producer per pod, `kafka-console-producer.sh` from
 * the pinned Strimzi Kafka image the brokers run, authenticates as the ticker's own KafkaUser (SCRAM-SHA-512 over
 * the TLS listener, the cluster CA as its PEM truststore) and produces with acks=all and idempotence; a POSIX sh loop
 * feeds it one keyed line per partition per tick through a pipe. One JVM for the pod's life, not one per tick.
 */
import type { types } from "@pulumi/kubernetes";
import { bootstrapAddress, KAFKA_USERS } from "../../contract/clients";
import { PRODUCER_DURABILITY_CONFIG } from "../../contract/durability";
import { mirrorImage, type ImageSourceSettings } from "../../contract/sources";
import { RAW_HEARTBEATS_TOPIC, type Heartbeat } from "../../contract/topics";
import { tickKeysForPartitions } from "../../ksql/ticks";
import { STRIMZI_KAFKA_IMAGE } from "../ops/jmxAgentSpecs";
import {
  containerSecurityContext,
  JAAS_SECRET_KEY,
  KAFKA_CA_FILE,
  kafkaCaVolume,
  kafkaCaVolumeMount,
  kafkaClientSecurityProps,
  podSecurityContext,
  selectorLabels,
  workloadLabels,
} from "./streamingSpecs";

export const SESSION_TICKER_APP = "session-ticker";
/** The ticker's KafkaUser; its Secret (same name) holds the SCRAM JAAS line. */
export const SESSION_TICKER_USER = KAFKA_USERS.sessionTicker;
/** The image the ticker runs: the brokers' own (pinned, already pulled through the same mirror), for its producer CLI. */
export const SESSION_TICKER_IMAGE = STRIMZI_KAFKA_IMAGE;
/** Strimzi's Kafka image runs as uid 1001 (its Dockerfile's `USER 1001`); pinned so runAsNonRoot is verifiable. */
export const STRIMZI_IMAGE_UID = 1001;
/** The console producer in that image (Kafka 4.3.1's `org.apache.kafka.tools.ConsoleProducer`). */
export const TICKER_PRODUCER_BIN = "/opt/kafka/bin/kafka-console-producer.sh";
/** Token in the records file that the loop replaces with the current epoch milliseconds on every tick. */
export const NOW_TOKEN = "__NOW_MS__";
/** LineMessageReader's default `key.separator`; neither a session key nor the JSON value contains one. */
export const TICK_KEY_SEPARATOR = "\t";
export const TICKER_SCRIPT = "tick.sh";
export const TICKER_RECORDS = "records.tsv";
export const TICKER_PROPERTIES = "producer.properties";
export const TICKER_MOUNT_DIR = "/etc/watchpipe/session-ticker";
/** File the loop touches after every tick it handed to the producer; the liveness probe checks its age. */
export const TICKER_ALIVE_FILE = "/tmp/ticker-alive";
/** The producer JVM's pid (the launch scripts `exec` java, so the pid the wrapper shell writes is the JVM's). */
export const TICKER_PID_FILE = "/tmp/ticker-producer.pid";
/** Env var carrying the KafkaUser Secret's JAAS line; the properties read it through Kafka's EnvVarConfigProvider. */
export const TICKER_JAAS_ENV = "KAFKA_SASL_JAAS_CONFIG";
/**
 * The producer JVM's heap. It buffers at most a few ticks of ~100-byte records; Kafka's launcher default
 * (-Xmx512M) would reserve memory the pod never uses.
 */
export const TICKER_HEAP_OPTS = "-Xms32m -Xmx64m";
/** Serial GC: one producer thread and a tiny heap need no G1 (the launcher's default) and its extra native memory. */
export const TICKER_JVM_OPTS = "-XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError";
/**
 * Measured (test/real/sessionTicker.test.ts, OpenJDK 17, these JVM options, 4 runs): the producer JVM's RSS was
 * 68-112 MiB; the limit leaves room for a different JDK in the image and a backlog of buffered ticks.
 */
export const TICKER_RESOURCES = { requests: { cpu: "50m", memory: "160Mi" }, limits: { memory: "256Mi" } } as const;
/**
 * How long a record may take to be acknowledged (Kafka's default, spelled out): a broker restart or a leader move
 * is retried within it, idempotence keeps retries from duplicating; a tick older than this is dropped and logged.
 */
export const TICKER_DELIVERY_TIMEOUT_MS = 120_000;
/** A tick's records go out together: a short linger batches the partitions' records without delaying the tick. */
export const TICKER_LINGER_MS = 100;

export interface SessionTickerSpecArgs {
  /** The Kafka namespace: the brokers' bootstrap Service and the KafkaUser Secret live there. */
  readonly namespace: string;
  /** Partitions of the `heartbeats` topic (the one the session query reads; heartbeats_raw has as many). */
  readonly heartbeatPartitions: number;
  readonly tickIntervalSec: number;
  /** `watchpipe:images`: the registry mirror to pull from (unset: the public registry). */
  readonly images?: ImageSourceSettings;
}

/**
 * The records, one line per partition: the session key (user_id|video_id, chosen by ksql/ticks.ts so Kafka's
 * partitioner puts it on that partition), a tab, and the value shaped like a player heartbeat (contract/topics.ts
 * `Heartbeat`) with event_ts left as a bare token, so every tick carries the time it is handed to the producer. The
 * console producer writes the key as its exact UTF-8 bytes, which V000004's `key:` rule and murmur2 both read.
 */
export function tickRecordsTemplate(partitions: number): string {
  return tickKeysForPartitions(partitions)
    .map((t) => {
      const value: Omit<Heartbeat, "event_ts"> & { event_ts: string } = {
        user_id: t.user_id,
        video_id: t.video_id,
        position_sec: 0,
        event_ts: NOW_TOKEN,
      };
      return `${t.key}${TICK_KEY_SEPARATOR}${JSON.stringify(value).replaceAll(`"${NOW_TOKEN}"`, NOW_TOKEN)}`;
    })
    .join("\n") + "\n";
}

/**
 * The producer's properties (a Java properties file, `--command-config`): durability from contract/durability.ts,
 * the cluster's client security settings, and the JAAS line resolved from the environment at start
 * (`${env:…}` through EnvVarConfigProvider), so the ConfigMap holds no credential and nothing writes one to disk.
 * `retries` is spelled out: the console producer's own default is 3, which would drop a tick during a leader move.
 */
export function tickerProducerProperties(caFile: string = KAFKA_CA_FILE): Record<string, string> {
  return {
    "client.id": SESSION_TICKER_APP,
    acks: PRODUCER_DURABILITY_CONFIG.acks,
    "enable.idempotence": String(PRODUCER_DURABILITY_CONFIG["enable.idempotence"]),
    "max.in.flight.requests.per.connection": String(PRODUCER_DURABILITY_CONFIG["max.in.flight.requests.per.connection"]),
    retries: "2147483647",
    "delivery.timeout.ms": String(TICKER_DELIVERY_TIMEOUT_MS),
    "linger.ms": String(TICKER_LINGER_MS),
    ...kafkaClientSecurityProps(),
    "ssl.truststore.location": caFile,
    "config.providers": "env",
    "config.providers.env.class": "org.apache.kafka.common.config.provider.EnvVarConfigProvider",
    [JAAS_SECRET_KEY]: `\${env:${TICKER_JAAS_ENV}}`,
  };
}

/** {@link tickerProducerProperties} as the file's text, keys sorted. */
export function renderTickerProperties(props: Record<string, string>): string {
  return Object.keys(props).sort().map((k) => `${k}=${props[k]}`).join("\n") + "\n";
}

/** Age after which the liveness probe calls the loop stuck: two intervals plus room for a slow start. */
export function tickerStaleAfterSec(tickIntervalSec: number): number {
  return 2 * tickIntervalSec + 30;
}

/**
 * The loop, POSIX sh (the image's bash, dash in the tests) with coreutils date/touch/sleep: no sed or grep. `emit`
 * writes the records (token substituted) into a pipe every interval; the producer on the
 * other end sends each line as a keyed record. When the producer exits, the loop's next write dies of SIGPIPE and the
 * script exits 1 (the pod restarts); when it hangs, the pipe fills, the loop blocks and the alive file goes stale
 * (liveness). TICKS=n (tests) stops after n ticks: the producer then reads EOF, flushes, closes and exits 0.
 */
export function tickerScript(): string {
  return `#!/bin/sh
set -u
n=0
while IFS= read -r line; do n=$((n + 1)); done < "$RECORDS_FILE"
ticks="\${TICKS:-0}"
echo "session-ticker: $n tick records to $TOPIC every \${INTERVAL_SEC}s; one producer (acks=all, idempotent) to $BOOTSTRAP_SERVERS" >&2
emit() {
  tick=0
  started=$(date +%s)
  while :; do
    tick=$((tick + 1))
    now_ms="$(date +%s)000"
    # Shell builtins only: no process per record. A write into a pipe whose reader is gone ends this loop
    # (SIGPIPE, or EPIPE where SIGPIPE is ignored).
    while IFS= read -r line; do
      printf '%s%s%s\\n' "\${line%%${NOW_TOKEN}*}" "$now_ms" "\${line#*${NOW_TOKEN}}" || {
        echo "session-ticker: tick $tick: the producer no longer reads its input (it exited); stopping" >&2
        exit 1
      }
    done < "$RECORDS_FILE"
    touch "$ALIVE_FILE"
    echo "session-ticker: tick $tick: $n records to the producer at event_ts $now_ms ($(( $(date +%s) - started ))s up)" >&2
    if [ "$ticks" -gt 0 ] && [ "$tick" -ge "$ticks" ]; then
      exit 0
    fi
    sleep "$INTERVAL_SEC"
  done
}
emit | sh -c 'echo $$ > "$PID_FILE"; exec "$PRODUCER_BIN" --bootstrap-server "$BOOTSTRAP_SERVERS" --topic "$TOPIC" --command-config "$PROPERTIES_FILE" --reader-property parse.key=true'
status=$?
if [ "$ticks" -gt 0 ]; then
  echo "session-ticker: $ticks ticks done; producer exited with status $status" >&2
  exit "$status"
fi
echo "session-ticker: the producer exited (status $status); exiting so the pod restarts it" >&2
exit 1
`;
}

/** ConfigMap data: the script, the records template and the producer's properties. */
export function tickerConfigMapData(args: SessionTickerSpecArgs): Record<string, string> {
  return {
    [TICKER_SCRIPT]: tickerScript(),
    [TICKER_RECORDS]: tickRecordsTemplate(args.heartbeatPartitions),
    [TICKER_PROPERTIES]: renderTickerProperties(tickerProducerProperties()),
  };
}

/** Plain environment of the ticker container (also what the tests give the script); the JAAS line is added from the Secret. */
export function tickerEnv(args: SessionTickerSpecArgs): Record<string, string> {
  return {
    BOOTSTRAP_SERVERS: bootstrapAddress(args.namespace),
    TOPIC: RAW_HEARTBEATS_TOPIC,
    INTERVAL_SEC: String(args.tickIntervalSec),
    RECORDS_FILE: `${TICKER_MOUNT_DIR}/${TICKER_RECORDS}`,
    PROPERTIES_FILE: `${TICKER_MOUNT_DIR}/${TICKER_PROPERTIES}`,
    PRODUCER_BIN: TICKER_PRODUCER_BIN,
    ALIVE_FILE: TICKER_ALIVE_FILE,
    PID_FILE: TICKER_PID_FILE,
    KAFKA_HEAP_OPTS: TICKER_HEAP_OPTS,
    KAFKA_JVM_PERFORMANCE_OPTS: TICKER_JVM_OPTS,
    // Kafka's launcher creates its log dir; the root filesystem is read-only.
    LOG_DIR: "/tmp/kafka-logs",
  };
}

/** Liveness: the producer JVM still runs AND the loop handed it a tick recently (a live shell alone is not enough). */
export function tickerLivenessCommand(tickIntervalSec: number, pidFile = TICKER_PID_FILE, aliveFile = TICKER_ALIVE_FILE): string[] {
  const stale = tickerStaleAfterSec(tickIntervalSec);
  return ["/bin/sh", "-c", `kill -0 "$(cat ${pidFile})" && test $(( $(date +%s) - $(stat -c %Y ${aliveFile}) )) -lt ${stale}`];
}

/**
 * Deployment spec: one pod (two would only double the ticks), non-root, read-only root with /tmp on an emptyDir,
 * the cluster CA mounted as the truststore, the KafkaUser Secret's JAAS line as an env var, the client label the
 * brokers' NetworkPolicy admits. Recreate: the old producer stops before the new one starts (a surge pod of a
 * singleton would only send every tick twice for a while).
 */
export function sessionTickerDeploymentSpec(args: SessionTickerSpecArgs, configMapName: string): types.input.apps.v1.DeploymentSpec {
  const env = tickerEnv(args);
  const stale = tickerStaleAfterSec(args.tickIntervalSec);
  return {
    replicas: 1,
    strategy: { type: "Recreate" },
    selector: { matchLabels: selectorLabels(SESSION_TICKER_APP) },
    template: {
      metadata: { labels: workloadLabels(SESSION_TICKER_APP, true) },
      spec: {
        enableServiceLinks: false,
        automountServiceAccountToken: false,
        securityContext: podSecurityContext(STRIMZI_IMAGE_UID),
        containers: [
          {
            name: SESSION_TICKER_APP,
            image: mirrorImage(SESSION_TICKER_IMAGE, args.images),
            command: ["/bin/sh", `${TICKER_MOUNT_DIR}/${TICKER_SCRIPT}`],
            env: [
              ...Object.keys(env).sort().map((name) => ({ name, value: env[name] })),
              { name: TICKER_JAAS_ENV, valueFrom: { secretKeyRef: { name: SESSION_TICKER_USER, key: JAAS_SECRET_KEY } } },
            ],
            resources: { requests: { ...TICKER_RESOURCES.requests }, limits: { ...TICKER_RESOURCES.limits } },
            securityContext: containerSecurityContext(true),
            livenessProbe: {
              exec: { command: tickerLivenessCommand(args.tickIntervalSec) },
              initialDelaySeconds: stale,
              periodSeconds: 30,
              timeoutSeconds: 5,
              failureThreshold: 3,
            },
            volumeMounts: [
              { name: "config", mountPath: TICKER_MOUNT_DIR, readOnly: true },
              kafkaCaVolumeMount(),
              { name: "tmp", mountPath: "/tmp" },
            ],
          },
        ],
        volumes: [
          { name: "config", configMap: { name: configMapName } },
          kafkaCaVolume(),
          // The JVM's perf data and the launcher's log dir; a few KiB.
          { name: "tmp", emptyDir: { sizeLimit: "16Mi" } },
        ],
      },
    },
  };
}

/**
 * Egress of the ticker pod: the brokers' TLS listener and DNS (to resolve the bootstrap Service), nothing else.
 * Ingress needs nothing: the namespace's default deny stands (the pod serves nothing).
 */
export function sessionTickerEgressPolicySpec(kafkaClusterName: string, brokerPort: number): types.input.networking.v1.NetworkPolicySpec {
  return {
    podSelector: { matchLabels: selectorLabels(SESSION_TICKER_APP) },
    policyTypes: ["Egress"],
    egress: [
      {
        to: [{ podSelector: { matchLabels: { "strimzi.io/cluster": kafkaClusterName, "strimzi.io/kind": "Kafka" } } }],
        ports: [{ protocol: "TCP", port: brokerPort }],
      },
      {
        to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } }, podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }],
        ports: [{ protocol: "UDP", port: 53 }, { protocol: "TCP", port: 53 }],
      },
    ],
  };
}
