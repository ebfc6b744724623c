/**
 * Pure builder for the database maintenance CronJob: every `database.maintenanceEveryMinutes`, the YugabyteDB image's
 * `ysqlsh` runs the one statement connectors/maintenance.ts builds, as the schema owner (it creates and drops day
 * partitions). One run at a time (Forbid), each killed before the next schedule (activeDeadlineSeconds below the
 * interval); the DatabaseMaintenanceStale alert fires when no run has succeeded for a few intervals.
 */
import { mirrorImage, type ImageSourceSettings } from "../../contract/sources";
import {
  MAINTENANCE_CRONJOB_NAME,
  maintenanceDeadlineSec,
  maintenanceSchedule,
} from "../../contract/database";
import { maintenanceSql, type MaintenanceParams } from "../../connectors/maintenance";
import { YUGABYTE_IMAGE } from "./yugabyteSpecs";
import { ysqlCaMount, ysqlClientEnv, type YsqlClientArgs } from "./yugabyteSchemaJobSpec";

/**
 * Retries of a failed run within its deadline: the statement is idempotent, and what fails it is mostly transient
 * (a tablet leader moving, a restart-read error); the pod backoff (10 s, 20 s) fits inside the shortest deadline.
 */
export const MAINTENANCE_BACKOFF_LIMIT = 2;
/** Env var the statement reaches the shell in: visible in the spec, never spliced into a command line. */
export const MAINTENANCE_SQL_ENV = "WATCHPIPE_MAINTENANCE_SQL";
/** The yugabyte image's non-root user. */
const YUGABYTE_UID = 10001;
/**
 * One ysqlsh client: the work runs in the tservers, the pod only waits for the statement. Sized like the rejects
 * check's client, with more memory for ysqlsh's result buffer (one row of counts per run).
 */
const RESOURCES = { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "250m", memory: "256Mi" } } as const;
/** Finished Jobs are kept a day, so the last failure's log is there in the morning. */
const TTL_AFTER_FINISHED_SEC = 24 * 3600;

export interface MaintenanceJobSpecArgs {
  readonly namespace: string;
  /** The schema owner's connection (it creates and drops partitions); its password from its Secret. */
  readonly connection: YsqlClientArgs;
  readonly everyMinutes: number;
  readonly params: MaintenanceParams;
  readonly images?: ImageSourceSettings;
}

export function maintenanceJobSpecs(a: MaintenanceJobSpecArgs) {
  const labels = { "watchpipe.io/role": MAINTENANCE_CRONJOB_NAME, "app.kubernetes.io/part-of": "watchpipe" };
  const ca = ysqlCaMount(a.connection.tls);
  const schedule = maintenanceSchedule(a.everyMinutes);
  const sql = maintenanceSql(a.params);
  const cronJob = {
    metadata: { name: MAINTENANCE_CRONJOB_NAME, namespace: a.namespace, labels },
    spec: {
      schedule,
      timeZone: "Etc/UTC",
      // Two runs would only wait on each other's locks; the statement is idempotent, but a queue of runs is not useful.
      concurrencyPolicy: "Forbid",
      // A run missed by more than one interval is skipped: the next one closes everything due anyway.
      startingDeadlineSeconds: a.everyMinutes * 60,
      successfulJobsHistoryLimit: 1,
      failedJobsHistoryLimit: 3,
      jobTemplate: {
        metadata: { labels },
        spec: {
          backoffLimit: MAINTENANCE_BACKOFF_LIMIT,
          activeDeadlineSeconds: maintenanceDeadlineSec(a.everyMinutes),
          ttlSecondsAfterFinished: TTL_AFTER_FINISHED_SEC,
          template: {
            metadata: { labels },
            spec: {
              restartPolicy: "Never",
              enableServiceLinks: false,
              automountServiceAccountToken: false,
              securityContext: { runAsNonRoot: true, runAsUser: YUGABYTE_UID, runAsGroup: YUGABYTE_UID, seccompProfile: { type: "RuntimeDefault" } },
              containers: [{
                name: "maintain",
                image: mirrorImage(`${YUGABYTE_IMAGE.repository}:${YUGABYTE_IMAGE.tag}`, a.images),
                command: ["bash", "-c", `exec ysqlsh -X -q -v ON_ERROR_STOP=1 -c "$${MAINTENANCE_SQL_ENV}"`],
                env: [...ysqlClientEnv(a.connection), { name: MAINTENANCE_SQL_ENV, value: sql }],
                resources: RESOURCES,
                securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
                volumeMounts: [...ca.volumeMounts],
              }],
              volumes: [...ca.volumes],
            },
          },
        },
      },
    },
  };
  return { cronJob };
}
