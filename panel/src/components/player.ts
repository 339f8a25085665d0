/**
 * `<camstack-player camera="id">`: live view of one camera through the add-on's own endpoints.
 *
 * - Modes, in order, by what actually plays: WebRTC (`POST api/cameras/:id/webrtc`), MSE over our
 *   WebSocket (`api/cameras/:id/ws`, go2rtc's protocol), MJPEG (`api/cameras/:id/mjpeg`, which
 *   works while go2rtc is down). Each attempt must show its first frame within a time limit,
 *   else the next mode is tried; the mode and the reason are shown ("WebRTC unavailable in this
 *   browser: using MSE") and reflected as attributes (`mode`, `phase`).
 * - A stream lost while playing (peer connection failed, socket closed, no frames) reconnects with
 *   backoff (1 s doubling to 30 s, sooner when the network comes back). A fallback chosen because
 *   go2rtc was down is upgraded again once the server reports go2rtc running.
 * - Off screen (IntersectionObserver) or in a hidden tab (visibilitychange) the player releases
 *   its stream after `release-delay` ms and shows its last poster; it resumes when visible.
 * - Everything it opens (peer connection, socket, MediaSource, <img> stream, timers, observers,
 *   listeners) belongs to a session closed when it stops or leaves the page.
 * - An H.265 camera: WebRTC in browsers without H.265 gets no video, MSE offers only the codecs
 *   `MediaSource.isTypeSupported` accepts, so go2rtc refuses; MJPEG (transcoded) then plays.
 */
import { css, html, LitElement, nothing, type PropertyValues } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import { urls } from '../api.js';
import {
  icon,
  mdiFullscreen,
  mdiFullscreenExit,
  mdiPictureInPictureBottomRight,
  mdiVolumeHigh,
  mdiVolumeOff,
} from '../icons.js';
import { shared, tokens } from '../theme.js';

export type PlayerMode = 'webrtc' | 'mse' | 'mjpeg';
export type PlayerPhase = 'idle' | 'connecting' | 'playing' | 'paused' | 'reconnecting' | 'error';

export const MODE_LABEL: Record<PlayerMode, string> = { webrtc: 'WebRTC', mse: 'MSE', mjpeg: 'MJPEG' };

/** Time limits (ms) of each step; the player moves on to the next mode when one runs out. */
export const TIMEOUTS = {
  iceGathering: 3000,
  signalling: 8000,
  webrtcConnect: 6000,
  firstFrame: 10_000,
  socketOpen: 6000,
  mseAnswer: 8000,
  mjpegFirstImage: 20_000,
  /** No new frame for this long while visible: the stream is considered lost. */
  stall: 12_000,
  /** A peer connection `disconnected` for this long is lost. */
  disconnected: 4000,
};
const BACKOFF_MIN_MS = 1000;
/** The server's largest `maxAge` for snapshots (ten minutes). */
const POSTER_MAX_AGE_MS = 600_000;
const BACKOFF_MAX_MS = 30_000;
const UPGRADE_CHECK_MS = 15_000;

/** The codecs go2rtc's own player offers, kept to those this browser's MSE decodes. */
const MSE_CODECS = [
  'avc1.640029',
  'avc1.64002A',
  'avc1.640033',
  'hvc1.1.6.L153.B0',
  'mp4a.40.2',
  'mp4a.40.5',
  'flac',
  'opus',
];

/** Capabilities learnt once per page: a browser without WebRTC stays without it. */
const unavailable = new Set<PlayerMode>();

class Failure extends Error {
  constructor(
    message: string,
    /** The server said go2rtc is down (upgrade later); or this browser cannot do the mode at all. */
    readonly kind: 'server' | 'browser' | 'codec' | 'other' = 'other',
  ) {
    super(message);
  }
}

/** Everything one connection opened; `close()` releases it all, once. */
class Session {
  closed = false;
  readonly abort = new AbortController();
  readonly #disposers: (() => void)[] = [];
  readonly startedAt = performance.now();

  add(dispose: () => void): void {
    if (this.closed) {
      dispose();
      return;
    }
    this.#disposers.push(dispose);
  }

  timeout(fn: () => void, ms: number): void {
    const t = setTimeout(fn, ms);
    this.add(() => clearTimeout(t));
  }

