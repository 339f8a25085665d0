/**
 * What the API returns, as every client sees it: the panel, the Node-RED nodes and the server's
 * own routes import these. The server's JSON Schemas (TypeBox, for validation and OpenAPI) are
 * checked against them at compile time, so a field added on one side and not the other does not
 * build.
 */

/** Lifecycle states of a supervised process (go2rtc, MediaMTX, every FFmpeg job). */
export type ProcessState = 'starting' | 'running' | 'backoff' | 'failed' | 'stopping' | 'stopped';

export type EngineName = 'go2rtc' | 'mediamtx';

// ── Cameras ─────────────────────────────────────────────────────────────────────────────────

export type SourceType = 'rtsp' | 'rtsps' | 'rtmp' | 'http-mjpeg' | 'http-jpeg' | 'ffmpeg-test';

export interface RecordingSettings {
  continuous: boolean;
  retainDays: number;
  clipRetainDays: number;
  preRollSeconds: number;
  clipSeconds: number;
}

/** What a camera's events do (its rules): which record a clip, which notify. */
export interface EventSettings {
  /** Event types that record a clip. */
  record: DetectionType[];
  /** Seconds before the event in its clip; null: the camera's `recording.preRollSeconds`. */
  preRollSeconds: number | null;
  /** Seconds the clip goes on after the event ends; an event within them extends the same clip. */
  postRollSeconds: number;
  /** Seconds after an event clip ends before another event may start a new one. */
  cooldownSeconds: number;
  /** Event types that send a notification (through Home Assistant's notify services). */
  notify: DetectionType[];
  /** Seconds between two notifications of this camera. */
  notifyCooldownSeconds: number;
}

/** A corner of a mask zone: [x, y] as fractions of the picture ((0, 0) is the top left). */
export type MotionPoint = [x: number, y: number];

/** A zone of the motion mask. */
export interface MotionZone {
  /** exclude: changes inside never count; include: with include zones, only changes inside count. */
  mode: 'include' | 'exclude';
  points: MotionPoint[];
  name?: string;
}

/** Camstack's own motion detector on a camera. */
export interface MotionSettings {
  enabled: boolean;
  /** Frames analysed per second (1–10). */
  fps: number;
  /** Width of the analysed grey picture (160–640). */
  width: number;
  /** 0 (only large, clear changes) … 100 (small changes count). */
  sensitivity: number;
  minDurationSeconds: number;
  endAfterSeconds: number;
  /** Which stream it watches: the substream (cheap) or the main stream. */
  stream: 'substream' | 'main';
  zones: MotionZone[];
}

/** A camera's ONVIF service as the API shows it: never its password. */
export interface OnvifView {
  /** null: the host of the camera's source URL. */
  host: string | null;
  port: number;
  /** Its own ONVIF account is stored (else the camera's is used). */
  hasCredentials: boolean;
  events: boolean;
}

/** A camera as the API returns it: never its credentials. */
export interface CameraView {
  id: string;
  name: string;
  /** Main stream URL without credentials (credential query values masked). */
  source: string;
  substream: string | null;
  /** Whether a user name or password is stored (they are never returned). */
  hasCredentials: boolean;
  enabled: boolean;
  sourceType: SourceType;
  /** options: defined in the add-on configuration; file: in the cameras file. */
  origin: 'options' | 'file';
  /** Cameras from the add-on configuration cannot be changed through the API. */
  readOnly: boolean;
  recording: RecordingSettings;
  events: EventSettings;
  /** The camera's ONVIF service (its own events), or null when off. */
  onvif: OnvifView | null;
  motion: MotionSettings;
}

/**
 * The body of `POST api/cameras` (`id` required) and `PUT api/cameras/:id` (every field optional;
 * `username`/`password`: omitted keeps, null clears).
 */
export interface CameraInput {
  id?: string;
  name?: string;
  source?: string;
  substream?: string | null;
  username?: string | null;
  password?: string | null;
  enabled?: boolean;
  recording?: Partial<RecordingSettings>;
  events?: Partial<EventSettings>;
  /** null turns ONVIF off; `{}` turns it on with the defaults. */
  onvif?: {
    host?: string | null;
    port?: number;
    username?: string | null;
    password?: string | null;
    events?: boolean;
  } | null;
  motion?: Partial<MotionSettings>;
}

export type CameraState = 'idle' | 'connecting' | 'streaming' | 'offline' | 'error';

