/**
 * Pure builders for the tick source. EMIT FINAL closes a session window only when stream time on its partition
 * passes end + gap + grace; a partition that stops receiving heartbeats would hold its last sessions forever. The
 * ticker posts one heartbeat of the reserved user TICK_USER_ID per `heartbeats` partition to heartbeats_raw every
 * tick interval (through the Kafka Bridge), each with a video id that ksql/ticks.ts chose so its session key lands
 * on that partition. The SQL validates ticks like any heartbeat, and they contribute no points to any segment.
 */
import { mirrorImage, type ImageSourceSettings } from "../../contract/sources";
import type { types } from "@pulumi/kubernetes";
import { tickKeysForPartitions } from "../../ksql/ticks";
import { RAW_HEARTBEATS_TOPIC, type Heartbeat } from "../../contract/topics";
import { containerSecurityContext, CURL_GID, CURL_IMAGE, CURL_UID, podSecurityContext, selectorLabels, workloadLabels } from "./streamingSpecs";

export const SESSION_TICKER_APP = "session-ticker";
/** Token in the records file that the script replaces with the current epoch milliseconds on every attempt. */
export const NOW_TOKEN = "__NOW_MS__";
export const TICKER_SCRIPT = "tick.sh";
export const TICKER_RECORDS = "records.json";
export const TICKER_MOUNT_DIR = "/etc/watchpipe/session-ticker";
/** Content type of the Kafka Bridge's JSON embedded format (keys and values are JSON). */
export const BRIDGE_JSON_CONTENT_TYPE = "application/vnd.kafka.json.v2+json";
/**
 * Content type of the Bridge's binary embedded format: key and value are base64 of the record's bytes. The ticker
 * uses it because the JSON format would write a string key JSON-encoded (with its quotes), and V000004 rejects any
 * key that is not exactly the UTF-8 bytes of user_id|video_id (`key:`), which is also what the partitioner hashes.
 */
export const BRIDGE_BINARY_CONTENT_TYPE = "application/vnd.kafka.binary.v2+json";
/** Attempts per tick before it is skipped; the next tick comes one interval later anyway. */
export const TICK_MAX_ATTEMPTS = 3;
/** Pause between attempts of one tick. */
export const TICK_RETRY_DELAY_SEC = 2;
/** Per-request timeout: the Bridge answers in milliseconds unless the brokers are unavailable. */
export const TICK_REQUEST_TIMEOUT_SEC = 5;
/** File the loop touches every iteration; the liveness probe checks its age. */
export const TICKER_ALIVE_FILE = "/tmp/ticker-alive";

export interface SessionTickerSpecArgs {
  /** Base URL of the Kafka Bridge's HTTP API, e.g. http://events-bridge-bridge-service.kafka.svc:8080. */
  readonly bridgeUrl: string;
  /** Partitions of the `heartbeats` topic (the one the session query reads). */
  readonly heartbeatPartitions: number;
  readonly tickIntervalSec: number;
  /** `watchpipe:images`: the registry mirror to pull from (unset: the public registry). */
  readonly images?: ImageSourceSettings;
}

/**
 * The records, one line per `heartbeats_raw` partition: the base64 of the session key (user_id|video_id, chosen
 * by ksql/ticks.ts so Kafka's partitioner puts it on that partition), a space, and the value shaped like a player
 * heartbeat (contract/topics.ts `Heartbeat`) with event_ts left as a token, so every attempt carries the time it is
 * sent. The script base64-encodes each value after substituting the token (binary embedded format).
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
      // The token is written as a bare token so the substituted value has a JSON number there.
      return `${Buffer.from(t.key, "utf8").toString("base64")} ${JSON.stringify(value).replaceAll(`"${NOW_TOKEN}"`, NOW_TOKEN)}`;
    })
    .join("\n") + "\n";
}

/** Longest time one loop iteration can take: every attempt timing out, the pauses between them, then the sleep. */
export function worstCaseIterationSec(tickIntervalSec: number): number {
  return TICK_MAX_ATTEMPTS * TICK_REQUEST_TIMEOUT_SEC + (TICK_MAX_ATTEMPTS - 1) * TICK_RETRY_DELAY_SEC + tickIntervalSec;
}

/**
 * The loop. POSIX sh + curl only (the curl image is Alpine/busybox). A tick succeeds when the Bridge answers 200
 * with no per-record `error_code`; otherwise it is retried up to TICK_MAX_ATTEMPTS times and then logged and skipped.
 * ONCE=1 runs a single tick and exits 0/1 (used by the tests).
 */
