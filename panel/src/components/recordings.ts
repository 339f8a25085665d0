/**
 * `<camstack-recordings>`: the recording browser. Filters (camera, day, clips only, protected
 * only) live in the URL (`recordings?camera=&day=&clips=1&protected=1`). Per camera and day:
 *
 * - the timeline (`api/cameras/:id/timeline?day=`); click, drag or type a time to play from it;
 * - playback of `api/cameras/:id/export.mp4?from=&to=` windows (one MP4 across segments, starting
 *   exactly at `from`), the next window preloaded in a second <video> and swapped in when the
 *   first ends, so playback runs on across segments; the wall-clock position is shown;
 * - the recordings of the day with thumbnails, protect / unprotect, download, delete (with a
 *   confirmation), "expiring soon" badges (`api/recordings/expiring?within=1d`);
 * - a span download (export) from the playhead.
 * New clips, segments and deletions arrive over SSE and refresh the view.
 */
import { css, html, LitElement, nothing, type PropertyValues } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import { ApiError, api, type RecordingView, type Timeline, urls } from '../api.js';
import { addDays, dayOf, fmtBytes, fmtDateTime, fmtDuration, fmtTime } from '../format.js';
import {
  icon,
  mdiChevronLeft,
  mdiChevronRight,
  mdiDelete,
  mdiDownload,
  mdiFilmstrip,
  mdiLock,
  mdiLockOpenVariant,
  mdiPause,
  mdiPlay,
  mdiTimerSandComplete,
} from '../icons.js';
import { navigate } from '../router.js';
import { StoreController, store } from '../store.js';
import { shared, tokens } from '../theme.js';
import type { CamstackConfirm } from './confirm.js';
import './confirm.js';
import { type CamstackTimeline, ZOOMS } from './timeline.js';
import './timeline.js';

/** Length of one export window; the next one is preloaded while this one plays. */
const WINDOW_MS = 5 * 60_000;
const PRELOAD_BEFORE_END_S = 20;
const MIN_WINDOW_MS = 1500;
const EXPORT_LENGTHS = [1, 5, 15, 60];

interface PlayWindow {
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

@customElement('camstack-recording-thumb')
export class CamstackRecordingThumb extends LitElement {
  @property() rid = '';
  /** A clip still being recorded has no picture yet. */
  @property({ type: Boolean }) pending = false;
  @state() private failed = false;

  static override styles = css`
    :host {
      display: flex;
      align-items: center;
      justify-content: center;
      color: var(--secondary-text-color, #888);
      width: 128px;
      aspect-ratio: 16 / 9;
      background: color-mix(in srgb, currentColor 18%, transparent);
      border-radius: 6px;
      overflow: hidden;
      flex: none;
    }
    img {
      width: 100%;
      height: 100%;
      object-fit: cover;
      display: block;
    }
    .icon {
      width: 28px;
      height: 28px;
      opacity: 0.6;
    }
  `;

  protected override willUpdate(changed: PropertyValues): void {
    if (changed.has('rid') || changed.has('pending')) this.failed = false;
  }

  protected override render() {
    // The server's cached JPEG of the first keyframe; the browser loads it when it scrolls near.
    return this.pending || this.failed || !this.rid
      ? icon(mdiFilmstrip)
      : html`<img loading="lazy" decoding="async" alt="" width="128" height="72" src=${urls.thumbnail(this.rid)}
          @error=${() => {
            this.failed = true;
          }} />`;
  }
}

@customElement('camstack-recordings')
export class CamstackRecordings extends LitElement {
  @property({ attribute: false }) params = new URLSearchParams();
  readonly #store = new StoreController(this);

  @state() private timeline: Timeline | null = null;
  @state() private items: RecordingView[] = [];
  @state() private total = 0;
  @state() private expiring = new Map<string, string>();
  @state() private error = '';
  @state() private loading = false;
  @state() private position: number | null = null;
  @state() private playing = false;
  @state() private playError = '';
  @state() private zoom = 0;
  @state() private exportMinutes = 5;
  @state() private now = Date.now();
  @state() private notice = '';

