/**
 * Reading ksql-test-runner vectors (ksql/tests/<case>/input.json + output.json) and running their inputs through
 * the reference model, producing records in the runner's output format for comparison.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { REJECTED_HEARTBEATS_TOPIC, RAW_HEARTBEATS_TOPIC, WATCH_SEGMENTS_TOPIC } from "../contract/topics";
import { type SessionizationParams, SESSION_KEY_SEPARATOR } from "../contract/sessionization";
import { RawPipelineModel, type SegmentRecord } from "./model/pipeline";

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
      return { name: d.name, inputs: read("input.json").inputs, outputs: read("output.json").outputs };
    })
    .sort((a, b) => (a.name < b.name ? -1 : 1));
}

function segmentRecord(r: SegmentRecord): RunnerRecord {
  const s = r.segment;
  return {
    topic: WATCH_SEGMENTS_TOPIC,
    key: s.user_id + SESSION_KEY_SEPARATOR + s.video_id,
    value: { ...s },
    timestamp: r.timestamp,
    window: { start: r.windowStart, end: r.timestamp, type: "session" },
  };
}

/**
 * Runs a vector's inputs through the model (no end-of-input close: the runner does not close windows either) and
 * returns the records of the topics the vectors assert on, in order.
 */
export function runVectorThroughModel(inputs: readonly RunnerRecord[], params: SessionizationParams): RunnerRecord[] {
  const model = new RawPipelineModel(params);
  const out: RunnerRecord[] = [];
  inputs.forEach((rec, i) => {
    if (rec.topic !== RAW_HEARTBEATS_TOPIC) throw new Error(`inputs[${i}].topic: expected ${RAW_HEARTBEATS_TOPIC}, got ${rec.topic}`);
    if (typeof rec.timestamp !== "number") throw new Error(`inputs[${i}].timestamp: expected the record timestamp (epoch ms), got ${rec.timestamp}`);
    const o = model.push({ value: rec.value, timestamp: rec.timestamp });
    if (o.kind === "rejected") out.push({ topic: REJECTED_HEARTBEATS_TOPIC, key: null, value: o.record.value, timestamp: o.record.timestamp });
    if (o.kind === "valid") {
      for (const s of o.segments) out.push(segmentRecord(s));
    }
  });
  return out;
}
