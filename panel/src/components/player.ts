/**
 * `<camstack-player camera="id">`: live view of one camera through the add-on's own endpoints.
 * This element is the chooser (order, fallback, retry, visibility, controls); each transport is a
 * module in `../player/` (`webrtc.ts`, `mse.ts`, `hls.ts`, `mjpeg.ts`, listed in `transports.ts`)
 * behind the `Transport` contract of `../player/transport.ts`.
 *
 * - Modes, in order, by what actually plays: WebRTC (`POST api/cameras/:id/webrtc`), MSE over our
 *   WebSocket (`api/cameras/:id/ws`, go2rtc's protocol), HLS (`api/cameras/:id/hls/index.m3u8`,
 *   native players only, tried only where MSE is missing: Safari on iPhone), MJPEG
 *   (`api/cameras/:id/mjpeg`, which works while go2rtc is down). Each attempt must show its first frame within a time limit,
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
 *   `MediaSource.isTypeSupported` accepts, so go2rtc refuses. After such a `codec` failure the
 *   transport is tried once more with the camera's on-demand H.264 transcode (`?transcode=h264`),
 *   and later connections of this camera go straight to it; the badge says "H.264 (transcoded
 *   from H.265)" (attribute `transcoded`), so the user knows why the server works harder.
 */
import { html, LitElement, nothing, type PropertyValues } from 'lit';
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
import { errorText, Failure, Session } from '../player/session.js';
import { playerStyles } from '../player/styles.js';
import { codecName, type PlayerMode, type TransportHost } from '../player/transport.js';
import { isPlayerMode, TRANSPORTS } from '../player/transports.js';

export type PlayerPhase = 'idle' | 'connecting' | 'playing' | 'paused' | 'reconnecting' | 'error';

/** "WebRTC", "MSE", "MJPEG" (badge and reasons); "Stream" when none played. */
function label(mode: PlayerMode | 'none'): string {
  return mode === 'none' ? 'Stream' : TRANSPORTS[mode].label;
}

/** "H.264 (transcoded from H.265)". */
function transcodedText(codec: string): string {
  return `H.264 (transcoded from ${codecName(codec, '')})`;
}

/** "3 s ago", "4 min ago" for the still poster. */
function ageText(ms: number): string {
  const sec = Math.max(0, Math.round(ms / 1000));
  return sec < 90 ? `${sec} s ago` : `${Math.round(sec / 60)} min ago`;
}

const BACKOFF_MIN_MS = 1000;
/** The server's largest `maxAge` for snapshots (ten minutes). */
const POSTER_MAX_AGE_MS = 600_000;
const BACKOFF_MAX_MS = 30_000;
const UPGRADE_CHECK_MS = 15_000;

/** Capabilities learnt once per page: a browser without WebRTC stays without it. */
const unavailable = new Set<PlayerMode>();

@customElement('camstack-player')
export class CamstackPlayer extends LitElement {
  /** Camera id. */
  @property() camera = '';
  /** Allowed modes in order of preference. */
  @property() modes = 'webrtc,mse,hls,mjpeg';
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
  /** The mode playing now plays the server's H.264 transcode of the camera. */
  @property({ type: Boolean, reflect: true }) transcoded = false;
  /** Why the mode is not the first one, or why nothing plays. */
  @state() reason = '';
  @state() private fullscreen = false;
  @state() private hasAudio = false;
  @state() private posterUrl = '';
  @state() private posterLoaded = false;
  /** When the poster was taken (its `Last-Modified`), for the "still · 12 s ago" mark. */
  @state() private posterTakenAt: number | null = null;

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
  /** Per camera: this browser cannot decode its codec, so WebRTC and MSE ask for the H.264 transcode. */
  #transcode = false;
  /** The attempt in progress asks for the transcode. */
  #attemptTranscode = false;

