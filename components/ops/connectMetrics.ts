/**
 * JMX exporter rules for the Kafka Connect workers (Strimzi `metricsConfig` type jmxPrometheusExporter). The same
 * rules run in test:real on a real Connect worker with the JMX exporter java agent, so every name the alerts and
 * dashboards use is proven to exist. Only what operating the sink needs: task states per connector, records read
 * and written, put latency, record errors and dead-letter writes, and the sink consumers' lag.
 */

/** ConfigMap key the KafkaConnect's metricsConfig points at. */
export const CONNECT_METRICS_CONFIG_KEY = "connect-metrics-config.yml";

export const CONNECT_JMX_EXPORTER_RULES = `lowercaseOutputName: true
lowercaseOutputLabelNames: true
rules:
  # Task counts per connector by state: a FAILED task stops the sink (a row the database refuses does that).
  - pattern: 'kafka.connect<type=connect-worker-metrics, connector=(.+)><>connector-(running|paused|failed|unassigned|destroyed|restarting|total)-task-count'
    name: kafka_connect_worker_connector_$2_task_count
    type: GAUGE
    labels:
      connector: "$1"
  - pattern: 'kafka.connect<type=connect-worker-metrics><>(connector-count|task-count)'
    name: kafka_connect_worker_$1
    type: GAUGE
  # Connector and task status are string attributes: exported as 1 with the state as a label.
  - pattern: 'kafka.connect<type=connector-metrics, connector=(.+)><>status: ([a-z-]+)'
    name: kafka_connect_connector_status
    value: 1
    type: GAUGE
    labels:
      connector: "$1"
      status: "$2"
  - pattern: 'kafka.connect<type=connector-task-metrics, connector=(.+), task=(.+)><>status: ([a-z-]+)'
    name: kafka_connect_task_status
    value: 1
    type: GAUGE
    labels:
      connector: "$1"
      task: "$2"
      status: "$3"
  # Throughput into the database and how long each put (one batch of upserts) takes.
  - pattern: 'kafka.connect<type=sink-task-metrics, connector=(.+), task=(.+)><>(sink-record-read-total|sink-record-send-total)'
    name: kafka_connect_sink_task_$3
    type: COUNTER
    labels:
      connector: "$1"
      task: "$2"
  - pattern: 'kafka.connect<type=sink-task-metrics, connector=(.+), task=(.+)><>(put-batch-avg-time-ms|put-batch-max-time-ms)'
    name: kafka_connect_sink_task_$3
    type: GAUGE
    labels:
      connector: "$1"
      task: "$2"
  # Record errors and dead-letter writes (errors.tolerance=all sends bad records to the DLQ topic).
  - pattern: 'kafka.connect<type=task-error-metrics, connector=(.+), task=(.+)><>(total-record-errors|total-record-failures|total-records-skipped|deadletterqueue-produce-requests|deadletterqueue-produce-failures)'
    name: kafka_connect_task_error_$3_total
    type: COUNTER
    labels:
      connector: "$1"
      task: "$2"
  # How far each sink consumer is behind its topic's end, in records.
  - pattern: 'kafka.consumer<type=consumer-fetch-manager-metrics, client-id=(.+)><>records-lag-max'
    name: kafka_consumer_records_lag_max
    type: GAUGE
    labels:
      client_id: "$1"
`;
