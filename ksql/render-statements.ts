/**
 * `npx tsx ksql/render-statements.ts [partitions]`: prints all migrations with the default parameters substituted,
 * as one statements file for ksql-test-runner (which has no `--define`). Used by ksql/run-vectors.sh.
 */
import { DEFAULT_SESSIONIZATION_PARAMS } from "../contract/sessionization";
import { renderStatements } from "./migrations";

const partitions = Number(process.argv[2] ?? 1);
if (!Number.isInteger(partitions) || partitions < 1) {
  process.stderr.write(`render-statements: partitions must be a positive integer, got ${process.argv[2]}\n`);
  process.exit(2);
}
/** The test runner's in-memory topics never expire records; the statements only need a valid retention to state. */
const VECTOR_TOPIC_RETENTION_MS = 7 * 24 * 3_600_000;
const shape = { partitions, retentionMs: VECTOR_TOPIC_RETENTION_MS };
// The test runner's in-memory topics have one replica; production uses REPLICATION_FACTOR via migrationDefines.
process.stdout.write(
  renderStatements(DEFAULT_SESSIONIZATION_PARAMS, {
    heartbeatPartitions: partitions,
    replicas: 1,
    sinkTopics: { heartbeats: shape, rejected: shape, segments: shape },
  }),
);