  static override styles = playerStyles;

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
      // Any frame of the last ten minutes will do for a poster, so the server never waits for the
      // camera: it answers from its cache, or decodes the latest keyframe it holds when newer.
      this.posterUrl =
        this.camera && this.posterWidth > 0 ? urls.snapshot(this.camera, this.posterWidth, POSTER_MAX_AGE_MS) : '';
      this.posterLoaded = false;
      this.posterTakenAt = null;
      if (this.posterUrl) void this.#posterAge(this.posterUrl);
    }
  }

  /** The poster's age, from the same (browser-cached) answer the <img> shows. */
  async #posterAge(url: string): Promise<void> {
    try {
      const res = await fetch(url, { cache: 'force-cache' });
      const taken = Date.parse(res.headers.get('x-snapshot-taken-at') ?? res.headers.get('last-modified') ?? '');
      if (url === this.posterUrl && Number.isFinite(taken)) this.posterTakenAt = taken;
    } catch {
      // no age shown
    }
  }

  protected override updated(changed: PropertyValues<this>): void {
    if ((changed.has('camera') && changed.get('camera') !== undefined) || changed.has('modes')) {
      if (changed.has('camera')) {
        this.#skip.clear();
        this.#transcode = false;
      }
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
        detail: {
          camera: this.camera,
          mode: this.mode,
          phase: this.phase,
          reason: this.reason,
          transcoded: this.transcoded,
        },
        bubbles: true,
        composed: true,
      }),
    );
  }

  #modeList(): PlayerMode[] {
    return this.modes
      .split(',')
      .map((m) => m.trim())
      .filter(isPlayerMode);
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
      if (TRANSPORTS[mode].needed?.() === false) continue;
      if (unavailable.has(mode) || this.#skip.has(mode)) {
        failures.push({ mode, text: this.#skipText(mode), kind: 'browser' });
        continue;
      }
      // A codec this browser lacks: the same transport once more, with the server's H.264 transcode.
      for (let retry = true; retry; ) {
        retry = false;
        this.#attemptTranscode = this.#transcode && TRANSPORTS[mode].transcodes === true;
        try {
          await TRANSPORTS[mode].connect(this.#host(), s);
          if (s.closed) return;
          this.#playing(s, mode, failures);
          return;
        } catch (err) {
          if (s.closed) return;
          s.release();
          this.#video = null;
          this.hasAudio = false;
          const kind = err instanceof Failure ? err.kind : 'other';
          retry = kind === 'codec' && !this.#attemptTranscode && TRANSPORTS[mode].transcodes === true;
          if (retry) this.#transcode = true;
          if (kind === 'browser') unavailable.add(mode);
          if (kind === 'codec' && !retry) this.#skip.add(mode);
          failures.push({
            mode,
            text: kind === 'browser' ? this.#skipText(mode) : `${label(mode)}: ${errorText(err)}`,
            kind,
          });
        }
      }
    }
    if (s.closed) return;
    // Nothing played: try again later.
    s.close();
    if (this.#session === s) this.#session = null;
    this.mode = 'none';
    this.transcoded = false;
    this.phase = 'error';
    this.reason = failures.map((f) => f.text).join('; ') || 'no live mode is allowed';
    this.#emitState();
    this.#scheduleRetry();
  }

  #skipText(mode: PlayerMode): string {
    if (this.#skip.has(mode)) return `${label(mode)}: this browser cannot play ${codecName(this.codec, '')}`;
    return TRANSPORTS[mode].unavailable;
  }

  /** What a transport may see and do of this player: read when used, so always current. */
  #host(): TransportHost {
    const player = this;
    return {
      get camera() {
        return player.camera;
      },
      get label() {
        return player.label;
      },
      get codec() {
        return player.codec;
      },
      get transcode() {
        return player.#attemptTranscode;
      },
      get muted() {
        return player.muted;
      },
      get stage() {
        return player.stage;
      },
      get playing() {
        return player.phase === 'playing';
      },
      showVideo: (video) => {
        this.#video = video;
      },
      hasAudio: (yes) => {
        this.hasAudio = yes;
      },
      frame: () => {
        this.frames++;
      },
      lost: (session, why) => this.#lost(session, why),
    };
  }

  #playing(s: Session, mode: PlayerMode, failures: { mode: PlayerMode; text: string; kind: Failure['kind'] }[]): void {
    this.mode = mode;
    this.transcoded = this.#attemptTranscode;
    this.phase = 'playing';
    this.#attempt = 0;
    this.firstFrameMs = performance.now() - s.startedAt;
    const using = this.transcoded ? `${label(mode)}, ${transcodedText(this.codec)}` : label(mode);
    this.reason = failures.length
      ? `${failures.map((f) => f.text).join('; ')}: using ${using}`
      : this.transcoded
        ? `Using ${using}`
        : '';
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
    this.reason = `${label(this.mode)} lost (${why})`;
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
    const fallback = playing && (this.#modeList()[0] !== this.mode || this.transcoded);
    const videoMode = this.mode !== 'none' && TRANSPORTS[this.mode].video;
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
        showPoster && this.posterLoaded
          ? html`<span class="badge still" title="A still picture until the live view starts"
              >still${this.posterTakenAt === null ? '' : ` · ${ageText(Date.now() - this.posterTakenAt)}`}</span
            >`
          : nothing
      }
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
          ? html`<span
              class="badge mode ${fallback ? 'fallback' : ''}"
              title="Live mode: ${label(this.mode)}${this.transcoded ? `, ${transcodedText(this.codec)}` : ''}"
              >${label(this.mode)}${this.transcoded ? ' · H.264 (transcoded)' : ''}</span
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
