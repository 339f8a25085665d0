/**
 * Look and feel of Home Assistant: its CSS variables (`--primary-color`, `--card-background-color`,
 * `--primary-text-color`…) with fallbacks for light and dark (`prefers-color-scheme`). Inside HA's
 * ingress iframe the variables of HA's own theme are copied in from the parent document when it
 * is reachable (same origin), so the panel follows the user's HA theme, not only the OS setting.
 */
import { css } from 'lit';

/** HA theme variables the panel reads (copied from HA's document when framed by it). */
export const HA_VARIABLES = [
  '--primary-color',
  '--accent-color',
  '--primary-background-color',
  '--secondary-background-color',
  '--card-background-color',
  '--ha-card-background',
  '--primary-text-color',
  '--secondary-text-color',
  '--text-primary-color',
  '--divider-color',
  '--error-color',
  '--warning-color',
  '--success-color',
  '--info-color',
  '--app-header-background-color',
  '--app-header-text-color',
  '--ha-card-border-radius',
  '--paper-font-body1_-_font-family',
];

/** Copies HA's theme into this document when the panel runs inside HA's (same-origin) iframe. */
export function adoptHomeAssistantTheme(): boolean {
  try {
    if (window.parent === window) return false;
    const parentStyle = window.parent.getComputedStyle(window.parent.document.documentElement);
    const root = document.documentElement.style;
    let copied = 0;
    for (const name of HA_VARIABLES) {
      const value = parentStyle.getPropertyValue(name).trim();
      if (value) {
        root.setProperty(name, value);
        copied++;
      }
    }
    const dark = window.parent.document.documentElement.style.getPropertyValue('color-scheme');
    if (dark) root.setProperty('color-scheme', dark);
    return copied > 0;
  } catch {
    return false; // another origin, or no HA theme
  }
}

/** The panel's own tokens: HA's variable when set, else a light/dark default. */
export const tokens = css`
  :host {
    --cs-primary: var(--primary-color, #03a9f4);
    --cs-on-primary: var(--text-primary-color, #fff);
    --cs-bg: var(--primary-background-color, #fafafa);
    --cs-bg2: var(--secondary-background-color, #e5e5e5);
    --cs-card: var(--card-background-color, var(--ha-card-background, #fff));
    --cs-text: var(--primary-text-color, #212121);
    --cs-text2: var(--secondary-text-color, #5f6368);
    --cs-divider: var(--divider-color, rgba(0, 0, 0, 0.12));
    --cs-error: var(--error-color, #db4437);
    --cs-warning: var(--warning-color, #c77700);
    --cs-success: var(--success-color, #2e7d32);
    --cs-radius: var(--ha-card-border-radius, 12px);
    --cs-header-bg: var(--app-header-background-color, var(--cs-primary));
    --cs-header-text: var(--app-header-text-color, #fff);
    --cs-clip: #ff9800;
    --cs-protected: #7e57c2;
    --cs-event: #26a69a;
    --cs-range: color-mix(in srgb, var(--cs-primary) 70%, transparent);
  }
  @media (prefers-color-scheme: dark) {
    :host {
      --cs-bg: var(--primary-background-color, #111111);
      --cs-bg2: var(--secondary-background-color, #202020);
      --cs-card: var(--card-background-color, var(--ha-card-background, #1c1c1c));
      --cs-text: var(--primary-text-color, #e1e1e1);
      --cs-text2: var(--secondary-text-color, #9b9b9b);
      --cs-divider: var(--divider-color, rgba(225, 225, 225, 0.12));
      --cs-header-bg: var(--app-header-background-color, #101e24);
      --cs-header-text: var(--app-header-text-color, #e1e1e1);
      --cs-error: var(--error-color, #ef5350);
      --cs-success: var(--success-color, #66bb6a);
      --cs-warning: var(--warning-color, #ffb74d);
    }
  }
`;

/** Shared bits: cards, buttons, chips, icons, visually hidden labels. */
export const shared = css`
  * {
    box-sizing: border-box;
  }
  .icon {
    width: 20px;
    height: 20px;
    flex: none;
    vertical-align: middle;
  }
  .card {
    background: var(--cs-card);
    color: var(--cs-text);
    border-radius: var(--cs-radius);
    border: 1px solid var(--cs-divider);
    overflow: hidden;
  }
  button,
  .button {
    font: inherit;
    display: inline-flex;
    align-items: center;
    gap: 6px;
    min-height: 36px;
    padding: 0 14px;
    border-radius: 18px;
    border: 1px solid var(--cs-divider);
    background: var(--cs-card);
    color: var(--cs-text);
    cursor: pointer;
    text-decoration: none;
    white-space: nowrap;
  }
  button.primary,
  .button.primary {
    background: var(--cs-primary);
    border-color: var(--cs-primary);
    color: var(--cs-on-primary);
  }
  button.danger {
    color: var(--cs-error);
    border-color: color-mix(in srgb, var(--cs-error) 50%, transparent);
  }
  button.icon-button,
  a.icon-button {
    width: 40px;
    min-height: 40px;
    padding: 0;
    justify-content: center;
    border-radius: 50%;
    border: none;
    background: transparent;
  }
  button:disabled {
    opacity: 0.5;
    cursor: default;
  }
  button:focus-visible,
  a:focus-visible,
  input:focus-visible,
  select:focus-visible,
  [tabindex]:focus-visible {
    outline: 2px solid var(--cs-primary);
    outline-offset: 2px;
  }
  .chip {
    display: inline-flex;
    align-items: center;
    gap: 4px;
    font-size: 12px;
    line-height: 20px;
    padding: 0 8px;
    border-radius: 10px;
    background: var(--cs-bg2);
    color: var(--cs-text);
    white-space: nowrap;
  }
  .chip .icon {
    width: 14px;
    height: 14px;
  }
  .chip.streaming {
    background: color-mix(in srgb, var(--cs-success) 20%, transparent);
  }
  .chip.offline,
  .chip.error {
    background: color-mix(in srgb, var(--cs-error) 22%, transparent);
  }
  .chip.connecting {
    background: color-mix(in srgb, var(--cs-warning) 22%, transparent);
  }
  .muted {
    color: var(--cs-text2);
  }
  .error-text {
    color: var(--cs-error);
  }
  .sr-only {
    position: absolute;
    width: 1px;
    height: 1px;
    padding: 0;
    margin: -1px;
    overflow: hidden;
    clip: rect(0, 0, 0, 0);
    white-space: nowrap;
    border: 0;
  }
  input,
  select {
    font: inherit;
    color: var(--cs-text);
    background: var(--cs-card);
    border: 1px solid var(--cs-divider);
    border-radius: 8px;
    min-height: 36px;
    padding: 0 10px;
  }
  input[type='checkbox'] {
    min-height: auto;
    width: 18px;
    height: 18px;
    accent-color: var(--cs-primary);
  }
  h2 {
    font-size: 18px;
    font-weight: 500;
    margin: 0;
  }
`;