  /** Resolves with `p`, or rejects after `ms` (or when the session closes). */
  within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const t = setTimeout(() => reject(new Failure(`timed out waiting for ${what}`)), ms);
      const onAbort = () => reject(new Failure('stopped'));
      this.abort.signal.addEventListener('abort', onAbort, { once: true });
      p.then(
        (v) => {
          clearTimeout(t);
          this.abort.signal.removeEventListener('abort', onAbort);
          resolve(v);
        },
        (e: unknown) => {
          clearTimeout(t);
          this.abort.signal.removeEventListener('abort', onAbort);
          reject(e);
        },
      );
    });
  }

  /** Releases what the attempts so far opened (the session stays usable for the next mode). */
  release(): void {
    for (const d of this.#disposers.splice(0).reverse()) {
      try {
        d();
      } catch {
        // releasing must go on
      }
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.abort.abort();
    this.release();
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function waitEvent(target: EventTarget, type: string): Promise<Event> {
  return new Promise((resolve) => target.addEventListener(type, resolve, { once: true }));
}

@customElement('camstack-player')
export class CamstackPlayer extends LitElement {
  /** Camera id. */
  @property() camera = '';
  /** Allowed modes in order of preference. */
  @property() modes = 'webrtc,mse,mjpeg';
  /** Name shown to screen readers ("Live view of <label>"). */
  @property() label = '';
  /** Codec the camera sends (from its status), to explain a codec fallback. */
  @property() codec = '';
  @property({ type: Boolean, reflect: true }) muted = true;
  /** Show the control bar (mute, picture-in-picture, fullscreen). */
  @property({ type: Boolean }) controls = true;
  /** Keep streaming while off screen or in a hidden tab. */
  @property({ type: Boolean, attribute: 'keep-alive' }) keepAlive = false;
  /** How long (ms) the player waits before releasing a stream that is not visible. */
  @property({ type: Number, attribute: 'release-delay' }) releaseDelay = 3000;
  /** Width of the snapshot poster shown while connecting (0: none). */
  @property({ type: Number, attribute: 'poster-width' }) posterWidth = 640;

  /** The mode playing now (or last played while paused/reconnecting). */
  @property({ reflect: true }) mode: PlayerMode | 'none' = 'none';
  @property({ reflect: true }) phase: PlayerPhase = 'idle';
  /** Why the mode is not the first one, or why nothing plays. */
  @state() reason = '';
  @state() private fullscreen = false;
  @state() private hasAudio = false;
  @state() private posterUrl = '';
  @state() private posterLoaded = false;

  /** Decoded frames since the current mode started playing (requestVideoFrameCallback). */
  frames = 0;
  /** ms from the start of the current connection to its first frame. */
  firstFrameMs: number | null = null;

  @query('.stage') private stage!: HTMLDivElement;

  #session: Session | null = null;
  #video: HTMLVideoElement | null = null;
  #visible = false;
  #onScreen = false;
  #observer: IntersectionObserver | null = null;
  #releaseTimer: ReturnType<typeof setTimeout> | null = null;
  #retryTimer: ReturnType<typeof setTimeout> | null = null;
  #upgradeTimer: ReturnType<typeof setInterval> | null = null;
  #attempt = 0;
  /** Per camera: modes that cannot work (e.g. MSE for a codec this browser lacks). */
  #skip = new Set<PlayerMode>();
  #lastFrameAt = 0;

  static override styles = [
    tokens,
    shared,
    css`
      :host {
        display: block;
        position: relative;
        background: #000;
        color: #fff;
        aspect-ratio: var(--camstack-player-aspect, 16 / 9);
        overflow: hidden;
        contain: content;
      }
      :host(:fullscreen) {
        aspect-ratio: auto;
      }
      .stage,
      .stage > video,
      .stage > img,
      .poster {
        position: absolute;
        inset: 0;
        width: 100%;
        height: 100%;
        object-fit: contain;
      }
      .poster {
        opacity: 0;
        transition: opacity 0.2s;
      }
      .poster.shown {
        opacity: 1;
      }
      .badge {
        position: absolute;
        top: 6px;
        right: 6px;
        font-size: 11px;
        pointer-events: none;
      }
      .bar {
        opacity: 0;
        transition: opacity 0.2s;
        position: absolute;
        left: 0;
        right: 0;
        bottom: 0;
        display: flex;
        align-items: center;
        gap: 6px;
        padding: 4px 6px 4px 10px;
        background: linear-gradient(transparent, rgba(0, 0, 0, 0.65));
        font-size: 12px;
        min-height: 40px;
      }
      :host(:hover) .bar,
      :host(:focus-within) .bar,
      .bar.sticky {
        opacity: 1;
      }
      @media (hover: none) {
        .bar {
          opacity: 1;
        }
      }
      .mode {
        font-weight: 600;
        letter-spacing: 0.02em;
        padding: 1px 6px;
        border-radius: 4px;
        color: #fff;
        background: rgba(0, 0, 0, 0.6);
      }
      .mode.fallback {
        background: rgba(255, 152, 0, 0.85);
        color: #000;
      }
      .reason {
        flex: 1;
        min-width: 0;
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
        text-shadow: 0 1px 2px #000;
      }
      .bar button.icon-button {
        color: #fff;
        width: 36px;
        min-height: 36px;
      }
      .center {
        position: absolute;
        inset: 0;
        display: flex;
        align-items: center;
        justify-content: center;
        text-align: center;
        padding: 12px;
        pointer-events: none;
        text-shadow: 0 1px 3px #000;
        font-size: 14px;
      }
      .spinner {
        width: 32px;
        height: 32px;
        border: 3px solid rgba(255, 255, 255, 0.3);
        border-top-color: #fff;
        border-radius: 50%;
        animation: spin 0.9s linear infinite;
      }
      @keyframes spin {
        to {
          transform: rotate(360deg);
        }
      }
      @media (prefers-reduced-motion: reduce) {
        .spinner {
          animation: none;
        }
      }
    `,
  ];

  override connectedCallback(): void {
    super.connectedCallback();
    document.addEventListener('visibilitychange', this.#onVisibility);
    document.addEventListener('fullscreenchange', this.#onFullscreen);
    window.addEventListener('online', this.#onOnline);
    this.#observer = new IntersectionObserver((entries) => {
      const last = entries[entries.length - 1];
      if (last) this.#onScreen = last.isIntersecting;
      this.#updateVisibility();
    });
    this.#observer.observe(this);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    document.removeEventListener('visibilitychange', this.#onVisibility);
    document.removeEventListener('fullscreenchange', this.#onFullscreen);
    window.removeEventListener('online', this.#onOnline);
    this.#observer?.disconnect();
    this.#observer = null;
    this.#onScreen = false;
    this.#visible = false;
    this.#clearTimers();
    this.#stop();
    this.phase = 'idle';
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('camera') || changed.has('posterWidth')) {
      // Any cached frame of the last ten minutes will do for a poster: it costs the server no capture.
      this.posterUrl =
        this.camera && this.posterWidth > 0 ? urls.snapshot(this.camera, this.posterWidth, POSTER_MAX_AGE_MS) : '';
      this.posterLoaded = false;
    }
  }

  protected override updated(changed: PropertyValues<this>): void {
    if ((changed.has('camera') && changed.get('camera') !== undefined) || changed.has('modes')) {
      if (changed.has('camera')) this.#skip.clear();
      if (this.#session || this.phase === 'reconnecting' || this.phase === 'error') this.restart();
    }
    if (changed.has('muted') && this.#video) this.#video.muted = this.muted;
    if (changed.has('keepAlive')) this.#updateVisibility();
  }

  /** Tears the stream down and connects again from the first mode. */
  restart(): void {
    this.#clearTimers();
    this.#stop();
    this.#attempt = 0;
    if (this.#visible || this.keepAlive) void this.#start();
  }

  #onVisibility = () => this.#updateVisibility();
  #onFullscreen = () => {
    this.fullscreen = document.fullscreenElement === this;
  };
  #onOnline = () => {
    if (this.phase === 'reconnecting' || this.phase === 'error') this.restart();
  };

  #updateVisibility(): void {
    const visible = this.isConnected && this.#onScreen && !document.hidden;
    this.#visible = visible;
    if (visible || this.keepAlive) {
      if (this.#releaseTimer) clearTimeout(this.#releaseTimer);
      this.#releaseTimer = null;
      if (!this.#session && this.camera && !this.#retryTimer) void this.#start();
      return;
    }
    if (!this.#session || this.#releaseTimer) return;
    this.#releaseTimer = setTimeout(() => {
      this.#releaseTimer = null;
      if (this.#visible || this.keepAlive) return;
      this.#stop();
      this.#clearTimers();
      this.phase = 'paused';
      this.reason = document.hidden ? 'Paused while the tab is hidden' : 'Paused while off screen';
      this.#emitState();
    }, this.releaseDelay);
  }

  #clearTimers(): void {
    for (const t of [this.#releaseTimer, this.#retryTimer]) if (t) clearTimeout(t);
    if (this.#upgradeTimer) clearInterval(this.#upgradeTimer);
    this.#releaseTimer = this.#retryTimer = this.#upgradeTimer = null;
  }

  #stop(): void {
    this.#session?.close();
    this.#session = null;
    this.#video = null;
    this.hasAudio = false;
  }

  #emitState(): void {
    this.dispatchEvent(
      new CustomEvent('camstack-player-state', {
        detail: { camera: this.camera, mode: this.mode, phase: this.phase, reason: this.reason },
        bubbles: true,
        composed: true,
      }),
    );
  }

  #modeList(): PlayerMode[] {
    return this.modes
      .split(',')
      .map((m) => m.trim())
      .filter((m): m is PlayerMode => m === 'webrtc' || m === 'mse' || m === 'mjpeg');
  }

  async #start(): Promise<void> {
    if (!this.camera) return;
    this.#stop();
    const s = new Session();
    this.#session = s;
    this.phase = this.#attempt > 0 ? 'reconnecting' : 'connecting';
    if (this.#attempt === 0) this.reason = '';
    this.frames = 0;
    this.firstFrameMs = null;
    this.#emitState();
    await this.updateComplete;
    if (s.closed) return;
    const failures: { mode: PlayerMode; text: string; kind: Failure['kind'] }[] = [];
    const modes = this.#modeList();
    for (const mode of modes) {
      if (s.closed) return;
      if (unavailable.has(mode) || this.#skip.has(mode)) {
        failures.push({ mode, text: this.#skipText(mode), kind: 'browser' });
        continue;
      }
      try {
        if (mode === 'webrtc') await this.#webrtc(s);
        else if (mode === 'mse') await this.#mse(s);
        else await this.#mjpeg(s);
        if (s.closed) return;
        this.#playing(s, mode, failures);
        return;
      } catch (err) {
        if (s.closed) return;
        s.release();
        this.#video = null;
        this.hasAudio = false;
        const kind = err instanceof Failure ? err.kind : 'other';
        if (kind === 'browser') unavailable.add(mode);
        if (kind === 'codec') this.#skip.add(mode);
        failures.push({
          mode,
          text: kind === 'browser' ? this.#skipText(mode) : `${MODE_LABEL[mode]}: ${errorText(err)}`,
          kind,
        });
      }
    }
    if (s.closed) return;
    // Nothing played: try again later.
    s.close();
    if (this.#session === s) this.#session = null;
    this.mode = 'none';
    this.phase = 'error';
    this.reason = failures.map((f) => f.text).join('; ') || 'no live mode is allowed';
    this.#emitState();
    this.#scheduleRetry();
  }

  #skipText(mode: PlayerMode): string {
    if (this.#skip.has(mode)) return `${MODE_LABEL[mode]}: this browser cannot play ${this.#codecName('')}`;
    if (mode === 'webrtc') return 'WebRTC unavailable in this browser';
    if (mode === 'mse') return 'MSE unsupported in this browser';
    return 'MJPEG unavailable';
  }

  #playing(s: Session, mode: PlayerMode, failures: { mode: PlayerMode; text: string; kind: Failure['kind'] }[]): void {
    this.mode = mode;
    this.phase = 'playing';
    this.#attempt = 0;
    this.firstFrameMs = performance.now() - s.startedAt;
    this.reason = failures.length ? `${failures.map((f) => f.text).join('; ')}: using ${MODE_LABEL[mode]}` : '';
    this.#emitState();
    this.dispatchEvent(
      new CustomEvent('camstack-first-frame', {
        detail: { camera: this.camera, mode, ms: this.firstFrameMs },
        bubbles: true,
        composed: true,
      }),
    );
    // A fallback forced by the server (go2rtc down): go back up once it runs again.
    if (failures.some((f) => f.kind === 'server') && !this.#upgradeTimer) {
      this.#upgradeTimer = setInterval(() => void this.#checkUpgrade(), UPGRADE_CHECK_MS);
      s.add(() => {
        if (this.#upgradeTimer) clearInterval(this.#upgradeTimer);
        this.#upgradeTimer = null;
      });
    }
  }

  async #checkUpgrade(): Promise<void> {
    if (!this.#visible && !this.keepAlive) return;
    try {
      const res = await fetch('api/health', { headers: { accept: 'application/json' } });
      const h = (await res.json()) as { engines?: { go2rtc?: { state?: string } } };
      if (h.engines?.go2rtc?.state === 'running' && this.phase === 'playing') this.restart();
    } catch {
      // still down
    }
  }

  /** The stream broke while playing (or a retry is due): reconnect with backoff. */
  #lost(s: Session, why: string): void {
    if (s.closed || this.#session !== s) return;
    this.#stop();
    this.phase = 'reconnecting';
    this.reason = `${MODE_LABEL[this.mode as PlayerMode] ?? 'Stream'} lost (${why})`;
    this.#emitState();
    this.#scheduleRetry();
  }

  #scheduleRetry(): void {
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.#attempt);
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    this.#attempt++;
    if (this.phase === 'reconnecting') this.reason = `${this.reason}; retrying in ${Math.round(delay / 1000)} s`;
    else this.reason = `${this.reason} — retrying in ${Math.round(delay / 1000)} s`;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      if (this.#visible || this.keepAlive) void this.#start();
      else this.phase = 'paused';
    }, delay);
  }

  // ---- the media elements ------------------------------------------------------------------

  #newVideo(s: Session): HTMLVideoElement {
    const video = document.createElement('video');
    video.muted = this.muted;
    video.autoplay = true;
    video.playsInline = true;
    video.disablePictureInPicture = false;
    video.setAttribute('aria-label', `Live view of ${this.label || this.camera}`);
    this.stage.append(video);
    this.#video = video;
    s.add(() => {
      if (document.pictureInPictureElement === video) void document.exitPictureInPicture().catch(() => {});
      video.pause();
      video.srcObject = null;
      video.removeAttribute('src');
      video.load();
      video.remove();
    });
    return video;
  }

  /** Counts frames and resolves at the first one; watches for stalls while playing. */
  #watchFrames(s: Session, video: HTMLVideoElement): Promise<void> {
    return new Promise<void>((resolve) => {
      let first = true;
      const onFrame = () => {
        if (s.closed) return;
        this.frames++;
        this.#lastFrameAt = performance.now();
        if (first) {
          first = false;
          resolve();
        }
        handle = video.requestVideoFrameCallback(onFrame);
      };
      let handle = video.requestVideoFrameCallback(onFrame);
      s.add(() => video.cancelVideoFrameCallback(handle));
      const stallCheck = setInterval(() => {
        if (first || s.closed || document.hidden || this.phase !== 'playing') return;
        if (performance.now() - this.#lastFrameAt > TIMEOUTS.stall) this.#lost(s, 'no frames');
      }, 2000);
      s.add(() => clearInterval(stallCheck));
    });
  }

  async #webrtc(s: Session): Promise<void> {
    let pc: RTCPeerConnection;
    try {
      pc = new RTCPeerConnection({ iceServers: [] });
    } catch (err) {
      throw new Failure(`unavailable in this browser (${errorText(err)})`, 'browser');
    }
    s.add(() => {
      pc.ontrack = null;
      pc.onconnectionstatechange = null;
      pc.close();
    });
    const video = this.#newVideo(s);
    const stream = new MediaStream();
    pc.addTransceiver('video', { direction: 'recvonly' });
    pc.addTransceiver('audio', { direction: 'recvonly' });
    pc.ontrack = (e) => {
      stream.addTrack(e.track);
      if (e.track.kind === 'audio') this.hasAudio = true;
    };
    video.srcObject = stream;
    const firstFrame = this.#watchFrames(s, video);
    await pc.setLocalDescription(await pc.createOffer());
    await s
      .within(
        new Promise<void>((resolve) => {
          if (pc.iceGatheringState === 'complete') return resolve();
          pc.addEventListener('icegatheringstatechange', () => {
            if (pc.iceGatheringState === 'complete') resolve();
          });
        }),
        TIMEOUTS.iceGathering,
        'ICE gathering',
      )
      .catch(() => {}); // send what was gathered so far
    if (s.closed) return;
    const res = await s.within(
      fetch(urls.webrtc(this.camera), {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ type: 'offer', sdp: pc.localDescription?.sdp ?? '' }),
        signal: s.abort.signal,
      }),
      TIMEOUTS.signalling,
      'the WebRTC answer',
    );
    const body = (await res.json().catch(() => ({}))) as { sdp?: string; code?: string; message?: string };
    if (!res.ok) {
      if (res.status === 503) throw new Failure('go2rtc not running', 'server');
      const message = body.message ?? `signalling answered ${res.status}`;
      if (/codecs? not matched/i.test(message)) {
        throw new Failure(`this browser cannot receive ${this.#codecName(message)}`, 'codec');
      }
      throw new Failure(message);
    }
    const sdp = body.sdp ?? '';
    if (/^m=video 0 /m.test(sdp)) throw new Failure("this browser cannot receive the camera's video codec", 'codec');
    await pc.setRemoteDescription({ type: 'answer', sdp });
    await s.within(
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (pc.connectionState === 'connected') resolve();
          else if (pc.connectionState === 'failed') reject(new Failure('could not connect (media port unreachable)'));
        };
        pc.addEventListener('connectionstatechange', check);
        check();
      }),
      TIMEOUTS.webrtcConnect,
      'the peer connection (media port unreachable?)',
    );
    video.play().catch(() => {});
    await s.within(firstFrame, TIMEOUTS.firstFrame, "the first frame (the browser may lack the camera's codec)");
    let disconnectedTimer: ReturnType<typeof setTimeout> | null = null;
    s.add(() => {
      if (disconnectedTimer) clearTimeout(disconnectedTimer);
    });
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === 'failed' || pc.connectionState === 'closed') this.#lost(s, 'connection failed');
      else if (pc.connectionState === 'disconnected') {
        disconnectedTimer ??= setTimeout(() => this.#lost(s, 'connection dropped'), TIMEOUTS.disconnected);
      } else if (pc.connectionState === 'connected' && disconnectedTimer) {
        clearTimeout(disconnectedTimer);
        disconnectedTimer = null;
      }
    };
  }

  async #mse(s: Session): Promise<void> {
    if (typeof MediaSource === 'undefined') throw new Failure('unsupported in this browser', 'browser');
    const codecs = MSE_CODECS.filter((c) => MediaSource.isTypeSupported(`video/mp4; codecs="${c}"`));
    const video = this.#newVideo(s);
    const ms = new MediaSource();
    const objectUrl = URL.createObjectURL(ms);
    s.add(() => URL.revokeObjectURL(objectUrl));
    const opened = waitEvent(ms, 'sourceopen');
    video.src = objectUrl;
    const firstFrame = this.#watchFrames(s, video);
    const ws = new WebSocket(urls.ws(this.camera));
    ws.binaryType = 'arraybuffer';
    s.add(() => {
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close();
    });
    let closedReject: ((e: Failure) => void) | null = null;
    const closed = new Promise<never>((_, reject) => {
      closedReject = reject;
    });
    closed.catch(() => {});
    let serverError: string | null = null;
    let playing = false;
    ws.onclose = (ev) => {
      // Our server closes with 4503 when go2rtc is down and 4404 for an unknown camera.
      const why =
        serverError ??
        (ev.code === 4503
          ? 'go2rtc is not running'
          : `socket closed${ev.code !== 1000 && ev.code !== 1005 ? ` (${ev.code})` : ''}`);
      if (playing) this.#lost(s, why);
      else closedReject?.(this.#mseFailure(why));
    };
    let resolveMime: (m: string) => void = () => {};
    const mime = new Promise<string>((resolve) => {
      resolveMime = resolve;
    });
    let sb: SourceBuffer | null = null;
    const queue: ArrayBuffer[] = [];
    const pump = () => {
      if (!sb || sb.updating || queue.length === 0 || ms.readyState !== 'open') return;
      const parts = queue.splice(0);
      let chunk: ArrayBuffer;
      if (parts.length === 1) chunk = parts[0] as ArrayBuffer;
      else {
        const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
        let off = 0;
        for (const p of parts) {
          out.set(new Uint8Array(p), off);
          off += p.byteLength;
        }
        chunk = out.buffer;
      }
      try {
        sb.appendBuffer(chunk);
      } catch (err) {
        this.#lost(s, `decoder refused data: ${errorText(err)}`);
      }
    };
    ws.onmessage = (ev: MessageEvent<string | ArrayBuffer>) => {
      if (typeof ev.data === 'string') {
        try {
          const msg = JSON.parse(ev.data) as { type?: string; value?: string };
          if (msg.type === 'mse' && msg.value) resolveMime(msg.value);
          else if (msg.type === 'error') {
            serverError = msg.value ?? 'error';
            // go2rtc may say so and keep the socket open (e.g. "codecs not matched").
            if (!playing) closedReject?.(this.#mseFailure(serverError));
          }
        } catch {
          // not JSON
        }
        return;
      }
      if (queue.length > 200) queue.splice(0, queue.length - 100); // a stuck decoder must not eat memory
      queue.push(ev.data);
      pump();
    };
    // Handlers are in place before waiting: a refusal sent right after the upgrade is not missed.
    await s.within(Promise.race([waitEvent(ws, 'open'), closed]), TIMEOUTS.socketOpen, 'the stream socket');
    await s.within(Promise.race([opened, closed]), TIMEOUTS.socketOpen, 'MediaSource');
    ws.send(JSON.stringify({ type: 'mse', value: codecs.join(',') }));
    const type = await s.within(Promise.race([mime, closed]), TIMEOUTS.mseAnswer, 'the MSE answer');
    if (s.closed) return;
    if (!MediaSource.isTypeSupported(type)) throw new Failure(`this browser cannot decode ${type}`, 'codec');
    sb = ms.addSourceBuffer(type);
    sb.mode = 'segments';
    this.hasAudio = /mp4a|opus|flac/.test(type);
    const buffer = sb;
    buffer.addEventListener('updateend', () => {
      if (s.closed) return;
      // Follow the live edge: start at the first buffered frame, never lag more than 3 s.
      const b = video.buffered;
      if (b.length) {
        const start = b.start(0);
        const end = b.end(b.length - 1);
        if (video.currentTime < start || end - video.currentTime > 3) video.currentTime = Math.max(start, end - 0.5);
        if (video.paused) video.play().catch(() => {});
        if (!buffer.updating && end - start > 30) {
          try {
            buffer.remove(start, end - 10);
            return;
          } catch {
            // removing is an optimisation
          }
        }
      }
      pump();
    });
    pump();
    video.play().catch(() => {});
    await s.within(Promise.race([firstFrame, closed]), TIMEOUTS.firstFrame, 'the first frame');
    playing = true;
  }

  #mseFailure(why: string): Failure {
    if (/go2rtc/i.test(why)) return new Failure('go2rtc not running', 'server');
    if (/codec/i.test(why)) return new Failure(`this browser cannot decode ${this.#codecName(why)}`, 'codec');
    return new Failure(why);
  }

  /** "H.265" when the camera (its status, or go2rtc's message) says so; else a general phrase. */
  #codecName(message: string): string {
    if (/265|hevc/i.test(this.codec) || /video:H265 =>/i.test(message)) return 'H.265';
    return "the camera's codec";
  }

  async #mjpeg(s: Session): Promise<void> {
    const img = document.createElement('img');
    img.alt = `Live view of ${this.label || this.camera} (MJPEG)`;
    img.decoding = 'async';
    this.stage.append(img);
    s.add(() => {
      img.onerror = null;
      img.src = '';
      img.remove();
    });
    let failed: ((e: Failure) => void) | null = null;
    const error = new Promise<never>((_, reject) => {
      failed = reject;
    });
    error.catch(() => {});
    let playing = false;
    img.onerror = () => {
      if (playing) this.#lost(s, 'MJPEG stream ended');
      else failed?.(new Failure('the MJPEG stream failed'));
    };
    img.src = urls.mjpeg(this.camera);
    await s.within(
      Promise.race([
        new Promise<void>((resolve) => {
          const poll = setInterval(() => {
            if (img.naturalWidth > 0) {
              clearInterval(poll);
              resolve();
            }
          }, 50);
          s.add(() => clearInterval(poll));
        }),
        error,
      ]),
      TIMEOUTS.mjpegFirstImage,
      'the first MJPEG picture',
    );
    playing = true;
  }

  // ---- controls ----------------------------------------------------------------------------

  #toggleMute(): void {
    this.muted = !this.muted;
    if (this.#video) {
      this.#video.muted = this.muted;
      if (!this.muted) this.#video.play().catch(() => {});
    }
  }

  async #toggleFullscreen(): Promise<void> {
    try {
      if (document.fullscreenElement === this) await document.exitFullscreen();
      else await this.requestFullscreen();
    } catch {
      // not allowed (e.g. an iframe without allowfullscreen)
    }
  }

  async #togglePip(): Promise<void> {
    const video = this.#video;
    if (!video) return;
    try {
      if (document.pictureInPictureElement === video) await document.exitPictureInPicture();
      else await video.requestPictureInPicture();
    } catch {
      // refused
    }
  }

  protected override render() {
    const playing = this.phase === 'playing';
    const fallback = playing && this.#modeList()[0] !== this.mode;
    const videoMode = this.mode === 'webrtc' || this.mode === 'mse';
    const showPoster = !playing && this.posterUrl !== '';
    return html`
      ${
        this.posterUrl
          ? html`<img
            class="poster ${showPoster && this.posterLoaded ? 'shown' : ''}"
            src=${this.posterUrl}
            alt=""
            aria-hidden="true"
            @load=${() => {
              this.posterLoaded = true;
            }}
          />`
          : nothing
      }
      <div class="stage"></div>
      ${
        playing
          ? nothing
          : html`<div class="center">
            ${
              this.phase === 'connecting' || this.phase === 'reconnecting'
                ? html`<div class="spinner" role="progressbar" aria-label="Connecting"></div>`
                : this.phase === 'error'
                  ? html`<span>No live view</span>`
                  : nothing
            }
          </div>`
      }
      ${
        playing
          ? html`<span class="badge mode ${fallback ? 'fallback' : ''}" title="Live mode: ${MODE_LABEL[this.mode as PlayerMode]}"
              >${MODE_LABEL[this.mode as PlayerMode]}</span
            >`
          : nothing
      }
      ${
        this.controls
          ? html`<div class="bar ${this.reason || !playing ? 'sticky' : ''}">
            <span class="reason" role="status" aria-live="polite" title=${this.reason}
              >${this.reason || (playing ? '' : this.phase === 'connecting' ? 'Connecting…' : '')}</span
            >
            ${
              playing && videoMode && this.hasAudio
                ? html`<button
                  class="icon-button"
                  aria-label=${this.muted ? 'Unmute' : 'Mute'}
                  title=${this.muted ? 'Unmute' : 'Mute'}
                  aria-pressed=${String(!this.muted)}
                  @click=${this.#toggleMute}
                >
                  ${icon(this.muted ? mdiVolumeOff : mdiVolumeHigh)}
                </button>`
                : nothing
            }
            ${
              playing && videoMode && document.pictureInPictureEnabled
                ? html`<button class="icon-button" aria-label="Picture in picture" title="Picture in picture" @click=${this.#togglePip}>
                  ${icon(mdiPictureInPictureBottomRight)}
                </button>`
                : nothing
            }
            <button
              class="icon-button"
              aria-label=${this.fullscreen ? 'Exit full screen' : 'Full screen'}
              title=${this.fullscreen ? 'Exit full screen' : 'Full screen'}
              @click=${this.#toggleFullscreen}
            >
              ${icon(this.fullscreen ? mdiFullscreenExit : mdiFullscreen)}
            </button>
          </div>`
          : nothing
      }
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'camstack-player': CamstackPlayer;
  }
}
