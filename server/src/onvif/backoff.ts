// Retry delays: exponential from `initialMs` to `maxMs`, with jitter so cameras restarted together
// are not asked together. Pure.
export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 2_000, maxMs: 60_000 };

/** The delay before attempt `failures` + 1 (failures ≥ 1): between half and all of the capped exponential. */
export function backoffDelay(failures: number, policy: BackoffPolicy = DEFAULT_BACKOFF, random = Math.random): number {
  const n = Math.max(1, Math.floor(failures));
  const capped = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(n - 1, 30));
  return Math.round(capped / 2 + (capped / 2) * Math.min(1, Math.max(0, random())));
}
