/**
 * `<camstack-settings>`: cameras (add, edit, remove — the API's validation problems shown next to
 * their fields; "Test connection" asks the camera before anything is saved), each camera's
 * retention, the engines' health with a restart per engine, and storage use as a picture: the
 * media disk with the storage cap and the minimum free space marked, and a bar per camera.
 */
import { css, html, LitElement, nothing } from 'lit';
import { customElement, query, state } from 'lit/decorators.js';
import {
  ApiError,
  api,
  type CameraTestResult,
  type CameraView,
  type EngineHealth,
  type Problem,
  type StorageReport,
} from '../api.js';
import { type FormValues, formToInput, formToTestInput } from '../camera-form.js';
import { fmtBytes, fmtDuration, STATE_LABEL } from '../format.js';
import {
  icon,
  mdiCameraPlus,
  mdiDelete,
  mdiHarddisk,
  mdiLanConnect,
  mdiLock,
  mdiPencil,
  mdiRefresh,
  mdiRestart,
} from '../icons.js';
import { cameraBars, describeTest, diskPicture } from '../storage.js';
import { StoreController, store } from '../store.js';
import { styleProps } from '../style-props.js';
import { shared, tokens } from '../theme.js';
import type { CamstackConfirm } from './confirm.js';
import './confirm.js';

const EMPTY: FormValues = {
  id: '',
  name: '',
  source: '',
  substream: '',
  username: '',
  password: '',
  enabled: true,
  continuous: false,
  retainDays: '7',
  clipRetainDays: '30',
  preRollSeconds: '0',
  clipSeconds: '20',
};

/** API field (`recording.retainDays`) → form field. */
const FIELD_OF: Record<string, keyof FormValues> = {
  id: 'id',
  name: 'name',
  source: 'source',
  substream: 'substream',
  username: 'username',
  password: 'password',
  enabled: 'enabled',
  'recording.continuous': 'continuous',
  'recording.retainDays': 'retainDays',
  'recording.clipRetainDays': 'clipRetainDays',
  'recording.preRollSeconds': 'preRollSeconds',
  'recording.clipSeconds': 'clipSeconds',
};

@customElement('camstack-settings')
export class CamstackSettings extends LitElement {
  readonly #store = new StoreController(this);
  /** null: no form; 'new': adding; an id: editing that camera. */
  @state() private editing: string | null = null;
  @state() private values: FormValues = { ...EMPTY };
  @state() private errors: Partial<Record<keyof FormValues, string>> = {};
  @state() private formError = '';
  @state() private saving = false;
  @state() private notice = '';
  @state() private storage: StorageReport | null = null;
  @state() private storageError = '';
  /** The last connection test of the form: null none, 'running', or its result. */
  @state() private testing: CameraTestResult | 'running' | null = null;
  /** Engines being restarted. */
  @state() private restarting = new Set<string>();
  #testAbort: AbortController | null = null;
  @query('camstack-confirm') private confirm!: CamstackConfirm;
  #storageVersion = -1;