/** Runtime status of a camera: in memory only, separate from its configuration. */
export interface CameraStatus {
  id: string;
  /**
   * idle: configured but nobody needs the stream (on demand, not pulled);
   * connecting: being verified or the upstream connection is being opened;
   * streaming: frames are arriving; offline: the camera cannot be reached (see lastError);
   * error: the camera answers but its stream is unusable, or the engines are down.
   */
  state: CameraState;
  /** Live consumers (browsers, HA, Node-RED), excluding Camstack's own internal readers. */
  viewers: number;
  /** Seconds since the upstream connection was opened (0 when not connected). */
  uptimeSeconds: number;
  lastFrameAt: string | null;
  bitrateKbps: number | null;
  fps: number | null;
  codec: string | null;
  resolution: string | null;
  /** Whether any engine re-encodes this camera (MJPEG/JPEG sources); false means copy all the way. */
  transcoding: boolean;
  /** Continuous recording is writing segments. */
  recording: boolean;
  /** A person-readable reason for offline/error, credentials redacted. */
  lastError: string | null;
  /**
   * Failed connection checks since the camera last streamed (0 while it streams). MediaMTX itself
   * retries the connection every 5 s; Camstack checks why it fails with a growing pause.
   */
  retries: number;
  /** When Camstack next checks a failing camera (ISO 8601), or null. */
  nextRetryAt: string | null;
  /** Why continuous recording is not writing although it is on (e.g. the media disk is full), or null. */
  recordingError: string | null;
}

export interface CameraWithStatus {
  camera: CameraView;
  status: CameraStatus;
}

/** `POST api/cameras/test`: stream facts, or the camera's own reason. */
export interface CameraTestResult {
  /** Video frames were read from the camera. */
  ok: boolean;
  /** Why not, in words a person understands (never with credentials). */
  reason?: string;
  codec?: string | null;
  width?: number | null;
  height?: number | null;
  fps?: number | null;
  audioCodec?: string | null;
  durationMs: number;
}

// ── Recordings ──────────────────────────────────────────────────────────────────────────────

export type RecordingType = 'segment' | 'clip';
/** Segments: 24/7 recording, or the short pre-roll buffer of a camera that is not recorded 24/7. */
export type SegmentKindName = 'continuous' | 'buffer';
/** Why a recording was (or will be) deleted. */
export type DeletionReason = 'retention' | 'buffer' | 'storage' | 'user' | 'missing';

/** A recorded segment or clip. */
export interface RecordingView {
  /** `seg_<n>` or `clip_<n>`. */
  id: string;
  type: RecordingType;
  camera: string;
  start: string;
  end: string;
  durationSeconds: number;
  size: number;
  /** Never deleted by retention or the storage limits. */
  protected: boolean;
  /** A segment still being written or a clip still being recorded. */
  inProgress: boolean;
  /** Clips: who started it (api, mqtt, node-red…). */
  trigger: string | null;
  kind: SegmentKindName | null;
  /** Relative to the media folder; null while a clip is recorded. */
  path: string | null;
  /** `/api/recordings/<id>/video`, null while there is no file yet. */
  url: string | null;
  /** When retention deletes it; null when protected or in progress. */
  expiresAt: string | null;
}

export interface RecordingList {
  items: RecordingView[];
  /** Matching recordings in all (for paging). */
  total: number;
}

export interface Span {
  start: string;
  end: string;
}

/** One camera's day: what was recorded, the gaps, and the clips. */
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
  reason: DeletionReason;
}

/** A clip started (or an open one extended). */
export interface ClipStart {
  clip: RecordingView;
  /** True when an open clip of this camera was extended instead of starting a new one. */
  extended: boolean;
  /** Seconds of pre-roll the clip can include (0 when the camera keeps no buffer). */
  preRollSeconds: number;
}

export interface CameraUsage {
  camera: string;
  /** The camera name; its id when it is no longer configured. */
  name: string;
  /** false: recordings of a camera that was removed. */
  configured: boolean;
  bytes: number;
  protectedBytes: number;
  /** Clips not protected (kept `clipRetainDays`); the rest of the unprotected bytes is 24/7 video. */
  clipBytes: number;
  recordings: number;
  clips: number;
}

/** `GET api/storage`: what the recordings take per camera, the media disk, and the limits. */
export interface StorageReport {
  cameras: CameraUsage[];
  totalBytes: number;
  protectedBytes: number;
  recordings: number;
  /** The media folder's disk; null when it cannot be read. */
  disk: { totalBytes: number; freeBytes: number } | null;
  limits: {
    /** storage_max_gb in bytes; null: no cap. */
    maxBytes: number | null;
    minFreePercent: number;
    /** minFreePercent of the disk in bytes; null when the disk size is unknown. */
    minFreeBytes: number | null;
    /** What recordings may take in all before the oldest are deleted; null when unknown. */
    usableBytes: number | null;
  };
}

// ── Snapshots ───────────────────────────────────────────────────────────────────────────────

/** `POST api/cameras/:id/snapshot/save`: the snapshot was written. */
export interface SavedSnapshotView {
  camera: string;
  /** Relative to the media folder: `<id>/snapshots/<id>_<YYYYMMDD-HHMMSS-mmm>.jpg`. */
  path: string;
  takenAt: string;
  url: string | null;
}

// ── Health and engines ──────────────────────────────────────────────────────────────────────

