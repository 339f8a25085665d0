/** Runtime status of a camera: in memory only, separate from its configuration. */

import type { CameraStatus } from '../contract/index.js';

export type { CameraState, CameraStatus } from '../contract/index.js';

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
