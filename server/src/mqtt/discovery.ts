/**
 * Home Assistant MQTT discovery payloads (pure): one HA device per camera plus one "Camstack"
 * hub device the cameras hang off (`via_device`).
 *
 * Device-based discovery (HA ≥ 2024.11; Camstack supports HA ≥ 2025.1): one retained
 * `<prefix>/device/<device id>/config` per camera and one for the hub, each carrying `device`,
 * `origin` and every entity under `components`. An empty retained payload on that topic removes
 * the device and all its entities. The `device` block never carries `model_id`.
 *
 * Ids: a camera's device is `<node>_<camera id>`, its entities' unique ids `<node>_<camera id>_<key>`;
 * the hub's device is `<node>` and its entities `<node>_<key>`. Entity ids are a public contract
 * (addon/DOCS.md lists them), the same on every supported HA: `default_entity_id` fixes them on
 * HA ≥ 2025.10 (`camera.front_door`, `switch.front_door_recording`); `object_id` says the same
 * for HA 2025.1–2025.9, which know nothing else. HA 2025.10–2026.3 use `default_entity_id` when
 * both are there and warn only about an `object_id` alone; HA ≥ 2026.4 drops `object_id` (unknown
 * keys are removed from discovery configs). Renaming a camera renames its device and friendly
 * names but keeps every id.
 *
 * Camstack before 0.2 published one retained config per entity
 * (`<prefix>/<component>/<node>/<object id>/config`); legacyDiscoveryTopic() names those so the
 * bridge can migrate them (`{"migrate_discovery": true}`, then an empty payload) without HA
 * deleting the entities or their ids.
 */
import type { Camera } from '../config/load.js';
import { DETECTION_LABELS, type DetectionType } from '../contract/index.js';
import {
  availabilityTopic,
  cameraEventAttributesTopic,
  cameraEventTopic,
  cameraEventTriggerTopic,
  cameraImageTopic,
  cameraStateTopic,
  clipSaveTopic,
  deviceDiscoveryTopic,
  discoveryTopic,
  hubStateTopic,
  nodeId,
  recordingSetTopic,
  snapshotSaveTopic,
  type TopicContext,
} from './topics.js';

export interface DiscoveryContext extends TopicContext {
  /** Camstack's version (origin and hub device). */
  version: string;
}

export type DiscoveryPayload = Record<string, unknown>;

export interface DiscoveryMessage {
  topic: string;
  /** The config; serialise with JSON.stringify. */
  payload: DiscoveryPayload;
}

/**
 * What a camera's discovery depends on (nothing else: a change elsewhere republishes nothing):
 * its name, its kind, and the event types it has reported (one binary sensor and one device
 * trigger each, added when the camera first reports that type).
 */
export type DiscoveryCamera = Pick<Camera, 'id' | 'name' | 'sourceType'> & {
  eventTypes?: readonly DetectionType[] | undefined;
};

/** How Home Assistant shows each event type's binary sensor. */
const EVENT_ENTITY: Readonly<Record<DetectionType, { device_class?: string; icon?: string }>> = {
  motion: { device_class: 'motion' },
  person: { device_class: 'occupancy', icon: 'mdi:account' },
  vehicle: { device_class: 'occupancy', icon: 'mdi:car' },
  animal: { device_class: 'occupancy', icon: 'mdi:paw' },
  line_crossing: { device_class: 'motion', icon: 'mdi:vector-line' },
  intrusion: { device_class: 'occupancy', icon: 'mdi:shield-alert' },
  tamper: { device_class: 'tamper' },
  digital_input: { icon: 'mdi:electric-switch' },
};

/** `binary_sensor.front_door_person`: the entity id of a camera's event type. */
export function cameraEventEntityId(cameraId: string, type: DetectionType): string {
  return `binary_sensor.${cameraId}_${type}`;
}

