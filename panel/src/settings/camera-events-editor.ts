/**
 * `<camstack-camera-events-editor>`: a camera's events in its form — which types record a clip
 * and which notify, its own ONVIF events (on/off, address), and Camstack's motion detector with
 * its mask drawn on the camera's picture: click to place corners, "Close zone" to finish one,
 * then mark each zone "ignore" (exclude) or "only here" (include). Every change is sent up as a
 * `change` event with the three blocks as the API takes them.
 */
import { css, html, LitElement, nothing, svg } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { DETECTION_LABELS } from '../../../server/src/contract/index.js';
import {
  type DetectionType,
  type EventSettings,
  type MotionSettings,
  type MotionZone,
  type OnvifView,
  urls,
} from '../api.js';
import { tokens } from '../theme.js';

/** Every event type with its word, in the order the pickers show them. */
export const TYPES = Object.entries(DETECTION_LABELS) as [DetectionType, string][];

export interface OnvifForm {
  enabled: boolean;
  host: string;
  port: string;
}

export interface CameraEventsValue {
  events: EventSettings;
  onvif: OnvifForm;
  motion: MotionSettings;
}

/** Pure: the editor's value for a camera (or the defaults of a new one). */
export function eventsValueOf(
  events: EventSettings,
  onvif: OnvifView | null,
  motion: MotionSettings,
): CameraEventsValue {
  return {
    events: { ...events, record: [...events.record], notify: [...events.notify] },
    onvif: { enabled: onvif !== null, host: onvif?.host ?? '', port: String(onvif?.port ?? 80) },
    motion: { ...motion, zones: motion.zones.map((z) => ({ ...z, points: z.points.map(([x, y]) => [x, y]) })) },
  };
}

const round = (n: number) => Math.round(Math.min(1, Math.max(0, n)) * 1000) / 1000;

@customElement('camstack-camera-events-editor')
export class CamstackCameraEventsEditor extends LitElement {
  @property({ attribute: false }) value: CameraEventsValue | null = null;
  /** The camera whose picture the mask is drawn on (none while adding). */
  @property() camera = '';
  /** Corners of the zone being drawn. */
  @state() private drawing: [number, number][] = [];

  static override styles = [
    tokens,
    css`
      :host {
        display: grid;
        gap: 10px;
      }
      fieldset {
        border: 1px solid var(--cs-border, var(--cs-bg2));
        border-radius: 8px;
        padding: 8px 12px;
        margin: 0;
        display: flex;
        flex-wrap: wrap;
        gap: 6px 14px;
        align-items: center;
      }
      legend {
        font-weight: 600;
        padding: 0 4px;
      }
      label {
        display: inline-flex;
        gap: 4px;
        align-items: center;
      }
      input[type='text'],
      input[type='number'] {
        width: 9em;
        font: inherit;
        padding: 4px 6px;
        border-radius: 6px;
        border: 1px solid var(--cs-border, #888);
        background: var(--cs-card);
        color: inherit;
      }
      .mask {
        position: relative;
        width: 100%;
        max-width: 480px;
        aspect-ratio: 16 / 9;
        background: var(--cs-bg2);
        border-radius: 6px;
        overflow: hidden;
        cursor: crosshair;
        touch-action: none;
      }
      .mask img,
      .mask svg {
        position: absolute;
        inset: 0;
        width: 100%;
        height: 100%;
      }
      .mask img {
        object-fit: fill;
      }
      polygon.exclude {
        fill: rgba(220, 50, 50, 0.35);
        stroke: #dc3232;
      }
      polygon.include {
        fill: rgba(50, 180, 90, 0.3);
        stroke: #32b45a;
      }
      polyline {
        fill: none;
        stroke: var(--cs-primary, #03a9f4);
      }
      ol.zones {
        margin: 0;
        padding-left: 1.4em;
        width: 100%;
      }
      .hint {
        color: var(--cs-muted);
        font-size: 0.85rem;
        width: 100%;
      }
      button {
        font: inherit;
        padding: 3px 10px;
        border-radius: 6px;
        border: 1px solid var(--cs-border, #888);
        background: var(--cs-card);
        color: inherit;
        cursor: pointer;
      }
    `,
  ];

