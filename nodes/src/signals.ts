/**
 * Abort plumbing that also runs on Node 18 (no `AbortSignal.any` before Node 20.3): one signal
 * that fires when any of several does, with the listeners removed afterwards so nothing leaks.
 */

export interface LinkedSignal {
  signal: AbortSignal;
  /** Removes the listeners and clears the timer; call it when the operation is over. */
  dispose: () => void;
}

/** Thrown (as the abort reason) when a request takes longer than its timeout. */
export class TimeoutError extends Error {
  constructor(ms: number) {
    super(`no answer within ${Math.round(ms / 100) / 10} s`);
    this.name = 'TimeoutError';
  }
}

export function linkSignals(signals: (AbortSignal | undefined)[], timeoutMs?: number): LinkedSignal {
  const ctrl = new AbortController();
  const offs: (() => void)[] = [];
  for (const s of signals) {
    if (!s) continue;
    if (s.aborted) {
      ctrl.abort(s.reason);
      break;
    }
    const onAbort = () => ctrl.abort(s.reason);
    s.addEventListener('abort', onAbort, { once: true });
    offs.push(() => s.removeEventListener('abort', onAbort));
  }
  let timer: NodeJS.Timeout | null = null;
  if (timeoutMs !== undefined && !ctrl.signal.aborted) {
    timer = setTimeout(() => ctrl.abort(new TimeoutError(timeoutMs)), timeoutMs);
  }
  return {
    signal: ctrl.signal,
    dispose: () => {
      if (timer) clearTimeout(timer);
      timer = null;
      for (const off of offs.splice(0)) off();
    },
  };
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Exponential backoff with ±20 % jitter: 1, 2, 4, 8 … seconds up to `maxMs`. */
export function backoffDelay(attempt: number, initialMs = 1000, maxMs = 30_000, random = Math.random): number {
  const base = Math.min(maxMs, initialMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.8 + 0.4 * random()));
}
