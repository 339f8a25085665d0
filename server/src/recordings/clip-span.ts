/**
 * Pure rules for where a clip starts and ends when the camera is not delivering video at the moment
 * it is asked for (an on-demand camera being opened, a recorded camera reconnecting): the clip holds
 * `duration` seconds of actual video, counted from the camera's first video after the request, and
 * its times come from the media rather than from the request.
 */
import type { TrackSpan } from './mp4.js';
import type { RecordedRun } from './playback.js';

/** How long a clip waits for the camera's first video after it was asked for. */
export const CLIP_FIRST_VIDEO_TIMEOUT_MS = 20_000;
/** Once video arrived: how long a clip waits for more after it stops coming (camera lost mid-clip). */
export const CLIP_STALL_TIMEOUT_MS = 10_000;

export function noVideoReason(timeoutMs: number): string {
  return `camera did not deliver video within ${Math.round(timeoutMs / 1000)} s`;
}

export interface RecorderProgress {
  nowMs: number;
  requestedMs: number;
  /** Video the clip must hold, ms: the duration asked for, plus any extension. */
  wantedMs: number;
  /** Media time the video track covers in the recorder's file so far; null before its first fragment. */
  video: TrackSpan | null;
  /** When the video last grew (wall clock); null before the first video. */
  videoGrewAtMs: number | null;
  /** Whether the recorder still runs (or is being restarted). */
  recorderAlive: boolean;
  firstVideoTimeoutMs: number;
  stallTimeoutMs: number;
}

export type RecorderDecision = { action: 'wait' } | { action: 'stop' } | { action: 'fail'; reason: string };

/**
 * How much moving video a track holds. Its first frame is not counted: a stream joined mid-way
 * may begin with a keyframe whose time is unknown, held until the next frame arrives (up to a
 * second later on a camera just opened); a normal first frame is one frame of it.
 */
export function videoHeldMs(video: TrackSpan | null): number {
  if (video === null) return 0;
  return Math.max(0, video.endMs - Math.max(video.startMs, video.firstSampleEndMs));
}

/**
 * What a clip recorder (an FFmpeg reader of the restream) does next: wait, stop because the clip
 * holds the video it wants (or the camera stopped delivering it), or fail because no video came.
 */
export function recorderDecision(p: RecorderProgress): RecorderDecision {
  const videoMs = videoHeldMs(p.video);
  if (videoMs <= 0) {
    if (p.nowMs - p.requestedMs >= p.firstVideoTimeoutMs) {
      return { action: 'fail', reason: noVideoReason(p.firstVideoTimeoutMs) };
    }
    return { action: 'wait' };
  }
  if (videoMs >= p.wantedMs) return { action: 'stop' };
  if (!p.recorderAlive) return { action: 'stop' };
  if (p.videoGrewAtMs !== null && p.nowMs - p.videoGrewAtMs >= p.stallTimeoutMs) return { action: 'stop' };
  return { action: 'wait' };
}

/**
 * Wall-clock time of media time 0 of a file being written, from one more look at it: media that
 * ends at `mediaEndMs` was on disk at `observedAtMs`, so media time 0 was at the latest
 * `observedAtMs − mediaEndMs`. The earliest such bound (the freshest look) is the best estimate.
 */
export function refineAnchor(anchorMs: number | null, observedAtMs: number, mediaEndMs: number): number {
  const bound = observedAtMs - mediaEndMs;
  return anchorMs === null ? bound : Math.min(anchorMs, bound);
}

/** The first recorded instant at or after `fromMs` (fromMs itself when it is recorded), or null. */
export function firstRecordedAt(runs: readonly RecordedRun[], fromMs: number, minMs = 200): number | null {
  let first: number | null = null;
  for (const r of runs) {
    const end = r.startMs + r.durationMs;
    const start = Math.max(r.startMs, fromMs);
    if (end - start < minMs) continue;
    if (first === null || start < first) first = start;
  }
  return first;
}

/**
 * The end of a clip cut from the recording. Normally the planned end; when the recording did not
 * cover the request (the camera was reconnecting), the clip's part after the request starts with
 * the first recording after it (a keyframe: MediaMTX starts recording on one) and still lasts as
 * long as asked.
 */
export function playbackClipEnd(runs: readonly RecordedRun[], requestedMs: number, plannedEndMs: number): number {
  const first = firstRecordedAt(runs, requestedMs);
  if (first === null || first <= requestedMs) return plannedEndMs;
  return Math.max(plannedEndMs, first + (plannedEndMs - requestedMs));
}
