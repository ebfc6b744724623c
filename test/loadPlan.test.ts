/**
 * The load plan (contract/loadPlan.ts): every byte the pipeline writes and what it uses of each resource. Table-driven:
 * the stacks as configured, the design peak, and the sizes that would not carry it.
 */
import { describe, expect, it } from "vitest";
import type { AppConfig } from "../config";
import { stackConfigWith } from "./gatewayStack";
import {
  databasePlan, KSQLDB_HEARTBEATS_PER_CORE_SEC, LOAD_BUDGET, loadPlan, type LoadPlanInputs, overBudget, PIECE_ROW_BYTES, PIECES_PER_SEGMENT, ROLLUP_ROWS_PER_SEGMENT,
  SEGMENT_ROW_BYTES, SINK_CONNECT_CPU_US_PER_ROW, SINK_POSTGRES_CPU_US_PER_ROW, SINK_ROWS_PER_TASK_ON_POSTGRES, SINK_UPSERTS_PER_TASK_PER_SEC,
  YSQL_BYTES_PER_POSTGRES_BYTE, YSQL_SINK_SLOWDOWN,
} from "../contract/loadPlan";
import { loadInputsFor, stackLoadPlan } from "../tools/planModel";

/** A committed stack's validated config, as the plan reads it. */
const stack = (name: string): AppConfig => stackConfigWith(name);

const util = (inputs: LoadPlanInputs, resource: string) => loadPlan(inputs).resources.find((r) => r.resource === resource)!.utilization;

describe("prod carries the design peak at <= 50 % of every resource", () => {
  const config = stack("prod");
  const plan = stackLoadPlan(config);
  it("is sized for 100,000 heartbeats/s", () => expect(config.capacity.peakEventsPerSec).toBe(100_000));
  it.each(plan.resources.map((r) => [r.resource, r] as const))("%s", (_name, r) => {
    expect(r.utilization, `${r.resource}: ${r.used.toFixed(1)} of ${r.capacity} ${r.unit}`).toBeLessThanOrEqual(LOAD_BUDGET);
  });
  it("dev and local carry their own peaks within budget too", () => {
    for (const s of ["dev", "local"]) expect(overBudget(stackLoadPlan(stack(s))).map((r) => r.resource), s).toEqual([]);
  });
});

describe("every byte written, per heartbeat", () => {
  const plan = stackLoadPlan(stack("prod"));
  const per = Object.fromEntries(plan.topics.map((t) => [t.topic, Math.round(t.bytesPerHeartbeat * 10) / 10]));
  it.each([
    // raw JSON 250 + 8 overhead; validated Avro 75 + 8, 99 % of them; the window store's changelog (V000006: two
    // windows per heartbeat, each write the mean of 1..12 50-character points) 2 × (387.5 + 8); a final window
    // (12 points: 668 B) + 8 once per 6 heartbeats (one window closes per key and 30 s hop); one encoded piece
    // (97 characters: 125 B) and one piece likewise.
    ["heartbeats_raw", 258],
    ["heartbeats", 82.2],
    ["heartbeats_rejected", 3.4],
    ["window-store changelog", 791],
    ["heartbeat_sessions", 112.7],
    ["watch_segment_points", 22.2],
    ["watch_segments", 17.3],
    ["watch_segments_dlq", 0.5],
  ])("%s: %f B", (topic, bytes) => expect(per[topic]).toBe(bytes));
  it("lists every topic the pipeline writes, with its replication in what the brokers keep", () => {
    expect(plan.topics.map((t) => t.topic)).toHaveLength(8);
    const raw = plan.topics.find((t) => t.topic === "heartbeats_raw")!;
    // 300 M/day × 258 B × 1 day of retention × RF 3.
    expect(raw.retainedBytes).toBeCloseTo(300e6 * 258 * 3, -3);
  });
  it("daily leader bytes are the per-heartbeat sum × 300 M", () => {
    const sum = plan.topics.reduce((s, t) => s + t.bytesPerHeartbeat, 0);
    expect(plan.leaderBytesPerDay).toBeCloseTo(sum * 300e6, -3);
  });
  it("pieces per day (what the database and each backup dump gain) are the peak's pieces per heartbeat × 300 M", () => {
    // 16,500 pieces/s at 100,000 heartbeats/s: 0.165 per heartbeat, 49.5 M a day.
    expect(plan.piecesPerDay).toBeCloseTo((plan.piecesPerSec / 100_000) * 300e6, 0);
    expect(plan.piecesPerDay).toBeCloseTo(49.5e6, -5);
  });
});

