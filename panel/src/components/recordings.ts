/**
 * `<camstack-recordings>`: the recording browser. Filters (camera, day, clips only, protected
 * only) live in the URL (`recordings?camera=&day=&clips=1&protected=1`; `&at=<ms>` plays from that
 * moment once, as a notification's link asks). Per camera and day:
 *
 * - the timeline (`api/cameras/:id/timeline?day=`); click, drag or type a time to play from it;
 * - playback of `api/cameras/:id/export.mp4?from=&to=` windows (one MP4 across segments, starting
 *   exactly at `from`), the next window preloaded in a second <video> and swapped in when the
 *   first ends, so playback runs on across segments; the wall-clock position is shown;
 * - the recordings of the day with thumbnails, protect / unprotect, download, delete (with a
 *   confirmation), "expiring soon" badges (`api/recordings/expiring?within=1d`);
 * - a span download (export) from the playhead;
 * - an H.265 camera in a browser without H.265: a notice, playback transcoded to H.264 by the
 *   server on request, and the download as H.264 (`../recordings/codec.ts`).
 * New clips, segments and deletions arrive over SSE and refresh the view. Its parts live in
 * `../recordings/`: `playback.ts` (the two-video playback), `filters.ts` (the filter bar),
 * `thumb.ts` (the list's pictures) and `styles.ts`. A time picked before the day's timeline has
 * loaded plays once it has.
 */
import { html, LitElement, nothing, type PropertyValues } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import { ApiError, api, type CameraEventView, type RecordingView, type Timeline, urls } from '../api.js';
import { dayOf, dayStart, fmtBytes, fmtDateTime, fmtDuration, fmtTime } from '../format.js';
import {
  icon,
  mdiDelete,
  mdiDownload,
  mdiLock,
  mdiLockOpenVariant,
  mdiPause,
  mdiPlay,
  mdiTimerSandComplete,
} from '../icons.js';
import { navigate } from '../router.js';
import { StoreController, store } from '../store.js';
import type { CamstackConfirm } from './confirm.js';
import './confirm.js';
import { type CamstackTimeline, ZOOMS } from './timeline.js';
import './timeline.js';
import { browserPlaysH265, codecNotice, isH265 } from '../recordings/codec.js';
import { Playback, type PlaybackHost, windowFrom } from '../recordings/playback.js';
import { recordingsStyles } from '../recordings/styles.js';
import '../recordings/thumb.js';
import '../recordings/event-strip.js';
import { filtersBar } from '../recordings/filters.js';

const EXPORT_LENGTHS = [1, 5, 15, 60];

@customElement('camstack-recordings')
export class CamstackRecordings extends LitElement {
  @property({ attribute: false }) params = new URLSearchParams();
  readonly #store = new StoreController(this);

  @state() private timeline: Timeline | null = null;
  @state() private events: CameraEventView[] = [];
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
  /** Playback asks for H.264 (the user chose it for this camera's H.265). */
  @state() private transcode = false;
  /** The browser refused a recording of this camera (its codec). */
  @state() private unplayable = false;
  /** The span download as H.264 (null: as needed by this browser). */
  @state() private exportH264: boolean | null = null;

  @query('camstack-confirm') private confirm!: CamstackConfirm;
  @query('camstack-timeline') private timelineEl!: CamstackTimeline;
  @query('.videos') private videos!: HTMLDivElement;

  #abort: AbortController | null = null;
  #seenVersion = -1;
  #refreshTimer: ReturnType<typeof setTimeout> | null = null;
  #clock: ReturnType<typeof setInterval> | null = null;
  readonly #playback = new Playback(this.#playbackHost());
  #loadedKey = '';
  /** A time picked before the day's timeline arrived: played once it has. */
  #pendingAt: number | null = null;

  static override styles = recordingsStyles;

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
      if (this.#loadedKey.split('|')[0] !== this.camera) this.transcode = this.unplayable = false;
      this.#loadedKey = key;
      if (cameraOrDay) {
        this.#stopPlayback();
        this.position = null;
        this.#pendingAt = null;
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
      const [list, expiring, events] = await Promise.all([
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
        api
          .cameraEvents({ camera, from: timeline.from, to: timeline.to, order: 'asc', limit: 500 }, abort.signal)
          .catch(() => ({ items: [] as CameraEventView[], total: 0 })),
      ]);
      if (abort.signal.aborted) return;
      if (this.timeline?.camera !== timeline.camera || this.timeline?.day !== timeline.day) {
        this.zoom = initialZoom(timeline);
      }
      this.timeline = timeline;
      this.items = list.items;
      this.events = events.items;
      this.total = list.total;
      this.expiring = new Map(expiring.items.map((e) => [e.recording.id, e.expiresAt]));
      this.error = '';
      this.now = Date.now();
      this.#playRequested();
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

  /** What the two-video playback may see and do of this page. */
  #playbackHost(): PlaybackHost {
    const page = this;
    return {
      get camera() {
        return page.camera;
      },
      get timeline() {
        return page.timeline;
      },
      get transcode() {
        return page.transcode;
      },
      unplayable: () => {
        this.unplayable = true;
      },
      get container() {
        return page.videos;
      },
      reload: () => this.#load(true),
      position: (ms) => {
        this.position = ms;
      },
      playing: () => {
        this.playing = true;
        this.playError = '';
      },
      stopped: (error) => {
        if (error !== undefined) this.playError = error;
        this.playing = false;
      },
    };
  }

  #stopPlayback(): void {
    this.#playback.stop();
  }

