/**
 * Pure builders for the Job that applies the sessionization SQL with `ksql-migrations`: the properties file, the
 * wait and apply scripts, the ConfigMap data and the Job spec. The content hash in the names makes Pulumi create a
 * new Job whenever a migration file, a `--define` value or the scripts change; re-running applies nothing new.
 */
import { mirrorImage, type ImageSourceSettings } from "../../contract/sources";
import type { types } from "@pulumi/kubernetes";
import { createHash } from "node:crypto";
import { KSQL_MIGRATIONS_STREAM, KSQL_MIGRATIONS_TABLE } from "../../contract/clients";
import { REPLICATION_FACTOR } from "../../contract/durability";
import {
  containerSecurityContext,
  CP_UID,
  CURL_GID,
  CURL_IMAGE,
  CURL_UID,
  KSQLDB_IMAGE,
  podSecurityContext,
  workloadLabels,
} from "./streamingSpecs";

export const KSQL_MIGRATIONS_APP = "ksql-migrations";
/** Where the ConfigMap is mounted; ksql-migrations.properties sits here, the .sql files in `migrations/`. */
export const MIGRATIONS_MOUNT_DIR = "/etc/watchpipe/ksql-migrations";
export const MIGRATIONS_PROPERTIES_FILE = "ksql-migrations.properties";
export const WAIT_SCRIPT = "wait-for-ksqldb.sh";
export const APPLY_SCRIPT = "apply-migrations.sh";
/**
 * How long the Job waits for ksqlDB to report healthy. A first start (command topic replay, processing-log stream)
 * takes a minute or two; 15 minutes covers brokers still rolling at the same time.
 */
export const KSQLDB_WAIT_TIMEOUT_SEC = 900;
/** Seconds between health polls: frequent enough to start promptly, sparse enough to keep the log readable. */
export const KSQLDB_WAIT_POLL_SEC = 5;
/** Retries of the whole pod (transient REST errors); every retry is safe because every step is guarded. */
export const MIGRATIONS_BACKOFF_LIMIT = 3;
/** Hard stop for one Job run, so a hung statement fails `pulumi up` instead of blocking it forever. */
export const MIGRATIONS_DEADLINE_SEC = 1800;
/** ksql-migrations is a small client; its start script would otherwise give it -Xmx3g. */
export const MIGRATIONS_HEAP_OPTS = "-Xmx256m";
/** Hash characters in the Job/ConfigMap names: 10 hex digits make an accidental collision irrelevant. */
export const CONTENT_HASH_LENGTH = 10;

/** A migration file as ksql/migrations.ts returns it. */
export interface MigrationFileContent {
  readonly name: string;
  readonly content: string;
}

export interface KsqlMigrationsSpecArgs {
  /** `watchpipe:images`: the registry mirror to pull from (unset: the public registry). */
  readonly images?: ImageSourceSettings;
  readonly ksqldbUrl: string;
  readonly files: readonly MigrationFileContent[];
  /** `--define name=value` variables for `apply` (ksql/migrations.ts migrationDefines). */
  readonly defines: Readonly<Record<string, string>>;
}

/** The ksql-migrations config: server, the metadata stream/table names we own, replicated metadata topics. */
export function migrationsProperties(ksqldbUrl: string): Record<string, string> {
  return {
    "ksql.server.url": ksqldbUrl,
    "ksql.migrations.stream.name": KSQL_MIGRATIONS_STREAM,
    "ksql.migrations.table.name": KSQL_MIGRATIONS_TABLE,
    // Defaults to 1 replica, which cannot take acks=all writes under min ISR 2.
    "ksql.migrations.topic.replicas": String(REPLICATION_FACTOR),
    "ksql.migrations.dir.override": `${MIGRATIONS_MOUNT_DIR}/migrations`,
  };
}

/** Java properties text; values here are URLs, names and numbers, so no escaping is needed (checked). */
export function propertiesText(props: Record<string, string>): string {
  return Object.keys(props)
    .sort()
    .map((k) => {
      const v = props[k];
      if (/[\\\n\r]/.test(v) || /[\s=:]/.test(k)) {
        throw new Error(`propertiesText: ${k}=${JSON.stringify(v)} needs Java properties escaping, which this writer does not do`);
      }
      return `${k}=${v}`;
    })
    .join("\n") + "\n";
}

/** `--define` arguments, refusing anything that would need shell quoting (the values are numbers by design). */
export function defineArguments(defines: Readonly<Record<string, string>>): string[] {
  return Object.keys(defines)
    .sort()
    .flatMap((k) => {
      const v = defines[k];
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) || !/^[A-Za-z0-9_.-]+$/.test(v)) {
        throw new Error(`defineArguments: --define ${k}=${JSON.stringify(v)}: expected an identifier and a plain value (letters, digits, _ . -)`);
      }
      return ["--define", `${k}=${v}`];
    });
}

