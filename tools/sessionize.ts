/**
 * `npm run --silent sessionize -- <file.json>`: runs heartbeats through the reference model of the
 * sessionization (ksqlDB's hopping windows and pieces, the database's stitching) and prints the watch segments the
 * watch_segments_v2 view ends up with. See `--help`.
 */
import { readFileSync } from "node:fs";
import { sessionize } from "../ksql/model/pipeline";
import { InputError, parseSessionizeInput } from "../ksql/model/input";
import { EXIT_CODES_HELP, EXIT_USAGE_OR_CONNECTION } from "./exitCodes";
import { DEFAULT_GRACE_PERIOD_SEC, DEFAULT_MAX_PLAYBACK_RATE, DEFAULT_SEEK_TOLERANCE_SEC, DEFAULT_SESSION_GAP_SEC } from "../contract/sessionization";

/** Bad input is a usage error (tools/exitCodes.ts): bad arguments, unreadable file, invalid JSON, heartbeat or config. */
const EXIT_INVALID_INPUT = EXIT_USAGE_OR_CONNECTION;

const HELP = `usage: npm run --silent sessionize -- <file.json>

Reads {"config": {"sessionGapSec", "gracePeriodSec", "seekToleranceSec", "maxPlaybackRate"}, "heartbeats": [...]}
(config and each key optional; defaults ${DEFAULT_SESSION_GAP_SEC}, ${DEFAULT_GRACE_PERIOD_SEC}, ${DEFAULT_SEEK_TOLERANCE_SEC}, ${DEFAULT_MAX_PLAYBACK_RATE})
with the heartbeats of one partition, each {"user_id", "video_id", "position_sec", "event_ts", "device_id"?,
"rowtime"?, "sent_at"?, "key"?}: rowtime = the record's arrival time (the broker's LogAppendTime, epoch ms; default
event_ts), sent_at = the player's clock when it sent (epoch ms, optional), key = the record key (default
user_id|video_id). Runs them in stable rowtime order through the reference model of the ksqlDB sessionization
(V000004: played_at = rowtime - (sent_at - event_ts), or rowtime without sent_at; V000006: 60 s windows hopping by
30 s on arrival time, a heartbeat (event_ts, playhead) delivered again within 30-60 s counted once; retention
applied as ksqlDB would), closes every window still open at the end of input, stitches the pieces as the
database does, and prints {"segments": [...], "rejected": [...]}: the watch_segments_v2 rows (one per segment,
times = played_at on our clock) sorted by user_id, video_id, start_ts, and the heartbeats the pipeline rejects with
their input index and reason (key: wrong or missing record key; sent_at: invalid; late: sent more than 1 h after
it was played), in input order.

${EXIT_CODES_HELP} Invalid input is a usage error (${EXIT_INVALID_INPUT}; the message on stderr
names the record index and field); this tool has no check that can fail.`;

function main(argv: readonly string[]): number {
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(HELP + "\n");
    return 0;
  }
  const flag = argv.find((a) => a.startsWith("-") && a !== "-");
  if (flag !== undefined) {
    process.stderr.write(`sessionize: unknown flag ${flag}; see --help\n`);
    return EXIT_INVALID_INPUT;
  }
  if (argv.length !== 1) {
    process.stderr.write(`sessionize: expected exactly one input file, got ${argv.length} arguments; see --help\n`);
    return EXIT_INVALID_INPUT;
  }
  let text: string;
  try {
    text = readFileSync(argv[0], "utf8");
  } catch (e) {
    process.stderr.write(`sessionize: cannot read ${argv[0]}: ${(e as Error).message}\n`);
    return EXIT_INVALID_INPUT;
  }
  try {
    const input = parseSessionizeInput(text);
    for (const w of input.warnings) process.stderr.write(`sessionize: warning: ${w}\n`);
    const segments = sessionize(input.heartbeats, input.params);
    process.stdout.write(JSON.stringify({ segments, rejected: input.rejected }) + "\n");
    return 0;
  } catch (e) {
    if (e instanceof InputError) {
      process.stderr.write(`sessionize: ${argv[0]}: ${e.message}\n`);
      return EXIT_INVALID_INPUT;
    }
    throw e;
  }
}

process.exitCode = main(process.argv.slice(2));
