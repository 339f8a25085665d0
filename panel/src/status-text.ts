/**
 * Person-readable lines from a camera's live status, kept pure (no DOM, no clock of its own) so
 * they can be tested from Node: why 24/7 recording is paused, and when a failing camera is next checked.
 */
import type { CameraStatus } from './api-types.js';
import { fmtTime } from './format.js';

/** "Recording paused: <reason>" when continuous recording is on but not writing; else null. */
export function recordingPausedText(status: Pick<CameraStatus, 'recordingError'> | undefined): string | null {
  const reason = status?.recordingError?.trim();
  return reason ? `Recording paused: ${reason}` : null;
}

/**
 * When Camstack next checks an offline (or failing) camera, or null when it is not failing or no
 * check is planned. Within `countdownUpTo` seconds: "retrying in N s" ("retrying now" once due);
 * further away, or with `countdownUpTo` 0 (a view that does not re-render every second):
 * "next check at HH:MM:SS" in the browser's time zone.
 */
export function retryText(
  status: Pick<CameraStatus, 'state' | 'nextRetryAt'> | undefined,
  now: number,
  countdownUpTo = 120,
): string | null {
  if (!status?.nextRetryAt || (status.state !== 'offline' && status.state !== 'error')) return null;
  const at = Date.parse(status.nextRetryAt);
  if (!Number.isFinite(at)) return null;
  const seconds = Math.ceil((at - now) / 1000);
  if (seconds <= 0) return 'retrying now';
  if (seconds <= countdownUpTo) return `retrying in ${seconds} s`;
  return `next check at ${fmtTime(new Date(at))}`;
}
