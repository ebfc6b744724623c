/**
 * Reading ksql-test-runner vectors (ksql/tests/<case>/input.json + output.json) and running their inputs through
 * the reference model, producing records in the runner's output format for comparison.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { REJECTED_HEARTBEATS_TOPIC, RAW_HEARTBEATS_TOPIC, WATCH_SEGMENTS_TOPIC } from "../contract/topics";
import { type SessionizationParams, SESSION_KEY_SEPARATOR } from "../contract/sessionization";
import { type EngineOptions, RawPipelineModel, type PieceRecord } from "./model/pipeline";

export const VECTORS_DIR = path.join(__dirname, "tests");

/** One record as ksql-test-runner's input/output JSON files spell it. */
export interface RunnerRecord {
  readonly topic: string;
  readonly key: unknown;
  readonly value: unknown;
  readonly timestamp?: number;
  readonly window?: { readonly start: number; readonly end: number; readonly type: string };
}

export interface Vector {
  readonly name: string;
  readonly inputs: RunnerRecord[];
  readonly outputs: RunnerRecord[];
}

export function loadVectors(dir: string = VECTORS_DIR): Vector[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(path.join(dir, d.name, "input.json")))
    .map((d) => {
      const read = (f: string): Record<string, RunnerRecord[]> => JSON.parse(readFileSync(path.join(dir, d.name, f), "utf8"));
      const outputs = existsSync(path.join(dir, d.name, "output.json")) ? read("output.json").outputs : [];
      return { name: d.name, inputs: read("input.json").inputs, outputs };
    })
    .sort((a, b) => (a.name < b.name ? -1 : 1));
}

function pieceRecord(r: PieceRecord): RunnerRecord {
  const p = r.piece;
  return {
    topic: WATCH_SEGMENTS_TOPIC,
    key: p.user_id + SESSION_KEY_SEPARATOR + p.video_id,
    value: { ...p },
    timestamp: r.timestamp,
    window: { start: r.window.start, end: r.window.end, type: "time" },
  };
}

/**
 * Runs a vector's inputs through the model (no end-of-input close: the runner does not close windows either) and
 * returns the records of the topics the vectors assert on, in order.
 */
export function runVectorThroughModel(inputs: readonly RunnerRecord[], params: SessionizationParams, engine?: EngineOptions): RunnerRecord[] {
  const model = new RawPipelineModel(params, engine);
  const out: RunnerRecord[] = [];
  inputs.forEach((rec, i) => {
    if (rec.topic !== RAW_HEARTBEATS_TOPIC) throw new Error(`inputs[${i}].topic: expected ${RAW_HEARTBEATS_TOPIC}, got ${rec.topic}`);
    if (typeof rec.timestamp !== "number") throw new Error(`inputs[${i}].timestamp: expected the record timestamp (epoch ms), got ${rec.timestamp}`);
    if (rec.key !== null && typeof rec.key !== "string") throw new Error(`inputs[${i}].key: expected the record key as a string or null, got ${JSON.stringify(rec.key)}`);
    const o = model.push({ key: rec.key, value: rec.value, timestamp: rec.timestamp });
    if (o.kind === "rejected") out.push({ topic: REJECTED_HEARTBEATS_TOPIC, key: o.record.key, value: o.record.value, timestamp: o.record.timestamp });
    if (o.kind === "valid") {
      for (const p of o.pieces) out.push(pieceRecord(p));
    }
  });
  return out;
}

/** Value fields the SQL declares DOUBLE, per output topic: ksql-test-runner compares JSON outputs literally (1.0). */
export const DOUBLE_FIELDS: Readonly<Record<string, readonly string[]>> = {
  [REJECTED_HEARTBEATS_TOPIC]: ["position_sec"],
  [WATCH_SEGMENTS_TOPIC]: ["first_position_sec", "last_position_sec", "min_position_sec", "max_position_sec"],
};

const DOUBLE_MARK = "@@double@@";

/**
 * JSON text of a vector file (one space indent, like the existing files) with every DOUBLE field written as a Java
 * double prints it: an integral value gets ".0" (`1.0`, not `1`).
 */
export function vectorFileText(doc: { inputs: readonly RunnerRecord[] } | { outputs: readonly RunnerRecord[] }): string {
  const marked = JSON.parse(JSON.stringify(doc)) as Record<string, RunnerRecord[]>;
  for (const list of Object.values(marked)) {
    for (const r of list) {
      const fields = DOUBLE_FIELDS[r.topic] ?? [];
      const v = r.value as Record<string, unknown> | null;
      if (v === null || typeof v !== "object" || !("outputs" in doc)) continue;
      for (const f of fields) {
        const x = v[f];
        if (typeof x === "number" && Number.isInteger(x)) v[f] = `${DOUBLE_MARK}${x}.0`;
      }
    }
  }
  // One record per line: readable in a diff, and the 24-hour vector stays a few MB instead of tens.
  const [listName, list] = Object.entries(marked)[0];
  const body = list.map((r) => JSON.stringify(r)).join(",\n");
  const text = `{"${listName}": [\n${body}\n]}\n`;
  return text.replace(new RegExp(`"${DOUBLE_MARK}([-0-9.]+)"`, "g"), "$1");
}
