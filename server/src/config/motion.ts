/**
 * PURE: a camera's motion detector settings: the file form (snake_case, as options.json and the
 * cameras file write it), its defaults, a validator with clear errors, and the mapping of the one
 * user-facing knob (sensitivity 0..100) to the detector's thresholds.
 *
 * Off by default. With `enabled: true` and nothing else, a camera gets: its substream analysed at
 * 3 frames a second, scaled to 320×180 grey; motion when ≥ 0.54 % of the watched picture changes
 * for 1 s; the event ends after 8 s without motion.
 */

import type { MotionSettings } from '../contract/index.js';
import { type MotionPoint, type MotionZone, polygonArea, rasterizeMask } from './motion-mask.js';
import { TEXT_PATTERN } from './text.js';

/** Free text a person reads: not blank, no control characters (the options' rule for names). */
const TEXT = new RegExp(TEXT_PATTERN);

export type { MotionPoint, MotionZone };

/** Which camera stream the detector reads: the substream when the camera has one, or always the main one. */
export type MotionStream = 'substream' | 'main';

/**
 * Camstack's motion detector on a camera: the contract's settings (what the API shows), its zones
 * read-only once parsed. Ranges: fps 1–10; width 160–640, even (height is width × 9/16, even);
 * sensitivity 0 (only large, clear changes) … 100; minDurationSeconds 0–30 (0 = the first two
 * moving frames); endAfterSeconds 1–300.
 */
export interface MotionConfig extends Omit<MotionSettings, 'zones'> {
  zones: readonly MotionZone[];
}

/** The file form's defaults (snake_case keys). */
export const MOTION_DEFAULTS = {
  enabled: false,
  fps: 3,
  width: 320,
  sensitivity: 50,
  min_duration_seconds: 1,
  end_after_seconds: 8,
  stream: 'substream',
  zones: [] as MotionZone[],
} as const;

export const MOTION_LIMITS = {
  fps: { min: 1, max: 10 },
  width: { min: 160, max: 640 },
  sensitivity: { min: 0, max: 100 },
  min_duration_seconds: { min: 0, max: 30 },
  end_after_seconds: { min: 1, max: 300 },
  zones: { max: 32 },
  points: { min: 3, max: 64 },
  name: { max: 64 },
} as const;

/** The defaults as a parsed config. */
export const DEFAULT_MOTION_CONFIG: MotionConfig = Object.freeze({
  enabled: MOTION_DEFAULTS.enabled,
  fps: MOTION_DEFAULTS.fps,
  width: MOTION_DEFAULTS.width,
  sensitivity: MOTION_DEFAULTS.sensitivity,
  minDurationSeconds: MOTION_DEFAULTS.min_duration_seconds,
  endAfterSeconds: MOTION_DEFAULTS.end_after_seconds,
  stream: MOTION_DEFAULTS.stream,
  zones: Object.freeze([]),
});

export interface MotionConfigProblem {
  /** JSON pointer inside the motion block, e.g. `/zones/1/points/0`. */
  path: string;
  message: string;
}

export class MotionConfigError extends Error {
  readonly problems: readonly MotionConfigProblem[];

  constructor(problems: readonly MotionConfigProblem[]) {
    super(`invalid motion settings: ${problems.map((p) => `${p.path || '/'} ${p.message}`).join('; ')}`);
    this.name = 'MotionConfigError';
    this.problems = problems;
  }
}

