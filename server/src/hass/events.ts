/**
 * What Camstack tells Home Assistant over its websocket (pure): `camstack_*` events built from
 * bus events, and the persistent notification listing clips that expire within a day.
 */
import { posix } from 'node:path';
import type { CameraStatus } from '../cameras/status.js';
import type { Camera } from '../config/load.js';
import { type CameraEventView, DETECTION_LABELS } from '../contract/index.js';
import { isOnline } from '../mqtt/state.js';
import type { ClipSavedEvent, ClipStartedEvent, RecordingExpiringEvent } from '../recordings/types.js';

export type HassEventType =
  | 'camstack_clip_saved'
  | 'camstack_recording_started'
  | 'camstack_recording_stopped'
  | 'camstack_camera_offline'
  | 'camstack_camera_online'
  | 'camstack_clip_expiring'
  | 'camstack_camera_event';

export interface HassEvent {
  type: HassEventType;
  data: Record<string, unknown>;
}

/**
 * Where HA's media browser finds a file under the media folder: `/media/camstack/x.mp4` →
 * `media-source://media_source/local/camstack/x.mp4`. Null when the media dir is not under
 * `/media` (development).
 */
export function mediaSourceId(mediaDir: string, relativePath: string): string | null {
  const abs = posix.join(mediaDir, relativePath);
  if (!abs.startsWith('/media/')) return null;
  return `media-source://media_source/local/${abs.slice('/media/'.length)}`;
}

function cameraName(camera: Pick<Camera, 'name'> | undefined, id: string): string {
  return camera?.name ?? id;
}

export function clipSavedEvent(e: ClipSavedEvent, camera: Camera | undefined, mediaDir: string): HassEvent {
  return {
    type: 'camstack_clip_saved',
    data: {
      camera: e.camera,
      camera_name: cameraName(camera, e.camera),
      clip_id: e.id,
      path: e.path,
      media_path: posix.join(mediaDir, e.path),
      media_content_id: mediaSourceId(mediaDir, e.path),
      url: e.url,
      start: e.start,
      end: e.end,
      duration_seconds: e.durationSeconds,
      size: e.size,
      trigger: e.trigger,
    },
  };
}

export function clipStartedEvent(e: ClipStartedEvent, camera: Camera | undefined): HassEvent {
  return {
    type: 'camstack_recording_started',
    data: {
      camera: e.camera,
      camera_name: cameraName(camera, e.camera),
      kind: 'clip',
      clip_id: e.id,
      start: e.start,
      end: e.end,
      trigger: e.trigger,
    },
  };
}

export function clipEndedEvent(
  e: { id: string; camera: string; trigger: string },
  camera: Camera | undefined,
  result: 'saved' | 'failed',
  reason?: string,
): HassEvent {
  return {
    type: 'camstack_recording_stopped',
    data: {
      camera: e.camera,
      camera_name: cameraName(camera, e.camera),
      kind: 'clip',
      clip_id: e.id,
      trigger: e.trigger,
      result,
      ...(reason !== undefined ? { reason } : {}),
    },
  };
}

/** Continuous recording turned on or off (the switch, the API, the cameras file). */
export function continuousChangedEvent(camera: Camera, previous: Camera): HassEvent | null {
  if (camera.recording.continuous === previous.recording.continuous) return null;
  return {
    type: camera.recording.continuous ? 'camstack_recording_started' : 'camstack_recording_stopped',
    data: { camera: camera.id, camera_name: camera.name, kind: 'continuous' },
  };
}

/** A camera went offline or came back (only real transitions; the first status says nothing). */
export function connectivityEvent(
  camera: Camera | undefined,
  status: CameraStatus,
  previous: CameraStatus | null,
): HassEvent | null {
  if (camera === undefined || previous === null) return null;
  const was = isOnline(camera, previous);
  const now = isOnline(camera, status);
  if (was === now || !camera.enabled) return null;
  return {
    type: now ? 'camstack_camera_online' : 'camstack_camera_offline',
    data: {
      camera: camera.id,
      camera_name: camera.name,
      state: status.state,
      reason: now ? null : status.lastError,
    },
  };
}

export function clipExpiringEvent(e: RecordingExpiringEvent, camera: Camera | undefined, mediaDir: string): HassEvent {
  return {
    type: 'camstack_clip_expiring',
    data: {
      camera: e.camera,
      camera_name: cameraName(camera, e.camera),
      clip_id: e.id,
      path: e.path,
      media_content_id: mediaSourceId(mediaDir, e.path),
      start: e.start,
      expires_at: e.expiresAt,
    },
  };
}

export interface ExpiringClip {
  id: string;
  camera: string;
  cameraName: string;
  start: string;
  expiresAt: string;
}