  static override styles = [
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
    `,
  ];

  protected override updated(): void {
    if (store.loaded && this.#storageVersion !== store.recordingsVersion + store.cameras.length * 1000) {
      this.#storageVersion = store.recordingsVersion + store.cameras.length * 1000;
      void this.#loadStorage();
    }
  }

  async #loadStorage(): Promise<void> {
    try {
      this.storage = await api.storage();
      this.storageError = '';
    } catch (err) {
      this.storageError =
        err instanceof ApiError && err.status === 404
          ? 'This server reports no storage use.'
          : `Storage use unknown: ${err instanceof Error ? err.message : String(err)}`;
    }
  }

  /** Asks the camera as the form describes it; nothing is saved. */
  async #testConnection(): Promise<void> {
    const editing = this.editing && this.editing !== 'new' ? (store.camera(this.editing) ?? null) : null;
    this.#testAbort?.abort();
    const abort = new AbortController();
    this.#testAbort = abort;
    this.testing = 'running';
    this.errors = {};
    this.formError = '';
    try {
      const result = await api.testCamera(formToTestInput(this.values, editing), abort.signal);
      if (this.#testAbort === abort) this.testing = result;
    } catch (err) {
      if (abort.signal.aborted) return;
      this.testing = null;
      this.#showProblems(err);
    }
  }

  async #restartEngine(name: 'go2rtc' | 'mediamtx'): Promise<void> {
    const what = name === 'go2rtc' ? 'Live views reconnect' : 'Cameras and recording pause for a few seconds';
    if (!(await this.confirm.ask(`Restart ${name}? ${what}.`, 'Restart'))) return;
    this.restarting = new Set([...this.restarting, name]);
    try {
      const e = await api.restartEngine(name);
      this.notice = `${name} restarted: ${e.state}${e.pid ? `, pid ${e.pid}` : ''}.`;
      await store.refreshHealth();
    } catch (err) {
      this.notice = '';
      this.formError = `${name} not restarted: ${err instanceof Error ? err.message : String(err)}`;
    } finally {
      const next = new Set(this.restarting);
      next.delete(name);
      this.restarting = next;
    }
  }

  #startAdd(): void {
    this.#endTest();
    this.editing = 'new';
    this.values = { ...EMPTY };
    this.errors = {};
    this.formError = '';
    this.notice = '';
  }

  #startEdit(cam: CameraView): void {
    this.#endTest();
    this.editing = cam.id;
    this.values = {
      id: cam.id,
      name: cam.name,
      source: cam.source,
      substream: cam.substream ?? '',
      username: '',
      password: '',
      enabled: cam.enabled,
      continuous: cam.recording.continuous,
      retainDays: String(cam.recording.retainDays),
      clipRetainDays: String(cam.recording.clipRetainDays),
      preRollSeconds: String(cam.recording.preRollSeconds),
      clipSeconds: String(cam.recording.clipSeconds),
    };
    this.errors = {};
    this.formError = '';
    this.notice = '';
  }

  #endTest(): void {
    this.#testAbort?.abort();
    this.#testAbort = null;
    this.testing = null;
  }

  #cancel(): void {
    this.#endTest();
    this.editing = null;
    this.errors = {};
    this.formError = '';
  }

  async #submit(e: Event): Promise<void> {
    e.preventDefault();
    const editing = this.editing && this.editing !== 'new' ? (store.camera(this.editing) ?? null) : null;
    this.saving = true;
    this.errors = {};
    this.formError = '';
    try {
      const input = formToInput(this.values, editing);
      const saved = editing ? await api.updateCamera(editing.id, input) : await api.addCamera(input);
      this.#endTest();
      this.editing = null;
      this.notice = editing
        ? `Saved "${saved.name}".`
        : `Added "${saved.name}". Its stream is being checked: the state below follows it.`;
      await store.load();
    } catch (err) {
      await this.#showProblems(err);
    } finally {
      this.saving = false;
    }
  }

  /** The API's problems next to their fields (the first invalid one focused); anything else above the buttons. */
  async #showProblems(err: unknown): Promise<void> {
    if (err instanceof ApiError && err.problems.length) {
      const errors: Partial<Record<keyof FormValues, string>> = {};
      const rest: Problem[] = [];
      for (const p of err.problems) {
        const field = FIELD_OF[p.field];
        if (field) errors[field] = errors[field] ? `${errors[field]}; ${p.message}` : p.message;
        else rest.push(p);
      }
      this.errors = errors;
      this.formError = rest.length
        ? rest.map((p) => (p.field ? `${p.field}: ${p.message}` : p.message)).join('; ')
        : Object.keys(errors).length
          ? ''
          : err.message;
      await this.updateComplete;
      (this.renderRoot.querySelector('[aria-invalid="true"]') as HTMLElement | null)?.focus();
    } else {
      this.formError = err instanceof Error ? err.message : String(err);
    }
  }

  async #remove(cam: CameraView): Promise<void> {
    if (!(await this.confirm.ask(`Remove the camera "${cam.name}"? Its recordings are kept.`, 'Remove'))) return;
    try {
      await api.removeCamera(cam.id);
      this.notice = `Removed "${cam.name}".`;
      await store.load();
    } catch (err) {
      this.notice = '';
      this.formError = `Not removed: ${err instanceof Error ? err.message : String(err)}`;
    }
  }

  #set<K extends keyof FormValues>(key: K, value: FormValues[K]): void {
    this.values = { ...this.values, [key]: value };
    if (this.errors[key]) this.errors = { ...this.errors, [key]: undefined };
    // A result about other values would mislead.
    if (this.testing !== null && this.testing !== 'running') this.testing = null;
  }

  #field(
    key: keyof FormValues,
    label: string,
    opts: {
      type?: string;
      hint?: string;
      wide?: boolean;
      placeholder?: string;
      disabled?: boolean;
      autocomplete?: string;
    } = {},
  ) {
    const id = `f-${key}`;
    const err = this.errors[key];
    const described = [err ? `${id}-err` : '', opts.hint ? `${id}-hint` : ''].filter(Boolean).join(' ');
    return html`<div class="field ${opts.wide ? 'wide' : ''}" data-field=${key}>
      <label for=${id}>${label}</label>
      <input
        id=${id}
        name=${key}
        type=${opts.type ?? 'text'}
        .value=${String(this.values[key])}
        placeholder=${opts.placeholder ?? ''}
        autocomplete=${opts.autocomplete ?? 'off'}
        ?disabled=${opts.disabled ?? false}
        aria-invalid=${err ? 'true' : 'false'}
        aria-describedby=${described || nothing}
        @input=${(e: Event) => this.#set(key, (e.target as HTMLInputElement).value as never)}
      />
      ${opts.hint ? html`<span class="hint" id="${id}-hint">${opts.hint}</span>` : nothing}
      ${err ? html`<span class="field-error" id="${id}-err" role="alert">${err}</span>` : nothing}
    </div>`;
  }

  #check(key: 'enabled' | 'continuous', label: string) {
    const id = `f-${key}`;
    const err = this.errors[key];
    return html`<div class="field check" data-field=${key}>
      <input
        id=${id}
        type="checkbox"
        .checked=${this.values[key]}
        @change=${(e: Event) => this.#set(key, (e.target as HTMLInputElement).checked)}
      />
      <label for=${id}>${label}</label>
      ${err ? html`<span class="field-error" role="alert">${err}</span>` : nothing}
    </div>`;
  }

  #form() {
    const adding = this.editing === 'new';
    const cam = adding ? null : store.camera(this.editing ?? '');
    return html`<form @submit=${this.#submit} novalidate aria-label=${adding ? 'Add a camera' : 'Edit camera'}>
      <h3>${adding ? 'Add a camera' : `Edit ${cam?.name ?? ''}`}</h3>
      ${this.#field('id', 'Id', { hint: 'Lowercase letters, digits and _; used in entity ids and file names.', disabled: !adding, placeholder: 'front_door' })}
      ${this.#field('name', 'Name', { placeholder: 'Front door' })}
      ${this.#field('source', 'Stream URL', { wide: true, placeholder: 'rtsp://192.168.1.20:554/stream1', hint: 'rtsp://, rtsps://, rtmp://, or http(s):// for MJPEG / JPEG cameras.' })}
      ${this.#testResult()}
      ${this.#field('substream', 'Sub-stream URL (optional)', { wide: true })}
      ${this.#field('username', 'User name', { placeholder: cam?.hasCredentials ? 'unchanged' : '', autocomplete: 'off' })}
      ${this.#field('password', 'Password', { type: 'password', placeholder: cam?.hasCredentials ? 'unchanged' : '', autocomplete: 'new-password' })}
      ${this.#check('enabled', 'Enabled')} ${this.#check('continuous', 'Record 24/7')}
      ${this.#field('retainDays', 'Keep 24/7 recording (days)', { type: 'number' })}
      ${this.#field('clipRetainDays', 'Keep clips (days)', { type: 'number' })}
      ${this.#field('preRollSeconds', 'Clip pre-roll (s)', { type: 'number' })}
      ${this.#field('clipSeconds', 'Clip length (s)', { type: 'number' })}
      ${this.formError ? html`<div class="form-error" role="alert">${this.formError}</div>` : nothing}
      <div class="form-actions">
        <button type="submit" class="primary" ?disabled=${this.saving}>${adding ? 'Add camera' : 'Save'}</button>
        <button type="button" class="test" ?disabled=${this.testing === 'running'} @click=${this.#testConnection}
          aria-describedby="test-result">${icon(mdiLanConnect)} Test connection</button>
        <button type="button" @click=${this.#cancel}>Cancel</button>
        ${this.saving ? html`<span class="muted">Saving and checking…</span>` : nothing}
      </div>
    </form>`;
  }

  #testResult() {
    const t = this.testing;
    const cls = t === null || t === 'running' ? '' : t.ok ? 'ok' : 'fail';
    const text = t === null ? '' : t === 'running' ? 'Asking the camera…' : describeTest(t);
    return html`<div class="field wide test-result ${cls}" id="test-result" role="status" aria-live="polite"
      data-state=${t === null ? 'none' : t === 'running' ? 'running' : t.ok ? 'ok' : 'failed'}>${text}</div>`;
  }

  #cameraRow(cam: CameraView) {
    const st = store.status.get(cam.id);
    const state = cam.enabled ? (st?.state ?? 'idle') : 'idle';
    const r = cam.recording;
    return html`<li data-camera=${cam.id}>
      <div>
        <div class="cam-name">${cam.name} <span class="muted">(${cam.id})</span></div>
        <div class="source">${cam.source}</div>
        <div class="cam-meta">
          <span class="chip state ${state}" data-state=${state}>${cam.enabled ? STATE_LABEL[state] : 'Disabled'}</span>
          <span class="chip">${r.continuous ? `24/7, kept ${r.retainDays} d` : 'no 24/7'}</span>
          <span class="chip">clips kept ${r.clipRetainDays} d</span>
          ${cam.readOnly ? html`<span class="chip" title="Defined in the add-on configuration">${icon(mdiLock)} add-on config</span>` : nothing}
          ${st?.lastError && cam.enabled ? html`<span class="error-text last-error">${st.lastError}</span>` : nothing}
        </div>
      </div>
      <div class="row-actions">
        <button class="icon-button edit" aria-label="Edit ${cam.name}" title=${cam.readOnly ? 'Change it in the add-on configuration' : 'Edit'} ?disabled=${cam.readOnly} @click=${() => this.#startEdit(cam)}>
          ${icon(mdiPencil)}
        </button>
        <button class="icon-button remove" aria-label="Remove ${cam.name}" title="Remove" ?disabled=${cam.readOnly} @click=${() => this.#remove(cam)}>
          ${icon(mdiDelete)}
        </button>
      </div>
    </li>`;
  }

  #engine(name: 'go2rtc' | 'mediamtx', e: EngineHealth) {
    const cls = e.state === 'running' ? 'streaming' : e.state === 'failed' ? 'error' : 'connecting';
    const busy = this.restarting.has(name);
    return html`<div class="engine" data-engine=${name}>
      <h3>${name} <span class="chip ${cls}" data-state=${e.state}>${e.state}</span>
        <span class="spacer"></span>
        <button class="restart" ?disabled=${busy} aria-label="Restart ${name}" title="Restart ${name}"
          @click=${() => this.#restartEngine(name)}>${icon(mdiRestart)} ${busy ? 'Restarting…' : 'Restart'}</button>
      </h3>
      <div class="muted">pid <span class="pid">${e.pid ?? '—'}</span> · ${e.restarts} restart${e.restarts === 1 ? '' : 's'}</div>
      ${e.lastError ? html`<pre>${e.lastError}</pre>` : nothing}
    </div>`;
  }

  #storageCard() {
    const r = this.storage;
    const disk = r ? diskPicture(r) : null;
    const bars = r ? cameraBars(r) : [];
    const lim = r?.limits;
    return html`<section class="card" aria-labelledby="storage-h">
      <div class="section-head">${icon(mdiHarddisk)}<h2 id="storage-h">Storage</h2>
        <span class="muted">${r ? `${fmtBytes(r.totalBytes)} in ${r.recordings} recordings` : ''}</span>
        <button class="icon-button" aria-label="Refresh storage use" title="Refresh" @click=${() => this.#loadStorage()}>${icon(mdiRefresh)}</button>
      </div>
      ${this.storageError ? html`<p class="muted">${this.storageError}</p>` : nothing}
      ${
        r && disk
          ? html`<div class="disk" data-testid="disk">
            <div class="disk-bar" role="img"
              aria-label="Media disk: recordings ${fmtBytes(r.totalBytes)} (${fmtBytes(r.protectedBytes)} protected)${r.disk ? `, ${fmtBytes(r.disk.freeBytes)} free of ${fmtBytes(r.disk.totalBytes)}` : ''}${lim?.maxBytes ? `, cap ${fmtBytes(lim.maxBytes)}` : ''}">
              <span class="bar-fill" style=${barWidth(disk.recordings)}></span>
              <span class="bar-fill protected" style=${barWidth(disk.protected)}></span>
              <span class="bar-fill other" style=${barWidth(disk.other)}></span>
              ${disk.capAt !== null ? html`<span class="mark cap" style=${markAt(disk.capAt)}></span>` : nothing}
              ${disk.minFreeAt !== null ? html`<span class="mark min-free" style=${markAt(disk.minFreeAt)}></span>` : nothing}
            </div>
            <div class="legend">
              <span><span class="swatch"></span>recordings</span>
              <span><span class="swatch protected"></span>protected</span>
              <span><span class="swatch other"></span>other files</span>
              <span class="disk-free">${r.disk ? `${fmtBytes(r.disk.freeBytes)} free of ${fmtBytes(r.disk.totalBytes)}` : 'disk size unknown'}</span>
              ${lim?.maxBytes ? html`<span class="cap-text"><span class="swatch-line cap"></span>cap ${fmtBytes(lim.maxBytes)} (storage_max_gb)</span>` : html`<span>no cap (storage_max_gb)</span>`}
              ${lim && lim.minFreeBytes !== null ? html`<span><span class="swatch-line min-free"></span>keeps ${lim.minFreePercent} % free (${fmtBytes(lim.minFreeBytes)})</span>` : nothing}
            </div>
          </div>
          <div class="bars" role="list" aria-label="Storage per camera">
            ${bars.map(
              (b) => html`<div class="bar-row" role="listitem" data-camera=${b.camera}
                aria-label="${b.name}: ${fmtBytes(b.bytes)}, ${fmtBytes(b.protectedBytes)} protected, ${b.recordings} recordings${b.configured ? '' : ' (removed camera)'}">
                <span>${b.name}${b.configured ? '' : html` <span class="muted">(removed)</span>`}</span>
                <span class="bar-track" aria-hidden="true">
                  <span class="bar-fill" style=${barWidth(b.plain)}></span>
                  <span class="bar-fill protected" style=${barWidth(b.protected)}></span>
                </span>
                <span class="muted">${fmtBytes(b.bytes)}</span>
              </div>`,
            )}
          </div>`
          : this.storageError
            ? nothing
            : html`<p class="muted">Measuring…</p>`
      }
    </section>`;
  }

  protected override render() {
    void this.#store;
    const h = store.health;
    return html`
      <section class="card" aria-labelledby="cameras-h">
        <div class="section-head">
          <h2 id="cameras-h">Cameras</h2>
          ${this.editing ? nothing : html`<button class="primary add" @click=${this.#startAdd}>${icon(mdiCameraPlus)} Add camera</button>`}
        </div>
        ${this.notice ? html`<div class="notice" role="status">${this.notice}</div>` : nothing}
        ${this.editing ? this.#form() : nothing}
        ${!this.editing && this.formError ? html`<p class="error-text" role="alert">${this.formError}</p>` : nothing}
        ${
          store.cameras.length
            ? html`<ul class="cameras">
              ${store.cameras.map((c) => this.#cameraRow(c))}
            </ul>`
            : html`<p class="muted">No cameras yet.</p>`
        }
      </section>
      <section class="card" aria-labelledby="engines-h">
        <div class="section-head"><h2 id="engines-h">Engines</h2>
          ${h ? html`<span class="muted">Camstack ${h.version} · up ${fmtDuration(h.uptimeSeconds)}</span>` : nothing}
        </div>
        ${
          h
            ? html`<div class="engines">${this.#engine('go2rtc', h.engines.go2rtc)} ${this.#engine('mediamtx', h.engines.mediamtx)}</div>
              ${h.reasons.length ? html`<ul class="error-text">${h.reasons.map((r) => html`<li>${r}</li>`)}</ul>` : nothing}`
            : html`<p class="muted">Loading…</p>`
        }
      </section>
      ${this.#storageCard()}
      <camstack-confirm></camstack-confirm>
    `;
  }
}

/** Bars are sized through CSSOM by styleMap (the CSP allows no inline style attributes). */
function barWidth(percent: number) {
  return styleProps({ width: `${Math.max(0, Math.min(100, percent)).toFixed(2)}%` });
}

/** A line across the disk bar (the cap, the minimum free space). */
function markAt(percent: number) {
  return styleProps({ left: `${Math.max(0, Math.min(100, percent)).toFixed(2)}%` });
}

declare global {
  interface HTMLElementTagNameMap {
    'camstack-settings': CamstackSettings;
  }
}
