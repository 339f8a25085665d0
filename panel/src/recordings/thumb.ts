/** `<camstack-recording-thumb rid="…">`: the picture of one recording in the list, an icon until it has one. */
import { css, html, LitElement, type PropertyValues } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { urls } from '../api.js';
import { icon, mdiFilmstrip } from '../icons.js';

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

declare global {
  interface HTMLElementTagNameMap {
    'camstack-recording-thumb': CamstackRecordingThumb;
  }
}
