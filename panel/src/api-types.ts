/**
 * The API's shapes as the panel sees them (DOM-free, so tests import them under Node). Camera
 * status and recordings come from the server's own type-only modules (no runtime code: the build
 * erases them), so they cannot drift; the rest mirrors the server's schemas
 * (server/src/cameras/api-schemas.ts, server/src/recordings/storage.ts, server/src/http/health.ts).
 */

import type { CameraState, CameraStatus } from '../../server/src/cameras/status.js';
import type { RecordingView } from '../../server/src/recordings/view-types.js';

export type { CameraState, CameraStatus, RecordingView };
export type SourceType = 'rtsp' | 'rtsps' | 'rtmp' | 'http-mjpeg' | 'http-jpeg' | 'ffmpeg-test';

export interface RecordingSettings {
  continuous: boolean;
  retainDays: number;
  clipRetainDays: number;
  preRollSeconds: number;
  clipSeconds: number;
}

export interface CameraView {
  id: string;
  name: string;
  source: string;
  substream: string | null;
  hasCredentials: boolean;
  enabled: boolean;
  sourceType: SourceType;
  origin: 'options' | 'file';
  readOnly: boolean;
  recording: RecordingSettings;
}

export interface CameraInput {
  id?: string;
  name?: string;
  source?: string;
  substream?: string | null;
  username?: string | null;
  password?: string | null;
  enabled?: boolean;
  recording?: Partial<RecordingSettings>;
}

export type EngineState = 'starting' | 'running' | 'backoff' | 'failed' | 'stopping' | 'stopped';
export interface EngineHealth {
  state: EngineState;
  pid: number | null;
  restarts: number;
  lastError: string | null;
}
export interface Health {
  status: 'ok' | 'degraded';
  version: string;
  uptimeSeconds: number;
  engines: { go2rtc: EngineHealth; mediamtx: EngineHealth };
  reasons: string[];
}

export interface RecordingList {
  items: RecordingView[];
  total: number;
}

export interface Span {
  start: string;
  end: string;
}

export interface Timeline {
  camera: string;
  day: string;
  from: string;
  to: string;
  recordedSeconds: number;
  ranges: Span[];
  gaps: Span[];
  clips: RecordingView[];
}

export interface ExpiringItem {
  recording: RecordingView;
  expiresAt: string;
  reason: 'retention' | 'buffer' | 'storage' | 'user' | 'missing';
}

export interface ClipStart {
  clip: RecordingView;
  extended: boolean;
  preRollSeconds: number;
}

/** `POST api/cameras/test`: stream facts, or the camera's own reason. */
export interface CameraTestResult {
  ok: boolean;
  reason?: string;
  codec?: string | null;
  width?: number | null;
  height?: number | null;
  fps?: number | null;
  audioCodec?: string | null;
  durationMs: number;
}

export interface EngineView extends EngineHealth {
  name: 'go2rtc' | 'mediamtx';
  startedAt: string | null;
}

export interface CameraUsage {
  camera: string;
  name: string;
  configured: boolean;
  bytes: number;
  protectedBytes: number;
  recordings: number;
  clips: number;
}

export interface StorageReport {
  cameras: CameraUsage[];
  totalBytes: number;
  protectedBytes: number;
  recordings: number;
  disk: { totalBytes: number; freeBytes: number } | null;
  limits: { maxBytes: number | null; minFreePercent: number; minFreeBytes: number | null; usableBytes: number | null };
}

export interface Problem {
  field: string;
  message: string;
}
