/**
 * Live video on Home Assistant dashboards (`ha_live_cameras`): one Generic Camera config entry
 * per enabled camera, created through HA's config-flow API, streaming Camstack's RTSP restream
 * (one upstream connection per camera stays true: HA reads MediaMTX, not the camera) with
 * Camstack's snapshot URL as the still image.
 *
 * Our entries are recognised by their title, `<name> live [camstack:<id>]`, so a restart (or a
 * lost state file) never duplicates them. The state file (`<data_dir>/ha-live-cameras.json`)
 * remembers the URLs each entry was made with: when they change (host, port, credentials) the
 * entry is made again. Renaming a camera renames its entry and entity; removing it (or turning
 * the option off) deletes the entry. Changes run one at a time.
 *
 * The flow's forms are filled from the `data_schema` HA returns (flow-form.ts): since 2025 the
 * Generic Camera's `user` step takes `rtsp_transport`, `authentication`, `framerate` and
 * `verify_ssl` inside an `advanced` section. When HA changes the form again, the step fails with
 * HA's own message, which goes to the log and to `health().reason` (GET /api/health).
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { CameraStatus } from '../cameras/status.js';
import type { Camera } from '../config/load.js';
import type { EventBus } from '../events/bus.js';
import type { Logger } from '../log/logger.js';
import { type FormField, fillFormDetailed } from './flow-form.js';
import type { HassTarget } from './websocket.js';

const MARKER_RE = /\[camstack:([a-z0-9_]{1,64})\]$/;

/** HA's generic flow could not use the still image URL (and nothing else was wrong). */
class StillImageError extends Error {
  readonly code: string;

  constructor(code: string) {
    super(`still image URL rejected: ${code}`);
    this.code = code;
  }
}

/** A camera HA's Generic Camera flow can open right now (on-demand idle, or already streaming). */
function isReady(status: CameraStatus | null | undefined): boolean {
  return status?.state === 'idle' || status?.state === 'streaming';
}

export function liveTitle(camera: Pick<Camera, 'id' | 'name'>): string {
  return `${camera.name} live [camstack:${camera.id}]`;
}

export function liveCameraId(title: string): string | null {
  return MARKER_RE.exec(title)?.[1] ?? null;
}

export function liveEntityId(cameraId: string): string {
  return `camera.${cameraId}_live`;
}

interface ConfigEntry {
  entry_id: string;
  domain: string;
  title: string;
  state?: string;
}

interface FlowResult {
  type: string;
  flow_id: string;
  step_id?: string;
  data_schema?: FormField[];
  errors?: Record<string, string> | null;
  /** HA's flow API answers 400 with a message for input the form refuses. */
  message?: string;
  result?: { entry_id: string } | ConfigEntry;
  reason?: string;
}

interface Provisioned {
  entryId: string;
  stream: string;
  still: string;
}

export interface LiveCameraUrls {
  /** The RTSP restream with the reader credentials, as HA must open it. */
  stream: (cameraId: string) => string;
  /** Camstack's snapshot JPEG, as HA must fetch it. */
  still: (cameraId: string) => string;
}

export interface LiveCamerasDeps {
  enabled: boolean;
  target: HassTarget;
  /** A websocket command on the HA connection (entity registry, entry title). */
  command: <T>(message: { type: string; [key: string]: unknown }) => Promise<T>;
  cameras: { list(): Camera[] };
  /**
   * The camera's status: an entry is only created while it can be streamed (`idle` or
   * `streaming`), because HA's flow opens the stream and logs an error for each failed try.
   * Without it every camera counts as ready.
   */
  status?: (cameraId: string) => CameraStatus | undefined;
  urls: LiveCameraUrls;
  stateFile: string;
  bus: EventBus;
  logger: Logger;
  fetch?: typeof fetch;
}

export interface LiveCamerasHealth {
  state: 'pending' | 'ok' | 'error' | 'disabled';
  /** What went wrong, with Home Assistant's own message when it refused something. */
  reason: string | null;
}

export class LiveCameras {
  readonly #d: LiveCamerasDeps;
  readonly #log: Logger;
  #health: LiveCamerasHealth;
  #queue: Promise<void> = Promise.resolve();
  /** Cameras left without an entry because they were not ready at the last sync. */
  readonly #waiting = new Set<string>();
  #pending = false;
  readonly #offBus: (() => void)[] = [];
  /** Resolves after the sync that was running or queued when it was asked for. */
  lastSync: Promise<void> = Promise.resolve();

  constructor(deps: LiveCamerasDeps) {
    this.#d = deps;
    this.#log = deps.logger.child({ component: 'ha-live-cameras' });
    this.#health = deps.enabled ? { state: 'pending', reason: null } : { state: 'disabled', reason: null };
  }