describe("what breaks the budget, and by name", () => {
  const prod = loadInputsFor(stack("prod"));
  it.each([
    {
      name: "2 servers (as before the CPU was measured) on gp3 at baseline (125 MiB/s)",
      inputs: { ...prod, ksqldb: { ...prod.ksqldb, replicas: 2, volume: { ...prod.ksqldb.volume, throughputMiBps: 125, iops: 3000 } } },
      over: ["ksqlDB volume write throughput", "ksqlDB volume write IOPS", "ksqlDB volume space (state)", "ksqlDB server CPU"],
    },
    // The slowest of the 3 bench:ksql runs: 18 servers at 53 %; 21 (the heartbeat topics' partitions) carry it.
    { name: "18 servers at the slowest bench run's 1,735 heartbeats/s per core", inputs: { ...prod, ksqldb: { ...prod.ksqldb, heartbeatsPerCoreSec: 1735 } }, over: ["ksqlDB server CPU"] },
    { name: "21 servers at the slowest bench run's 1,735 heartbeats/s per core", inputs: { ...prod, ksqldb: { ...prod.ksqldb, replicas: 21, heartbeatsPerCoreSec: 1735 } }, over: [] },
    {
      name: "brokers on gp3 at baseline (125 MiB/s, 3,000 IOPS): V000006's changelog needs the provisioned throughput",
      inputs: { ...prod, brokerVolume: { ...prod.brokerVolume, throughputMiBps: 125, iops: 3000 } },
      over: ["broker volume write throughput", "broker volume write IOPS"],
    },
    { name: "ksqlDB volumes of 10 GiB", inputs: { ...prod, ksqldb: { ...prod.ksqldb, volume: { ...prod.ksqldb.volume, sizeGiB: 10 } } }, over: ["ksqlDB volume space (state)"] },
    { name: "6 sink tasks", inputs: { ...prod, sink: { ...prod.sink, tasks: 6 } }, over: ["sink upserts"] },
    {
      name: "twice the design peak",
      inputs: { ...prod, peakHeartbeatsPerSec: 200_000 },
      over: ["broker volume write throughput", "broker volume write IOPS", "broker network in", "broker network out", "ksqlDB volume write throughput", "ksqlDB server CPU", "sink upserts"],
    },
    { name: "a week of raw retention on 500 GiB brokers", inputs: { ...prod, brokerVolume: { ...prod.brokerVolume, sizeGiB: 500 }, retentionHours: { ...prod.retentionHours, raw: 168 } }, over: ["broker volume space (retention full)"] },
  ])("$name", ({ inputs, over }) => {
    expect(overBudget(loadPlan(inputs)).map((r) => r.resource)).toEqual(over);
  });
  it("per-heartbeat bytes do not change with load; per-server ksqlDB load halves with twice the servers", () => {
    const double = loadPlan({ ...prod, peakHeartbeatsPerSec: 200_000 });
    expect(double.topics.map((t) => t.bytesPerHeartbeat)).toEqual(loadPlan(prod).topics.map((t) => t.bytesPerHeartbeat));
    expect(util({ ...prod, ksqldb: { ...prod.ksqldb, replicas: prod.ksqldb.replicas * 2 } }, "ksqlDB volume space (state)")).toBeCloseTo(util(prod, "ksqlDB volume space (state)") / 2, 9);
  });
  it("refuses a plan without brokers or servers", () => {
    expect(() => loadPlan({ ...prod, brokers: 0 })).toThrow("loadPlan: brokers must be a positive number; got 0");
  });
});

describe("the database: rows, bytes at retention and writes, from the measured row sizes", () => {
  const prod = loadInputsFor(stack("prod"));
  const plan = loadPlan(prod);
  const db = plan.database;
  it("pieces a day are the sink's pieces/s over the plan's day (300 M heartbeats), segments 39.8 pieces each", () => {
    expect(db.piecesPerDay).toBeCloseTo(plan.piecesPerSec * 3000, 0);
    expect(db.segmentsPerDay).toBeCloseTo(db.piecesPerDay / PIECES_PER_SEGMENT, 3);
  });
  it("space at retention = (pieces × B × (piece days + 1) + segments × B × (segment days + 1)) × RF, spread over the tservers", () => {
    const f = YSQL_BYTES_PER_POSTGRES_BYTE;
    const d = prod.database;
    // Each retention plus the day partition being written.
    const expected = (db.piecesPerDay * PIECE_ROW_BYTES * f * (d.pieceRetentionDays + 1) + db.segmentsPerDay * SEGMENT_ROW_BYTES * f * (d.segmentRetentionDays + 1)) * 3;
    expect(db.retainedBytes).toBeCloseTo(expected, -3);
    const space = plan.resources.find((r) => r.resource === "YugabyteDB volume space (retention full)")!;
    expect(space.used).toBeCloseTo(expected / 3 / 2 ** 30, 3);
    expect(space.capacity).toBe(prod.database.storageGiB);
  });
  it("writes at peak: every piece once (the sink), a segment per 39.8 pieces and at most 2.33 rollup rows per segment (the job)", () => {
    expect(db.pieceWritesPerSec).toBe(plan.piecesPerSec);
    expect(db.segmentWritesPerSec).toBeCloseTo(plan.piecesPerSec / PIECES_PER_SEGMENT, 6);
    expect(db.rollupWritesPerSec).toBeCloseTo(db.segmentWritesPerSec * ROLLUP_ROWS_PER_SEGMENT, 6);
    expect(db.piecesPerRunAtPeak).toBeCloseTo(plan.piecesPerSec * 300, 3);
  });
  it.each([
    { name: "a year of pieces", database: { pieceRetentionDays: 365 }, over: true },
    { name: "segments for 1,000 days (the most config accepts) on the same volumes", database: { segmentRetentionDays: 1000 }, over: true },
    { name: "100 GiB per tserver", database: { storageGiB: 100 }, over: true },
    { name: "one tserver holding all three replicas' share alone", database: { tservers: 1 }, over: true },
    { name: "the configured retention", database: {}, over: false },
  ])("$name: over budget $over", ({ database, over }) => {
    const names = overBudget(loadPlan({ ...prod, database: { ...prod.database, ...database } })).map((r) => r.resource);
    expect(names.includes("YugabyteDB volume space (retention full)")).toBe(over);
  });
  it("refuses a database without tservers, naming the field", () => {
    expect(() => databasePlan({ ...prod.database, tservers: 0 }, 1, 1)).toThrow("loadPlan: database.tservers must be a positive number; got 0");
  });
});

