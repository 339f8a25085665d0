/**
 * `<camstack-timeline>`: one camera's day — recorded ranges (gaps are what is left), clips and
 * protected clips as marks, the camera's events (motion, person…) as ticks, the "now" line and
 * the playhead. Click or drag to seek (a `seek`
 * event with the time on release; `scrub` while dragging); keyboard: it is a slider (arrows
 * ±1 min, Shift ±10 min, Home/End, Enter plays). A zoom (24 h → 10 min) around the playhead.
 */
import { css, html, LitElement, nothing, type PropertyValues } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { CameraEventView, Timeline } from '../api.js';
import { fmtTime } from '../format.js';
import { styleProps } from '../style-props.js';
import { tokens } from '../theme.js';

/** Zoom levels: the visible span in ms. */
export const ZOOMS = [86_400_000, 6 * 3_600_000, 3_600_000, 10 * 60_000];

const pct = (v: number) => `${(v * 100).toFixed(3)}%`;

@customElement('camstack-timeline')
export class CamstackTimeline extends LitElement {
  @property({ attribute: false }) timeline: Timeline | null = null;
  /** The camera's events of the day (ticks on the track). */
  @property({ attribute: false }) events: readonly CameraEventView[] = [];
  /** Playhead (ms since epoch), or null. */
  @property({ type: Number }) position: number | null = null;
  @property({ type: Number }) now = Date.now();
  @property({ type: Number }) zoom = 0;
  /** Start of the visible span (ms). */
  @state() private viewFrom = 0;
  @state() private hover: number | null = null;
  @state() private dragging: number | null = null;

  static override styles = [
    tokens,
    css`
      :host {
        display: block;
        user-select: none;
        -webkit-user-select: none;
        touch-action: none;
      }
      .track {
        position: relative;
        height: 48px;
        border-radius: 6px;
        background: repeating-linear-gradient(
          -45deg,
          var(--cs-bg2),
          var(--cs-bg2) 6px,
          color-mix(in srgb, var(--cs-bg2) 70%, var(--cs-card)) 6px,
          color-mix(in srgb, var(--cs-bg2) 70%, var(--cs-card)) 12px
        );
        cursor: pointer;
        overflow: hidden;
        outline: none;
      }
      .track:focus-visible {
        box-shadow: 0 0 0 2px var(--cs-primary);
      }
      .range {
        position: absolute;
        top: 8px;
        bottom: 8px;
        min-width: 2px;
        background: var(--cs-range);
        border-radius: 2px;
      }
      .future {
        position: absolute;
        top: 0;
        bottom: 0;
        background: var(--cs-card);
        opacity: 0.7;
      }
      .clip {
        position: absolute;
        top: 2px;
        height: 8px;
        min-width: 4px;
        border-radius: 2px;
        background: var(--cs-clip);
      }
      .clip.protected {
        background: var(--cs-protected);
        top: auto;
        bottom: 2px;
      }
      .event {
        position: absolute;
        top: 12px;
        height: 24px;
        min-width: 3px;
        border-radius: 2px;
        background: var(--cs-event);
        opacity: 0.85;
        pointer-events: none;
      }
      .now,
      .head,
      .hover {
        position: absolute;
        top: 0;
        bottom: 0;
        width: 2px;
        margin-left: -1px;
      }
      .now {
        background: var(--cs-error);
      }
      .head {
        background: var(--cs-text);
        width: 3px;
      }
      .hover {
        background: var(--cs-text2);
        opacity: 0.6;
      }
      .ticks {
        position: relative;
        height: 18px;
        font-size: 11px;
        color: var(--cs-text2);
        container-type: inline-size;
      }
      .ticks span {
        position: absolute;
        transform: translateX(-50%);
        white-space: nowrap;
      }
      /* A phone: every other time label, so "03:00 AM" and "06:00 AM" do not run into each other. */
      @container (max-width: 600px) {
        .ticks span:nth-child(even) {
          display: none;
        }
      }
      .tip {
        position: absolute;
        top: 2px;
        transform: translateX(-50%);
        background: var(--cs-text);
        color: var(--cs-card);
        font-size: 11px;
        padding: 1px 5px;
        border-radius: 4px;
        pointer-events: none;
        white-space: nowrap;
      }
      .wrap {
        position: relative;
        padding-top: 22px;
      }
    `,
  ];