export function tickerScript(): string {
  return `#!/bin/sh
set -u
url="$BRIDGE_URL/topics/$TOPIC"
work="\${TMPDIR:-/tmp}"
n=$(grep -c . "$RECORDS_FILE")
echo "session-ticker: $n tick records to $url every \${INTERVAL_SEC}s (at most $MAX_ATTEMPTS attempts each)"
tick=0
ok=0
failed=0
started=$(date +%s)
touch "$ALIVE_FILE"
while :; do
  tick=$((tick + 1))
  attempt=1
  sent=0
  while :; do
    now_ms="$(date +%s)000"
    body='{"records":['
    sep=''
    while read -r key value; do
      value64=$(printf '%s' "$value" | sed "s/${NOW_TOKEN}/$now_ms/g" | base64 | tr -d '\n')
      body="$body$sep{\\"key\\":\\"$key\\",\\"value\\":\\"$value64\\"}"
      sep=','
    done < "$RECORDS_FILE"
    printf '%s]}' "$body" > "$work/tick-body.json"
    code=$(curl -sS --max-time "$REQUEST_TIMEOUT_SEC" -o "$work/tick-response" -w '%{http_code}' \\
      -X POST -H 'Content-Type: ${BRIDGE_BINARY_CONTENT_TYPE}' --data-binary @"$work/tick-body.json" "$url" 2>"$work/tick-error") || code="000"
    if [ "$code" = "200" ] && ! grep -q '"error_code"' "$work/tick-response"; then
      sent=1
      break
    fi
    echo "session-ticker: tick $tick attempt $attempt/$MAX_ATTEMPTS failed: HTTP $code $(head -c 300 "$work/tick-response" 2>/dev/null) $(head -c 300 "$work/tick-error" 2>/dev/null)" >&2
    if [ "$attempt" -ge "$MAX_ATTEMPTS" ]; then
      break
    fi
    attempt=$((attempt + 1))
    sleep "$RETRY_DELAY_SEC"
  done
  : > "$work/tick-response"
  if [ "$sent" = 1 ]; then
    ok=$((ok + 1))
    elapsed=$(( $(date +%s) - started ))
    echo "session-ticker: tick $tick sent $n records at event_ts $now_ms (ok $ok, failed $failed, \${elapsed}s up)"
  else
    failed=$((failed + 1))
    echo "session-ticker: tick $tick skipped after $MAX_ATTEMPTS attempts (ok $ok, failed $failed); next in \${INTERVAL_SEC}s" >&2
  fi
  touch "$ALIVE_FILE"
  if [ "\${ONCE:-0}" = 1 ]; then
    [ "$sent" = 1 ] && exit 0
    exit 1
  fi
  sleep "$INTERVAL_SEC"
done
`;
}

/** ConfigMap data: the script and the records template. */
export function tickerConfigMapData(args: SessionTickerSpecArgs): Record<string, string> {
  return { [TICKER_SCRIPT]: tickerScript(), [TICKER_RECORDS]: tickRecordsTemplate(args.heartbeatPartitions) };
}

/** Environment of the ticker container (also what the tests give the script). */
export function tickerEnv(args: SessionTickerSpecArgs): Record<string, string> {
  return {
    BRIDGE_URL: args.bridgeUrl,
    TOPIC: RAW_HEARTBEATS_TOPIC,
    INTERVAL_SEC: String(args.tickIntervalSec),
    MAX_ATTEMPTS: String(TICK_MAX_ATTEMPTS),
    RETRY_DELAY_SEC: String(TICK_RETRY_DELAY_SEC),
    REQUEST_TIMEOUT_SEC: String(TICK_REQUEST_TIMEOUT_SEC),
    RECORDS_FILE: `${TICKER_MOUNT_DIR}/${TICKER_RECORDS}`,
    ALIVE_FILE: TICKER_ALIVE_FILE,
  };
}

/**
 * Deployment spec: one pod (two would only double the ticks), read-only root with /tmp on an emptyDir, liveness =
 * the loop is still iterating (Bridge failures are logged, not a reason to restart).
 */
export function sessionTickerDeploymentSpec(args: SessionTickerSpecArgs, configMapName: string): types.input.apps.v1.DeploymentSpec {
  const env = tickerEnv(args);
  const staleAfterSec = 2 * worstCaseIterationSec(args.tickIntervalSec);
  return {
    replicas: 1,
    selector: { matchLabels: selectorLabels(SESSION_TICKER_APP) },
    template: {
      metadata: { labels: workloadLabels(SESSION_TICKER_APP, false) },
      spec: {
        enableServiceLinks: false,
        automountServiceAccountToken: false,
        securityContext: podSecurityContext(CURL_UID, CURL_GID),
        containers: [
          {
            name: SESSION_TICKER_APP,
            image: mirrorImage(CURL_IMAGE, args.images),
            command: ["/bin/sh", `${TICKER_MOUNT_DIR}/${TICKER_SCRIPT}`],
            env: Object.keys(env).sort().map((name) => ({ name, value: env[name] })),
            resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { memory: "32Mi" } },
            securityContext: containerSecurityContext(true),
            livenessProbe: {
              exec: { command: ["/bin/sh", "-c", `test $(( $(date +%s) - $(stat -c %Y ${TICKER_ALIVE_FILE}) )) -lt ${staleAfterSec}`] },
              initialDelaySeconds: staleAfterSec,
              periodSeconds: 30,
              failureThreshold: 3,
            },
            volumeMounts: [
              { name: "config", mountPath: TICKER_MOUNT_DIR, readOnly: true },
              { name: "tmp", mountPath: "/tmp" },
            ],
          },
        ],
        volumes: [
          { name: "config", configMap: { name: configMapName } },
          { name: "tmp", emptyDir: { sizeLimit: "1Mi" } },
        ],
      },
    },
  };
}
