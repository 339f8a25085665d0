/**
 * Facts about Camstack this package relies on: the API's limits, the camera-id pattern and the
 * event types come from the server's contract (inlined by the build: the package has no runtime
 * dependency); here are the default address of the add-on's direct API and how it is derived.
 */
import { createHash } from 'node:crypto';
import { CAMERA_ID_PATTERN as CAMERA_ID_SOURCE } from '../../server/src/contract/index.js';

export {
  DEFAULT_EVENT_TYPES,
  EVENT_DESCRIPTIONS,
  EVENT_TYPES,
  type EventType,
  MAX_CLIP_SECONDS,
  MAX_PRE_ROLL_SECONDS,
  MAX_SNAPSHOT_WIDTH,
  MIN_SNAPSHOT_WIDTH,
} from '../../server/src/contract/index.js';

/** Camera ids, as in the cameras file: lowercase letters, digits and `_`, 1–64 characters. */
export const CAMERA_ID_PATTERN = new RegExp(CAMERA_ID_SOURCE);

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