const KNOWN_KEYS = new Set([
  'enabled',
  'fps',
  'width',
  'sensitivity',
  'min_duration_seconds',
  'end_after_seconds',
  'stream',
  'zones',
]);
const ZONE_KEYS = new Set(['mode', 'points', 'name']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Validates a camera's `motion` block (file form) and fills in the defaults. `undefined` and
 * `null` mean "not configured" (the defaults: off). Throws {@link MotionConfigError} listing every
 * problem found, each with its path and what is expected.
 */
export function parseMotionConfig(raw: unknown): MotionConfig {
  if (raw === undefined || raw === null) return DEFAULT_MOTION_CONFIG;
  const problems: MotionConfigProblem[] = [];
  if (!isRecord(raw)) throw new MotionConfigError([{ path: '', message: 'must be an object' }]);
  for (const key of Object.keys(raw)) {
    if (!KNOWN_KEYS.has(key)) {
      problems.push({ path: `/${key}`, message: `is not a motion setting (known: ${[...KNOWN_KEYS].join(', ')})` });
    }
  }

  const bool = (key: 'enabled', fallback: boolean): boolean => {
    const v = raw[key];
    if (v === undefined) return fallback;
    if (typeof v !== 'boolean') {
      problems.push({ path: `/${key}`, message: 'must be true or false' });
      return fallback;
    }
    return v;
  };
  const num = (key: keyof typeof MOTION_LIMITS & keyof typeof MOTION_DEFAULTS, integer: boolean): number => {
    const fallback = MOTION_DEFAULTS[key] as number;
    const limits = MOTION_LIMITS[key] as { min: number; max: number };
    const v = raw[key];
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || (integer && !Number.isInteger(v))) {
      problems.push({ path: `/${key}`, message: `must be ${integer ? 'a whole number' : 'a number'}` });
      return fallback;
    }
    if (v < limits.min || v > limits.max) {
      problems.push({ path: `/${key}`, message: `must be between ${limits.min} and ${limits.max} (got ${v})` });
      return fallback;
    }
    return v;
  };

  const enabled = bool('enabled', MOTION_DEFAULTS.enabled);
  const fps = num('fps', false);
  let width = num('width', true);
  if (width % 2 !== 0) {
    problems.push({ path: '/width', message: `must be even (got ${width})` });
    width = MOTION_DEFAULTS.width;
  }
  const sensitivity = num('sensitivity', false);
  const minDurationSeconds = num('min_duration_seconds', false);
  const endAfterSeconds = num('end_after_seconds', false);

  let stream: MotionStream = MOTION_DEFAULTS.stream;
  if (raw.stream !== undefined) {
    if (raw.stream === 'substream' || raw.stream === 'main') stream = raw.stream;
    else problems.push({ path: '/stream', message: 'must be "substream" or "main"' });
  }

  const zones: MotionZone[] = [];
  if (raw.zones !== undefined) {
    if (!Array.isArray(raw.zones)) {
      problems.push({ path: '/zones', message: 'must be a list of zones' });
    } else if (raw.zones.length > MOTION_LIMITS.zones.max) {
      problems.push({ path: '/zones', message: `must have at most ${MOTION_LIMITS.zones.max} zones` });
    } else {
      raw.zones.forEach((zone: unknown, i: number) => {
        const parsed = parseZone(zone, `/zones/${i}`, problems);
        if (parsed) zones.push(parsed);
      });
    }
  }

  if (problems.length > 0) throw new MotionConfigError(problems);
  const config: MotionConfig = {
    enabled,
    fps,
    width,
    sensitivity,
    minDurationSeconds,
    endAfterSeconds,
    stream,
    zones,
  };
  if (zones.length > 0 && watchedFraction(config) === 0) {
    throw new MotionConfigError([{ path: '/zones', message: 'leave no part of the picture to watch' }]);
  }
  return config;
}