/**
 * Init container script: poll /healthcheck until ksqlDB reports `"isHealthy":true`, bounded, with progress. Every
 * endpoint answers 503 while the server replays its command topic, and /healthcheck answers 200 with
 * isHealthy=false when Kafka or the metastore is unhealthy, so the body is what counts, not the status.
 */
export function waitScript(): string {
  return `#!/bin/sh
# Wait until ksqlDB at $KSQLDB_URL is healthy, at most $WAIT_TIMEOUT_SEC seconds.
set -u
start=$(date +%s)
attempt=0
while :; do
  attempt=$((attempt + 1))
  body=$(curl -sS --max-time 5 "$KSQLDB_URL/healthcheck" 2>&1) || true
  elapsed=$(( $(date +%s) - start ))
  case "$body" in
    *'"isHealthy":true'*)
      echo "ksqlDB at $KSQLDB_URL is healthy after \${elapsed}s ($attempt checks)"
      exit 0 ;;
  esac
  if [ "$elapsed" -ge "$WAIT_TIMEOUT_SEC" ]; then
    echo "ERROR: ksqlDB at $KSQLDB_URL/healthcheck not healthy after \${elapsed}s ($attempt checks; limit \${WAIT_TIMEOUT_SEC}s). Last answer: $body" >&2
    echo "Check the ksqldb pods (kubectl -n <kafka namespace> logs statefulset/ksqldb) and the brokers, then rerun pulumi up." >&2
    exit 1
  fi
  echo "waiting for ksqlDB (\${elapsed}s/\${WAIT_TIMEOUT_SEC}s, check $attempt): $(printf '%s' "$body" | head -c 200)"
  sleep "$WAIT_POLL_SEC"
done
`;
}

/**
 * Main container script. `initialize-metadata` is not idempotent (it issues CREATE STREAM / CREATE TABLE and fails
 * when they exist), so it runs only when `info` cannot find the metadata stream and table. `apply --all` applies
 * each version once and checks the checksums of already-applied files, so a rerun is a no-op.
 */
export function applyScript(defineArgs: readonly string[]): string {
  const config = `${MIGRATIONS_MOUNT_DIR}/${MIGRATIONS_PROPERTIES_FILE}`;
  return `#!/bin/bash
set -euo pipefail
config=${config}
echo "ksql-migrations: checking the migrations metadata (${KSQL_MIGRATIONS_STREAM}, ${KSQL_MIGRATIONS_TABLE})"
if ksql-migrations --config-file "$config" info; then
  echo "ksql-migrations: metadata present, not initializing again"
else
  echo "ksql-migrations: metadata missing, running initialize-metadata"
  if ! ksql-migrations --config-file "$config" initialize-metadata; then
    echo "ERROR: initialize-metadata failed. If the stream ${KSQL_MIGRATIONS_STREAM} exists without the table ${KSQL_MIGRATIONS_TABLE} (an interrupted first run), drop the stream in ksqlDB (DROP STREAM ${KSQL_MIGRATIONS_STREAM};) and rerun pulumi up." >&2
    exit 1
  fi
fi
echo "ksql-migrations: applying pending migrations"
ksql-migrations --config-file "$config" apply --all ${defineArgs.join(" ")}
echo "ksql-migrations: done"
ksql-migrations --config-file "$config" info
`;
}

/** ConfigMap data: the properties, both scripts, and every migration file under its own name. */
export function migrationsConfigMapData(args: KsqlMigrationsSpecArgs): Record<string, string> {
  const data: Record<string, string> = {
    [MIGRATIONS_PROPERTIES_FILE]: propertiesText(migrationsProperties(args.ksqldbUrl)),
    [WAIT_SCRIPT]: waitScript(),
    [APPLY_SCRIPT]: applyScript(defineArguments(args.defines)),
  };
  for (const f of args.files) {
    if (f.name in data) throw new Error(`migrationsConfigMapData: migration file name ${f.name} collides with a generated file`);
    data[f.name] = f.content;
  }
  return data;
}

/** Short SHA-256 over the ConfigMap data (keys sorted): it changes whenever anything the Job runs changes. */
export function contentHash(data: Record<string, string>): string {
  const h = createHash("sha256");
  for (const k of Object.keys(data).sort()) h.update(`${k}\0${data[k]}\0`);
  return h.digest("hex").slice(0, CONTENT_HASH_LENGTH);
}

/** Name of the Job and its ConfigMap for this content. */
export function migrationsResourceName(data: Record<string, string>): string {
  return `${KSQL_MIGRATIONS_APP}-${contentHash(data)}`;
}

