-- V000006 (issue 21): a heartbeat delivered twice counts once. Windows hop (60 s, advance 30 s) on arrival time, a
-- point carries the heartbeat's identity, and pieces are cut on the player's clock and anchored on ours.
--
-- Why: V000004 collects distinct (played_at, playhead) points per 30 s tumbling window of arrival time. A body the
-- player re-sends 1-3 s later (an HTTP retry: same event_ts, sent_at and playhead) arrives at another ROWTIME, so it
-- has another played_at and is a second point: heartbeat_count + 1 (measured on ksqlDB 8.3.1 end to end: 119 of 120
-- re-sent bodies counted twice). When the copy lands in the next arrival window, no per-window set can see it. Here:
--   * identity: within its session key a heartbeat is (event_ts, playhead ms); copies count once and the FIRST
--     arrival wins (its played_at is used);
--   * a point is event_ts(13) + playhead ms(11) + arrival ROWTIME(13) + played_at(13), fixed width, so string order
--     is (event_ts, playhead, arrival) order: copies are adjacent and the first arrival comes first;
--   * windows HOP: size 60 s, advance 30 s, on ROWTIME, EMIT FINAL. A record lies in two windows. Window [w, w+60 s)
--     OWNS the records that arrived in its newer half [w+30 s, w+60 s): only those become pieces there. Its older
--     half was owned by the previous window and serves only to recognise copies. Each record is owned by exactly
--     one window; a copy arriving <= 30 s after its original is always recognised (up to 60 s sometimes); the owning
--     window closes when V000004's tumbling window [w+30 s, w+60 s) did, so emission is not delayed;
--   * the piece rules (gap, seek tolerance, max rate) take dt = the difference of event_ts between consecutive points
--     (the player's clock, for order and distance within its own session); a piece's times are on our clock,
--     anchored on its last point: end_ts = played_at(last), start_ts = end_ts - (event_ts(last) - event_ts(first)).
--     So start_ts <= end_ts always, and a burst without sent_at keeps its true length, ending at its arrival.
--
-- Relies on:
--   * V000004's heartbeats stream (columns event_ts, position_sec, played_at; record timestamp = arrival) and its
--     topics: heartbeat_sessions, watch_segment_points (made by the SQL: PARTITIONS / REPLICAS) and watch_segments
--     (a program KafkaTopic: PARTITIONS / RETENTION_MS from --define). ACLs and topic plans are unchanged;
--   * Schema Registry, compatibility BACKWARD: heartbeat_sessions keeps its value schema (an array of strings, now
--     50-character points), watch_segment_points too (a string, now a 97-character piece), watch_segments keeps
--     watchpipe.WatchPiece exactly;
--   * ksqlDB 8.3.1: ROWTIME may be read inside an aggregate's argument; WINDOWSTART is a column of a stream read
--     over a windowed topic; REDUCE's lambda sees only its state and element, so the state carries what it needs
--     (element 1 is a header); SLICE(array, 2, NULL) is the rest of the array (empty when only the header is left,
--     and EXPLODE of an empty array writes no row); CASE evaluates only the branch it takes;
--   * server config as before (collect_set limit, now per 60 s window; windowstore changelog retention;
--     exactly_once_v2). V000005's heartbeats_late reads heartbeats_rejected, which this file leaves alone.
-- The WINDOW clause takes literal numbers only (2 x PIECE_WINDOW_SEC, PIECE_WINDOW_SEC, WINDOW_RETENTION_SEC,
-- SQL_GRACE_PERIOD_SEC; a unit test keeps them equal). ksql/model/ mirrors every rule; ksql/README.md explains it.
--
-- Cutover (what happens to records in flight), applied by the migrations Job like every version:
--   1. The Job runs this file. Its statements run back to back (seconds): the four sessionization sources are
--      dropped (their topics stay; heartbeats_raw_keyed, heartbeats, heartbeats_rejected and heartbeats_late keep
--      running), then created again in dependency order.
--   2. The new windowed query starts at the END of `heartbeats` (auto.offset.reset=latest below): nothing V000004
--      already counted is counted again.
--   3. Not counted, once: heartbeats that sat in V000004's windows still open at the DROP (the last window + grace,
--      at most ~90 s of each playing viewer; with the ticker on, every older window has been emitted already, so run
--      it with the ticker on) and heartbeats written to `heartbeats` while the statements run. The first owning
--      window of each key also sees no older half, so a copy of a heartbeat counted by V000004 is counted again,
--      once. Apply it at the quietest hour; on a new environment (no traffic yet) nothing is lost.
--   4. The downstream queries (windows -> pieces) are created before the windowed table emits anything (its first
--      window closes 60 s + grace after its first record), so no window is skipped between them.
-- A rerun after a partial failure is safe: every DROP and CREATE is guarded, and the whole file is re-applied.

SET 'auto.offset.reset' = 'latest';

DROP STREAM IF EXISTS watch_pieces;
DROP STREAM IF EXISTS watch_pieces_encoded;
DROP STREAM IF EXISTS heartbeat_windows_final;
DROP TABLE IF EXISTS heartbeat_windows;

