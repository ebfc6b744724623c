/**
 * Pure builder for the schema Job: a ConfigMap with the versioned SQL files and the apply script (both from
 * connectors/schema.ts), and a Job running the YugabyteDB image's `ysqlsh` over TLS as the superuser, with its
 * password and the sink role's password (V003 sets it) each from a Secret through secretKeyRef.
 *
 * Re-runs: the ConfigMap and Job names end in a hash of the files and the script, so adding a V00x file (or changing
 * the script) creates a new Job that applies everything again; unchanged content keeps the completed Job as is.
 * The files are idempotent, so a re-run is harmless.
 */
import { mirrorImage, type ImageSourceSettings } from "../../contract/sources";
import { createHash } from "node:crypto";
import {
  DEFAULT_MOUNT_DIR,
  migrationConfigMapData,
  migrationJobScript,
  SCHEMA_VARIABLES,
  SINK_PASSWORD_ENV,
  type Migration,
} from "../../connectors/schema";
import { CA_KEY, SCHEMA_JOB_LABEL, YUGABYTE_IMAGE, YSQL_PORT } from "./yugabyteSpecs";

/** Script key in the ConfigMap (next to the V00x files). */
export const SCRIPT_FILE = "apply-schema.sh";
/** Where the CA bundle is mounted. */
export const CA_MOUNT_DIR = "/etc/yugabyte-ca";
/** Hash characters in names: 10 hex digits make an accidental collision between two schema versions negligible. */
const HASH_CHARS = 10;
/**
 * Wall-clock bound on the whole Job (all retries): the script itself waits up to 5 min for YSQL per attempt; three
 * attempts plus the apply fit well inside 30 min, after which `pulumi up` reports the failure instead of hanging.
 */
export const JOB_DEADLINE_SEC = 1800;
/** Retries after a failed attempt (e.g. the universe still electing leaders past the script's own wait). */
export const JOB_BACKOFF_LIMIT = 3;
/** The yugabyte image's non-root user (the chart runs the servers as 10001 too). */
const YUGABYTE_UID = 10001;

export interface SchemaJobSpecArgs {
  /** `watchpipe:images`: the registry mirror to pull from (unset: the public registry). */
  readonly images?: ImageSourceSettings;
  readonly namespace: string;
  readonly migrations: readonly Migration[];
  readonly host: string;
  readonly port?: number;
  readonly database: string;
  /** The superuser the files are applied as (they create tables, roles and grants). */
  readonly user: string;
  readonly credentials: { readonly secretName: string; readonly passwordKey: string };
  /** The sink role's password Secret: V003 sets the role's password from it on every run. */
  readonly sinkPassword: { readonly secretName: string; readonly passwordKey: string };
  /** verify-ca with the mounted CA (helm installer) or require (operator: its CA is not ours to mount). */
  readonly tls: { readonly sslMode: "verify-ca" | "require"; readonly caSecret?: string };
}

/** Where a ysqlsh client connects, as whom, and how it verifies the server. */
export interface YsqlClientArgs {
  readonly host: string;
  readonly port?: number;
  readonly database: string;
  readonly user: string;
  /** The user's password Secret. */
  readonly password: { readonly secretName: string; readonly passwordKey: string };
  readonly tls: { readonly sslMode: "verify-ca" | "require"; readonly caSecret?: string };
}

/**
 * libpq environment for the YugabyteDB image's `ysqlsh` (the schema Job, the rejects check and the backups): the
 * password from its Secret through secretKeyRef, TLS as the universe runs it, and the image's bin directory on PATH.
 */
