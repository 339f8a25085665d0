/**
 * When to restart a crashed process, and when to give up. Pure: every method takes `now` (ms) explicitly.
 */

export interface RestartPolicyOptions {
  /** Delay before the first restart in the window. Default 1000 ms. */
  baseDelayMs?: number;
  /** Upper bound of the exponential delay. Default 30000 ms. */
  maxDelayMs?: number;
  /** Restarts allowed within `windowMs`; one more means failure. Default 5. */
  maxRestarts?: number;
  /** Sliding window over which restarts are counted. Default 600000 ms (10 min). */
  windowMs?: number;
}

export type RestartDecision = { action: 'restart'; delayMs: number } | { action: 'fail'; reason: string };

function checkNonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`${name} must be a finite number >= 0, got ${value}`);
  return value;
}

export class RestartPolicy {
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly maxRestarts: number;
  readonly windowMs: number;
  /** Timestamps of the restarts granted. */
  #history: number[] = [];

  constructor(options: RestartPolicyOptions = {}) {
    this.baseDelayMs = checkNonNegative('baseDelayMs', options.baseDelayMs ?? 1000);
    this.maxDelayMs = checkNonNegative('maxDelayMs', options.maxDelayMs ?? 30_000);
    this.maxRestarts = Math.floor(checkNonNegative('maxRestarts', options.maxRestarts ?? 5));
    this.windowMs = checkNonNegative('windowMs', options.windowMs ?? 600_000);
  }

  /**
   * Called when the process died (or was killed as unhealthy/stuck). With n restarts already granted
   * within the window: n < maxRestarts → restart after min(base·2ⁿ, maxDelay); otherwise → fail.
   * A granted restart is recorded at `now`.
   */
  next(now: number): RestartDecision {
    const n = this.restartsInWindow(now);
    if (n >= this.maxRestarts) {
      return {
        action: 'fail',
        reason: `failed ${n + 1} times within ${formatDuration(this.windowMs)} (limit: ${this.maxRestarts} restarts)`,
      };
    }
    this.#history.push(now);
    const delayMs = Math.min(this.baseDelayMs * 2 ** n, this.maxDelayMs);
    return { action: 'restart', delayMs };
  }

  /** Forget every recorded restart (manual restart, explicit start). */
  reset(): void {
    this.#history = [];
  }

  /** Restarts granted within (now - windowMs, now]. */
  restartsInWindow(now: number): number {
    const cutoff = now - this.windowMs;
    if (this.#history.some((t) => t <= cutoff)) this.#history = this.#history.filter((t) => t > cutoff);
    return this.#history.length;
  }
}

function formatDuration(ms: number): string {
  if (ms % 60_000 === 0 && ms >= 60_000) return `${ms / 60_000} min`;
  if (ms % 1000 === 0 && ms >= 1000) return `${ms / 1000} s`;
  return `${ms} ms`;
}