  @query('camstack-confirm') private confirm!: CamstackConfirm;
  @query('camstack-timeline') private timelineEl!: CamstackTimeline;
  @query('.videos') private videos!: HTMLDivElement;

  #abort: AbortController | null = null;
  #seenVersion = -1;
  #refreshTimer: ReturnType<typeof setTimeout> | null = null;
  #clock: ReturnType<typeof setInterval> | null = null;
  /** The two players: [active, standby]. */
  #players: HTMLVideoElement[] = [];
  #current: PlayWindow | null = null;
  #next: PlayWindow | null = null;
  #loadedKey = '';

  static override styles = [
    tokens,
    shared,
    css`
      :host {
        display: grid;
        gap: 16px;
      }
      .filters {
        display: flex;
        flex-wrap: wrap;
        gap: 8px 16px;
        align-items: center;
        padding: 12px 16px;
      }
      .filters label {
        display: inline-flex;
        align-items: center;
        gap: 6px;
      }
      .day {
        display: inline-flex;
        align-items: center;
        gap: 2px;
      }
      .badge-expiring {
        color: var(--cs-warning);
        font-weight: 500;
      }
      section.card {
        padding: 12px 16px 16px;
      }
      .section-head {
        display: flex;
        align-items: center;
        gap: 8px;
        flex-wrap: wrap;
        margin-bottom: 8px;
      }
      .section-head h2 {
        flex: 1;
      }
      .player {
        display: grid;
        grid-template-columns: minmax(0, 1fr);
        gap: 8px;
      }
      .videos {
        position: relative;
        background: #000;
        aspect-ratio: 16 / 9;
        max-height: 60vh;
        width: 100%;
        border-radius: 8px;
        overflow: hidden;
      }
      .videos video {
        position: absolute;
        inset: 0;
        width: 100%;
        height: 100%;
        object-fit: contain;
        visibility: hidden;
      }
      .videos video.active {
        visibility: visible;
      }
      .videos .empty {
        position: absolute;
        inset: 0;
        display: flex;
        align-items: center;
        justify-content: center;
        color: #ddd;
        padding: 16px;
        text-align: center;
      }
      .transport {
        display: flex;
        flex-wrap: wrap;
        gap: 8px;
        align-items: center;
      }
      .spacer {
        flex: 1;
      }
      .clock {
        font-variant-numeric: tabular-nums;
        font-size: 18px;
        min-width: 90px;
      }
      .zoom {
        display: inline-flex;
        gap: 2px;
      }
      .zoom button[aria-pressed='true'] {
        background: var(--cs-primary);
        color: var(--cs-on-primary);
        border-color: var(--cs-primary);
      }
      .legend {
        display: flex;
        gap: 14px;
        flex-wrap: wrap;
        font-size: 12px;
        color: var(--cs-text2);
      }
      .sw {
        display: inline-block;
        width: 12px;
        height: 10px;
        border-radius: 2px;
        margin-right: 4px;
        vertical-align: middle;
      }
      .sw.rec {
        background: var(--cs-range);
      }
      .sw.clip {
        background: var(--cs-clip);
      }
      .sw.prot {
        background: var(--cs-protected);
      }
      .sw.now {
        background: var(--cs-error);
        width: 3px;
      }
      ul.list {
        list-style: none;
        margin: 0;
        padding: 0;
      }
      ul.list li {
        display: flex;
        gap: 12px;
        align-items: center;
        padding: 8px 0;
        border-top: 1px solid var(--cs-divider);
      }
      .info {
        flex: 1;
        min-width: 0;
      }
      .info .when {
        font-weight: 500;
        font-variant-numeric: tabular-nums;
      }
      .info .meta {
        display: flex;
        flex-wrap: wrap;
        gap: 6px;
        margin-top: 4px;
        align-items: center;
      }
      .actions {
        display: flex;
        gap: 2px;
        flex-wrap: wrap;
        justify-content: flex-end;
      }
      .chip.prot {
        background: color-mix(in srgb, var(--cs-protected) 25%, transparent);
      }
      .chip.exp {
        background: color-mix(in srgb, var(--cs-warning) 28%, transparent);
      }
      .notice {
        padding: 6px 10px;
        border-radius: 8px;
        background: color-mix(in srgb, var(--cs-success) 18%, transparent);
      }
      @media (max-width: 600px) {
        camstack-recording-thumb {
          width: 88px;
        }
        ul.list li {
          flex-wrap: wrap;
        }
        .actions {
          width: 100%;
          justify-content: flex-start;
        }
      }
    `,
  ];