export const EXPIRING_NOTIFICATION_ID = 'camstack_clips_expiring';

/** The persistent notification for clips expiring within a day; null when there are none. */
export function expiringNotification(
  clips: readonly ExpiringClip[],
  timeZone?: string,
): { notification_id: string; title: string; message: string } | null {
  if (clips.length === 0) return null;
  const fmt = (iso: string) =>
    new Date(iso).toLocaleString('en-GB', {
      ...(timeZone ? { timeZone } : {}),
      day: 'numeric',
      month: 'short',
      hour: '2-digit',
      minute: '2-digit',
    });
  const sorted = [...clips].sort((a, b) => a.expiresAt.localeCompare(b.expiresAt) || a.id.localeCompare(b.id));
  const shown = sorted.slice(0, 20);
  const lines = shown.map((c) => `- **${c.cameraName}**, clip of ${fmt(c.start)}: deleted ${fmt(c.expiresAt)}`);
  if (sorted.length > shown.length) lines.push(`- … and ${sorted.length - shown.length} more`);
  return {
    notification_id: EXPIRING_NOTIFICATION_ID,
    title: `Camstack: ${clips.length === 1 ? '1 clip expires' : `${clips.length} clips expire`} within a day`,
    message:
      `${lines.join('\n')}\n\nProtect a clip in the Camstack panel to keep it; ` +
      'otherwise retention deletes it at the time shown.',
  };
}

/** A camera event once its picture is taken (or could not be): what Home Assistant is told. */
export interface CameraEventAnnouncement {
  event: CameraEventView;
  cameraName: string;
  /** The picture of the moment, relative to the media folder, or null. */
  picturePath: string | null;
  /** The camera's rules say this one notifies. */
  notify: boolean;
}

/**
 * Where the Home Assistant companion app fetches a file under the media folder: `/media/local/…`
 * (HA serves its media folder there). Null when the media dir is not under `/media`.
 */
export function mediaUrlPath(mediaDir: string, relativePath: string): string | null {
  const abs = posix.join(mediaDir, relativePath);
  if (!abs.startsWith('/media/')) return null;
  return `/media/local/${abs.slice('/media/'.length)}`;
}

export function cameraEventFired(a: CameraEventAnnouncement, mediaDir: string): HassEvent {
  const e = a.event;
  return {
    type: 'camstack_camera_event',
    data: {
      camera: e.camera,
      camera_name: a.cameraName,
      event_id: e.id,
      type: e.type,
      source: e.source,
      start: e.start,
      end: e.end,
      clip_id: e.clipId,
      picture_path: a.picturePath,
      image: a.picturePath === null ? null : mediaUrlPath(mediaDir, a.picturePath),
      picture_media_content_id: a.picturePath === null ? null : mediaSourceId(mediaDir, a.picturePath),
      detail: e.detail,
    },
  };
}

export interface ServiceCall {
  domain: string;
  service: string;
  service_data: Record<string, unknown>;
}

/**
 * The notify calls of an event (one per configured service, `notify.mobile_app_x`): a title and
 * a line a person reads, the picture of the moment, and a tap that opens the Camstack panel at the
 * event's recording (Android `clickAction`, iOS `url`; `?camstack_event=<id>`, read by the panel). One `tag` per camera and type, so a newer event replaces
 * the older on the phone. Never a credential: only names, times and paths under the media folder.
 */
export function eventNotifyCalls(
  a: CameraEventAnnouncement,
  services: readonly string[],
  mediaDir: string,
  panelPath: string | null,
): ServiceCall[] {
  const e = a.event;
  const word = DETECTION_LABELS[e.type];
  const at = new Date(e.start);
  const time = `${String(at.getHours()).padStart(2, '0')}:${String(at.getMinutes()).padStart(2, '0')}:${String(at.getSeconds()).padStart(2, '0')}`;
  const image = a.picturePath === null ? null : mediaUrlPath(mediaDir, a.picturePath);
  // Home Assistant's ingress page loads the panel at its root; the panel reads this query from it.
  const link = panelPath === null ? null : `${panelPath}?camstack_event=${encodeURIComponent(e.id)}`;
  const data: Record<string, unknown> = {
    tag: `camstack_${e.camera}_${e.type}`,
    group: `camstack_${e.camera}`,
    ...(image === null ? {} : { image }),
    ...(link === null ? {} : { clickAction: link, url: link }),
    camstack_event_id: e.id,
    camstack_clip_id: e.clipId,
  };
  return services.map((full) => ({
    domain: 'notify',
    service: full.slice('notify.'.length),
    service_data: { title: `${a.cameraName}: ${word.toLowerCase()}`, message: `${word} at ${time}`, data },
  }));
}
