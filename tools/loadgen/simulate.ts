/**
 * Pure simulation of viewers for the load generator: N viewers each watch videos and emit a heartbeat every
 * HEARTBEAT_INTERVAL_SEC of event time, with the behaviour the sessionization SQL must handle: seeks, pauses
 * (no heartbeats while paused, then resume at the same playhead), device switches and moving on to the next
 * video. Deterministic for a seed, no I/O and no clock: the caller passes event time in.
 */
import { HEARTBEAT_INTERVAL_SEC, type Heartbeat } from "../../contract/topics";

/** Per-heartbeat chance that the viewer seeks: roughly one seek per ~8 minutes of watching. */
export const SEEK_PROBABILITY = 0.01;
/** Per-heartbeat chance of pausing: roughly one pause per ~4 minutes. */
export const PAUSE_PROBABILITY = 0.02;
/** A pause lasts 1..this many heartbeat intervals (up to 2 minutes of silence). */
export const MAX_PAUSE_INTERVALS = 24;
/** Per-heartbeat chance of switching device (phone -> TV) and continuing where playback was. */
export const DEVICE_SWITCH_PROBABILITY = 0.002;
/** Video lengths are drawn between these (seconds): short clips to feature-length. */
export const MIN_VIDEO_LENGTH_SEC = 60;
export const MAX_VIDEO_LENGTH_SEC = 7_200;
/** A few distinct devices per user: enough to see switches. */
const DEVICES_PER_USER = 3;

/** Mulberry32: a tiny, fast, seedable PRNG; good enough for traffic shapes, not for anything secret. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SimulationOptions {
  readonly viewers: number;
  /** Size of the video catalogue viewers pick from. */
  readonly videos: number;
  readonly seed: number;
  /** Event time (epoch ms) of the first heartbeat. */
  readonly startTs: number;
  /**
   * Simulate only these viewers (indexes in 0..viewers-1; ids stay those of the full audience). A worker thread
   * simulates the viewers whose partitions it owns. Default: all.
   */
  readonly viewerIndexes?: readonly number[];
}

interface ViewerState {
  readonly userId: string;
  videoIndex: number;
  /** videoId(videoIndex) and deviceId(userId, device), kept in step so emitting a heartbeat builds no strings. */
  video: string;
  deviceName: string;
  videoLengthSec: number;
  positionSec: number;
  device: number;
  /** Event time of this viewer's next heartbeat. */
  nextTs: number;
}

export interface Simulation {
  readonly options: SimulationOptions;
  readonly viewers: ViewerState[];
  readonly random: () => number;
  /** Round-robin cursor: viewers are visited in order; each visit emits that viewer's next heartbeat. */
  cursor: number;
}

/** Stable, readable ids: u000042 / v0007. */
export function userId(i: number): string {
  return `u${String(i).padStart(6, "0")}`;
}
export function videoId(i: number): string {
  return `v${String(i).padStart(5, "0")}`;
}
export function deviceId(user: string, device: number): string {
  return `${user}-d${device}`;
}

function pickVideoLength(random: () => number): number {
  return Math.round(MIN_VIDEO_LENGTH_SEC + random() * (MAX_VIDEO_LENGTH_SEC - MIN_VIDEO_LENGTH_SEC));
}

export function validateSimulationOptions(o: SimulationOptions): void {
  if (!Number.isInteger(o.viewers) || o.viewers < 1) throw new Error(`viewers must be an integer >= 1, got ${o.viewers}`);
  if (!Number.isInteger(o.videos) || o.videos < 1) throw new Error(`videos must be an integer >= 1, got ${o.videos}`);
  if (!Number.isFinite(o.startTs) || o.startTs < 0) throw new Error(`startTs must be epoch ms >= 0, got ${o.startTs}`);
  if (o.viewerIndexes !== undefined) {
    if (o.viewerIndexes.length === 0) throw new Error("viewerIndexes must name at least one viewer, got an empty list");
    const bad = o.viewerIndexes.find((i) => !Number.isInteger(i) || i < 0 || i >= o.viewers);
    if (bad !== undefined) throw new Error(`viewerIndexes must be integers in 0..${o.viewers - 1}, got ${bad}`);
  }
}

export function createSimulation(options: SimulationOptions): Simulation {
  validateSimulationOptions(options);
  const random = mulberry32(options.seed);
  const intervalMs = HEARTBEAT_INTERVAL_SEC * 1000;
  const indexes = options.viewerIndexes ?? Array.from({ length: options.viewers }, (_, i) => i);
  const viewers: ViewerState[] = indexes.map((i, k) => {
    const length = pickVideoLength(random);
    const user = userId(i);
    const videoIndex = Math.floor(random() * options.videos);
    // Viewers join mid-video, as on a live platform.
    const positionSec = Math.floor(random() * length * 0.9);
    const device = Math.floor(random() * DEVICES_PER_USER);
    return {
      userId: user,
      videoIndex,
      video: videoId(videoIndex),
      deviceName: deviceId(user, device),
      videoLengthSec: length,
      positionSec,
      device,
      // Spread viewers over one interval so load is smooth rather than a burst every 5 s.
      nextTs: options.startTs + Math.floor((k / indexes.length) * intervalMs),
    };
  });
  return { options, viewers, random, cursor: 0 };
}

/** Advances one viewer after it emitted: playback, then maybe a seek, pause, device switch or next video. */
function advance(sim: Simulation, v: ViewerState): void {
  const r = sim.random;
  const intervalMs = HEARTBEAT_INTERVAL_SEC * 1000;
  v.positionSec += HEARTBEAT_INTERVAL_SEC;
  v.nextTs += intervalMs;
  if (v.positionSec >= v.videoLengthSec) {
    v.videoIndex = Math.floor(r() * sim.options.videos);
    v.video = videoId(v.videoIndex);
    v.videoLengthSec = pickVideoLength(r);
    v.positionSec = 0;
    return;
  }
  const roll = r();
  if (roll < SEEK_PROBABILITY) {
    v.positionSec = Math.floor(r() * v.videoLengthSec);
  } else if (roll < SEEK_PROBABILITY + PAUSE_PROBABILITY) {
    // Paused players send nothing; playback resumes at the same playhead after the pause.
    v.positionSec -= HEARTBEAT_INTERVAL_SEC;
    v.nextTs += (1 + Math.floor(r() * MAX_PAUSE_INTERVALS)) * intervalMs;
  } else if (roll < SEEK_PROBABILITY + PAUSE_PROBABILITY + DEVICE_SWITCH_PROBABILITY) {
    v.device = (v.device + 1 + Math.floor(r() * (DEVICES_PER_USER - 1))) % DEVICES_PER_USER;
    v.deviceName = deviceId(v.userId, v.device);
  }
}

/** Emits the next `count` heartbeats (round-robin over viewers; each viewer's event time only moves forward). */
export function nextHeartbeats(sim: Simulation, count: number): Heartbeat[] {
  const out: Heartbeat[] = new Array<Heartbeat>(count);
  const n = sim.viewers.length;
  for (let i = 0; i < count; i++) {
    const v = sim.viewers[sim.cursor]!;
    sim.cursor = sim.cursor + 1 === n ? 0 : sim.cursor + 1;
    out[i] = {
      user_id: v.userId,
      video_id: v.video,
      position_sec: v.positionSec,
      event_ts: v.nextTs,
      device_id: v.deviceName,
    };
    advance(sim, v);
  }
  return out;
}
