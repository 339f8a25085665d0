/**
 * Pure: what a camera event does, by the camera's `events` settings: which types record a clip
 * (with pre-roll and post-roll; events that overlap, or follow within the post-roll, extend the
 * same clip), how long after a clip a new one may start (cooldown), and which types notify.
 */
import { DETECTION_TYPES } from '../config/events-config.js';
import type { DetectionType, EventSettings } from '../contract/index.js';

export { DETECTION_TYPES };

/** A camera's rules are its `events` settings. */
export type EventRules = EventSettings;

/** A camera's rules: its `events` settings (defaults in config/events-config.ts). */
export function eventRules(camera: { events: EventSettings }): EventRules {
  return camera.events;
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
