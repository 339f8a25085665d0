/** The look of `<camstack-recordings>`: filters, timeline card, playback, the list of recordings. */
import { css } from 'lit';
import { shared, tokens } from '../theme.js';

export const recordingsStyles = [
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
    .codec-notice {
      display: flex;
      flex-wrap: wrap;
      align-items: center;
      gap: 8px;
      margin: 0 0 8px;
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
    .sw.event {
      background: var(--cs-event);
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
