/**
 * What one connection of `<camstack-player>` owns: a {@link Session} that closes everything its
 * transports opened, and the {@link Failure} a transport throws to say why it could not play.
 */

/** Why a transport could not play; `kind` decides what the player does next. */
export class Failure extends Error {
  constructor(
    message: string,
    /**
     * `server`: go2rtc is down (the fallback is upgraded once it runs again); `browser`: this
     * browser cannot do the mode at all (skipped for the rest of the page); `codec`: this browser
     * cannot play this camera's codec that way (skipped for this camera); `other`: try again later.
     */
    readonly kind: 'server' | 'browser' | 'codec' | 'other' = 'other',
  ) {
    super(message);
  }
}

/** Everything one connection opened; `close()` releases it all, once. */
export class Session {
  closed = false;
  readonly abort = new AbortController();
  readonly #disposers: (() => void)[] = [];
  readonly startedAt = performance.now();

  add(dispose: () => void): void {
    if (this.closed) {
      dispose();
      return;
    }
    this.#disposers.push(dispose);
  }

  timeout(fn: () => void, ms: number): void {
    const t = setTimeout(fn, ms);
    this.add(() => clearTimeout(t));
  }

  /** Resolves with `p`, or rejects after `ms` (or when the session closes). */
  within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const t = setTimeout(() => reject(new Failure(`timed out waiting for ${what}`)), ms);
      const onAbort = () => reject(new Failure('stopped'));
      this.abort.signal.addEventListener('abort', onAbort, { once: true });
      p.then(
        (v) => {
          clearTimeout(t);
          this.abort.signal.removeEventListener('abort', onAbort);
          resolve(v);
        },
        (e: unknown) => {
          clearTimeout(t);
          this.abort.signal.removeEventListener('abort', onAbort);
          reject(e);
        },
      );
    });
  }

  /** Releases what the attempts so far opened (the session stays usable for the next mode). */
  release(): void {
    for (const d of this.#disposers.splice(0).reverse()) {
      try {
        d();
      } catch {
        // releasing must go on
      }
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.abort.abort();
    this.release();
  }
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function waitEvent(target: EventTarget, type: string): Promise<Event> {
  return new Promise((resolve) => target.addEventListener(type, resolve, { once: true }));
}

/**
 * A promise that a transport rejects when its stream fails before it plays (socket closed, image
 * error), to race against what it waits for. Its rejection is handled, so an unused one is quiet.
 */
export function failureSignal(): { promise: Promise<never>; fail: (e: Failure) => void } {
  let fail: (e: Failure) => void = () => {};
  const promise = new Promise<never>((_, reject) => {
    fail = reject;
  });
  promise.catch(() => {});
  return { promise, fail };
}
