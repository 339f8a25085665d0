/**
 * Facts about Camstack this package relies on: the API's limits (kept equal to the server's;
 * test/nodes/units.test.ts, "what the nodes share with the server", checks them against it) and the default address of
 * the add-on's direct API.
 */
import { createHash } from 'node:crypto';

/** Camera ids, as in the cameras file: lowercase letters, digits and `_`, 1–64 characters. */
export const CAMERA_ID_PATTERN = /^[a-z0-9_]{1,64}$/;
/** `preRoll` of a clip, seconds (server: MAX_PRE_ROLL_SECONDS). */
export const MAX_PRE_ROLL_SECONDS = 300;
/** `duration` of a clip, seconds (server: MAX_CLIP_SECONDS). */
export const MAX_CLIP_SECONDS = 3600;
/** Snapshot width in pixels (server: MIN_SNAPSHOT_WIDTH / MAX_SNAPSHOT_WIDTH). */
export const MIN_SNAPSHOT_WIDTH = 16;
export const MAX_SNAPSHOT_WIDTH = 3840;

/** Every event `GET /api/events` can stream (the server's bus), in the editor's order. */
export const EVENT_TYPES = [
  'camera.status',
  'camera.added',
  'camera.updated',
  'camera.removed',
  'clip.started',
  'clip.saved',
  'clip.failed',
  'snapshot.saved',
  'recording.segment',
  'recording.deleted',
  'recording.expiring',
  'recording.paused',
  'process.state',
  'metrics.tick',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Subscribed when a camstack-events node selects none: everything but the once-a-second metrics. */
export const DEFAULT_EVENT_TYPES: readonly EventType[] = EVENT_TYPES.filter((t) => t !== 'metrics.tick');

/**
 * The add-on repository users add to Home Assistant (also `url` in addon/config.yaml). `camstack`
 * is a placeholder GitHub owner, like everywhere else in this repository.
 */
export const ADDON_REPOSITORY_URL = 'https://github.com/camstack/camstack';
export const ADDON_SLUG = 'camstack';
/** The add-on's direct API port (`api_port`; the image's default, port 8098/tcp in config.yaml). */
export const DIRECT_API_PORT = 8098;

/**
 * The hostname of an add-on on the Supervisor's internal network, as the Supervisor derives it:
 * `<first 8 hex digits of sha1(lowercased repository URL)>-<slug>` with `_` turned into `-`
 * (supervisor/store/utils.py get_hash_from_repository; `local-<slug>` for local add-ons).
 */
export function addonHostname(repositoryUrl: string, slug: string): string {
  const repo = createHash('sha1').update(repositoryUrl.toLowerCase()).digest('hex').slice(0, 8);
  return `${repo}-${slug}`.replace(/_/g, '-');
}

/**
 * Default base URL of a camstack-server node: the Camstack add-on's direct API as another add-on
 * (the Node-RED add-on) reaches it on the Supervisor's network. Not the ingress port (8099): that
 * one only accepts Home Assistant's ingress proxy.
 */
export const DEFAULT_BASE_URL = `http://${addonHostname(ADDON_REPOSITORY_URL, ADDON_SLUG)}:${DIRECT_API_PORT}`;
