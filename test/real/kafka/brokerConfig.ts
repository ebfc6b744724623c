/**
 * Pure builder of one local KRaft node's server.properties. Durability settings come from
 * contract/durability.ts, the same constants the Strimzi Kafka component declares, so the real-broker tests
 * exercise the production settings; everything else here is sizing for a 2-core test machine or loopback wiring.
 */
import { BROKER_DURABILITY_CONFIG } from "../../../contract/durability";

export interface NodeAddress {
  /** KRaft node.id, 1-based. */
  readonly id: number;
  /** Client/inter-broker listener port. */
  readonly brokerPort: number;
  /** KRaft controller listener port. */
  readonly controllerPort: number;
}

/**
 * Harness-only settings (not durability): small thread pools and internal-topic partition counts so three
 * brokers and the tests share two cores; fast failure detection so broker-kill tests finish in seconds.
 */
export const LOCAL_BROKER_TUNING = {
  // Topics the tests create name their partition count explicitly; this only covers anything created by default.
  "num.partitions": 6,
  // 50 (the default) consumer-offset partitions x RF 3 is 150 replicas to elect on the first consumer join.
  "offsets.topic.num.partitions": 6,
  "transaction.state.log.num.partitions": 6,
  "num.network.threads": 2,
  "num.io.threads": 4,
  "num.replica.fetchers": 1,
  "background.threads": 2,
  // Consumers in tests join alone; the default 3 s wait only slows them down.
  "group.initial.rebalance.delay.ms": 0,
  // A kill -9 is detected after the broker session times out (default 9 s); shorter keeps tests short.
  "broker.heartbeat.interval.ms": 1000,
  "broker.session.timeout.ms": 4000,
  // A returning broker catches up quickly on loopback; shrink/expand ISR promptly (default 30 s).
  "replica.lag.time.max.ms": 5000,
} as const;

export type Properties = Readonly<Record<string, string | number | boolean>>;

/** server.properties for node `self` of a combined broker+controller KRaft quorum made of `all`. */
export function brokerProperties(self: NodeAddress, all: readonly NodeAddress[], logDir: string): Properties {
  const voters = all.map((n) => `${n.id}@127.0.0.1:${n.controllerPort}`).join(",");
  return {
    // Combined roles: three JVMs instead of six. Killing two nodes therefore also loses the controller quorum,
    // which is stricter than production (dedicated controllers) and still must not lose acknowledged data.
    "process.roles": "broker,controller",
    "node.id": self.id,
    "controller.quorum.voters": voters,
    // Plaintext on loopback only: the harness never leaves 127.0.0.1. Production listeners are TLS + SCRAM.
    listeners: `PLAINTEXT://127.0.0.1:${self.brokerPort},CONTROLLER://127.0.0.1:${self.controllerPort}`,
    "advertised.listeners": `PLAINTEXT://127.0.0.1:${self.brokerPort}`,
    "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
    "controller.listener.names": "CONTROLLER",
    "inter.broker.listener.name": "PLAINTEXT",
    "log.dirs": logDir,
    ...BROKER_DURABILITY_CONFIG,
    ...LOCAL_BROKER_TUNING,
  };
}

/**
 * One more listener beside the harness's PLAINTEXT one (which the harness's own admin client keeps using), e.g. a
 * SASL_SSL listener for a client-security test. `config` holds its `listener.name.<name>.*` settings.
 */
export interface ExtraListener {
  /** Listener name, upper case (`SASL_SSL`); `listener.name.<lower-case name>.*` keys configure it. */
  readonly name: string;
  readonly securityProtocol: "SSL" | "SASL_SSL" | "SASL_PLAINTEXT";
  /** Host name advertised to clients (binds to 127.0.0.1 regardless): what a TLS client checks the certificate against. */
  readonly advertisedHost: string;
  readonly config: Properties;
}

/**
 * A SASL_SSL listener with SCRAM-SHA-512 and the broker's PEM key store (test/real/kafka/tls.ts): what Strimzi's TLS
 * listener with `authentication: scram-sha-512` is. Credentials come from `kafka-storage format` ({@link scramUserArgs}).
 */
export function scramTlsListener(name: string, advertisedHost: string, brokerKeystoreFile: string): ExtraListener {
  const l = name.toLowerCase();
  return {
    name,
    securityProtocol: "SASL_SSL",
    advertisedHost,
    config: {
      [`listener.name.${l}.sasl.enabled.mechanisms`]: "SCRAM-SHA-512",
      [`listener.name.${l}.scram-sha-512.sasl.jaas.config`]: "org.apache.kafka.common.security.scram.ScramLoginModule required;",
      [`listener.name.${l}.ssl.keystore.type`]: "PEM",
      [`listener.name.${l}.ssl.keystore.location`]: brokerKeystoreFile,
    },
  };
}

/** `kafka-storage format` arguments that create SCRAM-SHA-512 users before the first start (as the User Operator's exist before a client connects). */
export function scramUserArgs(users: readonly { readonly name: string; readonly password: string }[]): string[] {
  return users.flatMap((u) => ["--add-scram", `SCRAM-SHA-512=[name=${u.name},password=${u.password}]`]);
}

/** `props` with `l` added on `port`: appended to listeners, advertised.listeners and the protocol map, plus its config. */
export function withExtraListener(props: Properties, l: ExtraListener, port: number): Properties {
  return {
    ...props,
    listeners: `${String(props.listeners)},${l.name}://127.0.0.1:${port}`,
    "advertised.listeners": `${String(props["advertised.listeners"])},${l.name}://${l.advertisedHost}:${port}`,
    "listener.security.protocol.map": `${String(props["listener.security.protocol.map"])},${l.name}:${l.securityProtocol}`,
    ...l.config,
  };
}