  /**
   * After a load: a time picked while the day was loading plays now; so does `at=<ms>` in the URL
   * (a notification's link), once, then it is dropped from the URL.
   */
  #playRequested(): void {
    if (this.#pendingAt !== null) {
      const pending = this.#pendingAt;
      this.#pendingAt = null;
      void this.play(pending);
    }
    const at = Number(this.params.get('at'));
    if (!this.params.has('at') || !Number.isFinite(at)) return;
    this.#setParams({ at: null });
    void this.play(at);
  }

  /** Plays from `at` (ms): the first recorded moment at or after it. */
  async play(at: number): Promise<void> {
    if (!this.timeline || this.timeline.camera !== this.camera || this.timeline.day !== this.day) {
      // Still loading this day: play when it has arrived (a slow add-on must not drop the click).
      this.#pendingAt = at;
      this.position = at;
      return;
    }
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
    this.#playback.start(w);
  }

  #togglePlay(): void {
    const v = this.#playback.active;
    if (!v?.getAttribute('src')) {
      if (this.position !== null) void this.play(this.position);
      return;
    }
    if (v.paused) v.play().catch(() => {});
    else v.pause();
  }

  #seekToTime(value: string): void {
    if (!/^\d{1,2}:\d{2}(:\d{2})?$/.test(value)) return;
    const [h, m, s] = value.split(':').map(Number);
    const d = dayStart(this.day);
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
    return filtersBar({
      cameras: store.cameras,
      camera: this.camera,
      day: this.day,
      clipsOnly: this.clipsOnly,
      protectedOnly: this.protectedOnly,
      expiring: this.expiring.size,
      set: (changes) => this.#setParams(changes),
    });
  }

  #playerCard() {
    const tl = this.timeline;
    const from = this.position ?? (tl ? Date.parse(tl.from) : Date.now());
    const exportTo = from + this.exportMinutes * 60_000;
    // H.265 this browser cannot decode: say so, offer the server's H.264 transcode.
    const h265 = this.unplayable || (isH265(store.status.get(this.camera)?.codec) && !browserPlaysH265());
    const exportH264 = this.exportH264 ?? h265;
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
          .events=${this.events}
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
          <span><span class="sw prot"></span>protected clip</span><span><span class="sw event"></span>event</span>
          <span><span class="sw now"></span>now</span>
          <span>gaps are striped</span>
        </div>
        <camstack-event-strip
          .events=${[...this.events].reverse()}
          @seek=${(e: CustomEvent<{ time: number }>) => void this.play(e.detail.time)}
        ></camstack-event-strip>
        ${
          h265
            ? codecNotice(this.transcode, () => {
                this.transcode = true;
                this.playError = '';
                if (this.position !== null) void this.play(this.position);
              })
            : nothing
        }
        <div class="videos">
          ${
            this.#playback.current || this.playing
              ? nothing
              : html`<div class="empty">${this.playError || (tl?.ranges.length ? 'Click the timeline, or pick a time, to play.' : 'Nothing recorded on this day.')}</div>`
          }
        </div>
        ${this.playError && this.#playback.current ? html`<p class="error-text" role="alert">${this.playError}</p>` : nothing}
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
            href=${urls.export(this.camera, new Date(from), new Date(exportTo), exportH264)}
            download
            aria-label="Download ${this.exportMinutes} minutes from ${fmtTime(new Date(from))}"
            >${icon(mdiDownload)} Download span</a
          >
          <label class="muted" title="Re-encoded by the server: plays everywhere, takes longer"
            ><input
              type="checkbox"
              class="export-h264"
              .checked=${exportH264}
              @change=${(e: Event) => {
                this.exportH264 = (e.target as HTMLInputElement).checked;
              }}
            />as H.264</label
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
  }
}