describe("the sink, sized from the measured rate (npm run bench:sink)", () => {
  const prod = loadInputsFor(stack("prod"));
  const sinkUse = (inputs: LoadPlanInputs) => loadPlan(inputs).resources.find((r) => r.resource === "sink upserts")!;
  it("counts per task the PostgreSQL rate from CPU per row, over the YSQL factor", () => {
    expect(SINK_ROWS_PER_TASK_ON_POSTGRES).toBe(Math.floor(1e6 / (SINK_CONNECT_CPU_US_PER_ROW + SINK_POSTGRES_CPU_US_PER_ROW)));
    expect(SINK_UPSERTS_PER_TASK_PER_SEC).toBe(Math.floor(SINK_ROWS_PER_TASK_ON_POSTGRES / YSQL_SINK_SLOWDOWN));
    expect(prod.sink.upsertsPerTaskPerSec).toBe(SINK_UPSERTS_PER_TASK_PER_SEC);
  });
  it("prod's tasks all own a partition of watch_segments, and carry the design peak at <= 50 %", () => {
    expect(prod.sink.tasks).toBeLessThanOrEqual(prod.sink.sourcePartitions);
    expect(sinkUse(prod).capacity).toBe(prod.sink.tasks * SINK_UPSERTS_PER_TASK_PER_SEC);
    expect(sinkUse(prod).utilization).toBeLessThanOrEqual(LOAD_BUDGET);
  });
  it("tasks beyond the topic's partitions add nothing (they get no partition)", () => {
    const more = { ...prod, sink: { ...prod.sink, tasks: prod.sink.sourcePartitions * 2 } };
    expect(sinkUse(more).capacity).toBe(prod.sink.sourcePartitions * SINK_UPSERTS_PER_TASK_PER_SEC);
  });
  it("Connect's CPU is pieces/s × the measured µs per row over workers × cores", () => {
    const cpu = loadPlan(prod).resources.find((r) => r.resource === "Connect worker CPU (sink)")!;
    expect(cpu.used).toBeCloseTo((loadPlan(prod).piecesPerSec * SINK_CONNECT_CPU_US_PER_ROW) / 1e6, 6);
    expect(cpu.capacity).toBe(prod.sink.workers * prod.sink.cpuPerWorker);
    expect(prod.sink.cpuPerWorker).toBe(2);
  });
});

describe("ksqlDB's CPU, from the measured heartbeats per core (npm run bench:ksql)", () => {
  const prod = loadInputsFor(stack("prod"));
  const cpu = (inputs: LoadPlanInputs) => loadPlan(inputs).resources.find((r) => r.resource === "ksqlDB server CPU")!;
  it("prod's servers carry 100,000 heartbeats/s at <= 50 % of the CPU they request", () => {
    expect(prod.peakHeartbeatsPerSec).toBe(100_000);
    expect(prod.ksqldb.heartbeatsPerCoreSec).toBe(KSQLDB_HEARTBEATS_PER_CORE_SEC);
    expect(cpu(prod).used).toBeCloseTo(100_000 / KSQLDB_HEARTBEATS_PER_CORE_SEC, 6);
    expect(cpu(prod).capacity).toBe(prod.ksqldb.replicas * prod.ksqldb.cpuPerServer);
    expect(cpu(prod).utilization).toBeLessThanOrEqual(LOAD_BUDGET);
  });
  it("the sizing before the measurement (2 servers × 4 CPU) would not carry the design peak", () => {
    const before = { ...prod, ksqldb: { ...prod.ksqldb, replicas: 2, cpuPerServer: 4 } };
    expect(cpu(before).utilization).toBeGreaterThan(1);
    expect(overBudget(loadPlan(before)).map((r) => r.resource)).toContain("ksqlDB server CPU");
  });
  it("refuses a plan without a per-core figure, naming it", () => {
    expect(() => loadPlan({ ...prod, ksqldb: { ...prod.ksqldb, heartbeatsPerCoreSec: 0 } })).toThrow("loadPlan: ksqldbHeartbeatsPerCoreSec must be a positive number; got 0");
  });
});
