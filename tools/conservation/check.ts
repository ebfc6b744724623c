/**
 * The conservation check against a live pipeline: reads every place a heartbeat can end (tools/conservation/read.ts)
 * and does the accounting (tools/conservation/accounting.ts). Used by `npm run conserve` and the end-to-end suite.
 */
import { REJECTED_HEARTBEATS_TOPIC, RAW_HEARTBEATS_TOPIC } from "../../contract/topics";
import { KSQL_PROCESSING_LOG_TOPIC } from "../../contract/acls";
import type { Connection } from "../report";
import { conserve, type Conservation, type ConservationInput, type RawRecord, type UndecodableEntry } from "./accounting";
import { readPieceTotals, readRaw, readRejects, readUndecodable } from "./read";

export interface CheckTarget {
  readonly bootstrap: string;
  readonly db: Connection;
  readonly rawTopic?: string;
  readonly rejectedTopic?: string;
  readonly processingLogTopic?: string;
  /** Undecodable records found elsewhere (ksqlDB servers' own logs: undecodableFromServerLog). */
  readonly extraUndecodable?: readonly UndecodableEntry[];
  /** Keep only runs starting with one of these (default: every run). */
  readonly runPrefixes?: readonly string[];
}

export interface CheckResult {
  readonly conservation: Conservation;
  /** What was read (every run), for callers that account for subsets or predict segments from the raw records. */
  readonly input: ConservationInput & { readonly raw: readonly RawRecord[] };
  readonly readMs: number;
}

export async function checkConservation(t: CheckTarget): Promise<CheckResult> {
  const started = Date.now();
  const rawTopic = t.rawTopic ?? RAW_HEARTBEATS_TOPIC;
  const [raw, rejects, undecodable, pieces] = await Promise.all([
    readRaw(t.bootstrap, rawTopic),
    readRejects(t.bootstrap, t.rejectedTopic ?? REJECTED_HEARTBEATS_TOPIC),
    readUndecodable(t.bootstrap, t.processingLogTopic ?? KSQL_PROCESSING_LOG_TOPIC, rawTopic),
    readPieceTotals(t.db),
  ]);
  const prefixes = t.runPrefixes ?? [];
  const input = { raw, rejects, undecodable: [...undecodable, ...(t.extraUndecodable ?? [])], pieces };
  const conservation = conserve({
    ...input,
    ...(prefixes.length === 0 ? {} : { keepRun: (run: string) => prefixes.some((p) => run.startsWith(p)) }),
  });
  return { conservation, input, readMs: Date.now() - started };
}
