/**
 * `<camstack-wall>`: every camera live, in a responsive grid (one column on a phone, as many
 * 340 px+ columns as fit on wider screens). Each tile shows the camera's state and viewer count
 * from the live status, a warning when 24/7 recording is paused (e.g. the media disk is full) and,
 * for a failing camera, its last error and when Camstack checks it again; its player pauses and
 * releases the stream while off screen or hidden.
 */
import { css, html, LitElement, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import type { CameraView } from '../api.js';
import { STATE_LABEL } from '../format.js';
import { icon, mdiAlertOutline, mdiCameraPlus, mdiEye, mdiRecord } from '../icons.js';
import { recordingPausedText, retryText } from '../status-text.js';
import { StoreController, store } from '../store.js';
import { shared, tokens } from '../theme.js';
import './player.js';

@customElement('camstack-wall')
export class CamstackWall extends LitElement {
  readonly #store = new StoreController(this);
  /** Re-renders every second while some camera shows a "retrying in N s" countdown. */
  @state() private tick = 0;
  #timer: ReturnType<typeof setInterval> | null = null;

  static override styles = [
    tokens,
    shared,
    css`
      :host {
        display: block;
      }
      .grid {
        display: grid;
        grid-template-columns: repeat(auto-fit, minmax(min(100%, 340px), 1fr));
        gap: 12px;
      }
      .tile header {
        display: flex;
        align-items: center;
        gap: 8px;
        padding: 8px 12px;
        min-height: 44px;
      }
      .tile header a {
        color: var(--cs-text);
        font-weight: 500;
        text-decoration: none;
        flex: 1;
        min-width: 0;
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
      }
      .tile header a:hover {
        text-decoration: underline;
      }
      .disabled {
        aspect-ratio: 16 / 9;
        display: flex;
        align-items: center;
        justify-content: center;
        background: var(--cs-bg2);
        color: var(--cs-text2);
      }
      .rec {
        color: var(--cs-error);
      }
      .note {
        display: flex;
        align-items: center;
        gap: 6px;
        margin: 0;
        padding: 0 12px 8px;
        font-size: 0.875rem;
        min-width: 0;
      }
      .note .text {
        min-width: 0;
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
      }
      .note .icon {
        flex: none;
        width: 18px;
        height: 18px;
      }
      .recording-paused {
        color: var(--cs-warning);
        font-weight: 500;
      }
      .failing .text {
        color: var(--cs-error);
      }
      .failing .retry {
        flex: none;
        color: var(--cs-text2);
        font-variant-numeric: tabular-nums;
      }
      .empty {
        padding: 32px 16px;
        text-align: center;
      }
      .empty p {
        margin: 0 0 16px;
      }
    `,
  ];

  override connectedCallback(): void {
    super.connectedCallback();
    this.#timer = setInterval(() => {
      if (store.cameras.some((c) => c.enabled && store.status.get(c.id)?.nextRetryAt)) this.tick++;
    }, 1000);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  #tile(camera: CameraView) {
    const status = store.status.get(camera.id);
    const state = camera.enabled ? (status?.state ?? 'idle') : 'idle';
    const viewers = status?.viewers ?? 0;
    const paused = camera.enabled ? recordingPausedText(status) : null;
    const failing = camera.enabled && (state === 'offline' || state === 'error');
    const retry = failing ? retryText(status, Date.now()) : null;
    const lastError = failing ? (status?.lastError ?? null) : null;
    return html`<article class="card tile" data-camera=${camera.id} aria-label=${camera.name}>
      <header>
        <a href="camera/${encodeURIComponent(camera.id)}" title="Open ${camera.name}">${camera.name}</a>
        ${status?.recording ? html`<span class="chip" title="Recording 24/7"><span class="rec">${icon(mdiRecord)}</span>REC</span>` : nothing}
        <span class="chip state ${state}" data-state=${state}>${camera.enabled ? (STATE_LABEL[state] ?? state) : 'Disabled'}</span>
        <span class="chip viewers" title="Viewers" aria-label="${viewers} viewer${viewers === 1 ? '' : 's'}">
          ${icon(mdiEye)}<span class="count">${viewers}</span>
        </span>
      </header>
      ${
        paused
          ? html`<p class="note recording-paused" role="status" title=${paused}>
              ${icon(mdiAlertOutline, 'Warning')}<span class="text">${paused}</span>
            </p>`
          : nothing
      }
      ${
        lastError || retry
          ? html`<p class="note failing" title=${[lastError, retry].filter(Boolean).join(' · ')}>
              ${lastError ? html`<span class="text last-error">${lastError}</span>` : nothing}
              ${retry ? html`<span class="retry">${lastError ? '· ' : ''}${retry}</span>` : nothing}
            </p>`
          : nothing
      }
      ${
        camera.enabled
          ? html`<camstack-player camera=${camera.id} label=${camera.name} codec=${status?.codec ?? ''} poster-width="480"></camstack-player>`
          : html`<div class="disabled">Camera disabled</div>`
      }
    </article>`;
  }

  protected override render() {
    void this.#store;
    void this.tick;
    if (!store.loaded) return html`<p class="muted">Loading cameras…</p>`;
    if (store.loadError) return html`<p class="error-text" role="alert">${store.loadError}</p>`;
    if (store.cameras.length === 0) {
      return html`<div class="card empty">
        <p>No cameras yet.</p>
        <a class="button primary" href="settings">${icon(mdiCameraPlus)} Add a camera</a>
      </div>`;
    }
    return html`<section class="grid" aria-label="Live cameras">
      ${repeat(
        store.cameras,
        (c) => c.id,
        (c) => this.#tile(c),
      )}
    </section>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'camstack-wall': CamstackWall;
  }
}
