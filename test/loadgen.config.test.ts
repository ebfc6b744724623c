import { describe, expect, it } from "vitest";
import { PRODUCER_DURABILITY_CONFIG } from "../contract/durability";
import { RAW_HEARTBEATS_TOPIC } from "../contract/topics";
import { DEFAULT_RETRIES, ENV, parseLoadgenArgs, type LoadgenConfig } from "../tools/loadgen/config";
import {
  createKeyPartitioner,
  groupByPartition,
  laneByPartition,
  laneCount,
  kafkaClientConfig,
  kafkaProducerConfig,
  kafkajsAcks,
  LOADGEN_ACKS,
  maxSendFailureMs,
  partitionForKey,
} from "../tools/loadgen/kafkaSender";
import { toRecords } from "../tools/loadgen/records";
import { createSimulation, nextHeartbeats } from "../tools/loadgen/simulate";

function parse(argv: string[], env: Record<string, string> = {}): LoadgenConfig {
  const r = parseLoadgenArgs(argv, env);
  if (r.help) throw new Error("unexpected help");
  return r.config;
}

describe("loadgen flags and environment", () => {
  it("defaults to heartbeats_raw, max rate, 60 s, and reads bootstrap from the environment", () => {
    const c = parse([], { [ENV.bootstrap]: "b1:9093,b2:9093" });
    expect(c).toMatchObject({ mode: "kafka", topic: RAW_HEARTBEATS_TOPIC, rate: 0, durationSec: 60, count: null, bootstrap: ["b1:9093", "b2:9093"], retries: DEFAULT_RETRIES });
  });

  it("lets flags win over env, and --count alone means no time limit", () => {
    const c = parse(["--bootstrap", "x:1", "--count", "500"], { [ENV.bootstrap]: "y:2" });
    expect(c.bootstrap).toEqual(["x:1"]);
    expect(c.count).toBe(500);
    expect(c.durationSec).toBeNull();
  });

  it("returns help for --help", () => {
    expect(parseLoadgenArgs(["--help"], {})).toEqual({ help: true });
  });

  it.each([
    [["--rate=-1"], /--rate must be records\/s >= 0.*got "-1"/],
    [["--malformed-share", "1.5"], /--malformed-share must be a share between 0 and 1, got "1.5"/],
    [["--producers", "0"], /--producers must be an integer >= 1, got "0"/],
    [["--compression", "zstd"], /--compression must be "none" or "gzip", got "zstd"/],
    [["--mode", "carrier-pigeon"], /--mode must be "kafka", "bridge" or "gateway"/],
    [["--bootstrap", "nohostport"], /--bootstrap entries must be host:port, got "nohostport"/],
  ])("rejects %j with a message naming the option", (argv, msg) => {
    expect(() => parse(["--bootstrap", "h:1", ...argv])).toThrow(msg);
  });

  it("requires bootstrap servers in kafka mode and a URL in bridge mode", () => {
    expect(() => parse([])).toThrow(new RegExp(`--bootstrap.*${ENV.bootstrap}`));
    expect(() => parse(["--mode", "bridge"])).toThrow(new RegExp(`--bridge-url.*${ENV.bridgeUrl}`));
    expect(parse(["--mode", "bridge", "--bridge-url", "http://127.0.0.1:8080"]).batchSize).toBe(100);
  });

  it("takes the SCRAM password from the environment only, and needs both user and password", () => {
    expect(() => parse(["--bootstrap", "h:1", "--sasl-username", "loadgen"])).toThrow(new RegExp(ENV.saslPassword));
    expect(() => parse(["--bootstrap", "h:1", "--sasl-password", "x"])).toThrow(/Unknown option '--sasl-password'/);
    const c = parse(["--bootstrap", "h:1", "--sasl-username", "loadgen"], { [ENV.saslPassword]: "s3cret" });
    expect(c.saslPassword).toBe("s3cret");
  });
});

