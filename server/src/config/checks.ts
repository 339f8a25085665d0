/**
 * The checks beyond the schemas: camera ids unique across both lists, the source URL rules,
 * credentials given once, ports distinct; and a validated camera turned into its normalised
 * {@link Camera}. No I/O.
 */
import { toEventSettings } from './events-config.js';
import { ajvProblems } from './messages.js';
import { MotionConfigError, parseMotionConfig } from './motion.js';
import { toOnvifSettings } from './onvif-config.js';
import {
  CAMERA_ENABLED_DEFAULT,
  CAMERA_ID_PATTERN,
  type CameraConfig,
  OPTION_DEFAULTS,
  type Options,
  RECORDING_DEFAULTS,
} from './schema.js';
import { detectSourceType, splitCredentials, validateSourceUrl } from './source.js';
import { type Camera, type ConfigProblem, isPlainObject, makeProblem, OPTIONS_LABEL } from './types.js';
import { validateCameraSchema } from './validators.js';

export interface RawCameraList {
  origin: 'options' | 'file';
  label: string;
  cameras: readonly unknown[];
}

/** `/zones/1/points/0` → `.zones[1].points[0]`. */
function pointerPath(pointer: string): string {
  return pointer
    .split('/')
    .filter(Boolean)
    .map((seg) => (/^\d+$/.test(seg) ? `[${seg}]` : `.${seg}`))
    .join('');
}

function cameraPointer(index: number, key?: string): string {
  return key === undefined ? `cameras[${index}]` : `cameras[${index}].${key}`;
}

export function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

export interface Credentials {
  username: string | null;
  password: string | null;
}

/**
 * One username/password per camera, from the `username`/`password` keys and/or the userinfo of
 * `source` and `substream`. All that are given must agree; disagreements are returned (without
 * the values) as `conflicts`.
 */
interface CredentialConflict {
  field: 'username' | 'password';
  message: string;
}

export function mergeCredentials(raw: Record<string, unknown>): {
  credentials: Credentials;
  conflicts: CredentialConflict[];
} {
  const candidates: { from: string; username?: string | undefined; password?: string | undefined }[] = [
    { from: 'username/password', username: nonEmpty(raw.username), password: nonEmpty(raw.password) },
  ];
  for (const key of ['source', 'substream'] as const) {
    const url = raw[key];
    if (typeof url === 'string') {
      const split = splitCredentials(url);
      candidates.push({ from: `the ${key} URL`, username: split.username, password: split.password });
    }
  }
  const credentials: Credentials = { username: null, password: null };
  const conflicts: CredentialConflict[] = [];
  for (const field of ['username', 'password'] as const) {
    let first: { from: string; value: string } | null = null;
    for (const c of candidates) {
      const value = c[field];
      if (value === undefined) continue;
      if (first === null) first = { from: c.from, value };
      else if (first.value !== value) {
        conflicts.push({
          field,
          message: `the ${field} in ${c.from} differs from the one in ${first.from}; give the credentials once`,
        });
      }
    }
    credentials[field] = first?.value ?? null;
  }
  return { credentials, conflicts };
}

export function checkCameras(
  lists: readonly RawCameraList[],
  allowTestSources: boolean,
  problems: ConfigProblem[],
): void {
  const schemaFlagged = new Set(problems.map((p) => `${p.source}|${p.pointer}`));
  const ids = new Map<string, string>();
  for (const list of lists) {
    list.cameras.forEach((rawCamera, index) => {
      if (!isPlainObject(rawCamera)) return;
      const id = rawCamera.id;
      if (typeof id === 'string' && new RegExp(CAMERA_ID_PATTERN).test(id)) {
        const here = `${list.label} ${cameraPointer(index, 'id')}`;
        const previous = ids.get(id);
        if (previous !== undefined) {
          problems.push(
            makeProblem(list.label, cameraPointer(index, 'id'), `duplicate camera id "${id}" (also at ${previous})`),
          );
        } else {
          ids.set(id, here);
        }
      }

      const flagged = (key: string) => schemaFlagged.has(`${list.label}|${cameraPointer(index, key)}`);
      for (const p of cameraContentProblems(rawCamera, allowTestSources, flagged)) {
        // Credential conflicts concern the camera as a whole in the file.
        const pointer =
          p.key === 'source' || p.key === 'substream' || p.key.startsWith('motion')
            ? cameraPointer(index, p.key)
            : cameraPointer(index);
        problems.push(makeProblem(list.label, pointer, p.message));
      }
    });
  }
}

/**
 * The checks of one camera beyond its schema: the source/substream URL rules and agreement of
 * the credentials given in several places. `flagged(key)` tells which keys the schema already
 * reported (their URL checks are skipped). Keys: `source`, `substream`, `username`, `password`.
 */
