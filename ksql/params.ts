/**
 * Sessionization parameters: stack config (`watchpipe:sessionization`) overrides these defaults. The SQL migrations,
 * the reference model and the tick source all take the same values.
 */

/** Silence longer than this ends a segment: six missed 5 s heartbeats, so one lost request never splits a segment. */
export const DEFAULT_SESSION_GAP_SEC = 30;
/** Heartbeats arriving up to this late (event time behind stream time) still count; later ones are dropped. */
export const DEFAULT_GRACE_PERIOD_SEC = 60;
/** A playhead jump or pause differing from elapsed wall time by more than this starts a new segment. */
export const DEFAULT_SEEK_TOLERANCE_SEC = 10;
/** How often the tick source advances stream time on every partition so quiet partitions still close sessions. */
export const DEFAULT_TICK_INTERVAL_SEC = 10;
