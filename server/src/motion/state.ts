/**
 * PURE: turns per-frame scores into motion events. A frame "moves" when its score reaches the
 * area threshold (and is below the lighting threshold: a whole-picture change is light, not
 * motion). An event starts once frames have kept moving for `minDurationMs` (with at most
 * `maxGapMs` between two moving frames, so one dropped frame does not cancel it, and a lone
 * flicker never lasts long enough), and ends after `endAfterMs` without a moving frame.
 */
import type { MotionThresholds } from '../config/motion.js';

export interface MotionTiming {
  /** Motion must last this long (first to latest moving frame) before the event starts. */
  minDurationMs: number;
  /** The event ends after this long without a moving frame. */
  endAfterMs: number;
  /** While an event is pending, a pause longer than this between moving frames cancels it. */
  maxGapMs: number;
}

export interface MotionTransition {
  state: 'start' | 'end';
  /** start: time of the first moving frame of the event; end: time of the last one (ms since the epoch). */
  atMs: number;
  /** The highest score (percentage of watched pixels changed) of the event so far. */
  peakScore: number;
}

/** Whether a frame's score counts as motion. */
export function isMoving(score: number | null, thresholds: Pick<MotionThresholds, 'areaPercent' | 'lightingPercent'>) {
  return score !== null && score >= thresholds.areaPercent && score < thresholds.lightingPercent;
}

/** The timing a detector at `fps` uses for a config's durations. */
export function timingFor(fps: number, minDurationSeconds: number, endAfterSeconds: number): MotionTiming {
  const frameMs = 1000 / fps;
  return {
    minDurationMs: minDurationSeconds * 1000,
    endAfterMs: endAfterSeconds * 1000,
    // One frame may go missing (or not quite reach the threshold) without cancelling a pending start.
    maxGapMs: Math.max(500, Math.round(2.5 * frameMs)),
  };
}

type Phase =
  | { kind: 'idle' }
  | { kind: 'pending'; since: number; last: number; peak: number; moving: number }
  | { kind: 'active'; since: number; last: number; peak: number };

export class MotionStateMachine {
  readonly #timing: MotionTiming;
  #phase: Phase = { kind: 'idle' };

  constructor(timing: MotionTiming) {
    this.#timing = timing;
  }

  /** True between a start and its end. */
  get active(): boolean {
    return this.#phase.kind === 'active';
  }

  /** One analysed frame at `atMs`. Returns the transition it causes, if any. */
  sample(moving: boolean, score: number, atMs: number): MotionTransition | null {
    const p = this.#phase;
    const t = this.#timing;
    if (moving) {
      if (p.kind === 'idle') {
        this.#phase = { kind: 'pending', since: atMs, last: atMs, peak: score, moving: 1 };
        return this.#maybeStart();
      }
      if (p.kind === 'pending' && atMs - p.last > t.maxGapMs) {
        this.#phase = { kind: 'pending', since: atMs, last: atMs, peak: score, moving: 1 };
        return this.#maybeStart();
      }
      p.last = atMs;
      p.peak = Math.max(p.peak, score);
      if (p.kind === 'pending') {
        p.moving++;
        return this.#maybeStart();
      }
      return null;
    }
    return this.tick(atMs);
  }

  /** Time passing without frames (or with quiet ones): ends an event, or cancels a stale pending one. */
  tick(nowMs: number): MotionTransition | null {
    const p = this.#phase;
    if (p.kind === 'pending' && nowMs - p.last > this.#timing.maxGapMs) {
      this.#phase = { kind: 'idle' };
    } else if (p.kind === 'active' && nowMs - p.last >= this.#timing.endAfterMs) {
      this.#phase = { kind: 'idle' };
      return { state: 'end', atMs: p.last, peakScore: p.peak };
    }
    return null;
  }

  /** Ends an event at once (the detector stops or is reconfigured); null when none is active. */
  finish(): MotionTransition | null {
    const p = this.#phase;
    this.#phase = { kind: 'idle' };
    return p.kind === 'active' ? { state: 'end', atMs: p.last, peakScore: p.peak } : null;
  }

  #maybeStart(): MotionTransition | null {
    const p = this.#phase;
    // At least two moving frames (one changed frame is a flicker, whatever the minimum duration).
    if (p.kind !== 'pending' || p.moving < 2 || p.last - p.since < this.#timing.minDurationMs) return null;
    this.#phase = { kind: 'active', since: p.since, last: p.last, peak: p.peak };
    return { state: 'start', atMs: p.since, peakScore: p.peak };
  }
}
