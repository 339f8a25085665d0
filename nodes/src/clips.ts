/**
 * Waits for clips to be saved. Camstack answers `POST …/clips` at once and writes the MP4 when
 * the clip ends; this tells its waiters as soon as that happens. Two sources, whichever is first:
 * the `clip.saved` / `clip.failed` events (one shared subscription per config node, open only
 * while someone waits), and polling `GET /api/recordings/:id` — rarely while the clip records (it
 * may be stopped early from elsewhere), every 2 s once its planned end has passed — which also
 * covers a server that does not stream clip events.
 */
import type { ClipSavedEvent } from '../../server/src/contract/index.js';
import { type CamstackClient, CamstackError, type RecordingView } from './client';
import { EventStream } from './event-stream';

interface Waiter {
  resolve: (view: RecordingView) => void;
  reject: (err: Error) => void;
}

interface Pending {
  camera: string;
  plannedEndMs: number;
  waiters: Set<Waiter>;
  timer: NodeJS.Timeout | null;
}

export interface ClipWatcherOptions {
  /** Poll interval while the clip is still recording (ms). */
  pollWhileRecordingMs?: number;
  /** Poll interval once its planned end has passed (ms). */
  pollAfterEndMs?: number;
  /** Give up this long after the planned end (ms). */
  giveUpAfterEndMs?: number;
  now?: () => number;
}

/** A `clip.saved` event's payload (`ClipSavedEvent`, read defensively) as a recording view. */
function viewFromSavedEvent(data: Partial<Record<keyof ClipSavedEvent, unknown>>): RecordingView {
  return {
    id: String(data.id),
    type: 'clip',
    camera: String(data.camera),
    start: String(data.start),
    end: String(data.end),
    durationSeconds: Number(data.durationSeconds),
    size: Number(data.size),
    protected: data.protected === true,
    inProgress: false,
    trigger: typeof data.trigger === 'string' ? data.trigger : null,
    kind: null,
    path: typeof data.path === 'string' ? data.path : null,
    url: typeof data.url === 'string' && data.url !== '' ? data.url : null,
    // Not in the event; a saved clip's expiry is in `GET api/recordings/:id`.
    expiresAt: null,
  };
}

export class ClipWatcher {
  readonly #client: CamstackClient;
  readonly #pending = new Map<string, Pending>();
  readonly #pollWhileRecordingMs: number;
  readonly #pollAfterEndMs: number;
  readonly #giveUpAfterEndMs: number;
  readonly #now: () => number;
  #events: EventStream | null = null;
  #eventsUnsupported = false;

  constructor(client: CamstackClient, opts: ClipWatcherOptions = {}) {
    this.#client = client;
    this.#pollWhileRecordingMs = opts.pollWhileRecordingMs ?? 15_000;
    this.#pollAfterEndMs = opts.pollAfterEndMs ?? 2_000;
    this.#giveUpAfterEndMs = opts.giveUpAfterEndMs ?? 180_000;
    this.#now = opts.now ?? Date.now;
  }

