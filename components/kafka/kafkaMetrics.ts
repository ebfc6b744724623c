/**
 * Prometheus JMX exporter rules for the brokers and controllers (Strimzi `metricsConfig`, type jmxPrometheusExporter).
 * Only what operating this pipeline needs: throughput per topic, replication health (which must be zero in steady
 * state for acks=all with min.insync.replicas=2 to keep accepting writes), KRaft quorum state, request latency,
 * thread idleness (saturation) and log size. Everything else is dropped to keep scrape size small.
 */

/** ConfigMap key Strimzi reads the rules from. */
export const METRICS_CONFIG_KEY = "kafka-metrics-config.yml";

/** The rules as YAML text (the exporter's own format). */
export const KAFKA_JMX_EXPORTER_RULES = `lowercaseOutputName: true
lowercaseOutputLabelNames: true
rules:
  # Throughput and failures per topic (topic-less variants are the broker totals).
  - pattern: 'kafka.server<type=BrokerTopicMetrics, name=(MessagesInPerSec|BytesInPerSec|BytesOutPerSec|FailedProduceRequestsPerSec|FailedFetchRequestsPerSec|TotalProduceRequestsPerSec), topic=(.+)><>Count'
    name: kafka_server_brokertopicmetrics_$1_total
    type: COUNTER
    labels:
      topic: "$2"
  - pattern: 'kafka.server<type=BrokerTopicMetrics, name=(MessagesInPerSec|BytesInPerSec|BytesOutPerSec|FailedProduceRequestsPerSec|FailedFetchRequestsPerSec|TotalProduceRequestsPerSec)><>Count'
    name: kafka_server_brokertopicmetrics_$1_total
    type: COUNTER
  # Replication health: any non-zero under-min-ISR count means acks=all producers are being refused.
  - pattern: 'kafka.server<type=ReplicaManager, name=(UnderReplicatedPartitions|UnderMinIsrPartitionCount|AtMinIsrPartitionCount|OfflineReplicaCount|PartitionCount|LeaderCount)><>Value'
    name: kafka_server_replicamanager_$1
    type: GAUGE
  # ISR churn: shrinks outside a rolling restart mean a follower keeps falling behind (disk, network, GC).
  - pattern: 'kafka.server<type=ReplicaManager, name=(IsrShrinksPerSec|IsrExpandsPerSec)><>Count'
    name: kafka_server_replicamanager_$1_total
    type: COUNTER
  - pattern: 'kafka.controller<type=KafkaController, name=(ActiveControllerCount|OfflinePartitionsCount|GlobalPartitionCount|GlobalTopicCount|PreferredReplicaImbalanceCount)><>Value'
    name: kafka_controller_kafkacontroller_$1
    type: GAUGE
  # KRaft quorum.
  - pattern: 'kafka.server<type=raft-metrics><>(current-leader|current-epoch|high-watermark|log-end-offset|commit-latency-avg|commit-latency-max)'
    name: kafka_server_raft_$1
    type: GAUGE
  # Request latency percentiles for the paths the pipeline depends on.
  - pattern: 'kafka.network<type=RequestMetrics, name=TotalTimeMs, request=(Produce|FetchConsumer|FetchFollower)><>(\\d+)thPercentile'
    name: kafka_network_requestmetrics_totaltimems
    type: GAUGE
    labels:
      request: "$1"
      quantile: "0.$2"
  # Saturation: idle fractions near 0 mean the broker is CPU-bound on network or request threads.
  - pattern: 'kafka.network<type=SocketServer, name=NetworkProcessorAvgIdlePercent><>Value'
    name: kafka_network_socketserver_networkprocessoravgidlepercent
    type: GAUGE
  - pattern: 'kafka.server<type=KafkaRequestHandlerPool, name=RequestHandlerAvgIdlePercent><>OneMinuteRate'
    name: kafka_server_kafkarequesthandlerpool_requesthandleravgidlepercent
    type: GAUGE
  - pattern: 'kafka.server<type=socket-server-metrics, listener=(.+), networkProcessor=(.+)><>connection-count'
    name: kafka_server_socket_server_connection_count
    type: GAUGE
    labels:
      listener: "$1"
      network_processor: "$2"
  # Disk: log size per partition (retention and volume sizing).
  - pattern: 'kafka.log<type=Log, name=Size, topic=(.+), partition=(.+)><>Value'
    name: kafka_log_log_size
    type: GAUGE
    labels:
      topic: "$1"
      partition: "$2"
`;