  health(): LiveCamerasHealth {
    return { ...this.#health };
  }

  start(): void {
    const again = () => this.sync();
    this.#offBus.push(
      this.#d.bus.on('camera.added', again, 'hass-live-cameras'),
      this.#d.bus.on('camera.updated', again, 'hass-live-cameras'),
      this.#d.bus.on('camera.removed', again, 'hass-live-cameras'),
      // A camera that was not ready (engines starting, camera just added) gets its entry now.
      this.#d.bus.on(
        'camera.status',
        ({ status, previous }) => {
          if (isReady(status) && !isReady(previous) && this.#waiting.has(status.id)) void this.sync();
        },
        'hass-live-cameras',
      ),
    );
  }

  stop(): void {
    for (const off of this.#offBus.splice(0)) off();
  }

  /** Bring HA's entries in line with the cameras (coalesced: one queued run at most). */
  sync(): Promise<void> {
    if (this.#pending) return this.lastSync;
    this.#pending = true;
    this.lastSync = this.#queue = this.#queue.then(async () => {
      this.#pending = false;
      try {
        await this.#syncOnce();
        this.#health = this.#d.enabled ? { state: 'ok', reason: null } : { state: 'disabled', reason: null };
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        this.#health = { state: 'error', reason: message };
        this.#log.warn({ err: message }, `syncing HA live cameras failed: ${message}`);
      }
    });
    return this.lastSync;
  }