  #emit(next: CameraEventsValue): void {
    this.value = next;
    this.dispatchEvent(new CustomEvent('change', { detail: next, bubbles: true, composed: true }));
  }

  #toggle(list: 'record' | 'notify', type: DetectionType, on: boolean): void {
    const v = this.value;
    if (!v) return;
    const current = v.events[list].filter((t) => t !== type);
    this.#emit({ ...v, events: { ...v.events, [list]: on ? [...current, type] : current } });
  }

  #num(block: 'events' | 'motion', key: string, text: string): void {
    const v = this.value;
    if (!v) return;
    const n = text.trim() === '' ? Number.NaN : Number(text);
    // Not a number: sent as typed, the API says why.
    const value = Number.isFinite(n) ? n : (text as unknown as number);
    this.#emit({ ...v, [block]: { ...v[block], [key]: value } });
  }

  #click(e: PointerEvent): void {
    const v = this.value;
    if (!v) return;
    const box = (e.currentTarget as HTMLElement).getBoundingClientRect();
    this.drawing = [
      ...this.drawing,
      [round((e.clientX - box.left) / box.width), round((e.clientY - box.top) / box.height)],
    ];
  }

  #closeZone(): void {
    const v = this.value;
    if (!v || this.drawing.length < 3) return;
    const zone: MotionZone = { mode: 'exclude', points: this.drawing };
    this.drawing = [];
    this.#emit({ ...v, motion: { ...v.motion, zones: [...v.motion.zones, zone] } });
  }

  #zone(i: number, change: Partial<MotionZone> | null): void {
    const v = this.value;
    if (!v) return;
    const zones = v.motion.zones.flatMap((z, j) => (j !== i ? [z] : change === null ? [] : [{ ...z, ...change }]));
    this.#emit({ ...v, motion: { ...v.motion, zones } });
  }

  #types(list: 'record' | 'notify') {
    const v = this.value;
    return TYPES.map(
      ([type, label]) =>
        html`<label><input type="checkbox" name="${list}-${type}" .checked=${v?.events[list].includes(type) ?? false}
          @change=${(e: Event) => this.#toggle(list, type, (e.target as HTMLInputElement).checked)} />${label}</label>`,
    );
  }

  #mask() {
    const v = this.value;
    if (!v) return nothing;
    const pts = (p: readonly (readonly [number, number])[]) => p.map(([x, y]) => `${x},${y}`).join(' ');
    return html`<div class="mask" @pointerdown=${this.#click} aria-label="Motion mask: click to place a zone's corners">
        ${this.camera ? html`<img src=${urls.snapshot(this.camera, 640)} alt="" draggable="false" />` : nothing}
        <svg viewBox="0 0 1 1" preserveAspectRatio="none" aria-hidden="true">
          ${v.motion.zones.map((z) => svg`<polygon class=${z.mode} points=${pts(z.points)} stroke-width="0.004"></polygon>`)}
          ${this.drawing.length ? svg`<polyline points=${pts(this.drawing)} stroke-width="0.006"></polyline>` : nothing}
        </svg>
      </div>
      <button type="button" class="close-zone" ?disabled=${this.drawing.length < 3} @click=${this.#closeZone}>Close zone</button>
      ${
        this.drawing.length
          ? html`<button type="button" @click=${() => {
              this.drawing = [];
            }}>Discard corners</button>`
          : nothing
      }
      <ol class="zones">
        ${v.motion.zones.map(
          (z, i) => html`<li data-zone=${i}>
            <select aria-label="Zone ${i + 1}" @change=${(e: Event) => this.#zone(i, { mode: (e.target as HTMLSelectElement).value as MotionZone['mode'] })}>
              <option value="exclude" ?selected=${z.mode === 'exclude'}>ignore motion here</option>
              <option value="include" ?selected=${z.mode === 'include'}>only here</option>
            </select>
            ${z.points.length} corners
            <button type="button" @click=${() => this.#zone(i, null)}>Remove</button>
          </li>`,
        )}
      </ol>`;
  }

  protected override render() {
    const v = this.value;
    if (!v) return nothing;
    return html`
      <fieldset class="record"><legend>Events that record a clip</legend>${this.#types('record')}</fieldset>
      <fieldset class="notify"><legend>Events that notify</legend>${this.#types('notify')}
        <span class="hint">Through the add-on's notify_services option, with the picture of the moment.</span></fieldset>
      <fieldset class="timing"><legend>Event clips</legend>
        <label>Post-roll (s) <input type="number" name="postRollSeconds" .value=${String(v.events.postRollSeconds)}
          @input=${(e: Event) => this.#num('events', 'postRollSeconds', (e.target as HTMLInputElement).value)} /></label>
        <label>Cooldown (s) <input type="number" name="cooldownSeconds" .value=${String(v.events.cooldownSeconds)}
          @input=${(e: Event) => this.#num('events', 'cooldownSeconds', (e.target as HTMLInputElement).value)} /></label>
      </fieldset>
      <fieldset class="onvif"><legend>The camera's own events (ONVIF)</legend>
        <label><input type="checkbox" name="onvif" .checked=${v.onvif.enabled}
          @change=${(e: Event) => this.#emit({ ...v, onvif: { ...v.onvif, enabled: (e.target as HTMLInputElement).checked } })} />Follow them</label>
        ${
          v.onvif.enabled
            ? html`<label>Address <input type="text" name="onvifHost" placeholder="the stream's host" .value=${v.onvif.host}
                  @input=${(e: Event) => this.#emit({ ...v, onvif: { ...v.onvif, host: (e.target as HTMLInputElement).value } })} /></label>
                <label>Port <input type="number" name="onvifPort" .value=${v.onvif.port}
                  @input=${(e: Event) => this.#emit({ ...v, onvif: { ...v.onvif, port: (e.target as HTMLInputElement).value } })} /></label>
                <span class="hint">With the camera's user name and password.</span>`
            : nothing
        }
      </fieldset>
      <fieldset class="motion"><legend>Camstack's motion detector</legend>
        <label><input type="checkbox" name="motion" .checked=${v.motion.enabled}
          @change=${(e: Event) => this.#emit({ ...v, motion: { ...v.motion, enabled: (e.target as HTMLInputElement).checked } })} />On</label>
        <label>Sensitivity <input type="range" name="sensitivity" min="0" max="100" .value=${String(v.motion.sensitivity)}
          @input=${(e: Event) => this.#num('motion', 'sensitivity', (e.target as HTMLInputElement).value)} /></label>
        <span class="hint">Watches the sub-stream (cheap) or, without one, the main stream. Draw zones on the picture to ignore a road or a tree.</span>
        ${this.#mask()}
      </fieldset>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'camstack-camera-events-editor': CamstackCameraEventsEditor;
  }
}
