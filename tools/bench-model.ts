/**
 * `npm run bench:model`: throughput of the sessionization reference model on one core (heartbeats/s), several
 * runs, median. Input is generated: many concurrent viewers over many videos, 5 s heartbeats with jitter, seeks,
 * pauses, abandons and mild arrival disorder, in one partition. Not a test: prints figures.
 */
import { parseArgs } from "node:util";
import { DEFAULT_SESSIONIZATION_PARAMS } from "../contract/sessionization";
import { SegmentModel } from "../ksql/model/pipeline";
import type { ValidHeartbeat } from "../ksql/model/validate";
import { EXIT_CODES_HELP, exitCodeOf } from "./exitCodes";
import { mulberry32 } from "./loadgen/simulate";

/** Heartbeats per run: big enough to reach steady state (sessions opening and closing), small enough for ~seconds. */
const HEARTBEATS = Number(process.env.BENCH_HEARTBEATS ?? 1_000_000);
/** Concurrent viewers on the partition (100k hb/s over ~64 partitions at 0.2 hb/s per viewer ≈ 8k). */
const VIEWERS = Number(process.env.BENCH_VIEWERS ?? 8_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const T0 = 1_700_000_000_000;


function generate(n: number): ValidHeartbeat[] {
  // Deterministic PRNG so every run measures the same input.
  const r = mulberry32(42);
  const viewers = Array.from({ length: VIEWERS }, (_, i) => ({
    user: `user-${i}`,
    video: `video-${Math.floor(r() * 5000)}`,
    t: T0 + Math.floor(r() * 5000),
    pos: 0,
  }));
  const out: ValidHeartbeat[] = [];
  while (out.length < n) {
    // advance a random viewer; arrival order is fixed below by sorting on event time plus jitter
    const v = viewers[Math.floor(r() * viewers.length)];
    const roll = r();
    if (roll < 0.002) {
      v.video = `video-${Math.floor(r() * 5000)}`; // abandon, start another video
      v.pos = 0;
      v.t += 40_000 + Math.floor(r() * 60_000);
    } else if (roll < 0.012) {
      v.pos = Math.max(0, v.pos + Math.floor((r() - 0.4) * 600_000)); // seek
      v.t += 5000;
    } else if (roll < 0.017) {
      v.t += 5000 + Math.floor(r() * 40_000); // pause
    } else {
      const dt = 4800 + Math.floor(r() * 400);
      v.t += dt;
      v.pos += dt;
    }
    out.push({ user_id: v.user, video_id: v.video, position_sec: v.pos / 1000, event_ts: v.t, device_id: null });
  }
  // Arrival order: event time plus up to 2 s of network disorder.
  const jitter = out.map(() => Math.floor(r() * 2000));
  return out.map((h, i) => ({ h, a: h.event_ts + jitter[i] })).sort((x, y) => x.a - y.a).map((x) => x.h);
}

function runOnce(input: readonly ValidHeartbeat[]): { secs: number; segments: number; dropped: number } {
  const model = new SegmentModel(DEFAULT_SESSIONIZATION_PARAMS);
  let segments = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < input.length; i++) segments += model.push(input[i]).length;
  segments += model.closeAll().length;
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  return { secs, segments, dropped: model.droppedLate };
}

const HELP = `Usage: npm run bench:model [-- --help]

Throughput of the sessionization reference model on one core: generates heartbeats (seeded, so every run measures
the same input), runs them through the model several times and prints each run and the median heartbeats/s.
Sizes come from the environment:
  BENCH_HEARTBEATS  heartbeats per run (default 1000000)
  BENCH_VIEWERS     concurrent viewers on the partition (default 8000)
  BENCH_RUNS        runs (default 5)

${EXIT_CODES_HELP}`;

function main(): void {
  // Flags first: --help (or a typo) must never start a multi-second benchmark.
  const { values } = parseArgs({ options: { help: { type: "boolean", short: "h" } } });
  if (values.help === true) {
    console.log(HELP);
    return;
  }
  process.stdout.write(`generating ${HEARTBEATS.toLocaleString()} heartbeats from ${VIEWERS.toLocaleString()} viewers... `);
  const input = generate(HEARTBEATS);
  process.stdout.write("done\n");
  const rates: number[] = [];
  for (let i = 1; i <= RUNS; i++) {
    const { secs, segments, dropped } = runOnce(input);
    const rate = HEARTBEATS / secs;
    rates.push(rate);
    console.log(`run ${i}/${RUNS}: ${secs.toFixed(2)} s, ${Math.round(rate).toLocaleString()} heartbeats/s, ${segments.toLocaleString()} segment records, ${dropped} dropped late`);
  }
  rates.sort((a, b) => a - b);
  const median = rates[Math.floor(rates.length / 2)];
  console.log(`median: ${Math.round(median).toLocaleString()} heartbeats/s on one core (min ${Math.round(rates[0]).toLocaleString()}, max ${Math.round(rates[rates.length - 1]).toLocaleString()})`);
}

try {
  main();
} catch (err) {
  console.error(`bench-model: ${err instanceof Error ? err.message : String(err)}\n\n${HELP}`);
  process.exitCode = exitCodeOf(err);
}
