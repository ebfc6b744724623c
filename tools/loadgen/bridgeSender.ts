/**
 * Bridge mode: POSTs heartbeats to the Strimzi Kafka Bridge the way a player backend would.
 * API (Strimzi Kafka Bridge, v2 binary embedded format): POST {base}/topics/{topic} with
 * Content-Type application/vnd.kafka.binary.v2+json and body {"records":[{"key":..,"value":..,"headers":[..]}]},
 * key and value base64 of the record's bytes; the answer is {"offsets":[{"partition":p,"offset":o} |
 * {"error_code":c,"message":m}]}, one entry per record. Header values are base64 too. The binary format, not the
 * JSON one: the JSON format writes a string key JSON-encoded (with its quotes), and ksqlDB (V000004) rejects a key
 * that is not exactly the bytes of user_id|video_id. TLS to the bridge uses Node's trust store (NODE_EXTRA_CA_CERTS).
 */
import { SEQ_HEADER, type LoadRecord } from "./records";
import type { SendResult } from "./kafkaSender";
import { ConnectionError } from "../exitCodes";

export const BRIDGE_JSON_CONTENT_TYPE = "application/vnd.kafka.json.v2+json";
export const BRIDGE_BINARY_CONTENT_TYPE = "application/vnd.kafka.binary.v2+json";
export const BRIDGE_ACCEPT = "application/vnd.kafka.v2+json";

export interface BridgeRecord {
  /** base64 of the key's UTF-8 bytes (the session key). */
  readonly key: string;
  /** base64 of the value's bytes: the heartbeat's JSON text, or a malformed record's text as it is. */
  readonly value: string;
  readonly headers: readonly { readonly key: string; readonly value: string }[];
}

const b64 = (text: string): string => Buffer.from(text, "utf8").toString("base64");

/** Pure: the POST body for a batch. */
export function bridgeRequestBody(records: readonly LoadRecord[], runId: string): { records: BridgeRecord[] } {
  return {
    records: records.map((r) => ({
      key: b64(r.key),
      value: b64(r.value),
      headers: [{ key: SEQ_HEADER, value: b64(`${runId}:${r.seq}`) }],
    })),
  };
}

interface BridgeOffset {
  readonly partition?: number;
  readonly offset?: number;
  readonly error_code?: number;
  readonly message?: string;
}

/** Pure: which records (by index) a 200 answer says the bridge accepted, and the first per-record error. */
export function countBridgeAcks(body: unknown, sent: number): { ackedIndexes: number[]; error: string | null } {
  const offsets = (body as { offsets?: unknown } | null)?.offsets;
  if (!Array.isArray(offsets) || offsets.length !== sent) {
    return { ackedIndexes: [], error: `bridge answer has ${Array.isArray(offsets) ? offsets.length : "no"} offsets, expected ${sent}` };
  }
  const ackedIndexes: number[] = [];
  let error: string | null = null;
  (offsets as BridgeOffset[]).forEach((o, i) => {
    if (o.error_code === undefined && typeof o.offset === "number") ackedIndexes.push(i);
    else error ??= `error_code ${o.error_code ?? "?"}: ${o.message ?? "(no message)"}`;
  });
  return { ackedIndexes, error };
}

/** One bridge lane: one POST in flight (the bridge's own producer handles batching and idempotence). */
export class BridgeLane {
  constructor(
    private readonly baseUrl: string,
    private readonly topic: string,
    private readonly runId: string,
    private readonly timeoutMs: number,
  ) {}

  async send(records: readonly LoadRecord[]): Promise<SendResult> {
    const started = Date.now();
    const url = `${this.baseUrl.replace(/\/+$/, "")}/topics/${encodeURIComponent(this.topic)}`;
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": BRIDGE_BINARY_CONTENT_TYPE, accept: BRIDGE_ACCEPT },
        body: JSON.stringify(bridgeRequestBody(records, this.runId)),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      const text = await res.text();
      if (res.status !== 200) {
        throw new Error(`POST ${url} returned HTTP ${res.status}, expected 200: ${text.slice(0, 500)}`);
      }
      const { ackedIndexes, error } = countBridgeAcks(JSON.parse(text) as unknown, records.length);
      const latencyMs = Date.now() - started;
      const ackedRecords = ackedIndexes.map((i) => records[i]!);
      const acked = ackedRecords.length;
      if (acked === records.length) return { acked, failed: 0, ackedRecords, latencyMs };
      const msg = `bridge accepted ${acked} of ${records.length} records at ${url}: ${error ?? "unknown error"}`;
      return { acked, failed: records.length - acked, ackedRecords, latencyMs, error: new Error(msg) };
    } catch (err) {
      return { acked: 0, failed: records.length, ackedRecords: [], latencyMs: Date.now() - started, error: err instanceof Error ? err : new Error(String(err)) };
    }
  }

  async close(): Promise<void> {}
}

/** A bridge that does not answer this fast is not there (its health endpoint answers in milliseconds). */
export const BRIDGE_PROBE_TIMEOUT_MS = 5_000;

/**
 * Checks the bridge answers at all before a run: any HTTP answer will do (the base path may be 404); no answer (refused,
 * unknown host, timeout) is a ConnectionError naming host:port, so the tool exits 2 instead of counting every record
 * as failed.
 */
export async function probeBridge(baseUrl: string, fetchImpl: typeof fetch = fetch): Promise<void> {
  await probeHttp(baseUrl, { what: "the Kafka Bridge", flag: "--bridge-url", path: "/healthy", hint: "the bridge Service, or a port-forward to it" }, fetchImpl);
}

/** Any HTTP answer from `baseUrl + path` will do; no answer fails as a ConnectionError naming the flag to check. */
export async function probeHttp(
  baseUrl: string,
  target: { readonly what: string; readonly flag: string; readonly path: string; readonly hint: string },
  fetchImpl: typeof fetch = fetch,
): Promise<void> {
  const url = new URL(baseUrl);
  const endpoint = `${url.hostname}:${url.port || (url.protocol === "https:" ? "443" : "80")}`;
  try {
    await fetchImpl(`${baseUrl.replace(/\/+$/, "")}${target.path}`, { signal: AbortSignal.timeout(BRIDGE_PROBE_TIMEOUT_MS) });
  } catch (err) {
    const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : err instanceof Error ? err.message : String(err);
    throw new ConnectionError(endpoint, `cannot reach ${target.what} at ${endpoint} (${cause}); check ${target.flag} ${baseUrl} (${target.hint}).`, { cause: err });
  }
}
