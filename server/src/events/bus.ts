import type { Camera } from '../config/load.js';
import type { ApiEvents, CameraStatus, EventType } from '../contract/index.js';

export type {
  ClipFailedEvent,
  ClipSavedEvent,
  ClipStartedEvent,
  ProcessState,
  ProcessStateEvent,
  RecordingDeletedEvent,
  RecordingExpiringEvent,
  RecordingSegmentEvent,
} from '../contract/index.js';

/**
 * Every event Camstack publishes, by name: the streamed events of the contract, except that the
 * camera events carry the stored camera (with its credentials: the SSE stream sends the public
 * view) and the status event its previous value. One typed bus; MQTT, SSE and the HA websocket
 * subscribe to it rather than to the modules that produce the facts.
 */
export interface CamstackEvents
  extends Omit<ApiEvents, 'camera.added' | 'camera.updated' | 'camera.removed' | 'camera.status'> {
  /** A camera was created (API or start-up), after it was persisted. */
  'camera.added': { camera: Camera };
  /** A camera's configuration changed, after it was persisted. */
  'camera.updated': { camera: Camera; previous: Camera };
  'camera.removed': { camera: Camera };
  /** A camera's runtime status changed (state, viewers, lastError…); rate-limited for metrics fields. */
  'camera.status': { status: CameraStatus; previous: CameraStatus | null };
}

export type EventName = keyof CamstackEvents;

// The bus and the stream have the same event names: one added on one side only does not build.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameNames: Same<EventName, EventType> = true;
void sameNames;

/** Who registered a listener, which event it heard, and what it threw or rejected with. */
export interface ListenerError {
  owner: string;
  event: EventName;
  err: unknown;
}

export interface EventBusOptions {
  /**
   * Told about every error a listener throws or its promise rejects with, once each. Default:
   * a line on stderr. The emitter and the other listeners carry on either way.
   */
  onListenerError?: (e: ListenerError) => void;
}

type Listener = (payload: never) => unknown;

/**
 * The typed bus. Every listener is registered under an owner (the module that listens), so an
 * error names `owner/event`, and `removeListeners(owner)` drops everything a module registered.
 * A listener that throws, or returns a promise that rejects, never breaks the emitter, the other
 * listeners or the process.
 */
export class EventBus {
  readonly #listeners = new Map<EventName, { owner: string; fn: Listener }[]>();
  readonly #onError: (e: ListenerError) => void;

  constructor(options: EventBusOptions = {}) {
    this.#onError =
      options.onListenerError ??
      ((e) => process.stderr.write(`event listener ${e.owner}/${e.event} failed: ${describe(e.err)}\n`));
  }

  emit<K extends EventName>(name: K, payload: CamstackEvents[K]): void {
    const list = this.#listeners.get(name);
    if (!list) return;
    // A copy: listeners may add or remove listeners while this emit runs.
    for (const { owner, fn } of [...list]) {
      try {
        const result = (fn as (p: CamstackEvents[K]) => unknown)(payload);
        if (isPromiseLike(result)) result.then(undefined, (err: unknown) => this.#report(owner, name, err));
      } catch (err) {
        this.#report(owner, name, err);
      }
    }
  }

  /** Registers a listener for `owner` (e.g. "mqtt"); returns a function that removes it. */
  on<K extends EventName>(name: K, listener: (payload: CamstackEvents[K]) => unknown, owner: string): () => void {
    const entry = { owner, fn: listener as Listener };
    const list = this.#listeners.get(name) ?? [];
    list.push(entry);
    this.#listeners.set(name, list);
    return () => {
      const current = this.#listeners.get(name);
      const i = current?.indexOf(entry) ?? -1;
      if (current && i >= 0) current.splice(i, 1);
    };
  }

  /** Removes every listener `owner` registered. */
  removeListeners(owner: string): void {
    for (const [name, list] of this.#listeners) {
      this.#listeners.set(
        name,
        list.filter((l) => l.owner !== owner),
      );
    }
  }

  /** How many listeners are registered (for one event, or all). */
  listenerCount(name?: EventName): number {
    if (name) return this.#listeners.get(name)?.length ?? 0;
    let n = 0;
    for (const list of this.#listeners.values()) n += list.length;
    return n;
  }

  /** Resolves with the first payload that matches, or rejects after timeoutMs. */
  waitFor<K extends EventName>(
    name: K,
    predicate: (payload: CamstackEvents[K]) => boolean,
    timeoutMs: number,
    owner = 'waitFor',
  ): Promise<CamstackEvents[K]> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${name}`));
      }, timeoutMs);
      const off = this.on(
        name,
        (payload) => {
          if (!predicate(payload)) return;
          clearTimeout(timer);
          off();
          resolve(payload);
        },
        owner,
      );
    });
  }

  #report(owner: string, event: EventName, err: unknown): void {
    try {
      this.#onError({ owner, event, err });
    } catch {
      // the error reporter itself failed: nothing more to do without risking a loop
    }
  }
}

function isPromiseLike(v: unknown): v is PromiseLike<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

function describe(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}
