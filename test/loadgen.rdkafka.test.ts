import { describe, expect, it } from "vitest";
import { PRODUCER_DURABILITY_CONFIG } from "../contract/durability";
import { parseLoadgenArgs, type LoadgenConfig } from "../tools/loadgen/config";
import { maxSendFailureMs } from "../tools/loadgen/kafkaSender";
import { librdkafkaProducerConfig, MESSAGE_TIMEOUT_MARGIN_MS, RdkafkaClient, RdkafkaLane, resolveClient, type NativeConfig, type NativeError } from "../tools/loadgen/rdkafkaSender";
import { SEQ_HEADER, toRecords, type LoadRecord } from "../tools/loadgen/records";
import { runLoad } from "../tools/loadgen/run";
import { createSimulation, nextHeartbeats } from "../tools/loadgen/simulate";

function cfg(argv: string[], env: Record<string, string> = {}): LoadgenConfig {
  const r = parseLoadgenArgs(["--bootstrap", "b1:9092,b2:9092", ...argv], env);
  if (r.help) throw new Error("unexpected help");
  return r.config;
}

type Report = (err: NativeError | null, report: { partition: number; offset: number; opaque?: unknown }) => void;
interface Produced {
  topic: string;
  partition: number;
  value: string;
  key: string;
  headers: Record<string, string>[];
  opaque: unknown;
}

/**
 * Stands in for the package's native Producer: records every produce() and answers with delivery reports on a
 * later tick, the way librdkafka's background poll hands them over. `decide` picks each record's outcome.
 */
function fakeNative(decide: (p: Produced, n: number) => "ack" | "fail" | "throw" | "hold" = () => "ack") {
  const produced: Produced[] = [];
  const held: (() => void)[] = [];
  const instances: { conf: NativeConfig; errorHandlers: ((e: NativeError) => void)[]; disconnected: boolean }[] = [];
  class Producer {
    private report: Report = () => undefined;
    private readonly me: (typeof instances)[number];
    constructor(conf: NativeConfig) {
      this.me = { conf, errorHandlers: [], disconnected: false };
      instances.push(this.me);
    }
    connect(_o: unknown, cb: (err: NativeError | null) => void): void {
      setImmediate(() => cb(null));
    }
    on(event: string, cb: Report & ((e: NativeError) => void)): void {
      if (event === "delivery-report") this.report = cb;
      if (event === "event.error") this.me.errorHandlers.push(cb);
    }
    produce(topic: string, partition: number, value: Buffer, key: string, _ts: null, opaque: unknown, headers: Record<string, string>[]): void {
      const p: Produced = { topic, partition, value: value.toString(), key, headers, opaque };
      const outcome = decide(p, produced.length);
      if (outcome === "throw") throw Object.assign(new Error("Local: Queue full"), { code: -184 });
      produced.push(p);
      const send = (): void =>
        this.report(outcome === "fail" ? Object.assign(new Error("Local: Message timed out"), { code: -192 }) : null, { partition, offset: produced.length, opaque });
      if (outcome === "hold") held.push(send);
      else setImmediate(send);
    }
    getMetadata(o: { topic: string }, cb: (err: NativeError | null, md: { topics: { name: string; partitions: { id: number }[] }[] }) => void): void {
      setImmediate(() => cb(null, { topics: [{ name: o.topic, partitions: Array.from({ length: 6 }, (_, id) => ({ id })) }] }));
    }
    setPollInBackground(): void {}
    flush(_t: number, cb: (err: NativeError | null) => void): void {
      setImmediate(() => cb(null));
    }
    disconnect(_t: number, cb: (err: unknown) => void): void {
      this.me.disconnected = true;
      setImmediate(() => cb(null));
    }
  }
  return { module: { Producer }, produced, held, instances };
}

function records(n: number, firstSeq = 0): LoadRecord[] {
  return toRecords(nextHeartbeats(createSimulation({ viewers: 50, videos: 5, seed: 3, startTs: 1_764_000_000_000 }), n), firstSeq, 0, Math.random);
}

describe("client choice (--client)", () => {
  it("defaults to librdkafka, accepts kafkajs, and names the flag on anything else", () => {
    expect(cfg([]).client).toBe("librdkafka");
    expect(cfg(["--client", "kafkajs"]).client).toBe("kafkajs");
    expect(() => cfg(["--client", "rdkafka"])).toThrow(/--client must be "librdkafka" or "kafkajs", got "rdkafka"/);
  });

  it("falls back to kafkajs with exactly one line when the optional package is missing; kafkajs on request needs no check", () => {
    const missing = resolveClient("librdkafka", { ok: false, reason: "Cannot find module '@confluentinc/kafka-javascript'" });
    expect(missing.client).toBe("kafkajs");
    expect(missing.notice).not.toBeNull();
    expect(missing.notice!.split("\n")).toHaveLength(1);
    expect(missing.notice).toMatch(/librdkafka client not available .*Cannot find module.*; using kafkajs/);
    expect(resolveClient("librdkafka", { ok: true })).toEqual({ client: "librdkafka", notice: null });
    expect(resolveClient("kafkajs", { ok: false })).toEqual({ client: "kafkajs", notice: null });
  });
});

