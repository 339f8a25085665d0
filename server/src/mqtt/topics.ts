/**
 * Camstack's MQTT topic layout (pure). Under the topic prefix (default `camstack`):
 *
 *     <prefix>/status                              online / offline (retained; offline is our last will)
 *     <prefix>/hub/state                           JSON: engines, storage, recordings, version (retained)
 *     <prefix>/camera/<id>/state                   JSON: status, online, viewers, bitrate… (retained)
 *     <prefix>/camera/<id>/image                   JPEG bytes of the latest snapshot (retained)
 *     <prefix>/camera/<id>/recording/set           command: ON / OFF (continuous recording)
 *     <prefix>/camera/<id>/clip/save               command: PRESS (save a clip)
 *     <prefix>/camera/<id>/snapshot/save           command: PRESS (save a snapshot)
 *
 * Discovery: `<discovery prefix>/device/<device id>/config` per device (device ids start with
 * the node id, derived from the topic prefix, so two Camstacks on one broker do not overwrite each
 * other). Before 0.2: `<discovery prefix>/<component>/<node id>/<object id>/config` per entity
 * (still recognised, to migrate them).
 */

export interface TopicContext {
  topicPrefix: string;
  discoveryPrefix: string;
}

/** `camstack` → `camstack`; `home/cams` → `home_cams` (discovery node ids allow `[A-Za-z0-9_-]`). */
export function nodeId(topicPrefix: string): string {
  return topicPrefix.replace(/[^A-Za-z0-9_-]/g, '_');
}

export const availabilityTopic = (c: TopicContext) => `${c.topicPrefix}/status`;
export const hubStateTopic = (c: TopicContext) => `${c.topicPrefix}/hub/state`;
export const cameraBase = (c: TopicContext, id: string) => `${c.topicPrefix}/camera/${id}`;
export const cameraStateTopic = (c: TopicContext, id: string) => `${cameraBase(c, id)}/state`;
export const cameraImageTopic = (c: TopicContext, id: string) => `${cameraBase(c, id)}/image`;
export const recordingSetTopic = (c: TopicContext, id: string) => `${cameraBase(c, id)}/recording/set`;
export const clipSaveTopic = (c: TopicContext, id: string) => `${cameraBase(c, id)}/clip/save`;
export const snapshotSaveTopic = (c: TopicContext, id: string) => `${cameraBase(c, id)}/snapshot/save`;
/** A camera event type's state (`ON` while one lasts), retained. */
export const cameraEventTopic = (c: TopicContext, id: string, type: string) => `${cameraBase(c, id)}/event/${type}`;
/** The latest event of that type (JSON: id, start, end, picture, clip), retained. */
export const cameraEventAttributesTopic = (c: TopicContext, id: string, type: string) =>
  `${cameraEventTopic(c, id, type)}/attributes`;
/** `start` when an event of that type starts (a device trigger in Home Assistant), not retained. */
export const cameraEventTriggerTopic = (c: TopicContext, id: string, type: string) =>
  `${cameraEventTopic(c, id, type)}/trigger`;
/** Home Assistant's birth/last-will topic. */
export const haStatusTopic = (c: TopicContext) => `${c.discoveryPrefix}/status`;

/** A device-based discovery topic. */
export function deviceDiscoveryTopic(c: TopicContext, deviceId: string): string {
  return `${c.discoveryPrefix}/device/${deviceId}/config`;
}

/** A per-entity discovery topic (Camstack before 0.2; only for migrating them). */
export function discoveryTopic(c: TopicContext, component: string, objectId: string): string {
  return `${c.discoveryPrefix}/${component}/${nodeId(c.topicPrefix)}/${objectId}/config`;
}

/** Subscriptions for every command topic (one wildcard each). */
export function commandSubscriptions(c: TopicContext): string[] {
  const base = `${c.topicPrefix}/camera/+`;
  return [`${base}/recording/set`, `${base}/clip/save`, `${base}/snapshot/save`];
}

/** Every retained per-entity config of this Camstack (Camstack before 0.2: to migrate them). */
export function legacyDiscoverySubscription(c: TopicContext): string {
  return `${c.discoveryPrefix}/+/${nodeId(c.topicPrefix)}/+/config`;
}

/** Every retained device config on the broker (ours are told apart by their payload). */
export function deviceDiscoverySubscription(c: TopicContext): string {
  return `${c.discoveryPrefix}/device/+/config`;
}
