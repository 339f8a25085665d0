/**
 * The API's shapes as the panel sees them (DOM-free, so tests import them under Node). They
 * mirror the server's schemas (server/src/cameras/api-schemas.ts, server/src/recordings/schemas.ts,
 * server/src/recordings/storage.ts, server/src/http/health.ts); the panel is built apart from the
 * server, so they are restated here rather than imported.
 */

export type CameraState = 'idle' | 'connecting' | 'streaming' | 'offline' | 'error';
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

export interface CameraStatus {
  id: string;
  state: CameraState;
  viewers: number;
  uptimeSeconds: number;
  lastFrameAt: string | null;
  bitrateKbps: number | null;
  fps: number | null;
  codec: string | null;
  resolution: string | null;
  transcoding: boolean;
  recording: boolean;
  lastError: string | null;
  /** Failed connection checks since the camera last streamed (0 while it streams). */
  retries: number;
  /** When Camstack next checks a failing camera (ISO 8601), or null. */
  nextRetryAt: string | null;
  /** Why continuous recording is not writing although it is on (e.g. the media disk is full), or null. */
  recordingError: string | null;
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

export interface RecordingView {
  id: string;
  type: 'segment' | 'clip';
  camera: string;
  start: string;
  end: string;
  durationSeconds: number;
  size: number;
  protected: boolean;
  inProgress: boolean;
  trigger: string | null;
  kind: 'continuous' | 'buffer' | null;
  path: string | null;
  url: string | null;
  expiresAt: string | null;
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