/** The components of the event types a camera reports: a binary sensor and a device trigger each. */
function eventComponents(ctx: DiscoveryContext, camera: DiscoveryCamera): [string, DiscoveryPayload][] {
  const prefix = cameraDeviceId(ctx, camera.id);
  return (camera.eventTypes ?? []).flatMap((type): [string, DiscoveryPayload][] => {
    const entityId = cameraEventEntityId(camera.id, type);
    return [
      [
        `event_${type}`,
        {
          platform: 'binary_sensor',
          unique_id: `${prefix}_event_${type}`,
          default_entity_id: entityId,
          object_id: objectId(entityId),
          name: DETECTION_LABELS[type],
          ...EVENT_ENTITY[type],
          state_topic: cameraEventTopic(ctx, camera.id, type),
          payload_on: 'ON',
          payload_off: 'OFF',
          json_attributes_topic: cameraEventAttributesTopic(ctx, camera.id, type),
        },
      ],
      [
        `trigger_${type}`,
        {
          platform: 'device_automation',
          automation_type: 'trigger',
          topic: cameraEventTriggerTopic(ctx, camera.id, type),
          type,
          subtype: 'detected',
          payload: 'start',
        },
      ],
    ];
  });
}

/** The camera status values the `Status` enum sensor can take. */
export const CAMERA_STATUS_OPTIONS = ['idle', 'connecting', 'streaming', 'offline', 'error', 'disabled'] as const;
export const ENGINES_STATUS_OPTIONS = ['ok', 'degraded'] as const;

const MODEL: Record<Camera['sourceType'], string> = {
  rtsp: 'RTSP camera',
  rtsps: 'RTSP camera (TLS)',
  rtmp: 'RTMP camera',
  'http-mjpeg': 'MJPEG camera',
  'http-jpeg': 'JPEG snapshot camera',
  'ffmpeg-test': 'Test source',
};

export const CAMERA_ENTITY_KEYS = [
  'camera',
  'recording',
  'save_clip',
  'snapshot',
  'status',
  'viewers',
  'bitrate',
  'fps',
  'storage',
  'last_clip',
  'online',
] as const;
export type CameraEntityKey = (typeof CAMERA_ENTITY_KEYS)[number];

export const HUB_ENTITY_KEYS = ['engines', 'storage_used', 'storage_free', 'recordings', 'version'] as const;
export type HubEntityKey = (typeof HUB_ENTITY_KEYS)[number];

const COMPONENT: Record<CameraEntityKey | HubEntityKey, string> = {
  camera: 'camera',
  recording: 'switch',
  save_clip: 'button',
  snapshot: 'button',
  status: 'sensor',
  viewers: 'sensor',
  bitrate: 'sensor',
  fps: 'sensor',
  storage: 'sensor',
  last_clip: 'sensor',
  online: 'binary_sensor',
  engines: 'sensor',
  storage_used: 'sensor',
  storage_free: 'sensor',
  recordings: 'sensor',
  version: 'sensor',
};

export function origin(ctx: DiscoveryContext): DiscoveryPayload {
  return { name: 'Camstack', sw_version: ctx.version };
}

export function hubDeviceId(ctx: TopicContext): string {
  return nodeId(ctx.topicPrefix);
}

export function cameraDeviceId(ctx: TopicContext, cameraId: string): string {
  return `${nodeId(ctx.topicPrefix)}_${cameraId}`;
}

function hubDevice(ctx: DiscoveryContext): DiscoveryPayload {
  return {
    identifiers: [hubDeviceId(ctx)],
    name: 'Camstack',
    manufacturer: 'Camstack',
    model: 'Camera hub (go2rtc, MediaMTX, FFmpeg)',
    sw_version: ctx.version,
  };
}

function cameraDevice(ctx: DiscoveryContext, camera: DiscoveryCamera): DiscoveryPayload {
  return {
    identifiers: [cameraDeviceId(ctx, camera.id)],
    name: camera.name,
    manufacturer: 'Camstack',
    model: MODEL[camera.sourceType],
    via_device: hubDeviceId(ctx),
  };
}

const json = (field: string) => `{{ value_json.${field} }}`;

