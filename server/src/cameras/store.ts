/**
 * The cameras, in memory, and the only writer of the cameras file.
 *
 * Every change is validated completely (with the cameras file's own checks, see
 * `validateCameraConfig`), then persisted atomically, and only after a successful write is the
 * in-memory list replaced and the bus event emitted: a failed write changes nothing. Changes
 * run one at a time (a promise queue), so concurrent requests cannot interleave.
 *
 * Cameras from the add-on options (`origin: 'options'`) are read-only here: they belong to the
 * add-on configuration, which Home Assistant owns.
 */

import { isDeepStrictEqual } from 'node:util';
import { EVENT_KEYS } from '../config/events-config.js';
import {
  type Camera,
  type ConfigProblem,
  cameraToFileForm,
  saveCamerasFile,
  validateCameraConfig,
} from '../config/load.js';
import { MOTION_KEYS } from '../config/motion.js';
import { ONVIF_KEYS } from '../config/onvif-config.js';
import { splitCredentials } from '../config/source.js';
import { DomainError, type DomainProblem, summarizeProblems } from '../domain-errors.js';
import type { EventBus } from '../events/bus.js';
import type { SecretRedactor } from '../log/redact.js';
import { type CameraInput, type CameraPreviewInput, type CameraUpdate, redactSourceForView } from './api-schemas.js';

/** The id a dry-run camera without one is validated under. */
const PREVIEW_ID = 'connection_test';

export interface CameraStoreOptions {
  /** Every configured camera (options first, then file), as loadConfig returned them. */
  cameras: readonly Camera[];
  /** The cameras YAML file; rewritten (origin `file` cameras only) on every change. */
  camerasFile: string;
  /** Most cameras in total (options and file). */
  maxCameras: number;
  /** Accept demo sources (CAMSTACK_ALLOW_TEST_SOURCES). */
  allowTestSources: boolean;
  bus: EventBus;
  /** New passwords are registered here before anything can log them. */
  redactor?: SecretRedactor;
}

type RawCamera = Record<string, unknown>;

/** API field (camelCase) → file key (snake_case). */
const CAMERA_KEYS: Record<string, string> = {
  id: 'id',
  name: 'name',
  source: 'source',
  substream: 'substream',
  username: 'username',
  password: 'password',
  enabled: 'enabled',
  recording: 'recording',
  events: 'events',
  onvif: 'onvif',
  motion: 'motion',
};
const RECORDING_KEYS: Record<string, string> = {
  continuous: 'continuous',
  retainDays: 'retain_days',
  clipRetainDays: 'clip_retain_days',
  preRollSeconds: 'pre_roll_seconds',
  clipSeconds: 'clip_seconds',
};

/** The blocks of a camera whose fields an update changes one by one. */
const NESTED_KEYS: Record<string, Record<string, string>> = {
  recording: RECORDING_KEYS,
  events: EVENT_KEYS,
  onvif: ONVIF_KEYS,
  motion: MOTION_KEYS,
};

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function clone(camera: Camera): Camera {
  return {
    ...camera,
    recording: { ...camera.recording },
    events: { ...camera.events, record: [...camera.events.record], notify: [...camera.events.notify] },
    onvif: camera.onvif === null ? null : { ...camera.onvif },
    motion: { ...camera.motion, zones: camera.motion.zones.map((z) => ({ ...z, points: [...z.points] })) },
  };
}

