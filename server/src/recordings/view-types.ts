/**
 * Small shared names and the API's view of a recording, kept apart so the event payload types and
 * the panel (a browser bundle) import nothing with side effects.
 */
export type RecordingType = 'segment' | 'clip';
export type SegmentKindName = 'continuous' | 'buffer';

/** A recorded segment or clip as the API shows it. */
export interface RecordingView {
  id: string;
  type: RecordingType;
  camera: string;
  start: string;
  end: string;
  durationSeconds: number;
  size: number;
  protected: boolean;
  /** A segment still being written or a clip still being recorded. */
  inProgress: boolean;
  trigger: string | null;
  kind: SegmentKindName | null;
  /** Relative to the media folder; null while a clip is recorded. */
  path: string | null;
  /** `/api/recordings/<id>/video`, null while there is no file yet. */
  url: string | null;
  /** When retention deletes it; null when protected or in progress. */
  expiresAt: string | null;
}
