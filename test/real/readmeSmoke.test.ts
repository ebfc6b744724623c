/**
 * README.md's smoke and report command lines, run as written against real servers on 127.0.0.1: the block marked
 * `runs in test/real/readmeSmoke.test.ts` is read from README.md, and only the endpoints (PGHOST, PGPORT,
 * --bridge-url), the password file and the CA file are substituted; the database name, user, sslmode and every other
 * flag are the README's.
 *
 * PostgreSQL 15 stands in for YSQL and serves TLS with a certificate that names a pod, not 127.0.0.1, as YugabyteDB's
 * node certificates do through a port-forward: the README's verify-ca line must pass, and the same line without
 * PGSSLMODE (a CA alone means verify-full) must fail naming the host mismatch. Heartbeats go through a stand-in for
 * the Kafka Bridge (test/real/bridgeStandIn.ts) to 3 real brokers; the reference model stands in for ksqlDB; a real
 * Kafka Connect worker sinks the segments, as in test/real/smoke.test.ts.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RAW_HEARTBEATS_TOPIC, WATCH_SEGMENTS_TOPIC } from "../../contract/topics";
import { CONFIG_PROVIDER_WORKER_CONFIG, localWatchSegmentsSinkConfig } from "../../connectors/watchSegmentsSink";
import { YSQL_ADMIN_USER, YSQL_SINK_USER } from "../../components/sink/yugabyteSpecs";
import { smokeHeartbeats } from "../../tools/smoke/scenario";
import { npmInvocation, runInvocation, type NpmInvocation } from "../docs/npmCommand";
import { markdownSnippets } from "../docs/shellText";
import { commandsOf, newScope, type SimpleCommand } from "../docs/shellWords";
import { startBridgeStandIn, type BridgeStandIn } from "./bridgeStandIn";
import { createDurableTopic } from "./kafka/admin";
import { startCluster, type KafkaTestCluster } from "./kafka/cluster";
import { startConnectWorker, type ConnectWorker } from "./kafka/connect";
import { REPO_ROOT, shouldSkipRealKafka } from "./kafka/paths";
import { startKsqlStandIn, type KsqlStandIn } from "./ksqlStandIn";
import { pgUnavailable, quoteIdent, startPostgres, type PgServer } from "./pg/harness";
import { newSinkPassword, runSchemaJob } from "./pg/schemaJob";
import { closingTickTs, sendTicks } from "./ticks";

const skip = shouldSkipRealKafka(pgUnavailable());
const CONNECTOR = "watch-segments-sink";
const PARTITIONS = 3;
/** Ticks this far past gap + grace: every smoke session (ending "now") is then strictly past its close time. */
const TICK_LEAD_SEC = 5;
/** tsx start-up and one POST through the stand-in bridge, on a busy 2-core machine. */
const SEND_TIMEOUT_MS = 60_000;
/** The whole smoke run as written (its own default wait is 201 s; the ticks make it seconds). */
const SMOKE_TIMEOUT_MS = 240_000;
const REPORT_TIMEOUT_MS = 60_000;
/** What README.md's marker says, so the test finds its block. */
const MARKER = "runs in test/real/readmeSmoke.test.ts";
/** A host name like a YugabyteDB node certificate's: a pod, never the port-forward's 127.0.0.1. */
const POD_HOST_NAME = "yb-tserver-0.yb-tservers.yugabyte.svc.cluster.local";

/** The README's command lines in the marked block (smoke first, then report). */
function readmeCommands(): SimpleCommand[] {
  const block = markdownSnippets(REPO_ROOT, "README.md").find((s) => s.kind === "block" && s.marker?.startsWith(MARKER));
  if (block === undefined) throw new Error(`README.md has no \`\`\`bash block below a <!-- ${MARKER} … --> comment; expected the smoke/report example there.`);
  return commandsOf(block.text, newScope(), () => undefined);
}