-- One row per (session key, 60 s window of ARRIVAL time hopping by 30 s) once the window is final (EMIT FINAL:
-- emitted once when stream time reaches its end + grace, never a tombstone). GROUP BY the key column: no
-- repartition. The value is the window's distinct points, sorted once (sorting again downstream made 8.3.1 return
-- NULL). ROWTIME here is the arrival time V000004 carries on. RETENTION 6 h as V000004 (store and loss rule
-- unchanged). Ticks (user '__tick__') contribute only ''.
CREATE TABLE IF NOT EXISTS heartbeat_windows WITH (
  KAFKA_TOPIC = 'heartbeat_sessions',
  KEY_FORMAT = 'KAFKA',
  VALUE_FORMAT = 'AVRO',
  PARTITIONS = ${sessionsPartitions},
  REPLICAS = ${replicas}
) AS SELECT
  session_key,
  ARRAY_SORT(COLLECT_SET(
    CASE WHEN user_id = '__tick__' THEN ''
    ELSE CONCAT(
      LPAD(CAST(event_ts AS STRING), 13, '0'),
      LPAD(CAST(ROUND(position_sec * 1000) AS STRING), 11, '0'),
      LPAD(CAST(ROWTIME AS STRING), 13, '0'),
      LPAD(CAST(played_at AS STRING), 13, '0'))
    END
  )) AS `points`
FROM heartbeats
WINDOW HOPPING (SIZE 60000 MILLISECONDS, ADVANCE BY 30000 MILLISECONDS, RETENTION 21600000 MILLISECONDS, GRACE PERIOD 60000 MILLISECONDS)
GROUP BY session_key
EMIT FINAL;

-- The final windows read back as a stream (time-windowed key), so a table function can turn each into rows and
-- WINDOWSTART names the window.
CREATE STREAM IF NOT EXISTS heartbeat_windows_final (
  session_key STRING KEY,
  `points` ARRAY<STRING>
) WITH (
  KAFKA_TOPIC = 'heartbeat_sessions',
  KEY_FORMAT = 'KAFKA',
  VALUE_FORMAT = 'AVRO',
  WINDOW_TYPE = 'HOPPING',
  WINDOW_SIZE = '60000 MILLISECONDS'
);

-- Pieces of the points the window owns. REDUCE walks the sorted points with a state whose element 1 is a header:
--   1-13 cutoff = WINDOWSTART + 30 s (points that arrived before it belong to the older half),
--   14-37 identity (event_ts + playhead) of the last point seen (24 nines at first: no playhead has 11 nines).
-- Elements 2.. are 97-character pieces:
--   1-13 first event_ts, 14-24 first playhead ms, 25-37 last event_ts, 38-48 last playhead ms, 49-59 lowest playhead
--   ms, 60-70 highest playhead ms, 71-80 distinct heartbeats, 81-84 piece number in the window, 85-97 last played_at.
-- Per point x: the same identity as the last point seen -> a copy, skipped; arrived before the cutoff -> only its
-- identity is recorded; otherwise it continues the last piece iff, against that piece's last point, dt <= gap and
-- -tolerance <= dplayhead <= maxRate*dt + tolerance (ms, dt from event_ts; maxRate in thousandths:
-- 1000*dplayhead <= maxRatePermille*dt + 1000*tolerance), else it starts a new piece; its identity is recorded.
-- SLICE drops the header; EXPLODE turns the rest into one row per piece (none when no point is owned). Ticks are
-- dropped by the WHERE, which runs before the table function.
CREATE STREAM IF NOT EXISTS watch_pieces_encoded WITH (
  KAFKA_TOPIC = 'watch_segment_points',
  KEY_FORMAT = 'KAFKA',
  VALUE_FORMAT = 'AVRO',
  PARTITIONS = ${sessionsPartitions},
  REPLICAS = ${replicas}
) AS SELECT
  session_key,
  EXPLODE(SLICE(REDUCE(
      `points`,
      ARRAY[CONCAT(LPAD(CAST(WINDOWSTART + 30000 AS STRING), 13, '0'), '999999999999999999999999')],
      (s, x) => CASE
        WHEN SUBSTRING(x, 1, 24) = SUBSTRING(s[1], 14, 24) THEN s
        WHEN SUBSTRING(x, 25, 13) < SUBSTRING(s[1], 1, 13)
        THEN ARRAY_CONCAT(ARRAY[CONCAT(SUBSTRING(s[1], 1, 13), SUBSTRING(x, 1, 24))], SLICE(s, 2, CAST(NULL AS INTEGER)))
        WHEN ARRAY_LENGTH(s) = 1
        THEN ARRAY[
          CONCAT(SUBSTRING(s[1], 1, 13), SUBSTRING(x, 1, 24)),
          CONCAT(SUBSTRING(x, 1, 24), SUBSTRING(x, 1, 24), SUBSTRING(x, 14, 11), SUBSTRING(x, 14, 11), '0000000001', '0001', SUBSTRING(x, 38, 13))]
        WHEN CAST(SUBSTRING(x, 1, 13) AS BIGINT) - CAST(SUBSTRING(s[ARRAY_LENGTH(s)], 25, 13) AS BIGINT) <= ${sessionGapMs}
          AND CAST(SUBSTRING(x, 14, 11) AS BIGINT) - CAST(SUBSTRING(s[ARRAY_LENGTH(s)], 38, 11) AS BIGINT) + ${seekToleranceMs} >= 0
          AND 1000 * (CAST(SUBSTRING(x, 14, 11) AS BIGINT) - CAST(SUBSTRING(s[ARRAY_LENGTH(s)], 38, 11) AS BIGINT))
            <= ${maxRatePermille} * (CAST(SUBSTRING(x, 1, 13) AS BIGINT) - CAST(SUBSTRING(s[ARRAY_LENGTH(s)], 25, 13) AS BIGINT)) + 1000 * ${seekToleranceMs}
        THEN ARRAY_CONCAT(
          ARRAY_CONCAT(ARRAY[CONCAT(SUBSTRING(s[1], 1, 13), SUBSTRING(x, 1, 24))], SLICE(s, 2, ARRAY_LENGTH(s) - 1)),
          ARRAY[CONCAT(
            SUBSTRING(s[ARRAY_LENGTH(s)], 1, 24),
            SUBSTRING(x, 1, 24),
            CASE WHEN SUBSTRING(x, 14, 11) < SUBSTRING(s[ARRAY_LENGTH(s)], 49, 11) THEN SUBSTRING(x, 14, 11) ELSE SUBSTRING(s[ARRAY_LENGTH(s)], 49, 11) END,
            CASE WHEN SUBSTRING(x, 14, 11) > SUBSTRING(s[ARRAY_LENGTH(s)], 60, 11) THEN SUBSTRING(x, 14, 11) ELSE SUBSTRING(s[ARRAY_LENGTH(s)], 60, 11) END,
            LPAD(CAST(CAST(SUBSTRING(s[ARRAY_LENGTH(s)], 71, 10) AS BIGINT) + 1 AS STRING), 10, '0'),
            SUBSTRING(s[ARRAY_LENGTH(s)], 81, 4),
            SUBSTRING(x, 38, 13))])
        ELSE ARRAY_CONCAT(
          ARRAY_CONCAT(ARRAY[CONCAT(SUBSTRING(s[1], 1, 13), SUBSTRING(x, 1, 24))], SLICE(s, 2, CAST(NULL AS INTEGER))),
          ARRAY[CONCAT(SUBSTRING(x, 1, 24), SUBSTRING(x, 1, 24), SUBSTRING(x, 14, 11), SUBSTRING(x, 14, 11), '0000000001',
            LPAD(CAST(ARRAY_LENGTH(s) AS STRING), 4, '0'), SUBSTRING(x, 38, 13))])
      END), 2, CAST(NULL AS INTEGER))) AS `piece`
