/**
 * The panel's shared state: cameras, their runtime status and the engines' health, loaded once
 * and then kept current by Server-Sent Events (`api/events`): states, viewers, cameras added or
 * removed elsewhere, recordings and clips appear without a reload. Components subscribe with
 * {@link StoreController}.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { type ApiEvents, type EventType, RECORDING_EVENTS } from '../../server/src/contract/index.js';
import { api, apiUrl, type CameraStatus, type CameraView, type Health } from './api.js';

/** Events the panel listens to; the recording ones are dropped for a server that does not stream them. */
const BASE_TYPES: readonly EventType[] = [
  'camera.added',
  'camera.updated',
  'camera.removed',
  'camera.status',
  'process.state',
];

export interface RecordingEvent {
  type: string;
  camera: string;
  id?: string;
  reason?: string;
}

export class Store extends EventTarget {
  cameras: CameraView[] = [];
  status = new Map<string, CameraStatus>();
  health: Health | null = null;
  loaded = false;
  loadError: string | null = null;
  /** SSE connected (false while reconnecting). */
  live = false;
  /** Bumped on every recording/clip event, so views showing recordings refetch. */
  recordingsVersion = 0;
  lastRecordingEvent: RecordingEvent | null = null;

  #source: EventSource | null = null;
  #users = 0;
  #types: EventType[] = [...BASE_TYPES, ...RECORDING_EVENTS, 'camera.event'];
  #everOpened = false;
  #everLive = false;
  #negotiated = false;
  #retry: ReturnType<typeof setTimeout> | null = null;

  camera(id: string): CameraView | undefined {
    return this.cameras.find((c) => c.id === id);
  }

  #changed(what: string): void {
    this.dispatchEvent(new CustomEvent('change', { detail: what }));
  }

  async load(): Promise<void> {
    try {
      const [overview, health] = await Promise.all([api.overview(), api.health()]);
      this.cameras = overview.cameras.map((c) => c.camera);
      for (const c of overview.cameras) this.status.set(c.camera.id, c.status);
      this.health = health;
      this.loadError = null;
    } catch (err) {
      this.loadError = err instanceof Error ? err.message : String(err);
    }
    this.loaded = true;
    this.#changed('load');
  }

  async refreshHealth(): Promise<void> {
    try {
      this.health = await api.health();
      this.#changed('health');
    } catch {
      // the SSE connection state says enough
    }
  }

  /** Starts loading and listening (counted: the last `release` stops). */
  acquire(): () => void {
    this.#users++;
    if (this.#users === 1) {
      void this.load();
      this.#connect();
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#users--;
      if (this.#users === 0) this.#disconnect();
    };
  }

  /**
   * The event types this server streams, from the wanted ones: a server that does not know one
   * answers 400 naming those it knows (`… (known: a, b, c)`). Asked once, with a request that is
   * dropped as soon as its headers arrive.
   */
  async #negotiateTypes(): Promise<void> {
    if (this.#negotiated) return;
    const ctrl = new AbortController();
    try {
      const res = await fetch(apiUrl(`api/events?types=${this.#types.join(',')}`), { signal: ctrl.signal });
      if (res.status === 400) {
        const body = (await res.json()) as { message?: string };
        const known = /\(known: ([^)]*)\)/.exec(body.message ?? '')?.[1]?.split(/,\s*/) ?? BASE_TYPES;
        this.#types = this.#types.filter((t) => known.includes(t));
      }
      this.#negotiated = true;
    } catch {
      // unreachable now: EventSource retries, with the full list
    } finally {
      ctrl.abort();
    }
  }

  #connect(): void {
    void this.#negotiateTypes().then(() => {
      if (this.#users > 0 && !this.#source) this.#open();
    });
  }

  #open(): void {
    const source = new EventSource(apiUrl(`api/events?types=${this.#types.join(',')}`));
    this.#source = source;
    source.onopen = () => {
      this.#everOpened = true;
      const reconnected = this.#everLive && !this.live;
      this.#everLive = true;
      this.live = true;
      // Reconnected after a break: catch up on what was missed.
      if (reconnected) void this.load();
      this.#changed('live');
    };
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) {
        // A refusal (400: this server streams no recording events yet) or a hard failure.
        source.close();
        if (this.#source !== source) return;
        this.#source = null;
        if (!this.#everOpened && this.#types.length > BASE_TYPES.length) this.#types = [...BASE_TYPES];
        this.#retry = setTimeout(() => this.#open(), this.#everOpened ? 3000 : 500);
      }
      if (this.live) {
        this.live = false;
        this.#changed('live');
      }
    };
    const on = <K extends EventType>(type: K, fn: (data: ApiEvents[K]) => void) =>
      source.addEventListener(type, (ev) => {
        try {
          fn(JSON.parse((ev as MessageEvent<string>).data) as ApiEvents[K]);
        } catch {
          // a malformed event is skipped
        }
      });
    on('camera.status', (s) => {
      this.status.set(s.id, s);
      this.#changed('status');
    });
    const upsert = (camera: CameraView) => {
      const i = this.cameras.findIndex((c) => c.id === camera.id);
      if (i === -1) this.cameras = [...this.cameras, camera];
      else this.cameras = this.cameras.map((c) => (c.id === camera.id ? camera : c));
      this.#changed('cameras');
    };
    on('camera.added', (d) => upsert(d.camera));
    on('camera.updated', (d) => upsert(d.camera));
    on('camera.removed', (d) => {
      const id = d.camera.id;
      this.cameras = this.cameras.filter((c) => c.id !== id);
      this.status.delete(id);
      this.#changed('cameras');
    });
    on('process.state', (e) => {
      if (!this.health || (e.name !== 'go2rtc' && e.name !== 'mediamtx')) return;
      this.health = {
        ...this.health,
        engines: {
          ...this.health.engines,
          [e.name]: { state: e.state, pid: e.pid, restarts: e.restarts, lastError: e.lastError },
        },
      };
      this.#changed('health');
      // The reasons text is the server's: fetch it again.
      void this.refreshHealth();
    });
    for (const type of [...RECORDING_EVENTS, 'camera.event' as const]) {
      on(type, (d) => {
        const e = d as { camera?: string; id?: string; reason?: string };
        this.recordingsVersion++;
        this.lastRecordingEvent = {
          type,
          camera: e.camera ?? '',
          ...(e.id !== undefined ? { id: e.id } : {}),
          ...(e.reason !== undefined ? { reason: e.reason } : {}),
        };
        this.#changed('recordings');
      });
    }
  }

  #disconnect(): void {
    if (this.#retry) clearTimeout(this.#retry);
    this.#retry = null;
    this.#source?.close();
    this.#source = null;
    this.live = false;
  }
}

export const store = new Store();

/** Re-renders its host whenever the store changes, while the host is connected. */
export class StoreController implements ReactiveController {
  readonly #host: ReactiveControllerHost;
  #release: (() => void) | null = null;
  readonly #onChange = () => this.#host.requestUpdate();

  constructor(host: ReactiveControllerHost) {
    this.#host = host;
    host.addController(this);
  }

  hostConnected(): void {
    store.addEventListener('change', this.#onChange);
    this.#release = store.acquire();
  }

  hostDisconnected(): void {
    store.removeEventListener('change', this.#onChange);
    this.#release?.();
    this.#release = null;
  }
}
