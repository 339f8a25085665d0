/** Runtime status of a camera: in memory only, separate from its configuration (R5). */

export type CameraState = 'idle' | 'connecting' | 'streaming' | 'offline' | 'error';

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

export function initialStatus(id: string): CameraStatus {
  return {
    id,
    state: 'idle',
    viewers: 0,
    uptimeSeconds: 0,
    lastFrameAt: null,
    bitrateKbps: null,
    fps: null,
    codec: null,
    resolution: null,
    transcoding: false,
    recording: false,
    lastError: null,
    retries: 0,
    nextRetryAt: null,
    recordingError: null,
  };
}

/** Read access to runtime status, for the HTTP routes and other front doors. */
export interface CameraStatusSource {
  get(id: string): CameraStatus | undefined;
  all(): CameraStatus[];
}
