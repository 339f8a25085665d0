/**
 * Home Assistant MQTT discovery payloads (pure): one HA device per camera plus one "Camstack"
 * hub device the cameras hang off (`via_device`).
 *
 * Per-entity topics (`<prefix>/<component>/<node>/<object>/config`), which every HA since 2022
 * understands; device-based discovery needs HA ≥ 2024.12 and is not used. The `device` block
 * never carries `model_id`: HA before ≈2024.8 rejects the whole config for an unknown device key.
 *
 * Ids: a camera's device is `<node>_<camera id>`, its entities `<node>_<camera id>_<key>`; the
 * hub's device is `<node>` and its entities `<node>_<key>` (hub keys are never `<id>_<camera
 * key>`). `object_id` fixes the entity ids (`camera.front_door`, `switch.front_door_recording`),
 * so renaming a camera renames its device and friendly names but keeps every id.
 */
import type { Camera } from '../config/load.js';
import {
  availabilityTopic,
  cameraImageTopic,
  cameraStateTopic,
  clipSaveTopic,
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

/** What a camera's discovery depends on (nothing else: a change elsewhere republishes nothing). */
export type DiscoveryCamera = Pick<Camera, 'id' | 'name' | 'sourceType'>;

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
      return { name: null, topic: cameraImageTopic(ctx, id) };
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

/** Every discovery message of one camera (11 entities). */
export function cameraDiscovery(ctx: DiscoveryContext, camera: DiscoveryCamera): DiscoveryMessage[] {
  const device = cameraDevice(ctx, camera);
  const prefix = cameraDeviceId(ctx, camera.id);
  return CAMERA_ENTITY_KEYS.map((key) => ({
    topic: discoveryTopic(ctx, COMPONENT[key], `${camera.id}_${key}`),
    payload: {
      ...cameraEntityConfig(ctx, camera.id, key),
      unique_id: `${prefix}_${key}`,
      object_id: key === 'camera' ? camera.id : `${camera.id}_${key}`,
      availability_topic: availabilityTopic(ctx),
      device,
      origin: origin(ctx),
    },
  }));
}

/** The discovery topics of a camera (for removal: an empty retained payload on each). */
export function cameraDiscoveryTopics(ctx: TopicContext, cameraId: string): string[] {
  return CAMERA_ENTITY_KEYS.map((key) => discoveryTopic(ctx, COMPONENT[key], `${cameraId}_${key}`));
}

/** The hub device's discovery messages. */
export function hubDiscovery(ctx: DiscoveryContext): DiscoveryMessage[] {
  const device = hubDevice(ctx);
  const node = hubDeviceId(ctx);
  return HUB_ENTITY_KEYS.map((key) => ({
    topic: discoveryTopic(ctx, COMPONENT[key], key),
    payload: {
      ...hubEntityConfig(ctx, key),
      unique_id: `${node}_${key}`,
      object_id: `${node}_${key}`,
      availability_topic: availabilityTopic(ctx),
      device,
      origin: origin(ctx),
    },
  }));
}

/** Everything to publish for these cameras: the hub first, then each camera in order. */
export function allDiscovery(ctx: DiscoveryContext, cameras: readonly DiscoveryCamera[]): DiscoveryMessage[] {
  return [...hubDiscovery(ctx), ...cameras.flatMap((c) => cameraDiscovery(ctx, c))];
}