/** The entity-specific part of each camera entity's config (without ids, device, origin). */
function cameraEntityConfig(ctx: DiscoveryContext, id: string, key: CameraEntityKey): DiscoveryPayload {
  const state = cameraStateTopic(ctx, id);
  switch (key) {
    case 'camera':
      // name null: the entity is named after the device ("Front door").
      // picture_at: when the picture was taken (an idle on-demand camera keeps its last one).
      return {
        name: null,
        topic: cameraImageTopic(ctx, id),
        json_attributes_topic: state,
        json_attributes_template: '{{ {"picture_at": value_json.picture_at} | tojson }}',
      };
    case 'recording':
      return {
        name: 'Recording',
        icon: 'mdi:record-rec',
        command_topic: recordingSetTopic(ctx, id),
        state_topic: state,
        value_template: json('recording'),
        payload_on: 'ON',
        payload_off: 'OFF',
      };
    case 'save_clip':
      return { name: 'Save clip', icon: 'mdi:movie-open-plus', command_topic: clipSaveTopic(ctx, id) };
    case 'snapshot':
      return { name: 'Save snapshot', icon: 'mdi:camera', command_topic: snapshotSaveTopic(ctx, id) };
    case 'status':
      return {
        name: 'Status',
        icon: 'mdi:cctv',
        device_class: 'enum',
        options: [...CAMERA_STATUS_OPTIONS],
        state_topic: state,
        value_template: json('status'),
      };
    case 'viewers':
      return {
        name: 'Viewers',
        icon: 'mdi:eye',
        state_class: 'measurement',
        entity_category: 'diagnostic',
        state_topic: state,
        value_template: json('viewers'),
      };
    case 'bitrate':
      return {
        name: 'Bitrate',
        device_class: 'data_rate',
        unit_of_measurement: 'kbit/s',
        state_class: 'measurement',
        suggested_display_precision: 0,
        entity_category: 'diagnostic',
        state_topic: state,
        value_template: json('bitrate_kbps'),
      };
    case 'fps':
      return {
        name: 'Frame rate',
        icon: 'mdi:filmstrip',
        unit_of_measurement: 'fps',
        state_class: 'measurement',
        suggested_display_precision: 1,
        entity_category: 'diagnostic',
        state_topic: state,
        value_template: json('fps'),
      };
    case 'storage':
      return {
        name: 'Storage used',
        icon: 'mdi:harddisk',
        device_class: 'data_size',
        unit_of_measurement: 'B',
        state_class: 'measurement',
        entity_category: 'diagnostic',
        state_topic: state,
        value_template: json('storage_bytes'),
      };
    case 'last_clip':
      return {
        name: 'Last clip',
        icon: 'mdi:filmstrip-box',
        device_class: 'timestamp',
        state_topic: state,
        value_template: json('last_clip_at'),
      };
    case 'online':
      return {
        name: 'Online',
        device_class: 'connectivity',
        entity_category: 'diagnostic',
        state_topic: state,
        value_template: json('online'),
        payload_on: 'ON',
        payload_off: 'OFF',
      };
  }
}

function hubEntityConfig(ctx: DiscoveryContext, key: HubEntityKey): DiscoveryPayload {
  const state = hubStateTopic(ctx);
  switch (key) {
    case 'engines':
      return {
        name: 'Engines',
        icon: 'mdi:engine',
        device_class: 'enum',
        options: [...ENGINES_STATUS_OPTIONS],
        state_topic: state,
        value_template: json('engines'),
        json_attributes_topic: state,
        json_attributes_template: '{{ value_json.engine_states | tojson }}',
      };
    case 'storage_used':
      return {
        name: 'Storage used',
        icon: 'mdi:harddisk',
        device_class: 'data_size',
        unit_of_measurement: 'B',
        state_class: 'measurement',
        state_topic: state,
        value_template: json('storage_used_bytes'),
      };
    case 'storage_free':
      return {
        name: 'Storage free',
        icon: 'mdi:harddisk',
        device_class: 'data_size',
        unit_of_measurement: 'B',
        state_class: 'measurement',
        state_topic: state,
        value_template: json('storage_free_bytes'),
      };
    case 'recordings':
      return {
        name: 'Recordings',
        icon: 'mdi:filmstrip-box-multiple',
        state_class: 'measurement',
        state_topic: state,
        value_template: json('recordings'),
      };
    case 'version':
      return {
        name: 'Version',
        icon: 'mdi:information-outline',
        entity_category: 'diagnostic',
        state_topic: state,
        value_template: json('version'),
      };
  }
}

/** The entity id a camera entity has on every supported HA version (the documented contract). */
export function cameraEntityId(cameraId: string, key: CameraEntityKey): string {
  return key === 'camera' ? `camera.${cameraId}` : `${COMPONENT[key]}.${cameraId}_${key}`;
}

/** The entity id a hub entity has on every supported HA version (the documented contract). */
export function hubEntityId(ctx: TopicContext, key: HubEntityKey): string {
  return `${COMPONENT[key]}.${hubDeviceId(ctx)}_${key}`;
}

/** `sensor.front_door_fps` → `front_door_fps` (what HA before 2025.10 takes as `object_id`). */
function objectId(entityId: string): string {
  return entityId.slice(entityId.indexOf('.') + 1);
}

