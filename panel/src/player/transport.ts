/**
 * The contract between `<camstack-player>` (the chooser: order, fallback, retry, visibility,
 * controls) and one transport (how one kind of stream is opened and watched). A transport gets a
 * {@link TransportHost} and a {@link Session}; it resolves once the first frame shows, throws a
 * `Failure` when it cannot play, and calls `host.lost()` when a playing stream breaks.
 */
import type { Session } from './session.js';

/** The transports, in the player's default order of preference. A new one is added here and in `transports.ts`. */
export type PlayerMode = 'webrtc' | 'mse' | 'hls' | 'mjpeg';

/** Time limits (ms) of each step; the player moves on to the next mode when one runs out. */
export const TIMEOUTS = {
  iceGathering: 3000,
  signalling: 8000,
  webrtcConnect: 6000,
  firstFrame: 10_000,
  socketOpen: 6000,
  mseAnswer: 8000,
  /** HLS needs the muxer started and a first segment (a GOP of an idle camera) before playing. */
  hlsFirstFrame: 20_000,
  mjpegFirstImage: 20_000,
  /** No new frame for this long while visible: the stream is considered lost. */
  stall: 12_000,
  /** A peer connection `disconnected` for this long is lost. */
  disconnected: 4000,
};

/** What the player lends a transport while it connects and plays. */
export interface TransportHost {
  readonly camera: string;
  /** Camera name for screen readers ("Live view of <label>"); the id when empty. */
  readonly label: string;
  /** Codec the camera sends (from its status), to explain a codec fallback. */
  readonly codec: string;
  /** Play the camera's H.264 transcode (`?transcode=h264`): this browser cannot decode its codec. */
  readonly transcode: boolean;
  readonly muted: boolean;
  /** Where the transport puts its <video> or <img>. */
  readonly stage: HTMLElement;
  /** Whether the player shows a playing stream (a stall only counts then). */
  readonly playing: boolean;
  /** The <video> now on the stage (mute and picture-in-picture act on it). */
  showVideo(video: HTMLVideoElement): void;
  /** The stream carries audio (the mute button is offered). */
  hasAudio(yes: boolean): void;
  /** One more decoded frame. */
  frame(): void;
  /** A stream that played broke: the player reconnects with backoff. Ignored for a closed session. */
  lost(s: Session, why: string): void;
}

export interface Transport {
  /** Shown in the badge and in reasons ("WebRTC: …"). */
  readonly label: string;
  /** It plays in a <video>: mute and picture-in-picture apply. */
  readonly video: boolean;
  /** It can play the camera's on-demand H.264 transcode (retried with it after a `codec` failure). */
  readonly transcodes?: boolean;
  /** Why it is skipped once this browser proved unable to do it at all. */
  readonly unavailable: string;
  /** Opens the stream in `s`; resolves at its first frame. */
  connect(host: TransportHost, s: Session): Promise<void>;
  /** False: this browser has a better way, the mode is passed over without a word (HLS where MSE plays). */
  needed?(): boolean;
}

/** "H.265" when the camera (its status, or go2rtc's message) says so; else a general phrase. */
export function codecName(cameraCodec: string, message: string): string {
  if (/265|hevc/i.test(cameraCodec) || /video:H265 =>/i.test(message)) return 'H.265';
  return "the camera's codec";
}
