import { describe, expect, it } from "vitest";
import { murmur2, partitionForKey, tickKeysForPartitions } from "../../ksql/ticks";
import { DEFAULT_SESSIONIZATION_PARAMS, TICK_USER_ID, worstCaseCloseDelaySec } from "../../contract/sessionization";
import { sessionize } from "../../ksql/model/pipeline";

// kafkajs's own implementation of Kafka's murmur2 and its Java-compatible default partitioner (no types shipped).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const kafkajsMurmur2 = require("kafkajs/src/producer/partitioners/default/murmur2") as (key: string | Buffer) => number;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Partitioners } = require("kafkajs") as {
  Partitioners: { DefaultPartitioner: () => (a: { topic: string; partitionMetadata: object[]; message: { key: string } }) => number };
};

describe("tick keys", () => {
  it("murmur2 equals kafkajs's murmur2 on ASCII and multi-byte keys of every tail length", () => {
    for (const k of ["", "a", "ab", "abc", "abcd", "abcde", "__tick__|p0-0", "ü|視聴", "user-123|video-456"]) {
      expect(murmur2(Buffer.from(k, "utf8"))).toBe(kafkajsMurmur2(Buffer.from(k, "utf8")));
    }
  });

  it.each([1, 3, 12, 48, 120])("one key per partition for %i partitions, each landing there under kafkajs's DefaultPartitioner", (n) => {
    const keys = tickKeysForPartitions(n);
    expect(keys.map((k) => k.partition)).toEqual([...Array(n).keys()]);
    const partitioner = Partitioners.DefaultPartitioner();
    const partitionMetadata = [...Array(n).keys()].map((p) => ({ partitionId: p, leader: 0 }));
    for (const k of keys) {
      expect(k.user_id).toBe(TICK_USER_ID);
      expect(k.key).toBe(`${TICK_USER_ID}|${k.video_id}`);
      expect(partitionForKey(k.key, n)).toBe(k.partition);
      expect(partitioner({ topic: "heartbeats", partitionMetadata, message: { key: k.key } })).toBe(k.partition);
    }
  });

  it("rejects a nonsensical partition count", () => {
    expect(() => tickKeysForPartitions(0)).toThrow(/partitions must be an integer in 1..100000, got 0/);
  });

  it("ticks never produce segments", () => {
    const ticks = [0, 10_000, 20_000].map((t) => ({ user_id: TICK_USER_ID, video_id: "p0-0", position_sec: 0, event_ts: t, device_id: null }));
    expect(sessionize(ticks, DEFAULT_SESSIONIZATION_PARAMS)).toEqual([]);
  });

  it("worst-case close delay with the defaults: gap 30 + grace 60 + 1 ms + 2 ticks of 10 + commit 0.1 + skew 30 s", () => {
    expect(worstCaseCloseDelaySec(DEFAULT_SESSIONIZATION_PARAMS)).toBeCloseTo(140.1, 6);
  });
});
