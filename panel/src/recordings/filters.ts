/**
 * The recording browser's filter bar: camera, day (with previous / next), clips only, protected
 * only, and how many recordings expire within a day. The filters live in the page's URL, so every
 * change goes through `set`.
 */
import { html, nothing } from 'lit';
import type { CameraView } from '../api.js';
import { addDays, dayOf } from '../format.js';
import { icon, mdiChevronLeft, mdiChevronRight, mdiTimerSandComplete } from '../icons.js';

export interface Filters {
  cameras: readonly Pick<CameraView, 'id' | 'name'>[];
  camera: string;
  day: string;
  clipsOnly: boolean;
  protectedOnly: boolean;
  /** Recordings of the day that retention deletes within a day. */
  expiring: number;
  /** Changes URL parameters (null or '' removes one). */
  set(changes: Record<string, string | null>): void;
}

export function filtersBar(f: Filters) {
  const today = dayOf(new Date());
  return html`<section class="card filters" aria-label="Filters">
    <label
      >Camera
      <select
        class="camera"
        @change=${(e: Event) => f.set({ camera: (e.target as HTMLSelectElement).value })}
      >
        ${f.cameras.map((c) => html`<option value=${c.id} ?selected=${c.id === f.camera}>${c.name}</option>`)}
      </select></label
    >
    <span class="day">
      <button class="icon-button" aria-label="Previous day" @click=${() => f.set({ day: addDays(f.day, -1) })}>
        ${icon(mdiChevronLeft)}
      </button>
      <input
        type="date"
        aria-label="Day"
        class="day-input"
        .value=${f.day}
        max=${today}
        @change=${(e: Event) => f.set({ day: (e.target as HTMLInputElement).value || null })}
      />
      <button
        class="icon-button"
        aria-label="Next day"
        ?disabled=${f.day >= today}
        @click=${() => f.set({ day: addDays(f.day, 1) })}
      >
        ${icon(mdiChevronRight)}
      </button>
    </span>
    <label
      ><input
        type="checkbox"
        class="clips-only"
        .checked=${f.clipsOnly}
        @change=${(e: Event) => f.set({ clips: (e.target as HTMLInputElement).checked ? '1' : null })}
      />Clips only</label
    >
    <label
      ><input
        type="checkbox"
        class="protected-only"
        .checked=${f.protectedOnly}
        @change=${(e: Event) => f.set({ protected: (e.target as HTMLInputElement).checked ? '1' : null })}
      />Protected only</label
    >
    ${
      f.expiring
        ? html`<span class="badge-expiring" role="status"
          >${icon(mdiTimerSandComplete)} ${f.expiring} expiring within a day</span
        >`
        : nothing
    }
  </section>`;
}