/** A throwaway CA and a server certificate for POD_HOST_NAME, with openssl. */
function makeCerts(dir: string): { caPath: string; certPem: string; keyPem: string } {
  const f = (n: string) => join(dir, n);
  const ssl = (...args: string[]) => execFileSync("openssl", args, { stdio: "ignore" });
  ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f("ca.key"), "-out", f("ca.pem"), "-days", "1", "-subj", "/CN=readme-smoke-test-ca");
  ssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f("server.key"), "-out", f("server.csr"), "-subj", `/CN=${POD_HOST_NAME}`);
  writeFileSync(f("ext.cnf"), `subjectAltName=DNS:${POD_HOST_NAME}\n`);
  ssl("x509", "-req", "-in", f("server.csr"), "-CA", f("ca.pem"), "-CAkey", f("ca.key"), "-CAcreateserial", "-out", f("server.crt"), "-days", "1", "-extfile", f("ext.cnf"));
  return { caPath: f("ca.pem"), certPem: readFileSync(f("server.crt"), "utf8"), keyPem: readFileSync(f("server.key"), "utf8") };
}

describe.skipIf(skip)("README's smoke and report lines, as written, against real Kafka + Connect + PostgreSQL 15 with TLS (stand-ins for the bridge and ksqlDB)", () => {
  let pg: PgServer;
  let db: Client;
  let cluster: KafkaTestCluster;
  let worker: ConnectWorker;
  let ksql: KsqlStandIn;
  let bridge: BridgeStandIn;
  let dir: string;
  let caPath: string;
  let passwordFile: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "watchpipe-readme-smoke-"));
    const certs = makeCerts(dir);
    caPath = certs.caPath;
    pg = await startPostgres({ tls: { certPem: certs.certPem, keyPem: certs.keyPem } });
    db = await pg.connect();
    const sinkPassword = newSinkPassword();
    const job = runSchemaJob(pg, { sinkPassword });
    expect(job.status, job.stderr).toBe(0);
    // The README logs in as YSQL's superuser `yugabyte`; here it is a PostgreSQL role of that name.
    const adminPassword = newSinkPassword();
    await db.query(`CREATE ROLE ${quoteIdent(YSQL_ADMIN_USER)} LOGIN SUPERUSER PASSWORD '${adminPassword}'`);
    passwordFile = join(dir, "ysql-password");
    writeFileSync(passwordFile, adminPassword, { mode: 0o600 });

    cluster = await startCluster();
    await createDurableTopic(cluster.brokers, RAW_HEARTBEATS_TOPIC, PARTITIONS);
    await createDurableTopic(cluster.brokers, WATCH_SEGMENTS_TOPIC, PARTITIONS);
    const sinkPwFile = join(dir, "db.properties");
    writeFileSync(sinkPwFile, `password=${sinkPassword}\n`, { mode: 0o600 });
    worker = await startConnectWorker({ bootstrap: cluster.bootstrap, extraConfig: { ...CONFIG_PROVIDER_WORKER_CONFIG.file } });
    await worker.createConnector(CONNECTOR, localWatchSegmentsSinkConfig({
      db: { host: pg.host, port: pg.port, database: pg.database, user: YSQL_SINK_USER },
      password: { kind: "file", path: sinkPwFile, key: "password" },
      tasksMax: 1,
    }));
    await worker.waitForConnectorRunning(CONNECTOR);
    ksql = await startKsqlStandIn({ brokers: cluster.brokers, heartbeatPartitions: PARTITIONS });
    bridge = await startBridgeStandIn(cluster.brokers);
  });

  afterAll(async () => {
    await bridge?.stop();
    await ksql?.stop();
    await worker?.stop();
    await cluster?.stop();
    await db?.end().catch(() => undefined);
    pg?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  /** The README line with only the endpoints, the password file and the CA file replaced. */
  function asWritten(cmd: SimpleCommand, runId?: string): { inv: NpmInvocation; env: NodeJS.ProcessEnv } {
    const substitutes: Record<string, string> = { PGHOST: pg.host, PGPORT: String(pg.port), PGSSLROOTCERT: caPath };
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
    for (const [k, w] of Object.entries(cmd.env)) env[k] = substitutes[k] ?? w.text;
    const flagSubstitutes: Record<string, string> = { "--bridge-url": bridge.url, "--pg-password-file": passwordFile, "--password-file": passwordFile };
    const words = cmd.words.map((w, i) => {
      const flag = cmd.words[i - 1]?.text ?? "";
      const text = flagSubstitutes[flag] ?? (runId !== undefined ? w.text.replace("<run id>", runId) : w.text);
      return { text, unresolved: [] };
    });
    const inv = npmInvocation(REPO_ROOT, words);
    if (inv === undefined) throw new Error(`README line is not an npm run command: ${cmd.source}`);
    return { inv, env };
  }

  it("the README's smoke line exits 0, its report line lists the smoke user's segments, and the line without PGSSLMODE fails on the host name", async () => {
    const [smokeLine, reportLine] = readmeCommands();
    expect(smokeLine.words.map((w) => w.text).slice(0, 3)).toEqual(["npm", "run", "smoke"]);
    expect(reportLine.words.map((w) => w.text).slice(0, 3)).toEqual(["npm", "run", "report"]);
    // The database is the README's, not substituted: the one the schema Job filled.
    expect(smokeLine.env.PGDATABASE?.text).toBe(pg.database);

    const smoke = asWritten(smokeLine);
    // A CA alone (the old example) means verify-full: 127.0.0.1 is not the certificate's name.
    const withoutMode = { ...smoke.env };
    delete withoutMode.PGSSLMODE;
    const refused = await runInvocation(smoke.inv, { cwd: REPO_ROOT, env: withoutMode, timeoutMs: REPORT_TIMEOUT_MS, echo: "smoke, no PGSSLMODE" });
    expect(refused.code, refused.stdout + refused.stderr).toBe(2);
    expect(refused.stdout + refused.stderr).toMatch(/Hostname\/IP does not match certificate's altnames/);

    const run = runInvocation(smoke.inv, { cwd: REPO_ROOT, env: smoke.env, timeoutMs: SMOKE_TIMEOUT_MS, echo: "README smoke" });
    await ksql.waitForValid("smoke-", smokeHeartbeats("x", 0).length, SEND_TIMEOUT_MS);
    await sendTicks(cluster.brokers, RAW_HEARTBEATS_TOPIC, PARTITIONS, closingTickTs(TICK_LEAD_SEC));
    const done = await run;
    expect(done.code, done.stdout + done.stderr).toBe(0);
    expect(done.stdout).toMatch(/in yugabyte@127\.0\.0\.1:\d+\/watchpipe \(sslmode=verify-ca\)/);
    expect(done.stdout).toMatch(/OK: 7\/7 segments after \d+ s/);
    expect(bridge.produced()).toBe(smokeHeartbeats("x", 0).length);
    const runId = /run ([0-9a-f]+):/.exec(done.stdout)?.[1];
    expect(runId, done.stdout).toBeDefined();

    const report = asWritten(reportLine, runId);
    const rep = await runInvocation(report.inv, { cwd: REPO_ROOT, env: report.env, timeoutMs: REPORT_TIMEOUT_MS, echo: "README report" });
    expect(rep.code, rep.stdout + rep.stderr).toBe(0);
    expect(rep.stdout).toContain(`smoke-${runId}-v`);
    console.log(`README smoke: verify-full refused in ${refused.ms} ms; smoke OK in ${(done.ms / 1000).toFixed(1)} s; report in ${(rep.ms / 1000).toFixed(1)} s`);
  }, SMOKE_TIMEOUT_MS + 2 * REPORT_TIMEOUT_MS);
});