/** `recording.retain_days` → `recording.retainDays`: problems name the fields as the API spells them. */
function apiField(pointer: string): string {
  return pointer.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

function validationError(problems: readonly DomainProblem[]): DomainError {
  return new DomainError('invalid', 'validation_failed', `invalid camera: ${summarizeProblems(problems)}`, problems);
}

function errnoCode(err: unknown): string {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') return err.code;
  return err instanceof Error ? err.message : String(err);
}

/** Copy the known API fields of `input` onto `target` in the file form; unknown fields are problems. */
function applyFields(target: RawCamera, input: unknown, problems: DomainProblem[]): void {
  if (!isPlainObject(input)) {
    problems.push({ field: '', message: 'must be an object' });
    return;
  }
  for (const [key, value] of Object.entries(input)) {
    const fileKey = Object.hasOwn(CAMERA_KEYS, key) ? CAMERA_KEYS[key] : undefined;
    if (fileKey === undefined) {
      problems.push({ field: key, message: `unknown field ${JSON.stringify(key)}` });
      continue;
    }
    if (value === undefined) continue;
    const nestedKeys = Object.hasOwn(NESTED_KEYS, key) ? NESTED_KEYS[key] : undefined;
    if (nestedKeys !== undefined && isPlainObject(value)) {
      // A block (recording, events): the fields given change, the others keep their value.
      const block: RawCamera = isPlainObject(target[fileKey]) ? { ...(target[fileKey] as RawCamera) } : {};
      for (const [subKey, subValue] of Object.entries(value)) {
        const subFileKey = Object.hasOwn(nestedKeys, subKey) ? nestedKeys[subKey] : undefined;
        if (subFileKey === undefined) {
          problems.push({ field: `${key}.${subKey}`, message: `unknown field ${JSON.stringify(subKey)}` });
        } else if (subValue !== undefined) {
          block[subFileKey] = subValue;
        }
      }
      target[fileKey] = block;
    } else if (value === null && (key === 'substream' || key === 'username' || key === 'password' || key === 'onvif')) {
      delete target[fileKey];
    } else {
      target[fileKey] = value;
    }
  }
}

/**
 * A stored camera with an update applied, in the file form (not yet validated): fields not given
 * keep their value, a URL as the API showed it means "unchanged", credentials inside a new URL
 * replace the stored ones (unless given explicitly as well, where they must agree —
 * validateCameraConfig reports a conflict otherwise).
 */
function mergeUpdate(previous: Camera, input: unknown, problems: DomainProblem[]): RawCamera {
  const raw: RawCamera = { ...cameraToFileForm(previous) };
  const changes: RawCamera = isPlainObject(input) ? { ...input } : {};
  for (const key of ['source', 'substream'] as const) {
    const stored = previous[key];
    if (stored !== null && changes[key] === redactSourceForView(stored)) delete changes[key];
  }
  for (const key of ['source', 'substream'] as const) {
    const url = changes[key];
    if (typeof url !== 'string') continue;
    const split = splitCredentials(url);
    if (split.username !== undefined && changes.username === undefined) delete raw.username;
    if (split.password !== undefined && changes.password === undefined) delete raw.password;
  }
  applyFields(raw, isPlainObject(input) ? changes : input, problems);
  raw.id = previous.id;
  return raw;
}

/** `scheme://host:port` of a URL (no credentials, path or query), or null when it is not one. */
function originOf(url: string): string | null {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return null;
  }
}

