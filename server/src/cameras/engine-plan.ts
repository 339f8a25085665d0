/**
 * Pure: what the engines must hold for a set of cameras.
 *
 * One upstream connection per camera: MediaMTX is the only engine that pulls a camera (RTSP,
 * RTSPS, RTMP). Everything else — go2rtc's live outputs, recording, clips, snapshots, Home
 * Assistant — reads MediaMTX's local restream. Sources MediaMTX cannot pull (MJPEG or JPEG over
 * HTTP, the demo's test patterns) are first converted by FFmpeg inside go2rtc into an
 * `<id>-ingest` stream, which MediaMTX then pulls like any RTSP camera, so the camera still sees a
 * single client.
 *
 * On demand: a camera that is not recorded (neither continuously nor into a pre-roll buffer) is
 * pulled by MediaMTX only while it has readers, and kept for a grace period after the last one
 * leaves; a viewer who returns within it reuses the same upstream connection.
 */
import type { Camera } from '../config/load.js';
import { withCredentials } from '../config/source.js';
import type { Go2rtcClient, MediamtxClient } from '../engines/clients.js';
import type { EventBus } from '../events/bus.js';
import type { Logger } from '../log/logger.js';

/** What the camera modules need of the engines and the rest of the server (shared shape). */
export interface EngineAccess {
  cameras: () => readonly Camera[];
  go2rtc: Go2rtcClient;
  mediamtx: MediamtxClient;
  /** Whether an engine is running (its API answers). */
  engineRunning: (name: 'go2rtc' | 'mediamtx') => boolean;
  bus: EventBus;
  logger: Logger;
  ports: PlanPorts;
}

export interface PlanPorts {
  mediamtxRtsp: number;
  go2rtcRtsp: number;
}

export interface PlanOptions {
  ports: PlanPorts;
  graceSeconds: number;
  /**
   * The media disk is full: MediaMTX records nothing (the cameras are still pulled, so live view
   * goes on and recording resumes at once when space returns).
   */
  recordingPaused?: boolean;
}

/** The MediaMTX path configuration we manage (the keys we compare when reconciling). */
export interface MediamtxPathConf {
  source: string;
  sourceOnDemand: boolean;
  sourceOnDemandStartTimeout: string;
  sourceOnDemandCloseAfter: string;
  rtspTransport: 'tcp' | 'automatic';
  record: boolean;
}

export interface EnginePlan {
  /** MediaMTX path name → configuration. */
  mediamtx: Map<string, MediamtxPathConf>;
  /** go2rtc stream name → its single source. */
  go2rtc: Map<string, string>;
}

/** The go2rtc stream that converts a non-RTSP source, read by MediaMTX. */
export function ingestStreamName(id: string): string {
  // "-" is outside the camera id alphabet: a camera named "garage_ingest" cannot take this name.
  return `${id}-ingest`;
}

/**
 * The go2rtc stream that re-encodes a camera's live view to H.264, for browsers that cannot decode
 * its codec (H.265 outside Safari and hardware-decoding Chrome). Every enabled camera has one: the
 * plan is built from the configuration, which does not know the codec (it is learnt from the
 * stream, and a camera's settings can change it), and a go2rtc stream costs nothing until someone
 * reads it — go2rtc starts its FFmpeg for the first viewer and stops it after the last one. It
 * reads the camera's own go2rtc stream, so it adds no connection to MediaMTX or the camera, and it
 * is live-only: recording stays MediaMTX's copy of what the camera sends. Clients select it with
 * `?transcode=h264` on our live routes, never by this name.
 */
export function h264StreamName(id: string): string {
  // "-" is outside the camera id alphabet, so no camera (say "door_h264") can take this name.
  return `${id}-h264`;
}

/** The source of {@link h264StreamName}: FFmpeg in go2rtc, video to H.264, audio as it is. */
export function h264TranscodeSource(id: string): string {
  return `ffmpeg:${id}#video=h264#audio=copy`;
}

/** Whether a change of a camera changes what is pulled (source, credentials, on/off): its stream is another. */
export function streamChanged(
  camera: Pick<Camera, 'source' | 'username' | 'password' | 'enabled'>,
  previous: Pick<Camera, 'source' | 'username' | 'password' | 'enabled'>,
): boolean {
  return (
    camera.source !== previous.source ||
    camera.username !== previous.username ||
    camera.password !== previous.password ||
    camera.enabled !== previous.enabled
  );
}

/** Whether some engine must re-encode this camera (MediaMTX cannot ingest it as it is). */
export function needsTranscode(camera: Pick<Camera, 'sourceType'>): boolean {
  return camera.sourceType === 'http-mjpeg' || camera.sourceType === 'http-jpeg' || camera.sourceType === 'ffmpeg-test';
}

/** The URL the engines use to reach the camera itself, credentials included. Never log it. */
export function upstreamUrl(camera: Pick<Camera, 'source' | 'username' | 'password'>): string {
  return withCredentials(camera.source, camera.username, camera.password);
}

/** The local restream every internal reader uses: rtsp://127.0.0.1:<mediamtx>/<id>. */
export function restreamUrl(id: string, ports: PlanPorts): string {
  return `rtsp://127.0.0.1:${ports.mediamtxRtsp}/${id}`;
}

