/**
 * Pure decisions of the snapshot service: how old a cached snapshot may be, what a snapshot file
 * is called, the FFmpeg arguments of a one-frame capture, and the HTTP cache headers. No I/O.
 */
import { createHash } from 'node:crypto';
import type { CameraState } from '../cameras/status.js';
import { isCameraId } from '../contract/index.js';
import { jpegFrameOutputArgs } from '../ffmpeg-args.js';

/** Smallest and largest `width` a client may ask for (pixels). */
export { MAX_SNAPSHOT_WIDTH, MIN_SNAPSHOT_WIDTH } from '../contract/index.js';
/** Largest `maxAge` a client may ask for (ms): ten minutes. */
export const MAX_SNAPSHOT_MAX_AGE_MS = 600_000;

/**
 * How old a cached snapshot may be when the client does not say (`maxAge` omitted).
 *
 * - streaming: 2 s. The camera is already pulled, a fresh frame costs only the wait for the next
 *   keyframe, and a dashboard refreshing every few seconds should see the picture move.
 * - anything else (idle, connecting, unknown): 10 s. An idle on-demand camera is not pulled; a
 *   fresh frame makes MediaMTX open the upstream connection (RTSP handshake plus up to one GOP,
 *   seconds on real cameras) and then keep it open for the whole grace period. Ten seconds lets
 *   several dashboard tiles and automations that ask at about the same time share one wake-up
 *   instead of each pulling the camera again, while a thumbnail stays recent. A client that needs
 *   a newer picture says so with `maxAge`.
 */
export const DEFAULT_MAX_AGE_MS: Readonly<{ streaming: number; other: number }> = { streaming: 2_000, other: 10_000 };

export function defaultMaxAgeMs(
  state: CameraState | undefined,
  defaults: { streaming: number; other: number } = DEFAULT_MAX_AGE_MS,
): number {
  return state === 'streaming' ? defaults.streaming : defaults.other;
}

/** Milliseconds a snapshot taken at `takenAtMs` stays fresh under `maxAgeMs` (0 when stale). */
export function freshForMs(takenAtMs: number, nowMs: number, maxAgeMs: number): number {
  const age = Math.max(0, nowMs - takenAtMs);
  return Math.max(0, maxAgeMs - age);
}

/** Whether a cached snapshot may be served: younger than `maxAgeMs` (so `maxAge=0` always takes a new one). */
export function isFresh(takenAtMs: number, nowMs: number, maxAgeMs: number): boolean {
  return freshForMs(takenAtMs, nowMs, maxAgeMs) > 0;
}

/** A strong ETag from the bytes: equal images get equal tags, across restarts too. */
export function etagOf(jpeg: Uint8Array): string {
  return `"${createHash('sha256').update(jpeg).digest('base64url').slice(0, 22)}"`;
}

/** `If-None-Match` (a list, `*`, weak tags) against our ETag — the weak comparison RFC 9110 asks for. */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  const bare = (tag: string) => tag.trim().replace(/^W\//, '');
  const ours = bare(etag);
  return ifNoneMatch.split(',').some((tag) => tag.trim() === '*' || bare(tag) === ours);
}

/** `Cache-Control` for a snapshot that stays fresh for `freshMs` more milliseconds. */
export function cacheControl(freshMs: number): string {
  const seconds = Math.floor(freshMs / 1000);
  return seconds > 0 ? `private, max-age=${seconds}` : 'private, no-cache';
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** `YYYYMMDD-HHMMSS-mmm` in local time, like MediaMTX's recording names (which use local time too). */
export function snapshotTimestamp(at: Date): string {
  return (
    `${at.getFullYear()}${pad(at.getMonth() + 1)}${pad(at.getDate())}-` +
    `${pad(at.getHours())}${pad(at.getMinutes())}${pad(at.getSeconds())}-${pad(at.getMilliseconds(), 3)}`
  );
}

/** Where a saved snapshot goes, relative to the media dir: `<id>/snapshots/<id>_<YYYYMMDD-HHMMSS-mmm>.jpg`. */
export function snapshotRelativePath(cameraId: string, takenAt: Date): string {
  if (!isCameraId(cameraId)) throw new Error(`invalid camera id ${JSON.stringify(cameraId)}`);
  return `${cameraId}/snapshots/${cameraId}_${snapshotTimestamp(takenAt)}.jpg`;
}

/**
 * FFmpeg arguments that read one video frame from `url` (the MediaMTX restream) and write it as
 * a JPEG to stdout, scaled to `width` (height keeps the aspect ratio, rounded to even) if given.
 */
export function ffmpegSnapshotArgs(url: string, opts: { width?: number | undefined; timeoutMs: number }): string[] {
  return [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'error',
    '-rtsp_transport',
    'tcp',
    '-timeout',
    String(opts.timeoutMs * 1000),
    '-i',
    url,
    ...jpegFrameOutputArgs(opts.width),
  ];
}

/** FFmpeg reading a tiny MP4 (init segment + a keyframe's fragment) on stdin, one JPEG on stdout. */
export function ffmpegKeyframeSnapshotArgs(width?: number): string[] {
  return ['-hide_banner', '-loglevel', 'error', '-f', 'mp4', '-i', 'pipe:0', ...jpegFrameOutputArgs(width)];
}