function parseZone(zone: unknown, path: string, problems: MotionConfigProblem[]): MotionZone | null {
  if (!isRecord(zone)) {
    problems.push({ path, message: 'must be an object with mode and points' });
    return null;
  }
  let ok = true;
  for (const key of Object.keys(zone)) {
    if (!ZONE_KEYS.has(key)) {
      problems.push({ path: `${path}/${key}`, message: 'is not a zone setting (known: mode, points, name)' });
      ok = false;
    }
  }
  const mode = zone.mode;
  if (mode !== 'include' && mode !== 'exclude') {
    problems.push({ path: `${path}/mode`, message: 'must be "include" or "exclude"' });
    ok = false;
  }
  let name: string | undefined;
  if (zone.name !== undefined) {
    if (typeof zone.name !== 'string' || zone.name.length > MOTION_LIMITS.name.max || !TEXT.test(zone.name)) {
      problems.push({
        path: `${path}/name`,
        message: `must be text of 1–${MOTION_LIMITS.name.max} characters without control characters`,
      });
      ok = false;
    } else {
      name = zone.name.trim();
    }
  }
  const points: MotionPoint[] = [];
  const rawPoints = zone.points;
  if (!Array.isArray(rawPoints)) {
    problems.push({ path: `${path}/points`, message: 'must be a list of [x, y] points' });
    ok = false;
  } else if (rawPoints.length < MOTION_LIMITS.points.min || rawPoints.length > MOTION_LIMITS.points.max) {
    problems.push({
      path: `${path}/points`,
      message: `must have ${MOTION_LIMITS.points.min}–${MOTION_LIMITS.points.max} points (got ${rawPoints.length})`,
    });
    ok = false;
  } else {
    rawPoints.forEach((p: unknown, j: number) => {
      const inRange = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 1;
      if (!Array.isArray(p) || p.length !== 2 || !inRange(p[0]) || !inRange(p[1])) {
        problems.push({
          path: `${path}/points/${j}`,
          message: 'must be [x, y] with x and y between 0 and 1 (fractions of the picture width and height)',
        });
        ok = false;
      } else {
        points.push([p[0], p[1]]);
      }
    });
    if (ok && polygonArea(points) < 1e-6) {
      problems.push({ path: `${path}/points`, message: 'enclose no area (the points are on one line)' });
      ok = false;
    }
  }
  if (!ok || (mode !== 'include' && mode !== 'exclude')) return null;
  return name === undefined ? { mode, points } : { mode, points, name };
}

/** Height of the analysed picture: width × 9/16, rounded to an even number. */
export function analysisHeight(width: number): number {
  return Math.max(2, Math.round((width * 9) / 16 / 2) * 2);
}

/** Fraction (0..1) of the analysed picture the zones leave watched. */
export function watchedFraction(config: Pick<MotionConfig, 'width' | 'zones'>): number {
  const height = analysisHeight(config.width);
  const mask = rasterizeMask(config.zones, config.width, height);
  let n = 0;
  for (let i = 0; i < mask.length; i++) n += mask[i] as number;
  return n / mask.length;
}

export interface MotionThresholds {
  /** A pixel has changed when its grey level moved by at least this much (0..255). */
  pixelDelta: number;
  /** Motion when at least this percentage of the watched pixels changed between two frames. */
  areaPercent: number;
  /** A change of at least this percentage of the picture in one frame is light (IR switch, clouds), not motion. */
  lightingPercent: number;
}

/**
 * Sensitivity 0..100 → thresholds. 50 (default): a pixel counts when its grey level moved by ≥ 28
 * of 255 and motion needs ≥ 0.54 % of the watched picture (≈ 310 pixels of 320×180: a person a
 * few metres away). 100: 15 levels, 0.05 %; 0: 40 levels, 2 %.
 */
export function thresholdsFor(sensitivity: number): MotionThresholds {
  const s = Math.min(100, Math.max(0, sensitivity));
  const rest = (100 - s) / 100;
  return {
    pixelDelta: Math.round(40 - 0.25 * s),
    areaPercent: Math.round((0.05 + 1.95 * rest * rest) * 1000) / 1000,
    lightingPercent: 80,
  };
}

/** The settings → the file form (snake_case), every key spelled out. */
export function motionToFileForm(m: MotionConfig): Record<string, unknown> {
  return {
    enabled: m.enabled,
    fps: m.fps,
    width: m.width,
    sensitivity: m.sensitivity,
    min_duration_seconds: m.minDurationSeconds,
    end_after_seconds: m.endAfterSeconds,
    stream: m.stream,
    zones: m.zones.map((z) => ({
      mode: z.mode,
      points: z.points.map(([x, y]) => [x, y]),
      ...(z.name === undefined ? {} : { name: z.name }),
    })),
  };
}

/** API field → file key, for the store's updates. */
export const MOTION_KEYS: Readonly<Record<keyof MotionConfig, string>> = {
  enabled: 'enabled',
  fps: 'fps',
  width: 'width',
  sensitivity: 'sensitivity',
  minDurationSeconds: 'min_duration_seconds',
  endAfterSeconds: 'end_after_seconds',
  stream: 'stream',
  zones: 'zones',
};
