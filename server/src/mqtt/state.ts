/**
 * State payloads (pure): one retained JSON document per camera and one for the hub; the
 * discovery configs pick fields out of them with `value_template`. `null` renders as `None`,
 * which Home Assistant's MQTT sensors read as "unknown".
 */
import type { CameraStatus } from '../cameras/status.js';
import type { Camera } from '../config/load.js';
import type { EngineHealth, EngineName } from '../engines/engines.js';

export interface CameraStatePayload {
  status: 'idle' | 'connecting' | 'streaming' | 'offline' | 'error' | 'disabled';
  online: 'ON' | 'OFF';
  viewers: number;
  bitrate_kbps: number | null;
  fps: number | null;
  recording: 'ON' | 'OFF';
  storage_bytes: number | null;
  /** ISO 8601 with offset, or null. */
  last_clip_at: string | null;
  last_error: string | null;
  /** Why recording is not writing although it is on (e.g. the media disk is full), or null. */
  recording_error: string | null;
  /**
   * When the camera entity's picture was taken (ISO 8601), or null before the first. An idle
   * on-demand camera is not woken to refresh it, so this tells how old the picture is.
   */
  picture_at: string | null;
}

export interface CameraStorageFacts {
  bytes: number;
  recordings: number;
  lastClipAt: string | null;
}

/**
 * Whether a camera counts as online (the `Online` connectivity sensor and the
 * camstack_camera_online/offline events): reachable as far as we know. `idle` (on demand,
 * nobody watching) and `connecting` count as online; `offline` and `error` do not.
 */
export function isOnline(camera: Pick<Camera, 'enabled'>, status: CameraStatus | undefined): boolean {
  if (!camera.enabled) return false;
  const state = status?.state ?? 'idle';
  return state !== 'offline' && state !== 'error';
}

export function cameraState(
  camera: Pick<Camera, 'enabled'> & { recording: Pick<Camera['recording'], 'continuous'> },
  status: CameraStatus | undefined,
  storage: { bytes: number | null; lastClipAt: string | null } | undefined,
  pictureAt: string | null = null,
): CameraStatePayload {
  const streaming = camera.enabled && status?.state === 'streaming';
  return {
    status: camera.enabled ? (status?.state ?? 'idle') : 'disabled',
    online: isOnline(camera, status) ? 'ON' : 'OFF',
    viewers: camera.enabled ? (status?.viewers ?? 0) : 0,
    bitrate_kbps: streaming ? (status?.bitrateKbps ?? null) : null,
    fps: streaming ? (status?.fps ?? null) : null,
    recording: camera.recording.continuous ? 'ON' : 'OFF',
    storage_bytes: storage?.bytes ?? null,
    last_clip_at: storage?.lastClipAt ?? null,
    last_error: status?.lastError ?? status?.recordingError ?? null,
    recording_error: camera.enabled ? (status?.recordingError ?? null) : null,
    picture_at: pictureAt,
  };
}

export interface HubStatePayload {
  engines: 'ok' | 'degraded';
  engine_states: Record<EngineName, string>;
  storage_used_bytes: number | null;
  storage_free_bytes: number | null;
  recordings: number | null;
  cameras: number;
  version: string;
}

export interface StorageTotals {
  usedBytes: number;
  freeBytes: number;
  recordings: number;
}

export function hubState(
  engines: Record<EngineName, EngineHealth>,
  storage: StorageTotals | null,
  cameras: number,
  version: string,
): HubStatePayload {
  const ok = engines.go2rtc.state === 'running' && engines.mediamtx.state === 'running';
  return {
    engines: ok ? 'ok' : 'degraded',
    engine_states: { go2rtc: engines.go2rtc.state, mediamtx: engines.mediamtx.state },
    storage_used_bytes: storage?.usedBytes ?? null,
    storage_free_bytes: storage?.freeBytes ?? null,
    recordings: storage?.recordings ?? null,
    cameras,
    version,
  };
}
