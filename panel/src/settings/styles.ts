/** The look of `<camstack-settings>`: the camera list and form, the engines, the storage picture. */
import { css } from 'lit';
import { shared, tokens } from '../theme.js';

export const settingsStyles = [
  tokens,
  shared,
  css`
    :host {
      display: grid;
      gap: 16px;
    }
    section.card {
      padding: 16px;
    }
    .section-head {
      display: flex;
      align-items: center;
      gap: 8px;
      margin-bottom: 12px;
    }
    .section-head h2 {
      flex: 1;
    }
    ul.cameras {
      list-style: none;
      margin: 0;
      padding: 0;
    }
    ul.cameras li {
      display: grid;
      grid-template-columns: minmax(0, 1fr) auto;
      gap: 4px 12px;
      padding: 10px 0;
      border-top: 1px solid var(--cs-divider);
    }
    .cam-name {
      font-weight: 500;
    }
    .cam-meta {
      display: flex;
      flex-wrap: wrap;
      gap: 6px;
      align-items: center;
      margin-top: 4px;
    }
    .source {
      font-family: ui-monospace, SFMono-Regular, Menlo, monospace;
      font-size: 12px;
      color: var(--cs-text2);
      overflow-wrap: anywhere;
    }
    .row-actions {
      display: flex;
      gap: 4px;
      align-items: start;
    }
    form {
      display: grid;
      grid-template-columns: repeat(auto-fill, minmax(min(100%, 260px), 1fr));
      gap: 12px 16px;
      padding: 16px;
      margin-bottom: 16px;
      background: var(--cs-bg);
      border-radius: var(--cs-radius);
      border: 1px solid var(--cs-divider);
    }
    form h3 {
      grid-column: 1 / -1;
      margin: 0;
      font-size: 16px;
      font-weight: 500;
    }
    .field {
      display: flex;
      flex-direction: column;
      gap: 4px;
    }
    .field.wide {
      grid-column: 1 / -1;
    }
    .field label {
      font-size: 12px;
      color: var(--cs-text2);
    }
    .field input[aria-invalid='true'] {
      border-color: var(--cs-error);
    }
    .field .hint {
      font-size: 12px;
      color: var(--cs-text2);
    }
    .field-error {
      font-size: 12px;
      color: var(--cs-error);
    }
    .check {
      flex-direction: row;
      align-items: center;
      gap: 8px;
    }
    .check label {
      font-size: 14px;
      color: var(--cs-text);
    }
    .form-actions {
      grid-column: 1 / -1;
      display: flex;
      gap: 8px;
      align-items: center;
      flex-wrap: wrap;
    }
    .form-error {
      grid-column: 1 / -1;
      color: var(--cs-error);
    }
    .notice {
      padding: 8px 12px;
      border-radius: 8px;
      background: color-mix(in srgb, var(--cs-success) 18%, transparent);
      margin-bottom: 12px;
    }
    .engines {
      display: grid;
      grid-template-columns: repeat(auto-fill, minmax(min(100%, 260px), 1fr));
      gap: 12px;
    }
    .engine {
      padding: 12px;
      border: 1px solid var(--cs-divider);
      border-radius: 8px;
    }
    .engine h3 {
      margin: 0 0 6px;
      font-size: 15px;
      font-weight: 500;
      display: flex;
      gap: 8px;
      align-items: center;
    }
    .engine pre {
      white-space: pre-wrap;
      font-size: 12px;
      margin: 6px 0 0;
      color: var(--cs-error);
      max-height: 6em;
      overflow: auto;
    }
    .bars {
      display: grid;
      gap: 10px;
    }
    .bar-row {
      display: grid;
      grid-template-columns: minmax(80px, 160px) minmax(0, 1fr) auto;
      gap: 10px;
      align-items: center;
    }
    .bar-track {
      height: 14px;
      border-radius: 7px;
      background: var(--cs-bg2);
      overflow: hidden;
      display: flex;
    }
    .bar-fill {
      height: 100%;
      background: var(--cs-primary);
    }
    .bar-fill.protected {
      background: var(--cs-protected);
    }
    .bar-fill.clips,
    .swatch.clips {
      background: var(--cs-clip);
    }
    .bar-row .tiers {
      grid-column: 2 / -1;
      font-size: 12px;
      margin-top: -6px;
    }
    .legend {
      display: flex;
      gap: 14px;
      font-size: 12px;
      color: var(--cs-text2);
      margin-top: 8px;
      flex-wrap: wrap;
    }
    .swatch {
      display: inline-block;
      width: 10px;
      height: 10px;
      border-radius: 2px;
      margin-right: 4px;
      background: var(--cs-primary);
    }
    .swatch.protected {
      background: var(--cs-protected);
    }
    .swatch.other,
    .bar-fill.other {
      background: var(--cs-text2);
      opacity: 0.45;
    }
    .disk {
      margin-bottom: 16px;
    }
    .disk-bar {
      position: relative;
      height: 20px;
      border-radius: 6px;
      background: var(--cs-bg2);
      display: flex;
    }
    .disk-bar > .bar-fill:first-child {
      border-radius: 6px 0 0 6px;
    }
    .mark {
      position: absolute;
      top: -4px;
      bottom: -4px;
      width: 0;
      border-left: 2px solid var(--cs-error);
    }
    .mark.min-free {
      border-left: 2px dashed var(--cs-text);
    }
    .swatch-line {
      display: inline-block;
      width: 0;
      height: 12px;
      margin-right: 6px;
      vertical-align: middle;
      border-left: 2px solid var(--cs-error);
    }
    .swatch-line.min-free {
      border-left: 2px dashed var(--cs-text);
    }
    .test-result {
      font-size: 13px;
      min-height: 0;
    }
    .test-result.ok {
      color: var(--cs-success);
    }
    .test-result.fail {
      color: var(--cs-error);
    }
    .engine .spacer {
      flex: 1;
    }
    .engine button.restart {
      font-size: 13px;
    }
    .finder-row {
    display: flex;
    gap: 8px;
    flex-wrap: wrap;
  }
  .finder-row input {
    flex: 1 1 12em;
  }
  ul.found {
    list-style: none;
    margin: 4px 0;
    padding: 0;
    display: grid;
    gap: 4px;
  }
`,
];
