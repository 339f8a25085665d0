/**
 * Every event `GET api/events` streams, with what it carries. The server's bus has the same names
 * (checked at compile time); the panel and the Node-RED events node subscribe by these names.
 * Ids are the API's recording ids (`seg_12`, `clip_7`); paths are relative to the media folder;
 * times are ISO 8601.
 */
import type {
  CameraEventView,
  CameraStatus,
  CameraView,
  DeletionReason,
  DetectionType,
  MetricsSnapshot,
  ProcessState,
  RecordingType,
  SegmentKindName,
} from './views.js';

/** A supervised process changed state. */
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

/** A segment was completed (MediaMTX closed it, or it was recovered after a crash) and indexed. */
export interface RecordingSegmentEvent {
  id: string;
  camera: string;
  path: string;
  start: string;
  end: string;
  size: number;
  kind: SegmentKindName;
}

export interface ClipStartedEvent {
  id: string;
  camera: string;
  /**
   * Start of the clip as planned: the request time minus the pre-roll actually available. A camera
   * that had to be opened first (on demand, or reconnecting) starts later: `clip.saved` has the
   * times of the media.
   */
  start: string;
  /** Planned end (moves later when an overlapping request extends the clip, or the camera is slow to deliver video). */
  end: string;
  requestedAt: string;
  preRollSeconds: number;
  trigger: string;
}

export interface ClipSavedEvent {
  id: string;
  camera: string;
  /** Relative to the media folder (Home Assistant: media-source://media_source/local/<…>). */
  path: string;
  /** The API URL that plays it: `/api/recordings/<id>/video`. */
  url: string;
  start: string;
  end: string;
  durationSeconds: number;
  size: number;
  trigger: string;
  protected: boolean;
}

export interface ClipFailedEvent {
  id: string;
  camera: string;
  trigger: string;
  reason: string;
}

export interface RecordingDeletedEvent {
  id: string;
  type: RecordingType;
  camera: string;
  path: string;
  start: string;
  end: string;
  size: number;
  reason: DeletionReason;
}

/** Fired once per recording, about a day before retention deletes it. */
export interface RecordingExpiringEvent {
  id: string;
  type: RecordingType;
  camera: string;
  path: string;
  start: string;
  end: string;
  expiresAt: string;
}

/** A snapshot was written under the media folder. */
export interface SnapshotSavedEvent {
  camera: string;
  /** Absolute path of the JPEG inside the add-on. */
  path: string;
  /** Relative to the media folder: `<id>/snapshots/<id>_<YYYYMMDD-HHMMSS-mmm>.jpg`. */
  relativePath: string;
  /** When the frame was taken. */
  takenAt: string;
  /** Who asked: `api`, `mqtt`, `node-red`… */
  trigger: string;
}

/**
 * Recording paused because the media disk is (nearly) full (`reason` says so, for every recorded
 * camera), or resumed (`paused: false`, `reason: null`).
 */
export interface RecordingPausedEvent {
  paused: boolean;
  reason: string | null;
}

/** Every streamed event by name, with the JSON it carries. */
export interface ApiEvents {
  'camera.status': CameraStatus;
  'camera.added': { camera: CameraView };
  'camera.updated': { camera: CameraView };
  'camera.removed': { camera: CameraView };
  'clip.started': ClipStartedEvent;
  'clip.saved': ClipSavedEvent;
  'clip.failed': ClipFailedEvent;
  'snapshot.saved': SnapshotSavedEvent;
  /** A camera event started, changed (its clip, its picture) or ended. */
  'camera.event': CameraEventView;
  'recording.segment': RecordingSegmentEvent;
  'recording.deleted': RecordingDeletedEvent;
  'recording.expiring': RecordingExpiringEvent;
  'recording.paused': RecordingPausedEvent;
  'process.state': ProcessStateEvent;
  /** About once a second while someone listens. */
  'metrics.tick': MetricsSnapshot;
}

export type EventType = keyof ApiEvents;

/** Every event type with a short description, in the order a picker shows them. */
export const EVENT_DESCRIPTIONS: Readonly<Record<EventType, string>> = {
  'camera.status': 'camera state (streaming, offline…)',
  'camera.added': 'camera added',
  'camera.updated': 'camera changed',
  'camera.removed': 'camera removed',
  'clip.started': 'clip started',
  'clip.saved': 'clip saved',
  'clip.failed': 'clip failed',
  'snapshot.saved': 'snapshot saved',
  'camera.event': 'camera event (motion, person…): start, picture, end',
  'recording.segment': '24/7 segment written',
  'recording.deleted': 'recording deleted',
  'recording.expiring': 'recording expires within a day',
  'recording.paused': 'recording paused (disk full) or resumed',
  'process.state': 'engine state (go2rtc, MediaMTX, FFmpeg)',
  'metrics.tick': 'metrics, every second',
};

export const EVENT_TYPES = Object.keys(EVENT_DESCRIPTIONS) as readonly EventType[];

/** Events about one camera, named by a `camera` field of their payload. */
export const CAMERA_FIELD_EVENTS: readonly EventType[] = [
  'camera.event',
  'snapshot.saved',
  'recording.segment',
  'clip.started',
  'clip.saved',
  'clip.failed',
  'recording.deleted',
  'recording.expiring',
];

/** Events that change the recordings (a list or a timeline showing them is out of date). */
export const RECORDING_EVENTS: readonly EventType[] = [
  'recording.segment',
  'recording.deleted',
  'recording.expiring',
  'clip.started',
  'clip.saved',
  'clip.failed',
];

/** Every camera event type, with the word a person reads, in the order pickers show them. */
export const DETECTION_LABELS: Readonly<Record<DetectionType, string>> = {
  motion: 'Motion',
  person: 'Person',
  vehicle: 'Vehicle',
  animal: 'Animal',
  line_crossing: 'Line crossing',
  intrusion: 'Intrusion',
  tamper: 'Tamper',
  digital_input: 'Input',
};

export const DETECTION_TYPES = Object.keys(DETECTION_LABELS) as readonly DetectionType[];

/** What a subscriber gets when it names no type: everything but the once-a-second metrics. */
export const DEFAULT_EVENT_TYPES: readonly EventType[] = EVENT_TYPES.filter((t) => t !== 'metrics.tick');

export function isEventType(value: string): value is EventType {
  return Object.hasOwn(EVENT_DESCRIPTIONS, value);
}
