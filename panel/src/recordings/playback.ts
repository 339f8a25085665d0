/**
 * Playback of recorded spans for `<camstack-recordings>`: `api/cameras/:id/export.mp4?from=&to=`
 * windows (one MP4 across segments, starting exactly at `from`), the next window preloaded in a
 * second <video> and swapped in when the first ends, so playback runs on across segments.
 *
 * Where that cannot play — a browser without MSE (Safari on iPhone, which will not play an MP4
 * download it cannot fetch by range), or an MP4 that failed where the browser plays HLS — each
 * window is an HLS playlist over the recording files instead (`api/cameras/:id/recording.m3u8`).
 * Its first segment starts at a keyframe at or before `from`, which the playlist dates
 * (#EXT-X-PROGRAM-DATE-TIME): playback seeks from there to `from`.
 */
import type { Timeline } from '../api.js';
import { urls } from '../api.js';
import { hasMse, nativeHls } from '../player/hls.js';

/** Length of one export window; the next one is preloaded while this one plays. */
const WINDOW_MS = 5 * 60_000;
const PRELOAD_BEFORE_END_S = 20;
const MIN_WINDOW_MS = 1500;

export interface PlayWindow {
  from: number;
  to: number;
}

/** Pure: the window to play from `at` (clamped into the recorded ranges), or null when nothing follows. */
export function windowFrom(ranges: { start: string; end: string }[], at: number, maxMs = WINDOW_MS): PlayWindow | null {
  for (const r of ranges) {
    const s = Date.parse(r.start);
    const e = Date.parse(r.end);
    if (e - Math.max(s, at) < MIN_WINDOW_MS) continue;
    const from = Math.max(s, at);
    return { from, to: Math.min(e, from + maxMs) };
  }
  return null;
}

/** What the playback needs of the page; read when used, so always current. */
export interface PlaybackHost {
  readonly camera: string;
  readonly timeline: Timeline | null;
  /** Ask the server for H.264 (`transcode=h264`): this browser cannot decode the recorded codec. */
  readonly transcode: boolean;
  /** Where the two <video> elements go. */
  readonly container: HTMLElement;
  /** Fetches the day again (the live edge may have moved on). */
  reload(): Promise<void>;
  /** The wall-clock time (ms) now playing. */
  position(ms: number): void;
  /** The active video started playing. */
  playing(): void;
  /** The active video paused or ended; with a text when it could not play. */
  stopped(error?: string): void;
  /** The browser refused the recording's format (a codec it lacks, e.g. H.265). */
  unplayable(): void;
}

/** Pure: the wall-clock time (ms) an HLS VOD playlist starts at, from its first #EXT-X-PROGRAM-DATE-TIME. */
export function playlistStart(text: string): number | null {
  const m = /^#EXT-X-PROGRAM-DATE-TIME:(\S+)$/m.exec(text);
  const ms = m ? Date.parse(m[1] as string) : Number.NaN;
  return Number.isFinite(ms) ? ms : null;
}

/** Where a video's time 0 lies (wall-clock ms) and where its window begins in it (s). */
interface Anchor {
  origin: number;
  startAt: number;
}

export class Playback {
  readonly #host: PlaybackHost;
  /** The two players: [active, standby]. */
  #players: HTMLVideoElement[] = [];
  #current: PlayWindow | null = null;
  #next: PlayWindow | null = null;
  /** One MP4 per window, or HLS where that cannot play. */
  #way: 'mp4' | 'hls' = !hasMse() && nativeHls() ? 'hls' : 'mp4';
  readonly #anchors = new WeakMap<HTMLVideoElement, Anchor>();
  readonly #pending = new WeakMap<HTMLVideoElement, object>();

  constructor(host: PlaybackHost) {
    this.#host = host;
  }

  /** The window playing (or paused), if any. */
  get current(): PlayWindow | null {
    return this.#current;
  }

  /** The video shown, if any. */
  get active(): HTMLVideoElement | undefined {
    return this.#players[0];
  }

  /** How windows are played: `mp4` (export.mp4) or `hls` (recording.m3u8). */
  get way(): 'mp4' | 'hls' {
    return this.#way;
  }

  /** Plays `w` in the active video, the standby emptied. */
  start(w: PlayWindow): void {
    const [active, standby] = this.#ensurePlayers() as [HTMLVideoElement, HTMLVideoElement];
    this.#current = w;
    this.#next = null;
    this.#source(standby, null);
    active.classList.add('active');
    standby.classList.remove('active');
    this.#source(active, w);
    this.#host.position(w.from);
    active.play().catch(() => {});
  }

  /** Removes both videos. */
  stop(): void {
    for (const v of this.#players) {
      v.pause();
      v.removeAttribute('src');
      v.load();
      v.remove();
    }
    this.#players = [];
    this.#current = this.#next = null;
    this.#host.stopped();
  }

