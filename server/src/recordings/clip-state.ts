import type { RecordingView } from '../contract/index.js';
import type { ManagedProcess } from '../supervisor/managed-process.js';
import type { FragmentCursor, Mp4Info, TrackSpan } from './mp4.js';

export interface RecorderState {
  /** Wall-clock time of the file's media time 0 (see refineAnchor); null before the first fragment. */
  anchorMs: number | null;
  /** Media time the file starts at (its earliest track), ms. */
  mediaStartMs: number | null;
  /** Media time the video track covers so far. */
  video: TrackSpan | null;
  videoGrewAtMs: number | null;
  cursor: FragmentCursor | undefined;
  info: Mp4Info | null;
  /** Why the clip fails when the recorder's file holds no video (set when giving up waiting). */
  failReason: string | null;
  /** When the recorder was told to stop: its media ends about then. */
  stoppedAtMs: number | null;
  withAudio: boolean;
  attempts: number;
  /** Set when the clip holds the video it wanted: how much of it to keep (the rest is cut off). */
  keepVideoMs: number | null;
}

export interface ActiveClip {
  rowId: number;
  camera: string;
  trigger: string;
  requestedMs: number;
  startMs: number;
  endMs: number;
  timer: NodeJS.Timeout | null;
  method: 'playback' | 'ffmpeg';
  proc: ManagedProcess | null;
  release: (() => void) | null;
  partRel: string | null;
  /** The end asked for (before any wait for the stream). */
  plannedEndMs: number;
  /** FFmpeg clips: the recorder's progress, read from its file (see #watchRecorder). */
  rec: RecorderState | null;
  finishing: Promise<RecordingView> | null;
}
