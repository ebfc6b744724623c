/**
 * JMX exporter rules for Schema Registry (loaded by the agent of components/ops/jmxAgentSpecs.ts): its leader role
 * and its API successes and failures. The MBean names were read off Schema Registry 8.3.1 running with this agent
 * (docs/real-engines.md).
 */

/** ConfigMap key the Schema Registry pods mount. */
export const SCHEMA_REGISTRY_METRICS_CONFIG_KEY = "schema-registry-metrics-config.yml";

export const SCHEMA_REGISTRY_JMX_EXPORTER_RULES = `lowercaseOutputName: true
lowercaseOutputLabelNames: true
rules:
  # 1 on the elected leader, 0 elsewhere: with no leader, new schemas (and so new ksqlDB queries) cannot register.
  - pattern: 'kafka.schema.registry<type=master-slave-role><>master-slave-role'
    name: schema_registry_leader
    type: GAUGE
  - pattern: 'kafka.schema.registry<type=(api-success-count|api-failure-count)><>(api-success-count|api-failure-count)'
    name: schema_registry_$1_total
    type: COUNTER
`;
