/**
 * `<camstack-camera-view camera="id">`: one camera — the live player, "Save clip" (with the
 * camera's pre-roll, or another), a snapshot to download, the continuous-recording switch
 * (`PUT api/cameras/:id {recording: {continuous}}`) with a warning when 24/7 recording is paused
 * (e.g. the media disk is full), and the stream's facts from its live status, including the last
 * error and when Camstack checks a failing camera again.
 */
import { css, html, LitElement, nothing, type PropertyValues } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { ApiError, api, type CameraStatus, urls } from '../api.js';
import { fmtDuration, fmtTime, STATE_LABEL } from '../format.js';
import { icon, mdiAlertOutline, mdiCamera, mdiChevronLeft, mdiContentSave, mdiEye, mdiFilmstrip } from '../icons.js';
import { recordingPausedText, retryText } from '../status-text.js';
import { StoreController, store } from '../store.js';
import { shared, tokens } from '../theme.js';
import './player.js';

const PRE_ROLLS = [0, 5, 10, 30, 60];

@customElement('camstack-camera-view')
export class CamstackCameraView extends LitElement {
  @property() camera = '';
  readonly #store = new StoreController(this);
  @state() private message = '';
  @state() private messageKind: 'ok' | 'error' = 'ok';
  @state() private busy = false;
  @state() private preRoll: number | null = null;
  @state() private tick = 0;
  #statusSeenAt = new WeakMap<CameraStatus, number>();
  #timer: ReturnType<typeof setInterval> | null = null;

  static override styles = [
    tokens,
    shared,
    css`
      :host {
        display: block;
      }
      .head {
        display: flex;
        align-items: center;
        gap: 8px;
        flex-wrap: wrap;
        margin-bottom: 12px;
      }
      .head h2 {
        flex: 1;
        min-width: 0;
      }
      .layout {
        display: grid;
        grid-template-columns: minmax(0, 1fr) 300px;
        gap: 16px;
        align-items: start;
      }
      @media (max-width: 900px) {
        .layout {
          grid-template-columns: minmax(0, 1fr);
        }
      }
      .actions {
        display: flex;
        flex-wrap: wrap;
        gap: 8px;
        padding: 12px;
        align-items: center;
      }
      .side {
        padding: 12px 16px;
      }
      dl {
        display: grid;
        grid-template-columns: auto 1fr;
        gap: 6px 12px;
        margin: 8px 0 0;
      }
      dt {
        color: var(--cs-text2);
      }
      dd {
        margin: 0;
        font-variant-numeric: tabular-nums;
        overflow-wrap: anywhere;
      }
      .switch {
        display: flex;
        align-items: center;
        gap: 10px;
        padding: 8px 0 12px;
        border-bottom: 1px solid var(--cs-divider);
      }
      .switch label {
        flex: 1;
      }
      .recording-paused {
        display: flex;
        align-items: flex-start;
        gap: 8px;
        margin: 12px 0 0;
        padding: 8px 10px;
        border-radius: 8px;
        border: 1px solid color-mix(in srgb, var(--cs-warning) 60%, transparent);
        background: color-mix(in srgb, var(--cs-warning) 14%, transparent);
        color: var(--cs-text);
        overflow-wrap: anywhere;
      }
      .recording-paused .icon {
        flex: none;
        color: var(--cs-warning);
      }
      .retry {
        color: var(--cs-text2);
        white-space: nowrap;
      }
      .toast {
        padding: 8px 12px;
        margin: 0 12px 12px;
        border-radius: 8px;
        background: color-mix(in srgb, var(--cs-success) 18%, transparent);
      }
      .toast.error {
        background: color-mix(in srgb, var(--cs-error) 18%, transparent);
      }
      a.back {
        color: var(--cs-text2);
        text-decoration: none;
        display: inline-flex;
        align-items: center;
      }
      .preroll {
        display: inline-flex;
        align-items: center;
        gap: 6px;
      }
    `,
  ];