function go2rtcIngestSource(camera: Camera): string {
  if (camera.sourceType === 'ffmpeg-test') {
    // Demo/test patterns: go2rtc's own `ffmpeg:virtual?…` generator, encoded to H.264.
    const src = camera.source.startsWith('ffmpeg:') ? camera.source.slice('ffmpeg:'.length) : camera.source;
    return `ffmpeg:${src.split('#')[0]}#video=h264`;
  }
  // MJPEG streams and JPEG snapshot URLs: FFmpeg decodes them and encodes H.264.
  return `ffmpeg:${upstreamUrl(camera)}#video=h264`;
}

/**
 * Whether MediaMTX records this camera: 24/7 (`continuous`), or into a short rolling pre-roll
 * buffer (`preRollSeconds > 0`, segments deleted after a few minutes unless a clip needs them).
 * Either way the camera is pulled all the time, not on demand.
 */
export function isRecorded(camera: Pick<Camera, 'recording'>): boolean {
  return camera.recording.continuous || camera.recording.preRollSeconds > 0;
}

export function mediamtxPathFor(camera: Camera, opts: PlanOptions): MediamtxPathConf {
  const transcoded = needsTranscode(camera);
  const source = transcoded
    ? `rtsp://127.0.0.1:${opts.ports.go2rtcRtsp}/${ingestStreamName(camera.id)}`
    : upstreamUrl(camera);
  const recorded = isRecorded(camera);
  return {
    source,
    sourceOnDemand: !recorded,
    sourceOnDemandStartTimeout: '10s',
    sourceOnDemandCloseAfter: `${opts.graceSeconds}s`,
    rtspTransport: camera.sourceType === 'rtsp' || transcoded ? 'tcp' : 'automatic',
    record: recorded && !opts.recordingPaused,
  };
}

/** Builds the full desired state of both engines. Disabled cameras are in neither engine. */
export function buildEnginePlan(cameras: readonly Camera[], opts: PlanOptions): EnginePlan {
  const plan: EnginePlan = { mediamtx: new Map(), go2rtc: new Map() };
  for (const camera of cameras) {
    if (!camera.enabled) continue;
    plan.mediamtx.set(camera.id, mediamtxPathFor(camera, opts));
    plan.go2rtc.set(camera.id, restreamUrl(camera.id, opts.ports));
    plan.go2rtc.set(h264StreamName(camera.id), h264TranscodeSource(camera.id));
    if (needsTranscode(camera)) plan.go2rtc.set(ingestStreamName(camera.id), go2rtcIngestSource(camera));
  }
  return plan;
}

export interface PlanDiff<T> {
  add: [string, T][];
  replace: [string, T][];
  remove: string[];
}

/** Pure diff between a desired and an actual map, with a custom equality for values. */
export function diffMaps<T, A>(
  desired: ReadonlyMap<string, T>,
  actual: ReadonlyMap<string, A>,
  same: (want: T, have: A) => boolean,
): PlanDiff<T> {
  const diff: PlanDiff<T> = { add: [], replace: [], remove: [] };
  for (const [name, want] of desired) {
    const have = actual.get(name);
    if (have === undefined) diff.add.push([name, want]);
    else if (!same(want, have)) diff.replace.push([name, want]);
  }
  for (const name of actual.keys()) if (!desired.has(name)) diff.remove.push(name);
  return diff;
}

/**
 * Whether go2rtc's stream holds the source we want. While an `ffmpeg:<stream>` source runs, go2rtc
 * lists its producer under the RTSP URL it reads, with the source we gave in its `source` query
 * parameter (`rtsp://127.0.0.1:<port>/<id>?video&audio&source=ffmpeg:<id>%23video%3Dh264…`):
 * that is the same stream, and replacing it would cut its viewers off.
 */
export function sameGo2rtcSource(want: string, have: string): boolean {
  if (want === have) return true;
  if (!want.startsWith('ffmpeg:') || !have.startsWith('rtsp://127.0.0.1:')) return false;
  try {
    return new URL(have).searchParams.get('source') === want;
  } catch {
    return false;
  }
}

/** Compares only the keys we manage; MediaMTX returns durations normalised ("10s" → "10s"). */
export function samePathConf(want: MediamtxPathConf, have: Record<string, unknown>): boolean {
  return (
    have.source === want.source &&
    have.sourceOnDemand === want.sourceOnDemand &&
    normaliseDuration(have.sourceOnDemandCloseAfter) === normaliseDuration(want.sourceOnDemandCloseAfter) &&
    normaliseDuration(have.sourceOnDemandStartTimeout) === normaliseDuration(want.sourceOnDemandStartTimeout) &&
    have.rtspTransport === want.rtspTransport &&
    have.record === want.record
  );
}

/** "30s", "30.0s", "0h0m30s" and 30 (seconds) all become 30; unknown shapes stay as strings. */
export function normaliseDuration(value: unknown): number | string {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return String(value);
  const m = /^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?$/.exec(value);
  if (!m || value === '') return value;
  return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
}