describe("librdkafka producer settings", () => {
  it("carry the platform's producer durability: acks=all, idempotence, 5 in flight, no topic auto-creation", () => {
    const c = librdkafkaProducerConfig(cfg([]));
    expect(c).toMatchObject({
      acks: PRODUCER_DURABILITY_CONFIG.acks,
      "enable.idempotence": true,
      "max.in.flight.requests.per.connection": PRODUCER_DURABILITY_CONFIG["max.in.flight.requests.per.connection"],
      "allow.auto.create.topics": false,
      "bootstrap.servers": "b1:9092,b2:9092",
      "security.protocol": "plaintext",
      dr_cb: true,
    });
  });

  it("bound a failing send by the same limit as kafkajs (message timeout inside maxSendFailureMs, with room for the report)", () => {
    for (const argv of [[], ["--send-timeout-ms", "3000", "--retries", "3"]]) {
      const c = cfg(argv);
      expect(librdkafkaProducerConfig(c)["message.timeout.ms"]).toBe(maxSendFailureMs(c) - MESSAGE_TIMEOUT_MARGIN_MS);
      expect(librdkafkaProducerConfig(c)["request.timeout.ms"]).toBe(c.sendTimeoutMs);
    }
  });

  it("map TLS, the CA file and SCRAM-SHA-512 to librdkafka's names; the password only from the environment", () => {
    expect(librdkafkaProducerConfig(cfg(["--tls"]))["security.protocol"]).toBe("ssl");
    const scram = librdkafkaProducerConfig(cfg(["--ca-file", "/ca.pem", "--sasl-username", "lg"], { LOADGEN_SASL_PASSWORD: "pw" }));
    expect(scram).toMatchObject({ "security.protocol": "sasl_ssl", "ssl.ca.location": "/ca.pem", "sasl.mechanisms": "SCRAM-SHA-512", "sasl.username": "lg", "sasl.password": "pw" });
    expect(librdkafkaProducerConfig(cfg(["--sasl-username", "lg"], { LOADGEN_SASL_PASSWORD: "pw" }))["security.protocol"]).toBe("sasl_plaintext");
  });
});

describe("librdkafka lanes (fake native producer)", () => {
  const partitioning = { partitions: 6, partitionOf: (key: string) => Number(key.split("|")[0]!.slice(1)) % 6 };

  it("acknowledge exactly the records whose delivery report came back clean, each with its sequence header and partition", async () => {
    const native = fakeNative((_p, n) => (n % 10 === 3 ? "fail" : "ack"));
    const client = new RdkafkaClient(native.module, cfg(["--topic", "t"]));
    const lane = new RdkafkaLane(client, "t", partitioning, "run1");
    const rs = records(100);
    const res = await lane.send(rs);
    expect(res).toMatchObject({ acked: 90, failed: 10 });
    expect(res.error?.message).toBe("Local: Message timed out");
    const failedSeqs = new Set(native.produced.filter((_, n) => n % 10 === 3).map((p) => p.headers[0]![SEQ_HEADER]));
    expect(res.ackedRecords.every((r) => !failedSeqs.has(`run1:${r.seq}`))).toBe(true);
    expect(native.produced.every((p, i) => p.partition === partitioning.partitionOf(p.key) && p.headers[0]![SEQ_HEADER] === `run1:${rs[i]!.seq}` && p.value === rs[i]!.value)).toBe(true);
    await lane.close();
    expect(native.instances[0]!.disconnected).toBe(true);
  });

  it("count a record librdkafka refused to queue as failed without waiting for a report that never comes", async () => {
    let calls = 0;
    const native = fakeNative(() => (calls++ === 0 ? "throw" : "ack"));
    const lane = new RdkafkaLane(new RdkafkaClient(native.module, cfg([])), "t", partitioning, "r");
    const res = await lane.send(records(5));
    expect(res).toMatchObject({ acked: 4, failed: 1 });
    expect(res.error?.message).toBe("Local: Queue full");
    const allRefused = fakeNative(() => "throw");
    const res2 = await new RdkafkaLane(new RdkafkaClient(allRefused.module, cfg([])), "t", partitioning, "r").send(records(3));
    expect(res2).toMatchObject({ acked: 0, failed: 3 });
  });

  it("after a fatal error: waiting sends fail with it, and the next send gets a new producer", async () => {
    const native = fakeNative(() => "hold");
    const client = new RdkafkaClient(native.module, cfg([]));
    const lane = new RdkafkaLane(client, "t", partitioning, "r");
    const pending = lane.send(records(4));
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(native.produced).toHaveLength(4);
    for (const h of native.instances[0]!.errorHandlers) h(Object.assign(new Error("Fatal idempotent producer error"), { code: -150, isFatal: true }));
    const res = await pending;
    expect(res).toMatchObject({ acked: 0, failed: 4 });
    expect(res.error?.message).toMatch(/Fatal/);
    expect(native.instances[0]!.disconnected).toBe(true);
    // Reports of the dead producer that still arrive change nothing.
    for (const h of native.held) h();
    expect(native.instances).toHaveLength(1);
    const again = lane.send(records(2, 100));
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(native.instances).toHaveLength(2);
    for (const h of native.held.splice(0)) h();
    expect(await again).toMatchObject({ acked: 2, failed: 0 });
  });

  it("drive a whole loadgen run to exact counts on one shared producer", async () => {
    const native = fakeNative();
    const c = cfg(["--count", "2500", "--batch-size", "100", "--viewers", "60", "--topic", "t"]);
    const client = new RdkafkaClient(native.module, c);
    const lanes = [0, 1, 2].map(() => new RdkafkaLane(client, "t", partitioning, "run"));
    const acked = new Set<number>();
    const summary = await runLoad(c, lanes, { log: () => undefined, laneOf: (key) => partitioning.partitionOf(key) % 3, onAcked: (rs) => rs.forEach((r) => acked.add(r.seq)) });
    await Promise.all(lanes.map((l) => l.close()));
    expect(summary).toMatchObject({ generated: 2500, acked: 2500, failed: 0 });
    expect(acked.size).toBe(2500);
    expect(native.instances).toHaveLength(1);
    expect(native.instances[0]!.disconnected).toBe(true);
  });
});
