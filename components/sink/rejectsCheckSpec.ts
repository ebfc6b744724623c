/**
 * Pure builder for the rejects check CronJob: every few minutes, the YugabyteDB image's `ysqlsh` runs
 * connectors/rejectsCheck.ts's script as the sink role, and the run fails while pieces the database refused wait
 * unacknowledged in watch_pieces_rejected (connectors/schema/V005). The SinkRowsRefused alert fires when the
 * CronJob has not succeeded for REJECTS_ALERT_AFTER_SEC (connectors/rejectsCheck.ts).
 */
import { mirrorImage, type ImageSourceSettings } from "../../contract/sources";
import { REJECTS_CHECK_EVERY_MIN, REJECTS_CHECK_NAME, rejectsCheckScript } from "../../connectors/rejectsCheck";
import { YUGABYTE_IMAGE } from "./yugabyteSpecs";
import { ysqlCaMount, ysqlClientEnv, type YsqlClientArgs } from "./yugabyteSchemaJobSpec";

/** A run asks one question; a run that takes longer than this is stuck on the network. */
const RUN_DEADLINE_SEC = 120;
const SCRIPT_FILE = "check-rejects.sh";
const MOUNT_DIR = "/etc/watchpipe/rejects-check";
/** The yugabyte image's non-root user. */
const YUGABYTE_UID = 10001;

export interface RejectsCheckSpecArgs {
  readonly namespace: string;
  /** The sink role's connection: it may call watch_pieces_rejects_pending() and nothing else on that table. */
  readonly connection: YsqlClientArgs;
  readonly images?: ImageSourceSettings;
}

export function rejectsCheckSpecs(a: RejectsCheckSpecArgs) {
  const labels = { "watchpipe.io/role": REJECTS_CHECK_NAME, "app.kubernetes.io/part-of": "watchpipe" };
  const ca = ysqlCaMount(a.connection.tls);
  const configMap = { metadata: { name: REJECTS_CHECK_NAME, namespace: a.namespace, labels }, data: { [SCRIPT_FILE]: rejectsCheckScript() } };
  const cronJob = {
    metadata: { name: REJECTS_CHECK_NAME, namespace: a.namespace, labels },
    spec: {
      schedule: `*/${REJECTS_CHECK_EVERY_MIN} * * * *`,
      concurrencyPolicy: "Forbid",
      startingDeadlineSeconds: REJECTS_CHECK_EVERY_MIN * 60,
      successfulJobsHistoryLimit: 1,
      failedJobsHistoryLimit: 3,
      jobTemplate: {
        metadata: { labels },
        spec: {
          // A failed run is the signal: no retries that would hide it, the next run comes in a few minutes anyway.
          backoffLimit: 0,
          activeDeadlineSeconds: RUN_DEADLINE_SEC,
          ttlSecondsAfterFinished: 24 * 3600,
          template: {
            metadata: { labels },
            spec: {
              restartPolicy: "Never",
              enableServiceLinks: false,
              automountServiceAccountToken: false,
              securityContext: { runAsNonRoot: true, runAsUser: YUGABYTE_UID, runAsGroup: YUGABYTE_UID, seccompProfile: { type: "RuntimeDefault" } },
              containers: [{
                name: "check",
                image: mirrorImage(`${YUGABYTE_IMAGE.repository}:${YUGABYTE_IMAGE.tag}`, a.images),
                command: ["bash", `${MOUNT_DIR}/${SCRIPT_FILE}`],
                env: ysqlClientEnv(a.connection),
                resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "200m", memory: "128Mi" } },
                securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
                volumeMounts: [{ name: "script", mountPath: MOUNT_DIR, readOnly: true }, ...ca.volumeMounts],
              }],
              volumes: [{ name: "script", configMap: { name: REJECTS_CHECK_NAME } }, ...ca.volumes],
            },
          },
        },
      },
    },
  };
  return { configMap, cronJob };
}