FROM heartbeat_windows_final
WHERE SPLIT(session_key, '|')[1] <> '__tick__'
EMIT CHANGES;

-- One piece per row (watchpipe.WatchPiece, unchanged). end_ts = the last point's played_at; start_ts = end_ts minus
-- the piece's length on the player's clock.
CREATE STREAM IF NOT EXISTS watch_pieces WITH (
  KAFKA_TOPIC = 'watch_segments',
  KEY_FORMAT = 'KAFKA',
  VALUE_FORMAT = 'AVRO',
  VALUE_AVRO_SCHEMA_FULL_NAME = 'watchpipe.WatchPiece',
  PARTITIONS = ${segmentsPartitions},
  RETENTION_MS = ${segmentsRetentionMs}
) AS SELECT
  session_key,
  SPLIT(session_key, '|')[1] AS `user_id`,
  SPLIT(session_key, '|')[2] AS `video_id`,
  CAST(SUBSTRING(`piece`, 85, 13) AS BIGINT) - (CAST(SUBSTRING(`piece`, 25, 13) AS BIGINT) - CAST(SUBSTRING(`piece`, 1, 13) AS BIGINT)) AS `start_ts`,
  CAST(SUBSTRING(`piece`, 85, 13) AS BIGINT) AS `end_ts`,
  CAST(SUBSTRING(`piece`, 14, 11) AS DOUBLE) / 1000 AS `first_position_sec`,
  CAST(SUBSTRING(`piece`, 38, 11) AS DOUBLE) / 1000 AS `last_position_sec`,
  CAST(SUBSTRING(`piece`, 49, 11) AS DOUBLE) / 1000 AS `min_position_sec`,
  CAST(SUBSTRING(`piece`, 60, 11) AS DOUBLE) / 1000 AS `max_position_sec`,
  CAST(SUBSTRING(`piece`, 71, 10) AS INTEGER) AS `heartbeat_count`,
  CAST(SUBSTRING(`piece`, 81, 4) AS INTEGER) AS `piece_no`,
  ${sessionGapMs} AS `session_gap_ms`,
  ${seekToleranceMs} AS `seek_tolerance_ms`,
  ${maxRatePermille} AS `max_rate_permille`
FROM watch_pieces_encoded
EMIT CHANGES;
