/**
 * Payloads of the recording events on the bus (see `CamstackEvents` in events/bus.ts). Ids are
 * the API's recording ids (`seg_12`, `clip_7`); paths are relative to the media folder; times
 * are ISO 8601. MQTT, SSE and Node-RED subscribe to these rather than to the service.
 */
import type { RecordingType, SegmentKindName } from './view-types.js';

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

export type DeletionReason = 'retention' | 'buffer' | 'storage' | 'user' | 'missing';

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
