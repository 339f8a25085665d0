/**
 * Pure: what a camera event does. Per camera, a rule says which event types record a clip (with
 * pre-roll and post-roll; events that overlap, or follow within the post-roll, extend the same
 * clip), how long after a clip a new one may start (cooldown), and which types notify.
 */
import type { DetectionType } from '../contract/index.js';

export const DETECTION_TYPES: readonly DetectionType[] = [
  'motion',
  'person',
  'vehicle',
  'animal',
  'line_crossing',
  'intrusion',
  'tamper',
  'digital_input',
];

export interface EventRules {
  /** Event types that record a clip. */
  record: readonly DetectionType[];
  /** Seconds before the event's start in its clip; null: the camera's pre-roll setting. */
  preRollSeconds: number | null;
  /** Seconds after the event's end before its clip ends; an event within them extends the clip. */
  postRollSeconds: number;
  /** Seconds after an event's clip ends before another event may start a new clip. */
  cooldownSeconds: number;
  /** Event types that send a notification (to the Home Assistant notify services configured). */
  notify: readonly DetectionType[];
  /** Seconds between two notifications of the same camera. */
  notifyCooldownSeconds: number;
}

export const DEFAULT_EVENT_RULES: Readonly<EventRules> = Object.freeze({
  record: DETECTION_TYPES.filter((t) => t !== 'tamper'),
  preRollSeconds: null,
  postRollSeconds: 10,
  cooldownSeconds: 0,
  notify: [] as DetectionType[],
  notifyCooldownSeconds: 60,
});

/**
 * A camera's rules: the defaults, with the camera's own pre-roll. (Per-camera rules in the
 * cameras file and the options come with the camera's `events` settings.)
 */
export function eventRules(_camera: { id: string }): EventRules {
  return DEFAULT_EVENT_RULES;
}

/** What the camera's clip is doing, as far as the rules care. */
export interface ClipState {
  /** An event clip of this camera is open (recording). */
  open: boolean;
  /** When the last event clip of this camera ended (planned end), or null. */
  lastEndMs: number | null;
}

export type ClipDecision =
  | { action: 'none'; reason: 'not recorded' | 'cooldown' }
  | { action: 'clip'; preRollSeconds: number | null; durationSeconds: number };

/**
 * An event started, or one that lasts is kept alive: record (or extend) a clip that runs
 * `postRollSeconds` past now, unless the type is not recorded or the cooldown holds.
 */
export function clipOnEvent(rules: EventRules, type: DetectionType, clip: ClipState, nowMs: number): ClipDecision {
  if (!rules.record.includes(type)) return { action: 'none', reason: 'not recorded' };
  if (!clip.open && clip.lastEndMs !== null && nowMs < clip.lastEndMs + rules.cooldownSeconds * 1000) {
    return { action: 'none', reason: 'cooldown' };
  }
  return {
    action: 'clip',
    preRollSeconds: clip.open ? 0 : rules.preRollSeconds,
    durationSeconds: Math.max(1, rules.postRollSeconds),
  };
}

/** Whether an event notifies: its type is chosen, and the camera's last notification is old enough. */
export function notifyOnEvent(
  rules: EventRules,
  type: DetectionType,
  lastNotifiedMs: number | null,
  nowMs: number,
): boolean {
  if (!rules.notify.includes(type)) return false;
  return lastNotifiedMs === null || nowMs >= lastNotifiedMs + rules.notifyCooldownSeconds * 1000;
}

/** How often a lasting event keeps its clip open (well inside the post-roll). */
export function keepAliveMs(rules: EventRules): number {
  return Math.max(1000, Math.min(5000, (rules.postRollSeconds * 1000) / 2));
}
