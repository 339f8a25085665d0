/**
 * Validation of message fields at the edge: every node checks what a message asks for before
 * anything is sent to Camstack, and fails with a message naming the field and the allowed values.
 */
import {
  CAMERA_ID_PATTERN,
  EVENT_TYPES,
  type EventType,
  MAX_CLIP_SECONDS,
  MAX_PRE_ROLL_SECONDS,
  MAX_SNAPSHOT_WIDTH,
  MIN_SNAPSHOT_WIDTH,
} from './constants';

/** A message field that is not acceptable; its text is what the user sees (debug, Catch). */
export class ValidationError extends Error {
  readonly field: string;
  constructor(field: string, message: string) {
    super(message);
    this.name = 'ValidationError';
    this.field = field;
  }
}

/** Short, safe rendering of a value in an error message. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) {
    return String(value);
  }
  if (Buffer.isBuffer(value)) return `a Buffer of ${value.length} bytes`;
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function isBlank(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
}

/** A camera id: `msg.camera` when given, else the node's configured camera. */
export function resolveCamera(msgCamera: unknown, configured: string | undefined): string {
  if (!isBlank(msgCamera)) {
    if (typeof msgCamera !== 'string' || !CAMERA_ID_PATTERN.test(msgCamera.trim())) {
      throw new ValidationError(
        'camera',
        `msg.camera must be a camera id (lowercase letters, digits and _, 1 to 64 characters), got ${describe(msgCamera)}`,
      );
    }
    return msgCamera.trim();
  }
  if (configured !== undefined && configured !== null && typeof configured !== 'string') {
    // A hand-edited or imported flow: only text is a camera id.
    throw new ValidationError('camera', `the node's camera ${describe(configured)} is not a valid camera id`);
  }
  const own = (configured ?? '').trim();
  if (own === '') throw new ValidationError('camera', 'no camera: choose one in the node or set msg.camera');
  if (!CAMERA_ID_PATTERN.test(own)) {
    throw new ValidationError('camera', `the node's camera ${describe(own)} is not a valid camera id`);
  }
  return own;
}

/**
 * A whole number within [min, max], from a number or a string of digits (form fields and
 * templates send strings). Blank means "not given" (undefined).
 */
export function optionalInteger(
  value: unknown,
  field: string,
  min: number,
  max: number,
  unit: string,
): number | undefined {
  if (isBlank(value)) return undefined;
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(value)) n = Number(value);
  else throw new ValidationError(field, `msg.${field} must be a number of ${unit}, got ${describe(value)}`);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ValidationError(
      field,
      `msg.${field} must be a whole number of ${unit} from ${min} to ${max}, got ${describe(value)}`,
    );
  }
  return n;
}

export type RecordAction = 'clip' | 'start' | 'stop';
export const RECORD_ACTIONS: readonly RecordAction[] = ['clip', 'start', 'stop'];

/**
 * The action of a message from a list: `msg.action` when given, else `msg.payload` when it is a
 * string (an inject's timestamp or an object payload is not an action), else the node's default.
 */
export function resolveAction<T extends string>(
  msgAction: unknown,
  payload: unknown,
  configured: T,
  allowed: readonly T[],
): T {
  const pick = (value: unknown, field: string): T => {
    const text = typeof value === 'string' ? value.trim().toLowerCase() : value;
    if (typeof text === 'string' && (allowed as readonly string[]).includes(text)) return text as T;
    throw new ValidationError(
      'action',
      `msg.${field} must be one of ${allowed.map((a) => `"${a}"`).join(', ')}, got ${describe(value)}`,
    );
  };
  if (!isBlank(msgAction)) return pick(msgAction, 'action');
  if (typeof payload === 'string' && payload.trim() !== '') return pick(payload, 'payload');
  return configured;
}

export interface ClipRequest {
  preRoll?: number;
  duration?: number;
}

/** `preRoll` and `duration` of a clip: the message's when given, else the node's, else the camera's. */
export function resolveClipRequest(
  msg: { preRoll?: unknown; duration?: unknown },
  configured: { preRoll?: unknown; duration?: unknown },
): ClipRequest {
  const pick = (field: 'preRoll' | 'duration', min: number, max: number) =>
    optionalInteger(msg[field], field, min, max, 'seconds') ??
    optionalInteger(configured[field], field, min, max, 'seconds');
  const preRoll = pick('preRoll', 0, MAX_PRE_ROLL_SECONDS);
  const duration = pick('duration', 1, MAX_CLIP_SECONDS);
  return { ...(preRoll !== undefined ? { preRoll } : {}), ...(duration !== undefined ? { duration } : {}) };
}

export function resolveWidth(msgWidth: unknown, configured: unknown): number | undefined {
  return (
    optionalInteger(msgWidth, 'width', MIN_SNAPSHOT_WIDTH, MAX_SNAPSHOT_WIDTH, 'pixels') ??
    optionalInteger(configured, 'width', MIN_SNAPSHOT_WIDTH, MAX_SNAPSHOT_WIDTH, 'pixels')
  );
}

/** A list given as an array or a comma-separated string; blank → empty. */
function list(value: unknown, field: string): string[] {
  if (isBlank(value)) return [];
  if (typeof value === 'string') {
    return value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  }
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) {
    return value.map((s) => s.trim()).filter(Boolean);
  }
  throw new ValidationError(field, `msg.${field} must be a string or an array of strings, got ${describe(value)}`);
}

/** Camera filter of an events subscription: ids, or empty for every camera. */
export function resolveCameraFilter(value: unknown): string[] {
  const ids = list(value, 'camera');
  for (const id of ids) {
    if (!CAMERA_ID_PATTERN.test(id)) {
      throw new ValidationError(
        'camera',
        `msg.camera: ${describe(id)} is not a camera id (lowercase letters, digits and _)`,
      );
    }
  }
  // The same camera named twice is one camera.
  const unique = [...new Set(ids)];
  if (unique.length > 64) throw new ValidationError('camera', `msg.camera: at most 64 cameras, got ${unique.length}`);
  return unique;
}

/** Event types of an events subscription: known types only; empty means the default set. */
export function resolveEventTypes(value: unknown): EventType[] {
  const types = list(value, 'types');
  const unknown = [...new Set(types.filter((t) => !(EVENT_TYPES as readonly string[]).includes(t)))];
  if (unknown.length > 0) {
    // A few of them: a megabyte of unknown types is not repeated in the error.
    const named = unknown.slice(0, 3).map((t) => describe(t));
    const more = unknown.length > 3 ? ` and ${unknown.length - 3} more` : '';
    throw new ValidationError(
      'types',
      `msg.types: unknown event type ${named.join(', ')}${more} (known: ${EVENT_TYPES.join(', ')})`,
    );
  }
  return [...new Set(types)] as EventType[];
}