  get camera(): string {
    return this.params.get('camera') ?? store.cameras[0]?.id ?? '';
  }

  get day(): string {
    return this.params.get('day') ?? dayOf(new Date());
  }

  get clipsOnly(): boolean {
    return this.params.get('clips') === '1';
  }

  get protectedOnly(): boolean {
    return this.params.get('protected') === '1';
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.#clock = setInterval(() => {
      this.now = Date.now();
      // Today's timeline grows: refresh it now and then (SSE events refresh it sooner).
      if (this.day === dayOf(new Date()) && store.loaded && !this.loading) void this.#load(true);
    }, 15_000);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    if (this.#clock) clearInterval(this.#clock);
    if (this.#refreshTimer) clearTimeout(this.#refreshTimer);
    this.#clock = this.#refreshTimer = null;
    this.#abort?.abort();
    this.#stopPlayback();
    this.#loadedKey = '';
  }

  #setParams(changes: Record<string, string | null>): void {
    const p = new URLSearchParams(this.params);
    for (const [k, v] of Object.entries(changes)) {
      if (v === null || v === '') p.delete(k);
      else p.set(k, v);
    }
    navigate(`recordings${p.toString() ? `?${p}` : ''}`, true);
  }

  protected override updated(changed: PropertyValues): void {
    const key = `${this.camera}|${this.day}|${this.clipsOnly}|${this.protectedOnly}`;
    if (store.loaded && key !== this.#loadedKey) {
      const cameraOrDay = this.#loadedKey.split('|').slice(0, 2).join('|') !== key.split('|').slice(0, 2).join('|');
      this.#loadedKey = key;
      if (cameraOrDay) {
        this.#stopPlayback();
        this.position = null;
      }
      void this.#load();
    } else if (store.loaded && this.#seenVersion !== store.recordingsVersion) {
      // Debounced: a burst of segment/clip events refreshes once.
      this.#seenVersion = store.recordingsVersion;
      if (this.#refreshTimer) clearTimeout(this.#refreshTimer);
      this.#refreshTimer = setTimeout(() => void this.#load(true), 800);
    }
    if (changed.has('position') && this.position !== null) this.timelineEl?.follow(this.position);
  }

  async #load(quiet = false): Promise<void> {
    const camera = this.camera;
    if (!camera) return;
    this.#abort?.abort();
    const abort = new AbortController();
    this.#abort = abort;
    if (!quiet) this.loading = true;
    this.#seenVersion = store.recordingsVersion;
    try {
      const timeline = await api.timeline(camera, this.day, abort.signal);
      const [list, expiring] = await Promise.all([
        api.recordings(
          {
            camera,
            from: timeline.from,
            to: timeline.to,
            ...(this.clipsOnly ? { type: 'clip' as const } : {}),
            ...(this.protectedOnly ? { protected: true } : {}),
            limit: 300,
          },
          abort.signal,
        ),
        api.expiring('1d', abort.signal).catch(() => ({ within: '1d', items: [] })),
      ]);
      if (abort.signal.aborted) return;
      if (this.timeline?.camera !== timeline.camera || this.timeline?.day !== timeline.day) {
        this.zoom = initialZoom(timeline);
      }
      this.timeline = timeline;
      this.items = list.items;
      this.total = list.total;
      this.expiring = new Map(expiring.items.map((e) => [e.recording.id, e.expiresAt]));
      this.error = '';
      this.now = Date.now();
    } catch (err) {
      if (abort.signal.aborted) return;
      this.error =
        err instanceof ApiError && err.status === 404 && err.code !== 'not_found'
          ? 'Recording is not available on this server.'
          : err instanceof Error
            ? err.message
            : String(err);
    } finally {
      if (this.#abort === abort) this.loading = false;
    }
  }

  // ---- playback --------------------------------------------------------------------------

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
        if (v === this.#players[0]) {
          this.playing = true;
          this.playError = '';
        }
      });
      v.addEventListener('pause', () => {
        if (v === this.#players[0]) this.playing = false;
      });
      v.addEventListener('error', () => {
        if (v === this.#players[0] && v.getAttribute('src')) {
          this.playError = 'This span could not be played (nothing recorded there, or it was deleted).';
          this.playing = false;
        }
      });
      this.videos.append(v);
      this.#players.push(v);
    }
    return this.#players;
  }

  #source(v: HTMLVideoElement, w: PlayWindow | null): void {
    if (w) v.src = urls.export(this.camera, new Date(w.from), new Date(w.to));
    else {
      v.removeAttribute('src');
      v.load();
    }
  }

  #stopPlayback(): void {
    for (const v of this.#players) {
      v.pause();
      v.removeAttribute('src');
      v.load();
      v.remove();
    }
    this.#players = [];
    this.#current = this.#next = null;
    this.playing = false;
  }

  /** Plays from `at` (ms): the first recorded moment at or after it. */
  async play(at: number): Promise<void> {
    if (!this.timeline) return;
    let w = windowFrom(this.timeline.ranges, at);
    // Near the live edge the timeline may be older than the recording: ask again.
    if (!w) {
      await this.#load(true);
      if (this.timeline) w = windowFrom(this.timeline.ranges, at);
    }
    if (!w) {
      this.playError = `Nothing is recorded after ${fmtTime(new Date(at))} on this day.`;
      this.position = at;
      return;
    }
    this.playError = '';
    const [active, standby] = this.#ensurePlayers() as [HTMLVideoElement, HTMLVideoElement];
    this.#current = w;
    this.#next = null;
    this.#source(standby, null);
    active.classList.add('active');
    standby.classList.remove('active');
    this.#source(active, w);
    this.position = w.from;
    active.play().catch(() => {});
  }

  #onTime(v: HTMLVideoElement): void {
    if (v !== this.#players[0] || !this.#current) return;
    this.position = this.#current.from + v.currentTime * 1000;
    // Preload the next window shortly before this one ends.
    const remaining = (this.#current.to - this.#current.from) / 1000 - v.currentTime;
    if (!this.#next && remaining < PRELOAD_BEFORE_END_S && this.timeline) {
      const next = windowFrom(this.timeline.ranges, this.#current.to);
      if (next) {
        this.#next = next;
        this.#source(this.#players[1] as HTMLVideoElement, next);
      }
    }
  }

  async #onEnded(v: HTMLVideoElement): Promise<void> {
    if (v !== this.#players[0]) return;
    if (!this.#next && this.timeline) {
      // The live edge may have moved on: fetch the day again and continue if more was recorded.
      await this.#load(true);
      const next = this.timeline ? windowFrom(this.timeline.ranges, this.#current?.to ?? 0) : null;
      if (!next) {
        this.playing = false;
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
    standby.currentTime = 0;
    standby.play().catch(() => {});
    this.#source(active, null);
  }

  #togglePlay(): void {
    const v = this.#players[0];
    if (!v?.getAttribute('src')) {
      if (this.position !== null) void this.play(this.position);
      return;
    }
    if (v.paused) v.play().catch(() => {});
    else v.pause();
  }

  #seekToTime(value: string): void {
    if (!this.timeline || !/^\d{1,2}:\d{2}(:\d{2})?$/.test(value)) return;
    const [h, m, s] = value.split(':').map(Number);
    const d = new Date(Date.parse(this.timeline.from));
    d.setHours(h ?? 0, m ?? 0, s ?? 0, 0);
    void this.play(d.getTime());
  }

  // ---- actions ---------------------------------------------------------------------------

  async #protect(r: RecordingView): Promise<void> {
    try {
      const updated = await api.protect(r.id, !r.protected);
      this.items = this.items.map((x) => (x.id === r.id ? updated : x));
      if (updated.protected && this.expiring.has(r.id)) {
        // Retention never deletes a protected recording: it no longer expires.
        const expiring = new Map(this.expiring);
        expiring.delete(r.id);
        this.expiring = expiring;
      }
      this.notice = updated.protected
        ? `Protected ${label(r)}: retention will not delete it.`
        : `Unprotected ${label(r)}.`;
      void this.#load(true);
    } catch (err) {
      this.notice = '';
      this.error = err instanceof Error ? err.message : String(err);
    }
  }

  async #delete(r: RecordingView): Promise<void> {
    if (!(await this.confirm.ask(`Delete ${label(r)} (${fmtBytes(r.size)})? This cannot be undone.`, 'Delete'))) {
      return;
    }
    try {
      await api.removeRecording(r.id);
      this.items = this.items.filter((x) => x.id !== r.id);
      this.notice = `Deleted ${label(r)}.`;
      void this.#load(true);
    } catch (err) {
      this.notice = '';
      this.error = err instanceof Error ? err.message : String(err);
    }
  }

  // ---- rendering ---------------------------------------------------------------------------

  #filters() {
    const today = dayOf(new Date());
    return html`<section class="card filters" aria-label="Filters">
      <label
        >Camera
        <select
          class="camera"
          @change=${(e: Event) => this.#setParams({ camera: (e.target as HTMLSelectElement).value })}
        >
          ${store.cameras.map((c) => html`<option value=${c.id} ?selected=${c.id === this.camera}>${c.name}</option>`)}
        </select></label
      >
      <span class="day">
        <button class="icon-button" aria-label="Previous day" @click=${() => this.#setParams({ day: addDays(this.day, -1) })}>
          ${icon(mdiChevronLeft)}
        </button>
        <input
          type="date"
          aria-label="Day"
          class="day-input"
          .value=${this.day}
          max=${today}
          @change=${(e: Event) => this.#setParams({ day: (e.target as HTMLInputElement).value || null })}
        />
        <button
          class="icon-button"
          aria-label="Next day"
          ?disabled=${this.day >= today}
          @click=${() => this.#setParams({ day: addDays(this.day, 1) })}
        >
          ${icon(mdiChevronRight)}
        </button>
      </span>
      <label
        ><input
          type="checkbox"
          class="clips-only"
          .checked=${this.clipsOnly}
          @change=${(e: Event) => this.#setParams({ clips: (e.target as HTMLInputElement).checked ? '1' : null })}
        />Clips only</label
      >
      <label
        ><input
          type="checkbox"
          class="protected-only"
          .checked=${this.protectedOnly}
          @change=${(e: Event) => this.#setParams({ protected: (e.target as HTMLInputElement).checked ? '1' : null })}
        />Protected only</label
      >
      ${
        this.expiring.size
          ? html`<span class="badge-expiring" role="status"
            >${icon(mdiTimerSandComplete)} ${this.expiring.size} expiring within a day</span
          >`
          : nothing
      }
    </section>`;
  }

  #playerCard() {
    const tl = this.timeline;
    const from = this.position ?? (tl ? Date.parse(tl.from) : Date.now());
    const exportTo = from + this.exportMinutes * 60_000;
    return html`<section class="card" aria-labelledby="tl-h">
      <div class="section-head">
        <h2 id="tl-h">${store.camera(this.camera)?.name ?? this.camera} · ${tl ? fmtDateTime(new Date(Date.parse(tl.from))).split(',')[0] : this.day}</h2>
        <span class="muted recorded">${tl ? `${fmtDuration(tl.recordedSeconds)} recorded` : ''}</span>
        <span class="zoom" role="group" aria-label="Zoom">
          ${ZOOMS.map(
            (z, i) =>
              html`<button aria-pressed=${String(this.zoom === i)} @click=${() => {
                this.zoom = i;
              }}>${z >= 3_600_000 ? `${z / 3_600_000} h` : `${z / 60_000} min`}</button>`,
          )}
        </span>
      </div>
      <div class="player">
        <camstack-timeline
          .timeline=${tl}
          .position=${this.position}
          .now=${this.now}
          .zoom=${this.zoom}
          @seek=${(e: CustomEvent<{ time: number }>) => void this.play(e.detail.time)}
          @scrub=${(e: CustomEvent<{ time: number }>) => {
            this.position = e.detail.time;
          }}
          @zoom=${(e: CustomEvent<{ zoom: number }>) => {
            this.zoom = e.detail.zoom;
          }}
        ></camstack-timeline>
        <div class="legend">
          <span><span class="sw rec"></span>recorded</span><span><span class="sw clip"></span>clip</span>
          <span><span class="sw prot"></span>protected clip</span><span><span class="sw now"></span>now</span>
          <span>gaps are striped</span>
        </div>
        <div class="videos">
          ${
            this.#current || this.playing
              ? nothing
              : html`<div class="empty">${this.playError || (tl?.ranges.length ? 'Click the timeline, or pick a time, to play.' : 'Nothing recorded on this day.')}</div>`
          }
        </div>
        ${this.playError && this.#current ? html`<p class="error-text" role="alert">${this.playError}</p>` : nothing}
        <div class="transport">
          <button class="icon-button play" aria-label=${this.playing ? 'Pause' : 'Play'} @click=${this.#togglePlay} ?disabled=${!tl?.ranges.length}>
            ${icon(this.playing ? mdiPause : mdiPlay)}
          </button>
          <span class="clock" aria-live="off" data-position=${this.position ?? ''}>${this.position !== null ? fmtTime(new Date(this.position)) : '--:--:--'}</span>
          <label class="muted"
            >Go to
            <input
              type="time"
              step="1"
              class="goto"
              aria-label="Go to time"
              @change=${(e: Event) => this.#seekToTime((e.target as HTMLInputElement).value)}
          /></label>
          <span class="spacer"></span>
          <label class="muted"
            >Export
            <select aria-label="Export length" @change=${(e: Event) => {
              this.exportMinutes = Number((e.target as HTMLSelectElement).value);
            }}>
              ${EXPORT_LENGTHS.map((m) => html`<option value=${m} ?selected=${m === this.exportMinutes}>${m} min</option>`)}
            </select></label
          >
          <a
            class="button export"
            href=${urls.export(this.camera, new Date(from), new Date(exportTo))}
            download
            aria-label="Download ${this.exportMinutes} minutes from ${fmtTime(new Date(from))}"
            >${icon(mdiDownload)} Download span</a
          >
        </div>
      </div>
    </section>`;
  }

  #row(r: RecordingView) {
    const start = new Date(r.start);
    const end = new Date(r.end);
    const expiresAt = this.expiring.get(r.id);
    return html`<li data-rid=${r.id} data-type=${r.type} data-protected=${String(r.protected)}>
      <camstack-recording-thumb rid=${r.id} ?pending=${r.inProgress && r.type === 'clip'}></camstack-recording-thumb>
      <div class="info">
        <div class="when">${fmtTime(start)} – ${fmtTime(end)} <span class="muted">(${fmtDuration(r.durationSeconds)})</span></div>
        <div class="meta">
          <span class="chip">${r.type === 'clip' ? `Clip${r.trigger ? ` · ${r.trigger}` : ''}` : r.kind === 'buffer' ? 'Pre-roll buffer' : 'Segment'}</span>
          <span class="muted">${fmtBytes(r.size)}</span>
          ${r.protected ? html`<span class="chip prot">${icon(mdiLock)} Protected</span>` : nothing}
          ${r.inProgress ? html`<span class="chip connecting">Recording…</span>` : nothing}
          ${
            expiresAt
              ? html`<span class="chip exp expiring" title="Deleted ${fmtDateTime(new Date(expiresAt))}"
                >${icon(mdiTimerSandComplete)} Expiring soon</span
              >`
              : nothing
          }
        </div>
      </div>
      <div class="actions">
        <button class="icon-button play-rec" aria-label="Play ${label(r)}" title="Play" @click=${() => void this.play(Date.parse(r.start))}>
          ${icon(mdiPlay)}
        </button>
        <button
          class="icon-button protect"
          aria-label=${r.protected ? `Unprotect ${label(r)}` : `Protect ${label(r)}`}
          aria-pressed=${String(r.protected)}
          title=${r.protected ? 'Unprotect' : 'Protect (never deleted by retention)'}
          @click=${() => this.#protect(r)}
        >
          ${icon(r.protected ? mdiLock : mdiLockOpenVariant)}
        </button>
        <a class="button icon-button download" href=${urls.video(r.id, true)} download aria-label="Download ${label(r)}" title="Download">
          ${icon(mdiDownload)}
        </a>
        <button
          class="icon-button delete"
          aria-label="Delete ${label(r)}"
          title=${r.protected ? 'Unprotect it first' : r.inProgress ? 'Still being written' : 'Delete'}
          ?disabled=${r.protected || r.inProgress}
          @click=${() => this.#delete(r)}
        >
          ${icon(mdiDelete)}
        </button>
      </div>
    </li>`;
  }

  protected override render() {
    void this.#store;
    if (!store.loaded) return html`<p class="muted">Loading…</p>`;
    if (store.cameras.length === 0) return html`<p class="muted">No cameras yet.</p>`;
    return html`
      ${this.#filters()}
      ${this.error ? html`<p class="error-text" role="alert">${this.error}</p>` : nothing}
      ${this.#playerCard()}
      <section class="card" aria-labelledby="list-h">
        <div class="section-head">
          <h2 id="list-h">${this.clipsOnly ? 'Clips' : 'Recordings'}</h2>
          <span class="muted">${this.loading ? 'Loading…' : `${this.total} on this day${this.total > this.items.length ? `, first ${this.items.length} shown` : ''}`}</span>
        </div>
        ${this.notice ? html`<p class="notice" role="status">${this.notice}</p>` : nothing}
        ${
          this.items.length
            ? html`<ul class="list">
              ${repeat(
                this.items,
                (r) => r.id,
                (r) => this.#row(r),
              )}
            </ul>`
            : html`<p class="muted">${this.loading ? '' : 'Nothing matches these filters.'}</p>`
        }
      </section>
      <camstack-confirm></camstack-confirm>
    `;
  }
}

/** Pure: a zoom that shows what was recorded: 10 min, 1 h, 6 h or the whole day. */
export function initialZoom(tl: Timeline): number {
  const first = tl.ranges[0];
  const last = tl.ranges[tl.ranges.length - 1];
  if (!first || !last) return 0;
  const span = Date.parse(last.end) - Date.parse(first.start);
  if (span < 8 * 60_000) return 3;
  return span < 50 * 60_000 ? 2 : span < 5 * 3_600_000 ? 1 : 0;
}

function label(r: RecordingView): string {
  return `${r.type === 'clip' ? 'clip' : 'segment'} of ${fmtTime(new Date(r.start))}`;
}

declare global {
  interface HTMLElementTagNameMap {
    'camstack-recordings': CamstackRecordings;
    'camstack-recording-thumb': CamstackRecordingThumb;
  }
}