export function ysqlClientEnv(c: YsqlClientArgs) {
  return [
    // ysqlsh lives in the image's bin directory and ysql_dump in its postgres/bin, neither on the default PATH.
    { name: "PATH", value: "/home/yugabyte/bin:/home/yugabyte/postgres/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" },
    { name: "PGHOST", value: c.host },
    { name: "PGPORT", value: String(c.port ?? YSQL_PORT) },
    { name: "PGDATABASE", value: c.database },
    { name: "PGUSER", value: c.user },
    { name: "PGPASSWORD", valueFrom: { secretKeyRef: { name: c.password.secretName, key: c.password.passwordKey } } },
    { name: "PGSSLMODE", value: c.tls.sslMode },
    ...(c.tls.caSecret !== undefined ? [{ name: "PGSSLROOTCERT", value: `${CA_MOUNT_DIR}/${CA_KEY}` }] : []),
    { name: "PGCONNECT_TIMEOUT", value: "10" },
  ];
}

/** The CA Secret mounted where {@link ysqlClientEnv} points PGSSLROOTCERT (nothing when the CA is not ours). */
export function ysqlCaMount(tls: YsqlClientArgs["tls"]) {
  return tls.caSecret === undefined
    ? { volumeMounts: [], volumes: [] }
    : { volumeMounts: [{ name: "ca", mountPath: CA_MOUNT_DIR, readOnly: true }], volumes: [{ name: "ca", secret: { secretName: tls.caSecret } }] };
}

/** Hash over every file name and body and the script: any change yields a new Job. */
export function schemaContentHash(data: Readonly<Record<string, string>>): string {
  const h = createHash("sha256");
  for (const key of Object.keys(data).sort()) h.update(key).update("\0").update(data[key]).update("\0");
  return h.digest("hex").slice(0, HASH_CHARS);
}

export function schemaJobSpecs(a: SchemaJobSpecArgs) {
  if (a.tls.sslMode === "verify-ca" && !a.tls.caSecret) {
    throw new Error("schema Job: tls.sslMode verify-ca needs tls.caSecret (the root CA Secret); pass it or use require.");
  }
  const files = a.migrations.map((m) => m.file);
  const data: Record<string, string> = {
    ...migrationConfigMapData(a.migrations),
    [SCRIPT_FILE]: migrationJobScript({ files, mountDir: DEFAULT_MOUNT_DIR, variables: SCHEMA_VARIABLES }),
  };
  const hash = schemaContentHash(data);
  const name = `watchpipe-schema-${hash}`;
  const labels = { ...SCHEMA_JOB_LABEL, "app.kubernetes.io/part-of": "watchpipe" };
  const ca = ysqlCaMount(a.tls);
  const configMap = { metadata: { name, namespace: a.namespace, labels }, data };
  const job = {
    metadata: { name, namespace: a.namespace, labels },
    spec: {
      backoffLimit: JOB_BACKOFF_LIMIT,
      activeDeadlineSeconds: JOB_DEADLINE_SEC,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: "Never",
          enableServiceLinks: false,
          automountServiceAccountToken: false,
          securityContext: { runAsNonRoot: true, runAsUser: YUGABYTE_UID, runAsGroup: YUGABYTE_UID },
          containers: [{
            name: "apply-schema",
            image: mirrorImage(`${YUGABYTE_IMAGE.repository}:${YUGABYTE_IMAGE.tag}`, a.images),
            command: ["bash", `${DEFAULT_MOUNT_DIR}/${SCRIPT_FILE}`],
            env: [
              ...ysqlClientEnv({ host: a.host, port: a.port, database: a.database, user: a.user, password: a.credentials, tls: a.tls }),
              // Read by the script inside psql (never a command-line argument): V003's `PASSWORD :'sink_password'`.
              { name: SINK_PASSWORD_ENV, valueFrom: { secretKeyRef: { name: a.sinkPassword.secretName, key: a.sinkPassword.passwordKey } } },
            ],
            resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
            securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: false, capabilities: { drop: ["ALL"] } },
            volumeMounts: [
              { name: "schema", mountPath: DEFAULT_MOUNT_DIR, readOnly: true },
              ...ca.volumeMounts,
            ],
          }],
          volumes: [
            { name: "schema", configMap: { name } },
            ...ca.volumes,
          ],
        },
      },
    },
  };
  return { name, hash, configMap, job };
}