/** Job spec. `configMapName` is the hash-named ConfigMap holding {@link migrationsConfigMapData}. */
export function migrationsJobSpec(args: KsqlMigrationsSpecArgs, configMapName: string): types.input.batch.v1.JobSpec {
  const volume = "migrations";
  const files = args.files.map((f) => ({ key: f.name, path: `migrations/${f.name}` }));
  return {
    backoffLimit: MIGRATIONS_BACKOFF_LIMIT,
    activeDeadlineSeconds: MIGRATIONS_DEADLINE_SEC,
    template: {
      metadata: { labels: workloadLabels(KSQL_MIGRATIONS_APP, false) },
      spec: {
        restartPolicy: "Never",
        enableServiceLinks: false,
        automountServiceAccountToken: false,
        securityContext: podSecurityContext(CP_UID),
        initContainers: [
          {
            name: "wait-for-ksqldb",
            image: mirrorImage(CURL_IMAGE, args.images),
            command: ["/bin/sh", `${MIGRATIONS_MOUNT_DIR}/${WAIT_SCRIPT}`],
            env: [
              { name: "KSQLDB_URL", value: args.ksqldbUrl },
              { name: "WAIT_TIMEOUT_SEC", value: String(KSQLDB_WAIT_TIMEOUT_SEC) },
              { name: "WAIT_POLL_SEC", value: String(KSQLDB_WAIT_POLL_SEC) },
            ],
            resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { memory: "32Mi" } },
            securityContext: { ...containerSecurityContext(true), runAsUser: CURL_UID, runAsGroup: CURL_GID },
            volumeMounts: [{ name: volume, mountPath: MIGRATIONS_MOUNT_DIR, readOnly: true }],
          },
        ],
        containers: [
          {
            name: KSQL_MIGRATIONS_APP,
            image: mirrorImage(KSQLDB_IMAGE, args.images),
            command: ["/bin/bash", `${MIGRATIONS_MOUNT_DIR}/${APPLY_SCRIPT}`],
            env: [{ name: "KSQL_HEAP_OPTS", value: MIGRATIONS_HEAP_OPTS }],
            resources: { requests: { cpu: "100m", memory: "512Mi" }, limits: { memory: "512Mi" } },
            securityContext: containerSecurityContext(false),
            volumeMounts: [{ name: volume, mountPath: MIGRATIONS_MOUNT_DIR, readOnly: true }],
          },
        ],
        volumes: [
          {
            name: volume,
            configMap: {
              name: configMapName,
              items: [
                { key: MIGRATIONS_PROPERTIES_FILE, path: MIGRATIONS_PROPERTIES_FILE },
                { key: WAIT_SCRIPT, path: WAIT_SCRIPT },
                { key: APPLY_SCRIPT, path: APPLY_SCRIPT },
                ...files,
              ],
            },
          },
        ],
      },
    },
  };
}

// ---- applied-migration guard ------------------------------------------------------------------------------------

/** One line of ksql/migrations.sha256 (`sha256sum` format): the file's hash when it was first recorded. */
export interface ManifestEntry {
  readonly sha256: string;
  readonly name: string;
}

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/** The manifest line for a file, as `sha256sum` prints it. */
export function manifestLine(f: MigrationFileContent): string {
  return `${sha256Hex(f.content)}  ${f.name}`;
}

export function parseManifest(text: string): ManifestEntry[] {
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"))
    .map((l, i) => {
      const m = /^([0-9a-f]{64}) {2}(\S+)$/.exec(l);
      if (!m) throw new Error(`ksql/migrations.sha256 line ${i + 1}: expected "<64 hex digits>  <file name>", got ${JSON.stringify(l)}`);
      return { sha256: m[1], name: m[2] };
    });
}

/**
 * Problems with the migration files against the manifest (empty when fine). ksql-migrations applies each version
 * once, so an edit to an applied file never reaches a running cluster (and its checksum check then fails every
 * later apply): a change must be a new file. The manifest is append-only: recorded entries keep their order and hash.
 */
export function manifestProblems(files: readonly MigrationFileContent[], manifest: readonly ManifestEntry[]): string[] {
  const problems: string[] = [];
  const byName = new Map(files.map((f) => [f.name, f]));
  manifest.forEach((entry, i) => {
    const f = byName.get(entry.name);
    if (f === undefined) {
      problems.push(`${entry.name} is recorded in ksql/migrations.sha256 but missing from ksql/migrations/: an applied migration must never be deleted or renamed; restore it.`);
      return;
    }
    const actual = sha256Hex(f.content);
    if (actual !== entry.sha256) {
      problems.push(`${entry.name} changed after it was recorded (expected sha256 ${entry.sha256}, got ${actual}). Applied migrations are immutable: revert the edit and put the change in a new file V${String(manifest.length + 1).padStart(6, "0")}__<what_changes>.sql.`);
    }
    if (files[i]?.name !== entry.name) {
      problems.push(`ksql/migrations.sha256 line ${i + 1} records ${entry.name}, but migration number ${i + 1} is ${files[i]?.name ?? "missing"}: entries follow the version order and are only ever appended.`);
    }
  });
  const recorded = new Set(manifest.map((e) => e.name));
  for (const f of files.filter((f) => !recorded.has(f.name))) {
    problems.push(`${f.name} is not recorded yet: append this line to ksql/migrations.sha256 (and never change the file afterwards):\n${manifestLine(f)}`);
  }
  return problems;
}
