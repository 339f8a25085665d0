import { EventEmitter } from 'node:events';
import type { CameraStatus } from '../cameras/status.js';
import type { Camera } from '../config/load.js';
import type { MetricsSnapshot } from '../metrics/types.js';
import type {
  ClipFailedEvent,
  ClipSavedEvent,
  ClipStartedEvent,
  RecordingDeletedEvent,
  RecordingExpiringEvent,
  RecordingSegmentEvent,
} from '../recordings/types.js';

/** Lifecycle states of a supervised process (go2rtc, MediaMTX, every FFmpeg job). */
export type ProcessState = 'starting' | 'running' | 'backoff' | 'failed' | 'stopping' | 'stopped';

export interface ProcessStateEvent {
  /** Supervisor name, e.g. "go2rtc", "mediamtx", "ffmpeg:front_door:clip". */
  name: string;
  state: ProcessState;
  previous: ProcessState;
  pid: number | null;
  restarts: number;
  /** Human-readable reason for backoff/failed (redacted; includes the last stderr lines). */
  lastError: string | null;
  at: string;
}

/**
 * Every event Camstack publishes, by name. One typed bus; MQTT, SSE and the HA websocket
 * subscribe to it rather than to the modules that produce the facts.
 */
export interface CamstackEvents {
  'process.state': ProcessStateEvent;
  /** A camera was created (API or start-up), after it was persisted. */
  'camera.added': { camera: Camera };
  /** A camera's configuration changed, after it was persisted. */
  'camera.updated': { camera: Camera; previous: Camera };
  'camera.removed': { camera: Camera };
  /** A camera's runtime status changed (state, viewers, lastError…); rate-limited for metrics fields. */
  'camera.status': { status: CameraStatus; previous: CameraStatus | null };
  /** A metrics sample (process CPU/memory/fds, FFmpeg progress, system load), while someone listens. */
  'metrics.tick': MetricsSnapshot;
  /** A snapshot was written under the media dir (API, MQTT, Node-RED, automations). */
  'snapshot.saved': {
    camera: string;
    /** Absolute path of the JPEG. */
    path: string;
    /** Path relative to the media dir: `<id>/snapshots/<id>_<YYYYMMDD-HHMMSS-mmm>.jpg`. */
    relativePath: string;
    /** ISO 8601 time the frame was taken. */
    takenAt: string;
    /** Who asked: `api`, `mqtt`, `node-red`… */
    trigger: string;
  };
  /** A recorded segment was completed (or recovered after a crash) and indexed. */
  'recording.segment': RecordingSegmentEvent;
  /** A clip started recording (API, MQTT, Node-RED…); includes its pre-roll. */
  'clip.started': ClipStartedEvent;
  /** A clip's MP4 file is complete, indexed and playable (path and API URL). */
  'clip.saved': ClipSavedEvent;
  /** A clip could not be saved (no recording for its span, engine down…). */
  'clip.failed': ClipFailedEvent;
  /** A recording was deleted (retention, storage cap, pre-roll buffer, a user, or found missing). */
  'recording.deleted': RecordingDeletedEvent;
  /** A recording will be deleted by retention within a day; fired once per recording. */
  'recording.expiring': RecordingExpiringEvent;
}

export type EventName = keyof CamstackEvents;

/** A small typed wrapper around EventEmitter. Listeners that throw do not break the emitter. */
export class EventBus {
  readonly #emitter = new EventEmitter();

  constructor() {
    this.#emitter.setMaxListeners(100);
  }

  emit<K extends EventName>(name: K, payload: CamstackEvents[K]): void {
    for (const listener of this.#emitter.listeners(name)) {
      try {
        (listener as (p: CamstackEvents[K]) => void)(payload);
      } catch (err) {
        this.#emitter.emit('listener-error', { name, err });
      }
    }
  }

  on<K extends EventName>(name: K, listener: (payload: CamstackEvents[K]) => void): () => void {
    this.#emitter.on(name, listener);
    return () => this.#emitter.off(name, listener);
  }

  /** Resolves with the first payload that matches, or rejects after timeoutMs. */
  waitFor<K extends EventName>(
    name: K,
    predicate: (payload: CamstackEvents[K]) => boolean,
    timeoutMs: number,
  ): Promise<CamstackEvents[K]> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${name}`));
      }, timeoutMs);
      const off = this.on(name, (payload) => {
        if (!predicate(payload)) return;
        clearTimeout(timer);
        off();
        resolve(payload);
      });
    });
  }
}
