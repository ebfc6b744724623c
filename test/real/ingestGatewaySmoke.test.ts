/**
 * The deploy smoke issuer on real parts (contract/smokeIssuer.ts): Envoy 1.40 with two jwt_authn providers (the
 * players' identity provider and the stack's ES256 smoke key as a local JWKS) in front of Apache Camel 4.18, against
 * the real 3-broker cluster. Checked: a smoke token (minted by the smoke tool's own minter) for a smoke user is
 * accepted and lands keyed; a smoke token for any other user is refused 403 with its reason and counted; a client's
 * own issuer header changes nothing; the smoke key cannot pass as the players' issuer; the players' tokens answer as
 * with one provider. Skipped with the reason when the gateway or the Kafka jars are not installed (CI installs both).
 */
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kafka, logLevel, type Admin } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { INGEST_PATH, refusalTable, SUBJECT_HEADER } from "../../contract/ingestGateway";
import { ISSUER_HEADER, SMOKE_AUDIENCE, SMOKE_REFUSAL_MESSAGE, SMOKE_REFUSAL_REASON, SMOKE_USER_PREFIX, smokeIssuerFor, smokeJwks, smokeKid } from "../../contract/smokeIssuer";
import { RAW_HEARTBEATS_TOPIC } from "../../contract/topics";
import { partitionForKey } from "../../ksql/ticks";
import { DEFAULT_SESSIONIZATION_PARAMS } from "../../contract/sessionization";
import { GatewayLane } from "../../tools/loadgen/gatewaySender";
import { gatewayTokens, signEs256, tokenMinter } from "../../tools/loadgen/jwt";
import { scenarioRecords } from "../../tools/smoke/run";
import { smokeScenario } from "../../tools/smoke/scenario";
import { createTopicsReady } from "./kafka/admin";
import { startCluster, type KafkaTestCluster } from "./kafka/cluster";
import { missingKafkaJars } from "./kafka/paths";
import { camelMetrics, envoyStats, missingGateway, type PostedHeartbeat, type RawRecord, readRawHeartbeats, startGateway, type Gateway, rawHeartbeatsTopic } from "./ingest/gateway";
import { TEST_AUDIENCE, TEST_ISSUER, testIdp, type TestIdp } from "./ingest/tokens";

const missing = missingGateway() ?? missingKafkaJars() ?? undefined;
if (missing) console.warn(`[skipped] ingest gateway smoke issuer on real servers: ${missing}`);
const suite = missing ? describe.skip : describe;

const PARTITIONS = 12;
const MAX = 15;
const CLUSTER_READY_MS = 300_000;
/** This suite's ports, apart from ingestGateway.test.ts's 19600-19799. */
const PORTS: readonly [number, number] = [19200, 19299];
const SMOKE_ISSUER = smokeIssuerFor("realtest");

const hb = (user: string, video: string, seq: number): PostedHeartbeat => ({ user_id: user, video_id: video, position_sec: seq * 5, event_ts: 1_764_990_000_000 + seq * 5000, seq });
const body = (records: readonly unknown[]) => JSON.stringify({ records: records.map((value) => ({ value })) });
interface Answer { status: number; text: string }
const message = (a: Answer) => (a.text.startsWith("{") ? (JSON.parse(a.text) as { message: string }).message : a.text);

