/**
 * HLS (Low-Latency, fMP4) played by the browser's own player from `api/cameras/:id/hls/index.m3u8`
 * (our server proxies MediaMTX). For browsers without MSE — Safari on iPhone — where it is the
 * only way to see video rather than MJPEG; elsewhere MSE does better, so it is passed over. The
 * native player fetches the playlists, parts and segments itself; we keep it near the live edge.
 */
import { urls } from '../api.js';
import { Failure, failureSignal, type Session } from './session.js';
import { TIMEOUTS, type Transport, type TransportHost } from './transport.js';
import { newVideo, watchFrames } from './video.js';

const HLS_TYPE = 'application/vnd.apple.mpegurl';
/** Further behind the live edge than this (s), jump to {@link LIVE_TARGET_S} behind it. */
const LIVE_MAX_LAG_S = 4;
const LIVE_TARGET_S = 1.5;

/** Whether this browser plays HLS in a plain <video> (Safari; recent Chrome). */
export function nativeHls(): boolean {
  return document.createElement('video').canPlayType(HLS_TYPE) !== '';
}

/** Whether this page has Media Source Extensions (classic, or Apple's ManagedMediaSource). */
export function hasMse(): boolean {
  return 'MediaSource' in window || 'ManagedMediaSource' in window;
}

function mediaErrorText(video: HTMLVideoElement): string {
  const e = video.error;
  if (!e) return 'the HLS stream failed';
  const what = ['', 'aborted', 'network error', 'decode error', 'stream not supported'][e.code] ?? `error ${e.code}`;
  return e.message ? `${what}: ${e.message}` : what;
}

/**
 * Chromium's built-in player sometimes refuses the first playlists of a muxer that just started
 * (a single segment): the source is loaded again, at most this often, before the mode gives up.
 */
const RELOADS_BEFORE_FIRST_FRAME = 2;

async function connect(host: TransportHost, s: Session): Promise<void> {
  if (!nativeHls()) throw new Failure('unsupported in this browser', 'browser');
  const video = newVideo(host, s);
  const firstFrame = watchFrames(host, s, video);
  const error = failureSignal();
  let playing = false;
  let reloads = 0;
  const src = urls.hls(host.camera);
  video.onerror = () => {
    const why = mediaErrorText(video);
    if (playing) host.lost(s, `HLS: ${why}`);
    else if (reloads < RELOADS_BEFORE_FIRST_FRAME) {
      reloads++;
      s.timeout(() => {
        video.src = src;
        video.play().catch(() => {});
      }, 500);
    } else error.fail(new Failure(why));
  };
  s.add(() => {
    video.onerror = null;
  });
  video.src = src;
  video.play().catch(() => {});
  followLiveEdge(s, video);
  await s.within(Promise.race([firstFrame, error.promise]), TIMEOUTS.hlsFirstFrame, 'the first HLS frame');
  host.hasAudio(hasAudio(video));
  playing = true;
}

/** Native players start a few segments back and may drift: stay close to the edge, keep playing. */
function followLiveEdge(s: Session, video: HTMLVideoElement): void {
  const check = setInterval(() => {
    if (s.closed || document.hidden) return;
    const r = video.seekable;
    if (r.length === 0) return;
    const edge = r.end(r.length - 1);
    if (Number.isFinite(edge) && edge - video.currentTime > LIVE_MAX_LAG_S) {
      video.currentTime = Math.max(r.start(r.length - 1), edge - LIVE_TARGET_S);
    }
    if (video.paused && video.readyState >= 2) video.play().catch(() => {});
  }, 1000);
  s.add(() => clearInterval(check));
}

/** Audio tracks where the browser lists them (Safari), else what it decoded (Chromium). */
function hasAudio(video: HTMLVideoElement): boolean {
  const tracks = (video as HTMLVideoElement & { audioTracks?: { length: number } }).audioTracks;
  if (tracks) return tracks.length > 0;
  const decoded = (video as HTMLVideoElement & { webkitAudioDecodedByteCount?: number }).webkitAudioDecodedByteCount;
  return (decoded ?? 0) > 0;
}

export const hls: Transport = {
  label: 'HLS',
  video: true,
  unavailable: 'HLS unsupported in this browser',
  connect,
  needed: () => !hasMse(),
};
