/**
 * `<camstack-settings>`: cameras (add, edit, remove — the API's validation problems shown next to
 * their fields; "Test connection" asks the camera before anything is saved), each camera's
 * retention, the engines' health with a restart per engine, and storage use as a picture: the
 * media disk with the storage cap and the minimum free space marked, and a bar per camera
 * (`../settings/storage-card.ts`; the styles in `../settings/styles.ts`).
 */
import { html, LitElement, nothing } from 'lit';
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
import { type FormExtras, type FormValues, formToInput, formToTestInput } from '../camera-form.js';
import { fmtDuration, STATE_LABEL } from '../format.js';
import { icon, mdiCameraPlus, mdiDelete, mdiLanConnect, mdiLock, mdiPencil, mdiRestart } from '../icons.js';
import { describeTest } from '../storage.js';
import { StoreController, store } from '../store.js';
import type { CamstackConfirm } from './confirm.js';
import './confirm.js';
import { type CameraEventsValue, eventsValueOf } from '../settings/camera-events-editor.js';
import '../settings/camera-events-editor.js';
import { storageCard } from '../settings/storage-card.js';
import { settingsStyles } from '../settings/styles.js';

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
  /** The camera's events, ONVIF and motion while it is edited; an ONVIF camera found while adding. */
  @state() private extras: CameraEventsValue | null = null;
  @state() private found: { host: string; port: number; name: string | null }[] | null = null;
  @state() private finding = false;
  @state() private addOnvif: { host: string; port: number } | null = null;
  @state() private findAddress = '';
  #testAbort: AbortController | null = null;
  @query('camstack-confirm') private confirm!: CamstackConfirm;
  #storageVersion = -1;

  static override styles = settingsStyles;

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
    this.extras = null;
    this.found = null;
    this.addOnvif = null;
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
    this.extras = eventsValueOf(cam.events, cam.onvif, cam.motion);
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
      const extras: FormExtras = this.extras
        ? {
            events: {
              record: this.extras.events.record,
              notify: this.extras.events.notify,
              postRollSeconds: this.extras.events.postRollSeconds,
              cooldownSeconds: this.extras.events.cooldownSeconds,
            },
            onvif: this.extras.onvif,
            motion: {
              enabled: this.extras.motion.enabled,
              sensitivity: this.extras.motion.sensitivity,
              zones: this.extras.motion.zones,
            },
          }
        : this.addOnvif
          ? { onvif: { enabled: true, host: this.addOnvif.host, port: String(this.addOnvif.port) } }
          : {};
      const input = formToInput(this.values, editing, extras);
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
      ${
        this.extras && cam
          ? html`<div class="field wide events-editor"><camstack-camera-events-editor .value=${this.extras} camera=${cam.id}
              @change=${(e: CustomEvent<CameraEventsValue>) => {
                this.extras = e.detail;
              }}></camstack-camera-events-editor></div>`
          : adding
            ? this.#finder()
            : nothing
      }
      ${this.formError ? html`<div class="form-error" role="alert">${this.formError}</div>` : nothing}
      <div class="form-actions">
        <button type="submit" class="primary" ?disabled=${this.saving}>${adding ? 'Add camera' : 'Save'}</button>
        <button type="button" class="test" ?disabled=${this.testing === 'running'} @click=${this.#testConnection}
          aria-describedby="test-result">${icon(mdiLanConnect)} Test connection</button>
        <button type="button" class="cancel" @click=${this.#cancel}>Cancel</button>
        ${this.saving ? html`<span class="muted">Saving and checking…</span>` : nothing}
      </div>
    </form>`;
  }

  /** Adding: find an ONVIF camera and take its streams (and its own events) into the form. */
  #finder() {
    return html`<div class="field wide onvif-finder">
      <label for="f-find">Find an ONVIF camera (optional)</label>
      <span class="finder-row">
        <input id="f-find" name="findAddress" placeholder="its IP address, or empty to search" .value=${this.findAddress}
          @input=${(e: Event) => {
            this.findAddress = (e.target as HTMLInputElement).value;
          }} />
        <button type="button" class="find" ?disabled=${this.finding} @click=${this.#find}>Find cameras</button>
      </span>
      ${this.finding ? html`<span class="hint">Looking…</span>` : nothing}
      ${
        this.found === null
          ? nothing
          : this.found.length === 0
            ? html`<span class="hint">None answered. Type the camera's address above, or its stream URL below.</span>`
            : html`<ul class="found">${this.found.map(
                (c) => html`<li><button type="button" data-host=${c.host} @click=${() => this.#useCamera(c)}>
                  Use ${c.name ?? c.host} (${c.host}:${c.port})</button></li>`,
              )}</ul>
              <span class="hint">Fill in the camera's user name and password below first: they are asked for its streams.</span>`
      }
    </div>`;
  }

  async #find(): Promise<void> {
    this.finding = true;
    this.found = null;
    try {
      const address = this.findAddress.trim();
      const res = await api.onvifDiscover(address ? { address } : {});
      this.found = res.cameras;
    } catch (err) {
      this.formError = `Finding cameras failed: ${err instanceof Error ? err.message : String(err)}`;
    } finally {
      this.finding = false;
    }
  }

  async #useCamera(c: { host: string; port: number; name: string | null }): Promise<void> {
    this.formError = '';
    try {
      const s = await api.onvifStreams({
        host: c.host,
        port: c.port,
        ...(this.values.username ? { username: this.values.username, password: this.values.password } : {}),
      });
      if (!s.source) throw new Error('the camera named no video stream');
      this.values = {
        ...this.values,
        source: s.source.uri,
        substream: s.substream && s.substream.uri !== s.source.uri ? s.substream.uri : '',
        name: this.values.name || (s.name ?? c.name ?? ''),
      };
      this.addOnvif = { host: c.host, port: c.port };
      this.notice = `Streams of ${s.name ?? c.host} filled in; its own events will be followed.`;
    } catch (err) {
      this.formError = err instanceof Error ? err.message : String(err);
    }
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
      ${storageCard(
        this.storage,
        this.storageError,
        () => void this.#loadStorage(),
        (id) => store.camera(id)?.recording ?? null,
      )}
      <camstack-confirm></camstack-confirm>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'camstack-settings': CamstackSettings;
  }
}