export class CameraStore {
  readonly #file: string;
  readonly #maxCameras: number;
  readonly #allowTestSources: boolean;
  readonly #bus: EventBus;
  readonly #redactor: SecretRedactor | undefined;
  /** Replaced as a whole after each successful write; insertion order = configuration order. */
  #cameras: ReadonlyMap<string, Camera>;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: CameraStoreOptions) {
    const cameras = new Map<string, Camera>();
    for (const camera of options.cameras) {
      if (cameras.has(camera.id)) throw new Error(`duplicate camera id "${camera.id}"`);
      cameras.set(camera.id, clone(camera));
    }
    this.#cameras = cameras;
    this.#file = options.camerasFile;
    this.#maxCameras = options.maxCameras;
    this.#allowTestSources = options.allowTestSources;
    this.#bus = options.bus;
    this.#redactor = options.redactor;
  }

  /** Every camera, in configuration order (copies: changing them changes nothing). */
  list(): Camera[] {
    return [...this.#cameras.values()].map(clone);
  }

  get(id: string): Camera | undefined {
    const camera = this.#cameras.get(id);
    return camera === undefined ? undefined : clone(camera);
  }

  /** Create a camera in the cameras file. 400 invalid, 409 duplicate id or max_cameras reached. */
  add(input: CameraInput): Promise<Camera> {
    return this.#serialized(async () => {
      const problems: DomainProblem[] = [];
      const raw: RawCamera = {};
      applyFields(raw, input, problems);
      const camera = this.#validate(raw, problems);

      const existing = this.#cameras.get(camera.id);
      if (existing !== undefined) {
        const where = existing.origin === 'options' ? 'the add-on configuration' : 'the cameras file';
        throw new DomainError(
          'conflict',
          'duplicate_id',
          `a camera with id "${camera.id}" already exists (in ${where})`,
          [{ field: 'id', message: `"${camera.id}" is already used by another camera` }],
        );
      }
      if (this.#cameras.size >= this.#maxCameras) {
        throw new DomainError(
          'conflict',
          'max_cameras',
          `at most ${this.#maxCameras} cameras (max_cameras); remove one first`,
        );
      }

      this.#registerPassword(camera, null);
      const next = new Map(this.#cameras);
      next.set(camera.id, camera);
      await this.#commit(next);
      this.#bus.emit('camera.added', { camera: clone(camera) });
      return clone(camera);
    });
  }

  /**
   * Change a camera: a partial merge, fields not given keep their value. `username`/`password`:
   * omitted keeps, null clears; credentials inside a new `source` URL replace the stored ones.
   * 404 unknown, 409 read-only, 400 invalid or an `id` other than the camera's.
   */
  update(id: string, input: CameraUpdate): Promise<Camera> {
    return this.#serialized(async () => {
      const previous = this.#writable(id);
      const problems: DomainProblem[] = [];
      if (isPlainObject(input) && input.id !== undefined && input.id !== id) {
        problems.push({
          field: 'id',
          message: `cannot be changed (this camera is "${id}"); ids are permanent — add a new camera instead`,
        });
      }
      const camera = this.#validate(mergeUpdate(previous, input, problems), problems);

      if (isDeepStrictEqual(camera, previous)) return clone(previous);
      this.#registerPassword(camera, previous);
      const next = new Map(this.#cameras);
      next.set(id, camera);
      await this.#commit(next);
      this.#bus.emit('camera.updated', { camera: clone(camera), previous: clone(previous) });
      return clone(camera);
    });
  }

  /**
   * A camera as `input` describes it, validated like {@link add} but neither stored nor checked
   * for a duplicate id (for a dry-run connection test). With the `id` of a configured camera the
   * input is merged over it like {@link update} (read-only cameras too), so a form that leaves the
   * password "unchanged" tests with the stored one — but stored credentials are only kept while
   * the source still points at the same scheme, host and port: they never go anywhere else.
   * 400 with every problem when invalid.
   */
  preview(input: CameraPreviewInput): Camera {
    const problems: DomainProblem[] = [];
    const id = isPlainObject(input) && typeof input.id === 'string' ? input.id : undefined;
    const previous = id === undefined ? undefined : this.#cameras.get(id);
    if (previous === undefined) {
      const raw: RawCamera = {};
      applyFields(raw, isPlainObject(input) ? { ...input, id: id ?? PREVIEW_ID } : input, problems);
      return this.#validate(raw, problems);
    }
    const raw = mergeUpdate(previous, input, problems);
    const sameOrigin = (key: 'source' | 'substream') => {
      const before = previous[key];
      const after = raw[key];
      return before === null || typeof after !== 'string' || originOf(before) === originOf(after);
    };
    if (!sameOrigin('source') || !sameOrigin('substream')) {
      const given = isPlainObject(input) ? input : {};
      if (given.username === undefined && raw.username === previous.username) delete raw.username;
      if (given.password === undefined && raw.password === previous.password) delete raw.password;
    }
    return this.#validate(raw, problems);
  }

  /** Delete a camera from the cameras file. 404 unknown, 409 read-only. */
  remove(id: string): Promise<Camera> {
    return this.#serialized(async () => {
      const camera = this.#writable(id);
      const next = new Map(this.#cameras);
      next.delete(id);
      await this.#commit(next);
      this.#bus.emit('camera.removed', { camera: clone(camera) });
      return clone(camera);
    });
  }

  #serialized<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** The camera, if it exists and may be changed through the API. */
  #writable(id: string): Camera {
    const camera = this.#cameras.get(id);
    if (camera === undefined) throw new DomainError('not_found', 'not_found', `no camera with id "${id}"`);
    if (camera.origin === 'options') {
      throw new DomainError(
        'conflict',
        'read_only',
        `camera "${id}" is defined in the add-on configuration; edit it there (Settings → Add-ons → Camstack → Configuration)`,
      );
    }
    return camera;
  }

  /** Validate a camera in the file form with the cameras file's checks; 400 with every problem. */
  #validate(raw: RawCamera, problems: DomainProblem[]): Camera {
    const result = validateCameraConfig(raw, { origin: 'file', allowTestSources: this.#allowTestSources });
    problems.push(...result.problems.map((p: ConfigProblem) => ({ field: apiField(p.pointer), message: p.message })));
    if (problems.length > 0 || result.camera === null) throw validationError(problems);
    return result.camera;
  }

  /**
   * A new password is masked in logs from before it is written anywhere. Old ones stay
   * registered: they may still show up (an engine's output tail, a log line in flight).
   */
  #registerPassword(camera: Camera, previous: Camera | null): void {
    if (camera.password !== null && camera.password !== previous?.password) this.#redactor?.add(camera.password);
    const onvif = camera.onvif?.password ?? null;
    if (onvif !== null && onvif !== '' && onvif !== previous?.onvif?.password) this.#redactor?.add(onvif);
  }

  /** Persist `next`, then make it current. A failed write leaves memory and the file as they were. */
  async #commit(next: Map<string, Camera>): Promise<void> {
    try {
      await saveCamerasFile(this.#file, [...next.values()]);
    } catch (err) {
      throw new DomainError(
        'internal',
        'write_failed',
        `could not write the cameras file ${this.#file} (${errnoCode(err)}); nothing was changed`,
      );
    }
    this.#cameras = next;
  }
}