function cameraContentProblems(
  rawCamera: Record<string, unknown>,
  allowTestSources: boolean,
  flagged: (key: string) => boolean,
): { key: string; message: string }[] {
  const out: { key: string; message: string }[] = [];
  for (const key of ['source', 'substream'] as const) {
    const url = rawCamera[key];
    if (typeof url !== 'string' || url === '') continue;
    if (flagged(key)) continue;
    for (const message of validateSourceUrl(url, { allowTestSources })) out.push({ key, message });
  }
  for (const conflict of mergeCredentials(rawCamera).conflicts) {
    out.push({ key: conflict.field, message: conflict.message });
  }
  // The motion block's checks beyond its schema (a zone with no area, nothing left to watch).
  if (!flagged('motion')) {
    try {
      parseMotionConfig(rawCamera.motion);
    } catch (err) {
      if (!(err instanceof MotionConfigError)) throw err;
      for (const p of err.problems) out.push({ key: `motion${pointerPath(p.path)}`, message: p.message });
    }
  }
  return out;
}

export interface ValidateCameraOptions {
  origin: 'options' | 'file';
  /** Accept demo sources (CAMSTACK_ALLOW_TEST_SOURCES). */
  allowTestSources: boolean;
  /** The document named in the problems' `source`/`path`; default `camera`. */
  label?: string;
}

/**
 * Validate ONE camera given in the file form (snake_case, credentials possibly inside the URLs)
 * with exactly the per-camera checks {@link loadConfig} applies: the schema, the source URL
 * rules and credential agreement. Checks across cameras (duplicate ids, max_cameras) are the
 * caller's. Problems' pointers are relative to the camera: `id`, `recording.retain_days`,
 * `password`, `unknown key` at the object holding it. On success, the normalised {@link Camera}.
 */
export function validateCameraConfig(
  raw: unknown,
  options: ValidateCameraOptions,
): { camera: Camera; problems: [] } | { camera: null; problems: ConfigProblem[] } {
  const label = options.label ?? 'camera';
  if (!isPlainObject(raw)) return { camera: null, problems: [makeProblem(label, '', 'must be an object')] };
  const problems = validateCameraSchema(raw) ? [] : ajvProblems(validateCameraSchema.errors ?? [], label);
  const flaggedPointers = new Set(problems.map((p) => p.pointer));
  for (const p of cameraContentProblems(raw, options.allowTestSources, (key) => flaggedPointers.has(key))) {
    problems.push(makeProblem(label, p.key, p.message));
  }
  if (problems.length > 0) return { camera: null, problems };
  const { credentials } = mergeCredentials(raw);
  return { camera: toCamera(raw as CameraConfig, options.origin, credentials), problems: [] };
}

export function checkPorts(options: Options, problems: ConfigProblem[]): void {
  const ports: [string, number | null | undefined][] = [
    ['ingress_port', options.ingress_port ?? OPTION_DEFAULTS.ingress_port],
    ['rtsp_port', options.rtsp_port ?? OPTION_DEFAULTS.rtsp_port],
    ['webrtc_port', options.webrtc_port ?? OPTION_DEFAULTS.webrtc_port],
    ['api_port', options.api_port],
  ];
  const used = new Map<number, string>();
  for (const [key, port] of ports) {
    if (typeof port !== 'number') continue;
    const other = used.get(port);
    if (other !== undefined) problems.push(makeProblem(OPTIONS_LABEL, key, `${port} is also used by ${other}`));
    else used.set(port, key);
  }
  if (typeof options.api_port === 'number' && nonEmpty(options.api_token) === undefined) {
    problems.push(
      makeProblem(OPTIONS_LABEL, 'api_token', 'is required when api_port is set (the direct port needs a token)'),
    );
  }
}

export function toCamera(raw: CameraConfig, origin: 'options' | 'file', credentials: Credentials): Camera {
  const source = splitCredentials(raw.source).url;
  const substream = nonEmpty(raw.substream);
  const rec = raw.recording ?? {};
  return {
    id: raw.id,
    name: raw.name.trim(),
    source,
    substream: substream === undefined ? null : splitCredentials(substream).url,
    username: credentials.username,
    password: credentials.password,
    enabled: raw.enabled ?? CAMERA_ENABLED_DEFAULT,
    sourceType: detectSourceType(source),
    origin,
    recording: {
      continuous: rec.continuous ?? RECORDING_DEFAULTS.continuous,
      retainDays: rec.retain_days ?? RECORDING_DEFAULTS.retain_days,
      clipRetainDays: rec.clip_retain_days ?? RECORDING_DEFAULTS.clip_retain_days,
      preRollSeconds: rec.pre_roll_seconds ?? RECORDING_DEFAULTS.pre_roll_seconds,
      clipSeconds: rec.clip_seconds ?? RECORDING_DEFAULTS.clip_seconds,
    },
    events: toEventSettings(raw.events),
    onvif: toOnvifSettings(raw.onvif),
    motion: parseMotionConfig(raw.motion),
  };
}