  async #rest<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const res = await (this.#d.fetch ?? fetch)(`${this.#d.target.restUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.#d.target.token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      // The generic flow tests the stream before it answers (up to ~30 s in HA).
      signal: AbortSignal.timeout(90_000),
    });
    const text = await res.text();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = text;
    }
    return { status: res.status, body: parsed as T };
  }

  async #readState(): Promise<Record<string, Provisioned>> {
    try {
      return JSON.parse(await readFile(this.#d.stateFile, 'utf8')) as Record<string, Provisioned>;
    } catch {
      return {};
    }
  }

  async #writeState(state: Record<string, Provisioned>): Promise<void> {
    await mkdir(dirname(this.#d.stateFile), { recursive: true });
    const tmp = `${this.#d.stateFile}.tmp`;
    await writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
    await rename(tmp, this.#d.stateFile);
  }

  async #syncOnce(): Promise<void> {
    const list = await this.#rest<ConfigEntry[]>('GET', '/config/config_entries/entry?domain=generic');
    if (list.status !== 200 || !Array.isArray(list.body)) {
      throw new Error(`listing config entries answered ${list.status}`);
    }
    const ours = new Map<string, ConfigEntry[]>();
    for (const e of list.body) {
      if (e.domain !== 'generic') continue;
      const id = liveCameraId(e.title);
      if (id === null) continue;
      ours.set(id, [...(ours.get(id) ?? []), e]);
    }
    const state = await this.#readState();
    const wanted = this.#d.enabled ? this.#d.cameras.list().filter((c) => c.enabled) : [];
    const wantedIds = new Set(wanted.map((c) => c.id));

    // Entries of cameras that are gone (or every entry, when the option is off).
    for (const [id, entries] of ours) {
      if (wantedIds.has(id)) continue;
      for (const e of entries)
        await this.#delete(e, `camera "${id}" is ${this.#d.enabled ? 'gone' : 'not live any more'}`);
      delete state[id];
      ours.delete(id);
    }

    this.#waiting.clear();
    for (const camera of wanted) {
      const stream = this.#d.urls.stream(camera.id);
      const still = this.#d.urls.still(camera.id);
      let entries = ours.get(camera.id) ?? [];
      // Never more than one: keep the one we recorded (else the first), delete the rest.
      const keep = entries.find((e) => e.entry_id === state[camera.id]?.entryId) ?? entries[0];
      for (const e of entries) if (e !== keep) await this.#delete(e, 'duplicate');
      entries = keep ? [keep] : [];
      const known = state[camera.id];
      if (keep && known && known.entryId === keep.entry_id && (known.stream !== stream || known.still !== still)) {
        await this.#delete(keep, 'its stream or still URL changed');
        entries = [];
      }
      if (entries.length === 0) {
        const status = this.#d.status?.(camera.id);
        if (this.#d.status && !isReady(status)) {
          this.#waiting.add(camera.id);
          this.#log.debug(
            { camera: camera.id, state: status?.state },
            'the live camera waits until the camera can be streamed',
          );
          continue;
        }
        const entryId = await this.#create(camera, stream, still);
        state[camera.id] = { entryId, stream, still };
      } else if (keep) {
        if (!known || known.entryId !== keep.entry_id) state[camera.id] = { entryId: keep.entry_id, stream, still };
        if (keep.title !== liveTitle(camera)) await this.#rename(keep.entry_id, camera);
      }
    }
    for (const id of Object.keys(state)) if (!wantedIds.has(id)) delete state[id];
    await this.#writeState(state);
    const waiting = [...this.#waiting];
    this.#log.info(
      { cameras: Object.keys(state), ...(waiting.length ? { waiting } : {}) },
      waiting.length
        ? `HA live cameras in sync; waiting for ${waiting.join(', ')} to be ready`
        : 'HA live cameras in sync',
    );
  }

  async #delete(entry: ConfigEntry, why: string): Promise<void> {
    const r = await this.#rest('DELETE', `/config/config_entries/entry/${entry.entry_id}`);
    if (r.status !== 200 && r.status !== 404) throw new Error(`deleting entry ${entry.entry_id} answered ${r.status}`);
    this.#log.info({ entry: entry.entry_id, title: entry.title }, `removed a Home Assistant live camera (${why})`);
  }

  async #create(camera: Camera, stream: string, still: string): Promise<string> {
    try {
      return await this.#createWith(camera, stream, still);
    } catch (err) {
      if (!(err instanceof StillImageError)) throw err;
      // HA cannot fetch our snapshot URL (e.g. the ingress port only admits the Supervisor):
      // stream only; HA then takes the still images from the stream itself.
      this.#log.warn(
        { camera: camera.id, still, error: err.code },
        'Home Assistant cannot load the snapshot URL; adding the live camera without a still image URL',
      );
      return this.#createWith(camera, stream, null);
    }
  }

  async #createWith(camera: Camera, stream: string, still: string | null): Promise<string> {
    let r = await this.#rest<FlowResult>('POST', '/config/config_entries/flow', {
      handler: 'generic',
      show_advanced_options: false,
    });
    for (let i = 0; i < 4 && r.status === 200 && r.body?.type === 'form'; i++) {
      const flowId = r.body.flow_id;
      const step = r.body.step_id;
      const errors = r.body.errors ?? {};
      if (Object.keys(errors).length > 0) {
        await this.#rest('DELETE', `/config/config_entries/flow/${flowId}`).catch(() => undefined);
        if (still !== null && Object.keys(errors).every((k) => k === 'still_image_url')) {
          throw new StillImageError(String(errors.still_image_url));
        }
        throw new Error(`Home Assistant rejected the live camera "${camera.id}": ${JSON.stringify(errors)}`);
      }
      const values =
        step === 'user'
          ? {
              ...(still !== null ? { still_image_url: still } : {}),
              stream_source: stream,
              rtsp_transport: 'tcp',
              authentication: 'basic',
              framerate: 2,
              verify_ssl: false,
            }
          : step === 'user_confirm_still' || step === 'user_confirm'
            ? { confirmed_ok: true }
            : null;
      if (values === null) {
        await this.#rest('DELETE', `/config/config_entries/flow/${flowId}`).catch(() => undefined);
        throw new Error(`the Generic Camera flow asked for an unknown step "${String(step)}"`);
      }
      const form = fillFormDetailed(r.body.data_schema ?? [], values);
      if (form.unmatched.length || form.missing.length) {
        this.#log.warn(
          { camera: camera.id, step, unmatched: form.unmatched, missing: form.missing },
          'Home Assistant’s Generic Camera form differs from what Camstack knows; sending it anyway',
        );
      }
      r = await this.#rest<FlowResult>('POST', `/config/config_entries/flow/${flowId}`, form.data);
      if (r.status !== 200) {
        await this.#rest('DELETE', `/config/config_entries/flow/${flowId}`).catch(() => undefined);
        const why = typeof r.body === 'object' && r.body?.message ? r.body.message : JSON.stringify(r.body);
        throw new Error(
          `Home Assistant refused the live camera "${camera.id}" (Generic Camera step "${String(step)}"): ${why}`,
        );
      }
    }
    if (r.body?.type !== 'create_entry' || !r.body.result) {
      throw new Error(`the generic camera flow for "${camera.id}" ended with ${JSON.stringify(r.body)}`);
    }
    const entryId = r.body.result.entry_id;
    await this.#rename(entryId, camera);
    this.#log.info({ camera: camera.id, entry: entryId }, 'added a Home Assistant live camera');
    return entryId;
  }

  /** Entry title (our marker) and the entity's id and name. */
  async #rename(entryId: string, camera: Camera): Promise<void> {
    await this.#d.command({ type: 'config_entries/update', entry_id: entryId, title: liveTitle(camera) });
    const entities = await this.#d.command<
      { entity_id: string; config_entry_id: string | null; device_id?: string | null }[]
    >({ type: 'config/entity_registry/list' });
    const entity = entities.find((e) => e.config_entry_id === entryId);
    if (!entity) return;
    const wantedId = liveEntityId(camera.id);
    // Generic Camera entities sit on a device named after the stream's host (`127_0_0_1`), which
    // HA 2026.x puts in front of the entity's friendly name: call the device "Camstack" instead
    // ("Camstack Front door live"; older HA shows the entity name alone).
    if (typeof entity.device_id === 'string') {
      await this.#d.command({
        type: 'config/device_registry/update',
        device_id: entity.device_id,
        name_by_user: 'Camstack',
      });
    }
    await this.#d.command({
      type: 'config/entity_registry/update',
      entity_id: entity.entity_id,
      name: `${camera.name} live`,
      ...(entity.entity_id !== wantedId && !entities.some((e) => e.entity_id === wantedId)
        ? { new_entity_id: wantedId }
        : {}),
    });
  }
}