describe("kafkajs settings come from contract/durability.ts", () => {
  const base = parse(["--bootstrap", "h:9093", "--retries", "7", "--send-timeout-ms", "4000"]);

  it("uses acks=all (-1), idempotence, one request in flight, no auto topic creation and explicit retries", () => {
    expect(PRODUCER_DURABILITY_CONFIG.acks).toBe("all");
    expect(LOADGEN_ACKS).toBe(-1);
    const p = kafkaProducerConfig(base);
    expect(p).toMatchObject({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, retry: { retries: 7 } });
    expect(kafkaClientConfig(base).retry?.retries).toBe(7);
  });

  it("maps acks strings and refuses unknown ones", () => {
    expect(kafkajsAcks("all")).toBe(-1);
    expect(kafkajsAcks("1")).toBe(1);
    expect(() => kafkajsAcks("most")).toThrow(/unsupported acks value "most"/);
  });

  it("configures TLS with the CA file and SCRAM-SHA-512 when asked", () => {
    const c = parse(["--bootstrap", "h:9093", "--ca-file", "/etc/ca.pem", "--sasl-username", "u"], { [ENV.saslPassword]: "p" });
    const k = kafkaClientConfig(c, (path) => `PEM from ${path}`);
    expect(k.ssl).toEqual({ ca: ["PEM from /etc/ca.pem"] });
    expect(k.sasl).toEqual({ mechanism: "scram-sha-512", username: "u", password: "p" });
    expect(kafkaClientConfig(base).ssl).toBeUndefined();
    expect(kafkaClientConfig(parse(["--bootstrap", "h:1", "--tls"])).ssl).toBe(true);
  });

  it("bounds the time a send may take to fail from the retry and timeout settings", () => {
    const small = maxSendFailureMs({ retries: 0, sendTimeoutMs: 1000, initialRetryTimeMs: 100, maxRetryTimeMs: 1000 });
    const more = maxSendFailureMs({ retries: 3, sendTimeoutMs: 1000, initialRetryTimeMs: 100, maxRetryTimeMs: 1000 });
    expect(more).toBeGreaterThan(small);
    // 4 attempts x (1000 + 2000 margin) + backoffs (100+200+400) x 1.2 + 5000 connect
    expect(more).toBe(4 * 3000 + Math.ceil(700 * 1.2) + 5000);
  });
});

describe("partition grouping (one request per partition)", () => {
  const records = toRecords(nextHeartbeats(createSimulation({ viewers: 500, videos: 10, seed: 1, startTs: 0 }), 3000), 0, 0, Math.random);

  it("keeps every record exactly once and in order within its partition", () => {
    const groups = groupByPartition("t", records, 6);
    const all = [...groups.values()].flat();
    expect(all).toHaveLength(records.length);
    expect(new Set(all.map((r) => r.seq)).size).toBe(records.length);
    for (const g of groups.values()) {
      const seqs = g.map((r) => r.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    }
    expect([...groups.keys()].every((p) => p >= 0 && p < 6)).toBe(true);
  });

  it("puts all of one user's heartbeats in one partition (key = user_id)", () => {
    for (const r of records.slice(0, 200)) expect(partitionForKey("t", r.key, 6)).toBe(partitionForKey("t", r.key, 6));
    const groups = groupByPartition("t", records, 6);
    const owner = new Map<string, number>();
    for (const [p, g] of groups) for (const r of g) {
      expect(owner.get(r.key) ?? p).toBe(p);
      owner.set(r.key, p);
    }
  });
});

describe("lanes that own partitions", () => {
  it("memoized partitioning agrees with kafkajs's murmur2 partitioner for every key", () => {
    for (const n of [1, 6, 12, 48]) {
      const partitionOf = createKeyPartitioner("heartbeats_raw", n);
      for (let i = 0; i < 2_000; i++) {
        const key = `u${String(i).padStart(6, "0")}`;
        expect(partitionOf(key)).toBe(partitionForKey("heartbeats_raw", key, n));
        expect(partitionOf(key)).toBe(partitionForKey("heartbeats_raw", key, n));
      }
    }
  });

  it("runs one lane per partition up to --producers, and names a missing topic", () => {
    expect(laneCount(12, 12)).toBe(12);
    expect(laneCount(12, 6)).toBe(6);
    expect(laneCount(4, 12)).toBe(4);
    expect(() => laneCount(4, 0)).toThrow(/partition count must be an integer >= 1, got 0; does the topic exist\?/);
  });

  it("gives each owned partition to exactly one lane, spreading them evenly", () => {
    const owned = [1, 3, 5, 7, 9, 11];
    const byLane = laneByPartition(owned, 4);
    expect([...byLane.keys()]).toEqual(owned);
    const perLane = [0, 1, 2, 3].map((l) => [...byLane.values()].filter((x) => x === l).length);
    expect(perLane).toEqual([2, 2, 1, 1]);
  });
});