  #ensurePlayers(): HTMLVideoElement[] {
    if (this.#players.length === 2) return this.#players;
    for (let i = 0; i < 2; i++) {
      const v = document.createElement('video');
      v.playsInline = true;
      v.muted = true;
      v.preload = 'auto';
      v.setAttribute('aria-label', 'Recording playback');
      v.addEventListener('timeupdate', () => this.#onTime(v));
      v.addEventListener('ended', () => this.#onEnded(v));
      v.addEventListener('playing', () => {
        if (v === this.#players[0]) this.#host.playing();
      });
      v.addEventListener('pause', () => {
        if (v === this.#players[0]) this.#host.stopped();
      });
      v.addEventListener('error', () => {
        if (v !== this.#players[0] || !v.getAttribute('src')) return;
        if (this.#way === 'mp4' && this.#current && nativeHls() && !this.#host.transcode) {
          // This browser could not play the MP4: the same window over HLS.
          this.#way = 'hls';
          this.start(this.#current);
          return;
        }
        if (v.error?.code === MediaError.MEDIA_ERR_SRC_NOT_SUPPORTED && !this.#host.transcode) {
          this.#host.stopped('This browser cannot play the recorded video format (H.265?).');
          this.#host.unplayable();
          return;
        }
        this.#host.stopped('This span could not be played (nothing recorded there, or it was deleted).');
      });
      this.#host.container.append(v);
      this.#players.push(v);
    }
    return this.#players;
  }

  #source(v: HTMLVideoElement, w: PlayWindow | null): void {
    this.#pending.delete(v);
    if (!w) {
      v.removeAttribute('src');
      v.load();
      return;
    }
    this.#anchors.set(v, { origin: w.from, startAt: 0 });
    // The server's H.264 transcode comes as MP4 only.
    if (this.#way === 'mp4' || this.#host.transcode) {
      v.src = urls.export(this.#host.camera, new Date(w.from), new Date(w.to), this.#host.transcode);
      return;
    }
    // HLS: read where the playlist starts first, so the window plays from `from` and the
    // position shown is right.
    const url = urls.recordingHls(this.#host.camera, new Date(w.from), new Date(w.to));
    const token = {};
    this.#pending.set(v, token);
    void fetch(url)
      .then((r) => (r.ok ? r.text() : ''))
      .catch(() => '')
      .then((text) => {
        if (this.#pending.get(v) !== token) return;
        this.#pending.delete(v);
        const origin = playlistStart(text);
        const anchor = origin !== null && origin <= w.from ? { origin, startAt: (w.from - origin) / 1000 } : null;
        if (anchor) this.#anchors.set(v, anchor);
        v.src = url;
        if (anchor && anchor.startAt > 0.05) {
          v.addEventListener('loadedmetadata', () => this.#seekToStart(v), { once: true });
        }
        if (v === this.#players[0]) v.play().catch(() => {});
      });
  }

  #seekToStart(v: HTMLVideoElement): void {
    const startAt = this.#anchors.get(v)?.startAt ?? 0;
    if (Math.abs(v.currentTime - startAt) > 0.05) v.currentTime = startAt;
  }

  #onTime(v: HTMLVideoElement): void {
    if (v !== this.#players[0] || !this.#current) return;
    const origin = this.#anchors.get(v)?.origin ?? this.#current.from;
    this.#host.position(origin + v.currentTime * 1000);
    // Preload the next window shortly before this one ends.
    const remaining = (this.#current.to - origin) / 1000 - v.currentTime;
    const timeline = this.#host.timeline;
    if (!this.#next && remaining < PRELOAD_BEFORE_END_S && timeline) {
      const next = windowFrom(timeline.ranges, this.#current.to);
      if (next) {
        this.#next = next;
        this.#source(this.#players[1] as HTMLVideoElement, next);
      }
    }
  }

  async #onEnded(v: HTMLVideoElement): Promise<void> {
    if (v !== this.#players[0]) return;
    if (!this.#next && this.#host.timeline) {
      // The live edge may have moved on: fetch the day again and continue if more was recorded.
      await this.#host.reload();
      const timeline = this.#host.timeline;
      const next = timeline ? windowFrom(timeline.ranges, this.#current?.to ?? 0) : null;
      if (!next) {
        this.#host.stopped();
        return;
      }
      this.#next = next;
      this.#source(this.#players[1] as HTMLVideoElement, next);
    }
    const [active, standby] = this.#players as [HTMLVideoElement, HTMLVideoElement];
    this.#players = [standby, active];
    this.#current = this.#next;
    this.#next = null;
    standby.classList.add('active');
    active.classList.remove('active');
    standby.currentTime = this.#anchors.get(standby)?.startAt ?? 0;
    standby.play().catch(() => {});
    this.#source(active, null);
  }
}
