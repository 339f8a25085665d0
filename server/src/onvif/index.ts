// ONVIF: Camstack's own small client (device time, services, profiles and stream URIs, PullPoint
// events, WS-Discovery). What the rest of the server uses; the modules behind it are pure except
// transport.ts, subscription.ts and discovery.ts's probe().
export { type BackoffPolicy, backoffDelay, DEFAULT_BACKOFF } from './backoff.js';
export { deviceUrlOf, OnvifClient, type OnvifEndpoint, type StreamChoice } from './client.js';
export type { DeviceInformation, DeviceServices } from './device.js';
export { type DiscoveredCamera, type ProbeOptions, probe, WS_DISCOVERY_PORT } from './discovery.js';
export { type MediaProfile, pickStreams } from './media.js';
export { type EventSubscriptionOptions, OnvifEventSubscription, type OnvifSubscriptionStatus } from './subscription.js';
export { mapNotification, normaliseTopic, type OnvifEvent, type OnvifEventType } from './topics.js';
export { OnvifError, type OnvifErrorKind, OnvifTransport } from './transport.js';