suite("ingest gateway with the deploy smoke issuer (two jwt_authn providers) on 3 real brokers", () => {
  let cluster: KafkaTestCluster;
  let gw: Gateway;
  let idp: TestIdp;
  let admin: Admin;
  let dir: string;
  /** The stack's smoke key as the program makes it: P-256, SEC1 PEM (@pulumi/tls's privateKeyPem). */
  let smokeKeyPem: string;
  let kid: string;
  let smokeToken: (user: string) => string;

  async function post(token: string | null, payload: string, extra: Record<string, string> = {}): Promise<Answer> {
    const res = await fetch(`${gw.url}${INGEST_PATH}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...extra },
      body: payload,
      signal: AbortSignal.timeout(60_000),
    });
    return { status: res.status, text: await res.text() };
  }
  const topicSize = async () => (await admin.fetchTopicOffsets(RAW_HEARTBEATS_TOPIC)).reduce((n, o) => n + Number(o.high), 0);
  const readAll = (expected: number): Promise<RawRecord[]> =>
    readRawHeartbeats(new Kafka({ clientId: "smoke-readback", brokers: [...cluster.brokers], logLevel: logLevel.NOTHING }), `smoke-readback-${Date.now()}`, expected);
  const refusedCount = async (reason: string) =>
    [...(await camelMetrics(gw)).entries()].find(([k]) => k.startsWith("watchpipe_ingest_refused_total") && k.includes(`reason="${reason}"`))?.[1] ?? 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "watchpipe-smoke-issuer-test-"));
    idp = testIdp(join(dir, "jwks.json"));
    const pair = generateKeyPairSync("ec", { namedCurve: "P-256" });
    smokeKeyPem = pair.privateKey.export({ format: "pem", type: "sec1" }).toString();
    const publicPem = pair.publicKey.export({ format: "pem", type: "spki" }).toString();
    kid = smokeKid(publicPem);
    const smokeJwksFile = join(dir, "smoke-jwks.json");
    writeFileSync(smokeJwksFile, smokeJwks(publicPem));
    // The smoke tool's own minter (npm run smoke -- --mode gateway --jwt-key ...): ES256 from the P-256 key.
    const minter = tokenMinter({ keyPem: smokeKeyPem, kid, issuer: SMOKE_ISSUER, audience: SMOKE_AUDIENCE });
    smokeToken = (user) => minter.tokenFor(user);
    cluster = await startCluster({ readyTimeoutMs: CLUSTER_READY_MS });
    await createTopicsReady(cluster.brokers, [rawHeartbeatsTopic(PARTITIONS)]);
    admin = new Kafka({ clientId: "smoke-issuer-admin", brokers: [...cluster.brokers], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    gw = await startGateway({
      bootstrapServers: cluster.bootstrap, issuer: TEST_ISSUER, audiences: [TEST_AUDIENCE], jwks: { kind: "file", path: idp.jwksFile }, maxHeartbeats: MAX,
      smoke: { issuer: SMOKE_ISSUER, audiences: [SMOKE_AUDIENCE], jwksFile: smokeJwksFile },
      portRange: PORTS,
    });
  }, 600_000);

  afterAll(async () => {
    await admin?.disconnect();
    await gw?.stop();
    await cluster?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it("accepts a smoke token's batch for its smoke user: keyed user_id|video_id on Kafka's murmur2 partition, the subject carried", async () => {
    const user = `${SMOKE_USER_PREFIX}rt1-u1`;
    const sent = [hb(user, `${SMOKE_USER_PREFIX}rt1-vA`, 1), hb(user, `${SMOKE_USER_PREFIX}rt1-vA`, 2), hb(user, `${SMOKE_USER_PREFIX}rt1-vB`, 3)];
    const sizeBefore = await topicSize();
    const a = await post(smokeToken(user), body(sent));
    expect(a.status, a.text).toBe(200);
    const got = (await readAll(sizeBefore + sent.length)).filter((g) => g.value.user_id === user);
    expect(got).toHaveLength(sent.length);
    for (const h of sent) {
      const r = got.find((g) => g.value.seq === h.seq)!;
      expect(r.key).toBe(`${h.user_id}|${h.video_id}`);
      expect(r.partition).toBe(partitionForKey(r.key, PARTITIONS));
      expect(r.sub).toBe(user);
    }
  });

  it("npm run smoke's own sender, as deploy.yml runs it (key file from the stack, --jwt-kid/--jwt-issuer/--jwt-audience): all 44 scenario heartbeats acknowledged and on the topic keyed, each under its user", async () => {
    const keyFile = join(dir, "smoke-issuer.pem");
    writeFileSync(keyFile, smokeKeyPem, { mode: 0o600 });
    const tokenFor = gatewayTokens({ jwtKeyFile: keyFile, jwtKid: kid, jwtIssuer: SMOKE_ISSUER, jwtAudience: SMOKE_AUDIENCE });
    const scenario = smokeScenario("rt2", Date.now(), DEFAULT_SESSIONIZATION_PARAMS);
    const sizeBefore = await topicSize();
    const lane = new GatewayLane(gw.url, tokenFor, MAX, 60_000);
    const sent = await lane.send(scenarioRecords(scenario, Date.now()));
    await lane.close();
    expect(sent.error?.message).toBeUndefined();
    expect(sent.acked).toBe(scenario.heartbeats.length);
    const got = (await readAll(sizeBefore + sent.acked)).filter((g) => g.value.user_id.startsWith(`${SMOKE_USER_PREFIX}rt2-`));
    expect(got).toHaveLength(scenario.heartbeats.length);
    for (const g of got) {
      expect(g.key).toBe(`${g.value.user_id}|${g.value.video_id}`);
      expect(g.sub).toBe(g.value.user_id);
    }
    console.log(`[smoke-issuer] smoke scenario through the gateway: ${sent.acked} of ${scenario.heartbeats.length} acknowledged in ${sent.latencyMs} ms, ${new Set(got.map((g) => g.value.user_id)).size} smoke users, ${got.length} on the topic keyed`);
  });

  it("refuses a smoke token for a player (403, its reason, counted as smoke_subject) and writes nothing; the smoke token still cannot write another smoke user", async () => {
    const sizeBefore = await topicSize();
    const countedBefore = await refusedCount(SMOKE_REFUSAL_REASON);
    const player = await post(smokeToken("u-player-1"), body([hb("u-player-1", "v-1", 10)]));
    expect(player.status, player.text).toBe(403);
    expect(message(player)).toBe(SMOKE_REFUSAL_MESSAGE);
    expect(refusalTable(MAX).find((r) => r.metric.includes(SMOKE_REFUSAL_REASON))).toMatchObject({ status: 403, reason: SMOKE_REFUSAL_MESSAGE });
    // A smoke user's token naming a player's heartbeat is the ordinary subject mismatch.
    const other = await post(smokeToken(`${SMOKE_USER_PREFIX}rt1-u2`), body([hb("u-player-1", "v-1", 11)]));
    expect(other.status, other.text).toBe(403);
    expect(message(other)).toBe("records[0].value.user_id: expected the token subject");
    expect(await topicSize()).toBe(sizeBefore);
    expect(await refusedCount(SMOKE_REFUSAL_REASON)).toBe(countedBefore + 1);
  });

  it("ignores an issuer header the client sends: only the verified token's iss counts", async () => {
    const sizeBefore = await topicSize();
    const claimed = await post(smokeToken("u-player-2"), body([hb("u-player-2", "v-1", 20)]), { [ISSUER_HEADER]: TEST_ISSUER, [SUBJECT_HEADER]: `${SMOKE_USER_PREFIX}x` });
    expect(claimed.status, claimed.text).toBe(403);
    expect(message(claimed)).toBe(SMOKE_REFUSAL_MESSAGE);
    expect(await topicSize()).toBe(sizeBefore);
    // A player's token with a smoke issuer header: still the player's, accepted for its own user.
    const own = await post(idp.token({ sub: "u-player-3" }), body([hb("u-player-3", "v-1", 21)]), { [ISSUER_HEADER]: SMOKE_ISSUER });
    expect(own.status, own.text).toBe(200);
    expect(await topicSize()).toBe(sizeBefore + 1);
  });

  it("the smoke key cannot pass as the players' issuer, nor a smoke token carry the players' audience, nor a token without iss reach a player", async () => {
    const sizeBefore = await topicSize();
    const key = (await import("node:crypto")).createPrivateKey(smokeKeyPem);
    const exp = Math.floor(Date.now() / 1000) + 600;
    const asPlayers = await post(signEs256(key, kid, { iss: TEST_ISSUER, aud: TEST_AUDIENCE, sub: "u-player-4", exp }), body([hb("u-player-4", "v-1", 30)]));
    const playersAud = await post(signEs256(key, kid, { iss: SMOKE_ISSUER, aud: TEST_AUDIENCE, sub: `${SMOKE_USER_PREFIX}rt1-u3`, exp }), body([hb(`${SMOKE_USER_PREFIX}rt1-u3`, "v-1", 31)]));
    // No iss at all: Envoy matches no provider (both name an issuer). Were one to verify it, Camel would see no issuer
    // header and hold it to the smoke prefix (fail closed).
    const noIss = await post(signEs256(key, kid, { aud: SMOKE_AUDIENCE, sub: "u-player-5", exp }), body([hb("u-player-5", "v-1", 32)]));
    console.log(`[smoke-issuer] smoke key as the players' issuer: ${asPlayers.status} "${message(asPlayers)}"; smoke token with the players' audience: ${playersAud.status} "${message(playersAud)}"; smoke-key token without iss for a player: ${noIss.status} "${message(noIss)}"`);
    expect(asPlayers.status, asPlayers.text).toBe(401);
    expect(playersAud.status, playersAud.text).toBe(403);
    expect(noIss.status, noIss.text).toBe(401);
    expect(message(noIss)).toBe("Jwt issuer is not configured");
    expect(await topicSize()).toBe(sizeBefore);
  });

  it("answers the players' tokens as with one provider: own user 200 (a smoke-prefixed subject included), the token rows of the refusal table unchanged", async () => {
    const sizeBefore = await topicSize();
    const deniedBefore = (await envoyStats(gw)).get("http.ingest.jwt_authn.denied") ?? 0;
    const own = await post(idp.token({ sub: "u-real" }), body([hb("u-real", "v-1", 40)]));
    expect(own.status, own.text).toBe(200);
    const one = body([hb("u-a", "v-1", 41)]);
    const rows = refusalTable(MAX);
    const reasonOf = (c: string) => rows.find((r) => r.case === c)!;
    const cases = [
      { name: "no token", a: await post(null, one) },
      { name: "expired token", a: await post(idp.token({ sub: "u-a", exp: Math.floor(Date.now() / 1000) - 120 }), one) },
      { name: "token signed by another key", a: await post(idp.forgedToken({ sub: "u-a" }), one) },
      { name: "token for another audience", a: await post(idp.token({ sub: "u-a", aud: "someone-else" }), one) },
      { name: "heartbeat of another user", a: await post(idp.token({ sub: "u-a" }), body([hb("u-a", "v-1", 42), hb("u-b", "v-1", 43)])) },
      { name: "token without the subject claim", a: await post(idp.token({ name: "no sub" }), one) },
    ];
    for (const c of cases) {
      expect(c.a.status, `${c.name}: ${c.a.text}`).toBe(reasonOf(c.name).status);
      if (c.name === "heartbeat of another user") expect(message(c.a)).toBe("records[1].value.user_id: expected the token subject");
      else expect(message(c.a), c.name).toBe(reasonOf(c.name).reason);
    }
    // The players' provider is not held to the smoke prefix; its subjects are its own business.
    const smokeNamedPlayer = await post(idp.token({ sub: `${SMOKE_USER_PREFIX}player` }), body([hb(`${SMOKE_USER_PREFIX}player`, "v-1", 44)]));
    expect(smokeNamedPlayer.status, smokeNamedPlayer.text).toBe(200);
    expect(await topicSize()).toBe(sizeBefore + 2);
    expect((await envoyStats(gw)).get("http.ingest.jwt_authn.denied")).toBe(deniedBefore + 4);
  });
});