  override connectedCallback(): void {
    super.connectedCallback();
    this.#timer = setInterval(() => {
      this.tick++;
    }, 1000);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('camera')) {
      this.message = '';
      this.preRoll = null;
    }
  }

  #say(text: string, kind: 'ok' | 'error' = 'ok'): void {
    this.message = text;
    this.messageKind = kind;
  }

  async #saveClip(): Promise<void> {
    const cam = store.camera(this.camera);
    if (!cam) return;
    this.busy = true;
    try {
      const preRoll = this.preRoll ?? cam.recording.preRollSeconds;
      const r = await api.startClip(this.camera, { preRoll, duration: cam.recording.clipSeconds });
      this.#say(
        r.extended
          ? `The open clip was extended (${r.clip.id}).`
          : `Recording clip ${r.clip.id}: ${Math.round(r.preRollSeconds)} s before now, ${cam.recording.clipSeconds} s after.`,
      );
    } catch (err) {
      this.#say(`Clip not saved: ${err instanceof Error ? err.message : String(err)}`, 'error');
    } finally {
      this.busy = false;
    }
  }

  async #setContinuous(on: boolean): Promise<void> {
    this.busy = true;
    try {
      await api.updateCamera(this.camera, { recording: { continuous: on } });
      this.#say(on ? 'Continuous recording is on.' : 'Continuous recording is off.');
    } catch (err) {
      const msg = err instanceof ApiError && err.problems.length ? err.problems.map((p) => p.message).join('; ') : '';
      this.#say(`Not changed: ${err instanceof Error ? err.message : String(err)}${msg ? ` (${msg})` : ''}`, 'error');
    } finally {
      this.busy = false;
    }
  }

  #uptime(status: CameraStatus): number {
    let seen = this.#statusSeenAt.get(status);
    if (seen === undefined) {
      seen = Date.now();
      this.#statusSeenAt.set(status, seen);
    }
    return status.uptimeSeconds > 0 ? status.uptimeSeconds + (Date.now() - seen) / 1000 : 0;
  }

  protected override render() {
    void this.#store;
    void this.tick;
    const cam = store.camera(this.camera);
    if (!store.loaded) return html`<p class="muted">Loading…</p>`;
    if (!cam) {
      return html`<p class="error-text" role="alert">No camera "${this.camera}".</p>
        <a class="button" href="./">${icon(mdiChevronLeft)} All cameras</a>`;
    }
    const st = store.status.get(cam.id);
    const state = st?.state ?? 'idle';
    const paused = cam.enabled ? recordingPausedText(st) : null;
    const retry = cam.enabled ? retryText(st, Date.now()) : null;
    const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
    const preRoll = this.preRoll ?? cam.recording.preRollSeconds;
    const prerolls = [...new Set([cam.recording.preRollSeconds, ...PRE_ROLLS])].sort((a, b) => a - b);
    return html`
      <div class="head">
        <a class="back" href="./" aria-label="All cameras">${icon(mdiChevronLeft)}</a>
        <h2>${cam.name}</h2>
        <span class="chip state ${state}" data-state=${state}>${cam.enabled ? STATE_LABEL[state] : 'Disabled'}</span>
        <span class="chip viewers" aria-label="${st?.viewers ?? 0} viewers">${icon(mdiEye)}<span class="count">${st?.viewers ?? 0}</span></span>
      </div>
      <div class="layout">
        <section class="card">
          ${
            cam.enabled
              ? html`<camstack-player camera=${cam.id} label=${cam.name} codec=${st?.codec ?? ''} poster-width="1280"></camstack-player>`
              : html`<p class="muted side">The camera is disabled; enable it in Settings.</p>`
          }
          <div class="actions">
            <button class="primary save-clip" ?disabled=${this.busy || !cam.enabled} @click=${this.#saveClip}>
              ${icon(mdiContentSave)} Save clip
            </button>
            <label class="preroll"
              >Pre-roll
              <select
                aria-label="Pre-roll seconds"
                @change=${(e: Event) => {
                  this.preRoll = Number((e.target as HTMLSelectElement).value);
                }}
              >
                ${prerolls.map((s) => html`<option value=${s} ?selected=${s === preRoll}>${s} s</option>`)}
              </select></label
            >
            <a
              class="button snapshot"
              href=${urls.snapshot(cam.id, undefined, 0)}
              download="${cam.id}_${stamp}.jpg"
              aria-disabled=${String(!cam.enabled)}
              >${icon(mdiCamera)} Snapshot</a
            >
            <a class="button" href="recordings?camera=${encodeURIComponent(cam.id)}">${icon(mdiFilmstrip)} Recordings</a>
          </div>
          ${this.message ? html`<div class="toast ${this.messageKind}" role="status">${this.message}</div>` : nothing}
        </section>
        <aside class="card side" aria-label="Stream facts">
          <div class="switch">
            <label for="continuous"
              >Continuous recording<br /><span class="muted"
                >${cam.readOnly ? 'Set in the add-on configuration' : `kept ${cam.recording.retainDays} day${cam.recording.retainDays === 1 ? '' : 's'}`}</span
              ></label
            >
            <input
              id="continuous"
              type="checkbox"
              role="switch"
              .checked=${cam.recording.continuous}
              ?disabled=${this.busy || cam.readOnly}
              @change=${(e: Event) => this.#setContinuous((e.target as HTMLInputElement).checked)}
            />
          </div>
          ${
            paused
              ? html`<p class="recording-paused" role="status">${icon(mdiAlertOutline, 'Warning')}<span>${paused}</span></p>`
              : nothing
          }
          <dl class="facts">
            <dt>State</dt>
            <dd>${STATE_LABEL[state] ?? state}${st?.recording ? ' · recording' : ''}</dd>
            <dt>Codec</dt>
            <dd data-fact="codec">${st?.codec ?? '—'}${st?.transcoding ? ' (transcoded)' : ''}</dd>
            <dt>Resolution</dt>
            <dd data-fact="resolution">${st?.resolution ?? '—'}</dd>
            <dt>Frame rate</dt>
            <dd data-fact="fps">${st?.fps != null ? `${st.fps.toFixed(st.fps % 1 ? 1 : 0)} fps` : '—'}</dd>
            <dt>Bitrate</dt>
            <dd data-fact="bitrate">${st?.bitrateKbps != null ? `${Math.round(st.bitrateKbps)} kbit/s` : '—'}</dd>
            <dt>Uptime</dt>
            <dd data-fact="uptime">${st && st.uptimeSeconds > 0 ? fmtDuration(this.#uptime(st)) : '—'}</dd>
            <dt>Viewers</dt>
            <dd>${st?.viewers ?? 0}</dd>
            <dt>Last frame</dt>
            <dd>${st?.lastFrameAt ? fmtTime(new Date(st.lastFrameAt)) : '—'}</dd>
            <dt>Source</dt>
            <dd>${cam.sourceType}</dd>
            ${
              st?.lastError
                ? html`<dt>Last error</dt><dd
                      ><span class="error-text last-error">${st.lastError}</span>${retry ? html` <span class="retry">(${retry})</span>` : nothing}</dd
                    >`
                : retry
                  ? html`<dt>Next check</dt><dd class="retry">${retry}</dd>`
                  : nothing
            }
          </dl>
        </aside>
      </div>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'camstack-camera-view': CamstackCameraView;
  }
}