export interface EngineHealth {
  state: ProcessState;
  pid: number | null;
  restarts: number;
  lastError: string | null;
}

export interface EngineView extends EngineHealth {
  name: EngineName;
  /** When the running process was started. */
  startedAt: string | null;
}

export type ConnectionState = 'connected' | 'connecting' | 'disabled' | 'error';

/** MQTT (Home Assistant discovery). MQTT down does not degrade the engines' status. */
export interface MqttHealth {
  state: ConnectionState;
  reason: string | null;
  broker: string | null;
  source: 'options' | 'supervisor' | null;
}

/** The Home Assistant websocket (events, notifications, triggers, live cameras). */
export interface HomeAssistantHealth {
  state: ConnectionState;
  reason: string | null;
  url: string | null;
  /** `ha_live_cameras`: the last sync with HA's Generic Camera entries (HA's own message on failure). */
  liveCameras?: { state: 'pending' | 'ok' | 'error' | 'disabled'; reason: string | null };
}

export interface Health {
  status: 'ok' | 'degraded';
  version: string;
  uptimeSeconds: number;
  engines: Record<EngineName, EngineHealth>;
  /** Why the product is degraded, in words a person understands (empty when ok). */
  reasons: string[];
  mqtt?: MqttHealth;
  homeAssistant?: HomeAssistantHealth;
}

/** The API's one error shape; `problems` name the fields. */
export interface Problem {
  field: string;
  message: string;
}

// ── Metrics ─────────────────────────────────────────────────────────────────────────────────

/** One FFmpeg `-progress` block. */
export interface FfmpegProgress {
  /** Frames written so far (null when the block had none, e.g. audio-only output). */
  frame: number | null;
  /** FFmpeg's own average fps (frames / elapsed wall time; 0 during the first second). */
  fps: number | null;
  /** Output bitrate in kbit/s, null for "N/A". */
  bitrateKbps: number | null;
  /** Bytes written so far, null for "N/A". */
  totalSizeBytes: number | null;
  /** Output position in microseconds, null for "N/A" or a negative (unknown) timestamp. */
  outTimeUs: number | null;
  /** Processing speed relative to real time (1.01 for "1.01x"), null for "N/A". */
  speed: number | null;
  dropFrames: number | null;
  dupFrames: number | null;
  /** True for the final block (`progress=end`). */
  ended: boolean;
}

export interface ProcessMetrics {
  /** Supervisor name: "go2rtc", "mediamtx", "ffmpeg:front_door:clip"… */
  name: string;
  pid: number | null;
  state: ProcessState;
  restarts: number;
  /** CPU use since the previous sample in percent of one core (200 = two cores); null on the first sample. */
  cpuPercent: number | null;
  /** CPU seconds of the process and its descendants; null while it has no live child process. */
  cpuSecondsTotal: number | null;
  rssBytes: number | null;
  openFds: number | null;
  /** Members of the process tree (the process plus descendants, e.g. go2rtc's FFmpeg children). */
  processCount: number | null;
  /** Latest FFmpeg progress block, for FFmpeg jobs that report one. */
  progress: FfmpegProgress | null;
}

export interface SystemMetrics {
  /** 1, 5 and 15 minute load averages. */
  loadavg: [number, number, number];
  memTotalBytes: number;
  /** Memory available to new processes (os.freemem: MemAvailable on Linux). */
  memFreeBytes: number;
  cpuCount: number;
}

/** The `metrics.tick` event and `GET api/metrics.json`. */
export interface MetricsSnapshot {
  /** ISO time of the sample. */
  at: string;
  system: SystemMetrics;
  processes: ProcessMetrics[];
}

// ── Camera events ───────────────────────────────────────────────────────────────────────────

/** What happened in front of a camera, as the camera (ONVIF) or Camstack's motion detector says. */
export type DetectionType =
  | 'motion'
  | 'person'
  | 'vehicle'
  | 'animal'
  | 'line_crossing'
  | 'intrusion'
  | 'tamper'
  | 'digital_input';

/** Who reported it: the camera's own ONVIF events, Camstack's detector, or the API (automations, Node-RED). */
export type DetectionSource = 'onvif' | 'motion' | 'api';

/** One event of a camera: from its start until its end (open while `active`). */
export interface CameraEventView {
  /** `evt_<n>`. */
  id: string;
  camera: string;
  type: DetectionType;
  source: DetectionSource;
  start: string;
  /** null while it lasts. */
  end: string | null;
  active: boolean;
  /** The clip this event started or extended, when a rule records it. */
  clipId: string | null;
  /** The picture of the moment the event started (`/api/camera-events/<id>/picture.jpg`), once taken. */
  pictureUrl: string | null;
  /** The camera's own name for it (an ONVIF topic such as `RuleEngine/CellMotionDetector/Motion`). */
  detail: string | null;
}

export interface CameraEventList {
  items: CameraEventView[];
  total: number;
}