  get span(): number {
    return ZOOMS[this.zoom] ?? ZOOMS[0] ?? 86_400_000;
  }

  get dayFrom(): number {
    return this.timeline ? Date.parse(this.timeline.from) : 0;
  }

  get dayTo(): number {
    return this.timeline ? Date.parse(this.timeline.to) : 0;
  }

  /** The visible span [from, to). */
  get view(): { from: number; to: number } {
    return { from: this.viewFrom, to: this.viewFrom + this.span };
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('timeline') || changed.has('zoom')) {
      const prevDay = (changed.get('timeline') as Timeline | null | undefined)?.from;
      if (changed.has('zoom') || prevDay !== this.timeline?.from) this.#center(this.position ?? this.#defaultCenter());
    }
  }

  #defaultCenter(): number {
    if (!this.timeline) return 0;
    const last = this.timeline.ranges[this.timeline.ranges.length - 1];
    return last ? Date.parse(last.end) : Math.min(this.now, this.dayTo);
  }

  #center(t: number): void {
    const span = this.span;
    const from = Math.min(Math.max(this.dayFrom, t - span / 2), this.dayTo - span);
    this.viewFrom = Math.max(this.dayFrom, from);
  }

  /** Keeps the playhead visible while zoomed in. */
  follow(t: number): void {
    const { from, to } = this.view;
    if (t < from || t > to) this.#center(t);
  }

  #x(t: number): number {
    return (t - this.viewFrom) / this.span;
  }

  #timeAt(clientX: number): number {
    const track = this.renderRoot.querySelector('.track') as HTMLElement;
    const box = track.getBoundingClientRect();
    const f = Math.min(1, Math.max(0, (clientX - box.left) / box.width));
    return Math.round(this.viewFrom + f * this.span);
  }

  #emit(type: 'seek' | 'scrub', t: number): void {
    this.dispatchEvent(new CustomEvent(type, { detail: { time: t }, bubbles: true, composed: true }));
  }

  #down = (e: PointerEvent) => {
    if (e.button !== 0) return;
    (e.currentTarget as HTMLElement).setPointerCapture(e.pointerId);
    this.dragging = this.#timeAt(e.clientX);
    this.#emit('scrub', this.dragging);
  };

  #move = (e: PointerEvent) => {
    const t = this.#timeAt(e.clientX);
    if (this.dragging !== null) {
      this.dragging = t;
      this.#emit('scrub', t);
    } else this.hover = t;
  };

  #up = (e: PointerEvent) => {
    if (this.dragging === null) return;
    const t = this.#timeAt(e.clientX);
    this.dragging = null;
    this.#emit('seek', t);
  };

  #key = (e: KeyboardEvent) => {
    const base = this.position ?? this.#defaultCenter();
    const step = e.shiftKey ? 600_000 : 60_000;
    let t: number | null = null;
    if (e.key === 'ArrowLeft' || e.key === 'ArrowDown') t = base - step;
    else if (e.key === 'ArrowRight' || e.key === 'ArrowUp') t = base + step;
    else if (e.key === 'Home') t = this.dayFrom;
    else if (e.key === 'End') t = Math.min(this.now, this.dayTo) - 5000;
    else if (e.key === 'Enter' || e.key === ' ') t = base;
    else if (e.key === '+' || e.key === '=') {
      this.dispatchEvent(new CustomEvent('zoom', { detail: { zoom: Math.min(ZOOMS.length - 1, this.zoom + 1) } }));
    } else if (e.key === '-') {
      this.dispatchEvent(new CustomEvent('zoom', { detail: { zoom: Math.max(0, this.zoom - 1) } }));
    }
    if (t === null) return;
    e.preventDefault();
    t = Math.min(Math.max(t, this.dayFrom), this.dayTo);
    this.follow(t);
    this.#emit('seek', t);
  };

  #ticks() {
    const span = this.span;
    const step =
      span >= 86_400_000 ? 3 * 3_600_000 : span >= 6 * 3_600_000 ? 3_600_000 : span >= 3_600_000 ? 600_000 : 120_000;
    const out = [];
    const first = Math.ceil(this.viewFrom / step) * step;
    for (let t = first; t <= this.viewFrom + span; t += step) {
      const x = this.#x(t);
      if (x < 0.03 || x > 0.97) continue;
      out.push(html`<span style=${styleProps({ left: pct(x) })}>${fmtTime(new Date(t), false)}</span>`);
    }
    return out;
  }

  protected override render() {
    const tl = this.timeline;
    if (!tl) return html`<div class="track" aria-hidden="true"></div>`;
    const { from, to } = this.view;
    const visible = (s: number, e: number) => e > from && s < to;
    const box = (s: number, e: number) =>
      styleProps({ left: pct(Math.max(0, this.#x(s))), width: pct(Math.min(1, this.#x(e)) - Math.max(0, this.#x(s))) });
    const head = this.dragging ?? this.position;
    const nowIn = this.now >= from && this.now <= to;
    const futureFrom = Math.max(this.now, from);
    const valueText = head !== null ? fmtTime(new Date(head)) : 'nothing selected';
    return html`<div class="wrap">
      ${
        head !== null && head >= from && head <= to
          ? html`<span class="tip" style=${styleProps({ left: pct(this.#x(head)) })}>${fmtTime(new Date(head))}</span>`
          : this.hover !== null
            ? html`<span class="tip" style=${styleProps({ left: pct(this.#x(this.hover)) })}>${fmtTime(new Date(this.hover))}</span>`
            : nothing
      }
      <div
        class="track"
        role="slider"
        tabindex="0"
        aria-label="Recording timeline of ${tl.day}"
        aria-valuemin=${Math.round(this.dayFrom / 1000)}
        aria-valuemax=${Math.round(this.dayTo / 1000)}
        aria-valuenow=${head !== null ? Math.round(head / 1000) : Math.round(this.dayFrom / 1000)}
        aria-valuetext=${valueText}
        @pointerdown=${this.#down}
        @pointermove=${this.#move}
        @pointerup=${this.#up}
        @pointercancel=${() => {
          this.dragging = null;
        }}
        @pointerleave=${() => {
          this.hover = null;
        }}
        @keydown=${this.#key}
      >
        ${tl.ranges
          .map((r) => [Date.parse(r.start), Date.parse(r.end)] as const)
          .filter(([s, e]) => visible(s, e))
          .map(([s, e]) => html`<div class="range" data-start=${new Date(s).toISOString()} style=${box(s, e)}></div>`)}
        ${tl.clips
          .map((c) => ({ c, s: Date.parse(c.start), e: Date.parse(c.end) }))
          .filter(({ s, e }) => visible(s, e))
          .map(
            ({ c, s, e }) =>
              html`<div class="clip ${c.protected ? 'protected' : ''}" title="${c.protected ? 'Protected clip' : 'Clip'} ${fmtTime(new Date(s))}" style=${box(s, e)}></div>`,
          )}
        ${this.events
          .map((ev) => ({ ev, s: Date.parse(ev.start), e: ev.end === null ? this.now : Date.parse(ev.end) }))
          .filter(({ s, e }) => visible(s, Math.max(e, s + 1)))
          .map(
            ({ ev, s, e }) =>
              html`<div class="event" data-event=${ev.id} data-type=${ev.type} title="${ev.type.replace('_', ' ')} ${fmtTime(new Date(s))}" style=${box(s, Math.max(e, s + 1))}></div>`,
          )}
        ${futureFrom < to ? html`<div class="future" style=${box(futureFrom, to)}></div>` : nothing}
        ${nowIn ? html`<div class="now" title="Now" style=${styleProps({ left: pct(this.#x(this.now)) })}></div>` : nothing}
        ${this.hover !== null && this.dragging === null ? html`<div class="hover" style=${styleProps({ left: pct(this.#x(this.hover)) })}></div>` : nothing}
        ${head !== null && head >= from && head <= to ? html`<div class="head" style=${styleProps({ left: pct(this.#x(head)) })}></div>` : nothing}
      </div>
      <div class="ticks" aria-hidden="true">${this.#ticks()}</div>
    </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'camstack-timeline': CamstackTimeline;
  }
}
