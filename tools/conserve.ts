/**
 * `npm run conserve -- --help`: the conservation check (issue 21). Every record written to heartbeats_raw must end in
 * exactly one place: counted in a piece (watch_pieces, stitched into watch_segments_v2), in heartbeats_rejected with
 * a reason, or in ksqlDB's processing log. Prints, per run and per viewer (user_id|video_id): sent, counted, rejected
 * by reason, undecodable, lost and double-counted. Exit 1 when anything is lost or double counted.
 */
import { ENV as LOADGEN_ENV } from "./loadgen/config";
import { parseCommandLine, runTool } from "./cli";
import { EXIT_CHECK_FAILED, EXIT_CODES_HELP, EXIT_OK, UsageError } from "./exitCodes";
import { parseDbConnection } from "./smoke/config";
import { REJECTED_HEARTBEATS_TOPIC, RAW_HEARTBEATS_TOPIC } from "../contract/topics";
import { KSQL_PROCESSING_LOG_TOPIC } from "../contract/acls";
import { readFileSync } from "node:fs";
import { formatRuns, formatViewers, undecodableFromServerLog } from "./conservation/accounting";
import { checkConservation } from "./conservation/check";

/** Viewers listed by default: the first out-of-balance ones; --viewers all lists every one. */
const DEFAULT_VIEWER_LIMIT = 50;

const HELP = `Usage: npm run --silent conserve -- [options]

Checks that every heartbeat written to ${RAW_HEARTBEATS_TOPIC} ended in exactly one place: counted in a piece
(watch_pieces.heartbeat_count, stitched into watch_segments_v2), rejected with a reason (${REJECTED_HEARTBEATS_TOPIC}),
or undecodable (ksqlDB's processing log). Reads the topics whole (librdkafka) and the pieces table. Prints per run
(a viewer's run is its user_id up to the last '-') and per viewer (user_id|video_id):
  sent         distinct heartbeats (user_id, video_id, event_ts): a heartbeat sent twice counts once ("resent")
  counted      SUM(heartbeat_count) of the viewer's pieces
  rejected     distinct rejected heartbeats, by reason prefix (late, sent_at, key, position_sec, ...)
  undecodable  records ksqlDB could not decode (unattributed: the log does not carry the record)
  lost         sent - counted - rejected - undecodable, when > 0 (must be 0)
  double-counted  the same, when < 0 (must be 0)
  delay        last heartbeat's record timestamp to the viewer's last piece written (p50 / max over viewers)

Kafka
  --bootstrap host:port,...  bootstrap servers (env ${LOADGEN_ENV.bootstrap})
  --raw-topic NAME           default ${RAW_HEARTBEATS_TOPIC}
  --rejected-topic NAME      default ${REJECTED_HEARTBEATS_TOPIC}
  --processing-log NAME      default ${KSQL_PROCESSING_LOG_TOPIC}
  --ksql-log FILE            a ksqlDB server's own log (repeatable): its processing-log entries count too, for servers
                             whose log4j configuration writes the processing log to the console instead of the topic
Database (flag, else libpq environment)
  --pg-host HOST  --pg-port PORT  --pg-database NAME  --pg-user NAME  --pg-password-file FILE
  --pg-sslmode MODE  --pg-sslrootcert FILE      (PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD, PGSSLMODE, PGSSLROOTCERT)
Output
  --run PREFIX               only runs whose name begins with PREFIX (repeatable)
  --viewers unbalanced|all   per-viewer lines: only viewers out of balance (default, at most ${DEFAULT_VIEWER_LIMIT}) or all
  --json                     one JSON object (runs, total, unbalanced viewers) instead of tables

${EXIT_CODES_HELP} Here: 0 balanced, 1 something lost or double counted.
`;

function readLog(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    throw new UsageError(`--ksql-log ${file}: ${(err as Error).message}`);
  }
}

async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseCommandLine(
    {
      name: "conserve",
      help: HELP,
      options: {
        bootstrap: { type: "string" },
        "raw-topic": { type: "string" },
        "rejected-topic": { type: "string" },
        "processing-log": { type: "string" },
        "pg-host": { type: "string" },
        "pg-port": { type: "string" },
        "pg-database": { type: "string" },
        "pg-user": { type: "string" },
        "pg-password-file": { type: "string" },
        "pg-sslmode": { type: "string" },
        "pg-sslrootcert": { type: "string" },
        "ksql-log": { type: "string", multiple: true },
        run: { type: "string", multiple: true },
        viewers: { type: "string" },
        json: { type: "boolean" },
      },
    },
    argv,
  );
  if (parsed === undefined) return EXIT_OK;
  const v = parsed.values;
  const bootstrap = v.bootstrap ?? process.env[LOADGEN_ENV.bootstrap];
  if (bootstrap === undefined || bootstrap === "") throw new UsageError(`--bootstrap is required (or set ${LOADGEN_ENV.bootstrap}); see --help`);
  const viewers = v.viewers ?? "unbalanced";
  if (viewers !== "unbalanced" && viewers !== "all") throw new UsageError(`--viewers must be unbalanced or all, got "${viewers}"`);
  let db;
  try {
    db = parseDbConnection(v, process.env);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { conservation: c, readMs } = await checkConservation({
    bootstrap,
    db,
    ...(v["raw-topic"] === undefined ? {} : { rawTopic: v["raw-topic"] }),
    ...(v["rejected-topic"] === undefined ? {} : { rejectedTopic: v["rejected-topic"] }),
    ...(v["processing-log"] === undefined ? {} : { processingLogTopic: v["processing-log"] }),
    runPrefixes: v.run ?? [],
    extraUndecodable: (v["ksql-log"] ?? []).flatMap((f) => undecodableFromServerLog(readLog(f), v["raw-topic"] ?? RAW_HEARTBEATS_TOPIC)),
  });
  if (v.json === true) {
    process.stdout.write(`${JSON.stringify({ balanced: c.balanced, runs: c.runs, total: c.total, unbalancedViewers: c.viewers.filter((x) => x.lost > 0 || x.doubleCounted > 0) })}\n`);
  } else {
    process.stdout.write(`conservation of ${c.total.sent} heartbeats (${c.total.viewers} viewers), read in ${(readMs / 1000).toFixed(1)} s\n\n${formatRuns(c)}\n\n${formatViewers(c, viewers === "all", viewers === "all" ? Number.MAX_SAFE_INTEGER : DEFAULT_VIEWER_LIMIT)}\n`);
    process.stdout.write(c.balanced ? "\nOK: nothing lost, nothing double counted\n" : `\nFAILED: ${c.total.lost} heartbeats lost (${c.total.viewersLosing} viewers), ${c.total.doubleCounted} double counted (${c.total.viewersDoubleCounted} viewers)\n`);
  }
  return c.balanced ? EXIT_OK : EXIT_CHECK_FAILED;
}

runTool("conserve", () => main(process.argv.slice(2)));
