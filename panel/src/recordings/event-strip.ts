/**
 * `<camstack-event-strip>`: the camera's events of the day as cards — the picture of the moment,
 * what it was, when, and whether it made a clip. A click asks to play from a little before the
 * event (`seek`, like the timeline's).
 */
import { css, html, LitElement, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { DETECTION_LABELS } from '../../../server/src/contract/index.js';
import { type CameraEventView, urls } from '../api.js';
import { fmtTime } from '../format.js';
import { tokens } from '../theme.js';

/** Seconds before an event that playback starts, to see what led to it. */
export const LEAD_SECONDS = 3;

@customElement('camstack-event-strip')
export class CamstackEventStrip extends LitElement {
  @property({ attribute: false }) events: readonly CameraEventView[] = [];

  static override styles = [
    tokens,
    css`
      :host {
        display: block;
      }
      ol {
        display: flex;
        gap: 8px;
        overflow-x: auto;
        list-style: none;
        margin: 0;
        padding: 4px 0 8px;
        scroll-snap-type: x proximity;
      }
      li {
        flex: 0 0 auto;
        scroll-snap-align: start;
      }
      button {
        display: grid;
        gap: 2px;
        width: 132px;
        padding: 0;
        border: 1px solid var(--cs-border, transparent);
        border-radius: 8px;
        background: var(--cs-card);
        color: inherit;
        font: inherit;
        text-align: left;
        cursor: pointer;
        overflow: hidden;
      }
      button:focus-visible {
        outline: 2px solid var(--cs-primary);
      }
      img,
      .nopic {
        width: 132px;
        height: 74px;
        object-fit: cover;
        background: var(--cs-bg2);
        display: block;
      }
      .what {
        padding: 2px 6px 0;
        font-weight: 600;
        font-size: 0.85rem;
      }
      .when {
        padding: 0 6px 4px;
        font-size: 0.75rem;
        color: var(--cs-muted);
      }
      .live {
        color: var(--cs-event);
      }
    `,
  ];

  #seek(ev: CameraEventView): void {
    const time = Date.parse(ev.start) - LEAD_SECONDS * 1000;
    this.dispatchEvent(new CustomEvent('seek', { detail: { time }, bubbles: true, composed: true }));
  }

  protected override render() {
    if (this.events.length === 0) return nothing;
    return html`<ol aria-label="Events">
      ${this.events.map(
        (ev) => html`<li>
          <button class="event" data-event=${ev.id} @click=${() => this.#seek(ev)} aria-label="${DETECTION_LABELS[ev.type]} at ${fmtTime(new Date(Date.parse(ev.start)))}: play">
            ${
              ev.pictureUrl
                ? html`<img src=${urls.eventPicture(ev.id)} alt="" loading="lazy" decoding="async" />`
                : html`<span class="nopic"></span>`
            }
            <span class="what">${DETECTION_LABELS[ev.type]}${ev.active ? html` <span class="live">· now</span>` : nothing}</span>
            <span class="when">${fmtTime(new Date(Date.parse(ev.start)))}${ev.clipId ? ' · clip' : ''}</span>
          </button>
        </li>`,
      )}
    </ol>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'camstack-event-strip': CamstackEventStrip;
  }
}