/** Every entity id of one camera, in CAMERA_ENTITY_KEYS order. */
export function cameraEntityIds(cameraId: string): string[] {
  return CAMERA_ENTITY_KEYS.map((key) => cameraEntityId(cameraId, key));
}

/** Every entity id of the hub, in HUB_ENTITY_KEYS order. */
export function hubEntityIds(ctx: TopicContext): string[] {
  return HUB_ENTITY_KEYS.map((key) => hubEntityId(ctx, key));
}

/** The one retained device config of a camera (11 entities, plus two per event type it reports). */
export function cameraDiscovery(ctx: DiscoveryContext, camera: DiscoveryCamera): DiscoveryMessage {
  const prefix = cameraDeviceId(ctx, camera.id);
  const components = Object.fromEntries([
    ...CAMERA_ENTITY_KEYS.map((key): [string, DiscoveryPayload] => [
      key,
      {
        platform: COMPONENT[key],
        unique_id: `${prefix}_${key}`,
        default_entity_id: cameraEntityId(camera.id, key),
        object_id: objectId(cameraEntityId(camera.id, key)),
        ...cameraEntityConfig(ctx, camera.id, key),
      },
    ]),
    ...eventComponents(ctx, camera),
  ]);
  return {
    topic: deviceDiscoveryTopic(ctx, prefix),
    payload: {
      device: cameraDevice(ctx, camera),
      origin: origin(ctx),
      availability_topic: availabilityTopic(ctx),
      components,
    },
  };
}

/** The discovery topic of a camera's device (an empty retained payload removes the device). */
export function cameraDiscoveryTopic(ctx: TopicContext, cameraId: string): string {
  return deviceDiscoveryTopic(ctx, cameraDeviceId(ctx, cameraId));
}

/** The hub device's retained config. */
export function hubDiscovery(ctx: DiscoveryContext): DiscoveryMessage {
  const node = hubDeviceId(ctx);
  const components = Object.fromEntries(
    HUB_ENTITY_KEYS.map((key) => [
      key,
      {
        platform: COMPONENT[key],
        unique_id: `${node}_${key}`,
        default_entity_id: hubEntityId(ctx, key),
        object_id: objectId(hubEntityId(ctx, key)),
        ...hubEntityConfig(ctx, key),
      },
    ]),
  );
  return {
    topic: deviceDiscoveryTopic(ctx, node),
    payload: { device: hubDevice(ctx), origin: origin(ctx), availability_topic: availabilityTopic(ctx), components },
  };
}

/** Everything to publish for these cameras: the hub first, then each camera in order. */
export function allDiscovery(ctx: DiscoveryContext, cameras: readonly DiscoveryCamera[]): DiscoveryMessage[] {
  return [hubDiscovery(ctx), ...cameras.map((c) => cameraDiscovery(ctx, c))];
}

/**
 * Whether a retained device config belongs to this Camstack (its hub, or a camera hanging off its
 * hub), read from the payload: another Camstack's node id may share our prefix (`camstack_2`).
 */
export function isOwnDeviceConfig(ctx: TopicContext, payload: unknown): boolean {
  if (typeof payload !== 'object' || payload === null) return false;
  const device = (payload as { device?: unknown; dev?: unknown }).device ?? (payload as { dev?: unknown }).dev;
  if (typeof device !== 'object' || device === null) return false;
  const d = device as { identifiers?: unknown; ids?: unknown; via_device?: unknown };
  const ids = d.identifiers ?? d.ids;
  const list = Array.isArray(ids) ? ids : [ids];
  const hub = hubDeviceId(ctx);
  return list.includes(hub) || d.via_device === hub;
}

/** The payload that starts HA's migration of a per-entity config to device-based discovery. */
export const MIGRATE_DISCOVERY_PAYLOAD: DiscoveryPayload = Object.freeze({ migrate_discovery: true });

/** The per-entity topic Camstack before 0.2 used for a camera entity (for migration). */
export function legacyCameraTopics(ctx: TopicContext, cameraId: string): string[] {
  return CAMERA_ENTITY_KEYS.map((key) => discoveryTopic(ctx, COMPONENT[key], `${cameraId}_${key}`));
}

/** The per-entity topics Camstack before 0.2 used for the hub (for migration). */
export function legacyHubTopics(ctx: TopicContext): string[] {
  return HUB_ENTITY_KEYS.map((key) => discoveryTopic(ctx, COMPONENT[key], key));
}