  /** Clips being waited for (for status texts and tests). */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /**
   * Resolves with the saved clip; rejects when Camstack reports it failed, forgets it, or it is
   * not saved within a few minutes of its planned end, or when `signal` aborts.
   */
  wait(clip: RecordingView, signal?: AbortSignal): Promise<RecordingView> {
    return new Promise<RecordingView>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      if (!clip.inProgress && clip.path) {
        resolve(clip);
        return;
      }
      let pending = this.#pending.get(clip.id);
      if (!pending) {
        const end = Date.parse(clip.end);
        pending = {
          camera: clip.camera,
          plannedEndMs: Number.isFinite(end) ? end : this.#now(),
          waiters: new Set(),
          timer: null,
        };
        this.#pending.set(clip.id, pending);
        this.#schedule(clip.id, pending);
      } else {
        pending.plannedEndMs = Math.max(pending.plannedEndMs, Date.parse(clip.end) || 0);
      }
      const entry = pending;
      const waiter: Waiter = {
        resolve: (view) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(view);
        },
        reject: (err) => {
          signal?.removeEventListener('abort', onAbort);
          reject(err);
        },
      };
      const onAbort = () => {
        entry.waiters.delete(waiter);
        if (entry.waiters.size === 0) this.#forget(clip.id);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      entry.waiters.add(waiter);
      this.#ensureEvents();
    });
  }

  /** A saved clip learnt another way (the answer to a stop): its waiters get it now. */
  saved(view: RecordingView): void {
    this.#settle(view.id, (w) => w.resolve(view));
  }

  /** Rejects every waiter and closes the subscription. */
  async close(): Promise<void> {
    const err = new CamstackError('the Camstack connection was closed before the clip was saved', { code: 'closed' });
    for (const id of [...this.#pending.keys()]) this.#settle(id, (w) => w.reject(err));
    await this.#stopEvents();
  }

  #settle(id: string, fn: (w: Waiter) => void): void {
    const pending = this.#pending.get(id);
    if (!pending) return;
    this.#forget(id);
    for (const w of pending.waiters) fn(w);
  }

  #forget(id: string): void {
    const pending = this.#pending.get(id);
    if (!pending) return;
    if (pending.timer) clearTimeout(pending.timer);
    pending.timer = null;
    this.#pending.delete(id);
    if (this.#pending.size === 0) void this.#stopEvents();
  }

  #schedule(id: string, pending: Pending): void {
    if (pending.timer) clearTimeout(pending.timer);
    const now = this.#now();
    const untilEnd = pending.plannedEndMs - now;
    const delay =
      untilEnd > 0 ? Math.min(this.#pollWhileRecordingMs, untilEnd + this.#pollAfterEndMs) : this.#pollAfterEndMs;
    pending.timer = setTimeout(() => void this.#poll(id, pending), delay);
  }

  async #poll(id: string, pending: Pending): Promise<void> {
    pending.timer = null;
    if (this.#pending.get(id) !== pending) return;
    try {
      const view = await this.#client.recording(id);
      if (this.#pending.get(id) !== pending) return;
      if (!view.inProgress && view.path) {
        this.saved(view);
        return;
      }
      pending.plannedEndMs = Math.max(pending.plannedEndMs, Date.parse(view.end) || 0);
    } catch (err) {
      if (this.#pending.get(id) !== pending) return;
      if (err instanceof CamstackError && err.status === 404) {
        this.#settle(id, (w) =>
          w.reject(
            new CamstackError(
              `clip ${id} of camera "${pending.camera}" was not saved: Camstack dropped it (nothing was recorded?)`,
              { code: 'clip_failed', status: 404 },
            ),
          ),
        );
        return;
      }
      if (err instanceof CamstackError && err.code === 'closed') return;
      // Anything else (Camstack restarting, a network blip): keep trying until the deadline.
    }
    if (this.#now() > pending.plannedEndMs + this.#giveUpAfterEndMs) {
      this.#settle(id, (w) =>
        w.reject(
          new CamstackError(
            `clip ${id} of camera "${pending.camera}" was not saved within ${Math.round(this.#giveUpAfterEndMs / 1000)} s of its end`,
            { code: 'clip_timeout' },
          ),
        ),
      );
      return;
    }
    this.#schedule(id, pending);
  }

  #ensureEvents(): void {
    if (this.#events || this.#eventsUnsupported || this.#client.closed) return;
    const events = new EventStream({
      client: this.#client,
      types: ['clip.saved', 'clip.failed'],
      onEvent: (ev) => {
        const data = (typeof ev.data === 'object' && ev.data !== null ? ev.data : {}) as Record<string, unknown>;
        const id = typeof data.id === 'string' ? data.id : '';
        if (!this.#pending.has(id)) return;
        if (ev.type === 'clip.saved') this.saved(viewFromSavedEvent(data));
        else if (ev.type === 'clip.failed') {
          const camera = String(data.camera ?? this.#pending.get(id)?.camera ?? '');
          const reason = typeof data.reason === 'string' ? data.reason : 'unknown reason';
          this.#settle(id, (w) =>
            w.reject(
              new CamstackError(`clip ${id} of camera "${camera}" was not saved: ${reason}`, { code: 'clip_failed' }),
            ),
          );
        }
      },
      onState: (s) => {
        // A server without clip events answers 400: polling alone does the job then.
        if (s.state === 'failed') this.#eventsUnsupported = true;
      },
    });
    this.#events = events;
    events.start();
  }

  async #stopEvents(): Promise<void> {
    const events = this.#events;
    this.#events = null;
    await events?.stop();
  }
}
