/**
 * The maintenance job's call (connectors/maintenance.ts): the close delay it derives from the sessionization
 * parameters, and the one statement it builds, refused with the field named when a parameter is out of range. The
 * statement's behaviour on a real database is test/real/maintenance.test.ts.
 */
import { describe, expect, it } from "vitest";
import {
  closeDelayMs,
  DEFAULT_PARTITIONS_AHEAD_DAYS,
  DEFAULT_PIECE_RETENTION_DAYS,
  DEFAULT_SEGMENT_RETENTION_DAYS,
  MAINTENANCE_SAFETY_MARGIN_MS,
  MAINTENANCE_SINK_LAG_MS,
  maintenanceSql,
  type MaintenanceParams,
} from "../connectors/maintenance";
import { DEFAULT_SESSIONIZATION_PARAMS, worstCaseCloseDelaySec } from "../contract/sessionization";

const OK: MaintenanceParams = {
  closeDelayMs: 350_100, pieceRetentionDays: DEFAULT_PIECE_RETENTION_DAYS,
  segmentRetentionDays: DEFAULT_SEGMENT_RETENTION_DAYS, partitionsAheadDays: DEFAULT_PARTITIONS_AHEAD_DAYS,
};

describe("closeDelayMs", () => {
  it("is one session gap + the worst-case close delay + sink lag + margin: 350.1 s with the defaults", () => {
    expect(closeDelayMs(DEFAULT_SESSIONIZATION_PARAMS)).toBe(
      30_000 + worstCaseCloseDelaySec(DEFAULT_SESSIONIZATION_PARAMS) * 1000 + MAINTENANCE_SINK_LAG_MS + MAINTENANCE_SAFETY_MARGIN_MS);
    expect(closeDelayMs(DEFAULT_SESSIONIZATION_PARAMS)).toBe(350_100);
  });

  it("grows with the gap, the grace period and the tick interval", () => {
    const base = closeDelayMs(DEFAULT_SESSIONIZATION_PARAMS);
    expect(closeDelayMs({ ...DEFAULT_SESSIONIZATION_PARAMS, sessionGapSec: 60 })).toBe(base + 30_000);
    expect(closeDelayMs({ ...DEFAULT_SESSIONIZATION_PARAMS, gracePeriodSec: 120 })).toBe(base + 60_000);
    expect(closeDelayMs(DEFAULT_SESSIONIZATION_PARAMS, 20)).toBe(base + 20_000);
  });
});

describe("maintenanceSql", () => {
  it("calls watchpipe_maintain once with the four parameters, in the function's order", () => {
    expect(maintenanceSql(OK)).toBe(
      "SELECT segments_closed, segments_amended, pieces_read, late_pieces, partitions_created, partitions_dropped, " +
        "closed_until FROM watchpipe_maintain(350100::bigint, 2, 400, 7)");
  });

  it.each([
    [{ closeDelayMs: -1 }, /maintenance closeDelayMs: expected an integer 0\.\.604800000 .*got -1/],
    [{ closeDelayMs: 1.5 }, /closeDelayMs: expected an integer/],
    [{ pieceRetentionDays: 0 }, /maintenance pieceRetentionDays: expected an integer 1\.\.1000 .*got 0/],
    [{ segmentRetentionDays: Number.NaN }, /maintenance segmentRetentionDays: expected an integer 1\.\.1000 .*got null/],
    [{ partitionsAheadDays: 61 }, /maintenance partitionsAheadDays: expected an integer 1\.\.60 .*got 61/],
    [{ pieceRetentionDays: 10, segmentRetentionDays: 5 }, /segmentRetentionDays: expected >= pieceRetentionDays \(10\).*got 5/],
  ])("refuses %j naming the field", (bad, message) => {
    expect(() => maintenanceSql({ ...OK, ...bad })).toThrow(message);
  });
});
