/**
 * A stand-in for the Strimzi Kafka Bridge's produce endpoint, for real-server tests that run commands written for a
 * port-forward to the bridge: POST /topics/<topic> with the v2 binary embedded format, each record produced to the real
 * brokers (acks=all, idempotent) with its base64 key, value and headers decoded, answered with
 * one offset per record. Only what the load generator's bridge mode uses; every log line says it is a stand-in.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Kafka, logLevel, type Producer } from "kafkajs";
import { BRIDGE_BINARY_CONTENT_TYPE } from "../../tools/loadgen/bridgeSender";

export const BRIDGE_STAND_IN_LABEL = "[Kafka Bridge STAND-IN: kafkajs behind a minimal HTTP server, not the bridge]";
/** kafkajs's default of 5 retries is too few for a busy machine (GUIDE: set it). */
const PRODUCER_RETRIES = 10;

export interface BridgeStandIn {
  readonly url: string;
  /** Records accepted so far. */
  produced(): number;
  stop(): Promise<void>;
}

interface BridgeBodyRecord {
  readonly key?: string;
  readonly value: string;
  readonly headers?: readonly { readonly key: string; readonly value: string }[];
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => { body += c; });
    req.on("end", () => resolve(body));
    req.on("error", reject);
  });
}

async function handle(req: IncomingMessage, res: ServerResponse, producer: Producer, count: (n: number) => void): Promise<void> {
  const topic = /^\/topics\/([^/?]+)$/.exec(req.url ?? "")?.[1];
  if (req.method !== "POST" || topic === undefined) {
    res.writeHead(404).end(JSON.stringify({ error_code: 404, message: `${BRIDGE_STAND_IN_LABEL} only POST /topics/<topic>, got ${req.method} ${req.url}` }));
    return;
  }
  if (!(req.headers["content-type"] ?? "").startsWith(BRIDGE_BINARY_CONTENT_TYPE)) {
    res.writeHead(415).end(JSON.stringify({ error_code: 415, message: `expected Content-Type ${BRIDGE_BINARY_CONTENT_TYPE}` }));
    return;
  }
  const { records } = JSON.parse(await readBody(req)) as { records: BridgeBodyRecord[] };
  const [meta] = await producer.send({
    topic: decodeURIComponent(topic),
    acks: -1,
    messages: records.map((r) => ({
      key: r.key === undefined ? null : Buffer.from(r.key, "base64"),
      value: Buffer.from(r.value, "base64"),
      headers: Object.fromEntries((r.headers ?? []).map((h) => [h.key, Buffer.from(h.value, "base64")])),
    })),
  });
  count(records.length);
  const base = Number(meta?.baseOffset ?? 0);
  res.writeHead(200, { "content-type": "application/vnd.kafka.v2+json" });
  res.end(JSON.stringify({ offsets: records.map((_, i) => ({ partition: meta?.partition ?? 0, offset: base + i })) }));
}

export async function startBridgeStandIn(brokers: readonly string[]): Promise<BridgeStandIn> {
  const kafka = new Kafka({ clientId: "bridge-stand-in", brokers: [...brokers], logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: PRODUCER_RETRIES } });
  await producer.connect();
  let produced = 0;
  const server: Server = createServer((req, res) => {
    handle(req, res, producer, (n) => { produced += n; }).catch((err: unknown) => {
      console.log(`${BRIDGE_STAND_IN_LABEL} produce failed: ${String(err)}`);
      if (!res.headersSent) res.writeHead(500).end(JSON.stringify({ error_code: 500, message: String(err) }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    produced: () => produced,
    stop: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await producer.disconnect();
    },
  };
}
