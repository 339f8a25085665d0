/** The look of `<camstack-player>`: stage, poster, badge, control bar, spinner. */
import { css } from 'lit';
import { shared, tokens } from '../theme.js';

export const playerStyles = [
  tokens,
  shared,
  css`
    :host {
      display: block;
      position: relative;
      background: #000;
      color: #fff;
      aspect-ratio: var(--camstack-player-aspect, 16 / 9);
      overflow: hidden;
      contain: content;
    }
    :host(:fullscreen) {
      aspect-ratio: auto;
    }
    .stage,
    .stage > video,
    .stage > img,
    .poster {
      position: absolute;
      inset: 0;
      width: 100%;
      height: 100%;
      object-fit: contain;
    }
    .poster {
      opacity: 0;
      transition: opacity 0.2s;
    }
    .poster.shown {
      opacity: 1;
      filter: brightness(0.85);
    }
    .badge.still {
      left: 6px;
      right: auto;
    }
    .badge {
      position: absolute;
      top: 6px;
      right: 6px;
      font-size: 11px;
      pointer-events: none;
    }
    .bar {
      opacity: 0;
      transition: opacity 0.2s;
      position: absolute;
      left: 0;
      right: 0;
      bottom: 0;
      display: flex;
      align-items: center;
      gap: 6px;
      padding: 4px 6px 4px 10px;
      background: linear-gradient(transparent, rgba(0, 0, 0, 0.65));
      font-size: 12px;
      min-height: 40px;
    }
    :host(:hover) .bar,
    :host(:focus-within) .bar,
    .bar.sticky {
      opacity: 1;
    }
    @media (hover: none) {
      .bar {
        opacity: 1;
      }
    }
    .mode {
      font-weight: 600;
      letter-spacing: 0.02em;
      padding: 1px 6px;
      border-radius: 4px;
      color: #fff;
      background: rgba(0, 0, 0, 0.6);
    }
    .mode.fallback {
      background: rgba(255, 152, 0, 0.85);
      color: #000;
    }
    .reason {
      flex: 1;
      min-width: 0;
      overflow: hidden;
      text-overflow: ellipsis;
      white-space: nowrap;
      text-shadow: 0 1px 2px #000;
    }
    .bar button.icon-button {
      color: #fff;
      width: 36px;
      min-height: 36px;
    }
    .center {
      position: absolute;
      inset: 0;
      display: flex;
      align-items: center;
      justify-content: center;
      text-align: center;
      padding: 12px;
      pointer-events: none;
      text-shadow: 0 1px 3px #000;
      font-size: 14px;
    }
    .spinner {
      width: 32px;
      height: 32px;
      border: 3px solid rgba(255, 255, 255, 0.3);
      border-top-color: #fff;
      border-radius: 50%;
      animation: spin 0.9s linear infinite;
    }
    @keyframes spin {
      to {
        transform: rotate(360deg);
      }
    }
    @media (prefers-reduced-motion: reduce) {
      .spinner {
        animation: none;
      }
    }
  `,
];
