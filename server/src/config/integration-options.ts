/**
 * The add-on options of the Home Assistant integration (MQTT discovery, the HA websocket, live
 * cameras, the RTSP reader) — schemas spread into `OptionsSchema` (schema.ts) and the
 * normalisation that `loadConfig` applies. hass/ and mqtt/ import their option types from here.
 */
import Type from 'typebox';
import { CAMERA_ID_PATTERN, TEXT_PATTERN } from './text.js';

/** MQTT topic levels without wildcards: `camstack`, `home/cameras`. */
export const TOPIC_PREFIX_PATTERN = '^[A-Za-z0-9_-]+(?:/[A-Za-z0-9_-]+)*$';
export const ENTITY_ID_PATTERN = '^[a-z0-9_]+\\.[a-z0-9_]+$';

export const INTEGRATION_DEFAULTS = {
  mqtt_enabled: true,
  mqtt_port: 1883,
  mqtt_ssl: false,
  mqtt_topic_prefix: 'camstack',
  mqtt_discovery_prefix: 'homeassistant',
  mqtt_snapshot_interval_seconds: 10,
  mqtt_snapshot_width: 640,
  ha_live_cameras: true,
  rtsp_username: 'camstack',
  trigger_to: 'on',
} as const;

function Nullable<T extends Type.TSchema>(schema: T) {
  return Type.Union([schema, Type.Null()]);
}

export const TriggerOptionSchema = Type.Object(
  {
    entity_id: Type.String({
      pattern: ENTITY_ID_PATTERN,
      description: 'The Home Assistant entity that triggers a clip, e.g. binary_sensor.front_door_motion.',
    }),
    to: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 255,
        pattern: TEXT_PATTERN,
        default: INTEGRATION_DEFAULTS.trigger_to,
        description: 'The state that starts a clip when the entity changes to it. Default "on".',
      }),
    ),
    camera: Type.String({ pattern: CAMERA_ID_PATTERN, description: 'Id of the camera to record.' }),
    pre_roll: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 60, description: "Seconds before the trigger. Default: the camera's." }),
    ),
    duration: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 3600, description: "Clip length in seconds. Default: the camera's." }),
    ),
  },
  { additionalProperties: false, description: 'Save a clip when a Home Assistant entity changes state.' },
);

/** Spread into OptionsSchema's properties. */
export const INTEGRATION_OPTION_SCHEMAS = {
  mqtt_enabled: Type.Optional(
    Type.Boolean({
      default: INTEGRATION_DEFAULTS.mqtt_enabled,
      description: 'Publish cameras to Home Assistant through MQTT discovery. Default true.',
    }),
  ),
  mqtt_host: Type.Optional(
    Nullable(
      Type.String({
        minLength: 1,
        maxLength: 253,
        description:
          'MQTT broker host. Default: the broker the Supervisor provides (the Mosquitto add-on); outside the ' +
          'add-on MQTT is off without it.',
      }),
    ),
  ),
  mqtt_port: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: 65535,
      default: INTEGRATION_DEFAULTS.mqtt_port,
      description: 'MQTT broker port (with mqtt_host). Default 1883.',
    }),
  ),
  mqtt_ssl: Type.Optional(
    Type.Boolean({ default: INTEGRATION_DEFAULTS.mqtt_ssl, description: 'TLS to the broker (with mqtt_host).' }),
  ),
  mqtt_username: Type.Optional(Nullable(Type.String({ maxLength: 256, description: 'MQTT user (with mqtt_host).' }))),
  mqtt_password: Type.Optional(
    Nullable(Type.String({ maxLength: 256, description: 'MQTT password (with mqtt_host).' })),
  ),
  mqtt_topic_prefix: Type.Optional(
    Type.String({
      pattern: TOPIC_PREFIX_PATTERN,
      maxLength: 64,
      default: INTEGRATION_DEFAULTS.mqtt_topic_prefix,
      description: 'Base of Camstack’s own MQTT topics (state, commands, availability). Default camstack.',
    }),
  ),
  mqtt_discovery_prefix: Type.Optional(
    Type.String({
      pattern: TOPIC_PREFIX_PATTERN,
      maxLength: 64,
      default: INTEGRATION_DEFAULTS.mqtt_discovery_prefix,
      description: 'Home Assistant’s MQTT discovery prefix. Default homeassistant.',
    }),
  ),
  mqtt_snapshot_interval_seconds: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: 3600,
      default: INTEGRATION_DEFAULTS.mqtt_snapshot_interval_seconds,
      description:
        'How often the camera entity’s picture is refreshed while the camera streams anyway (0–3600 s; 0 = only ' +
        'when it starts, on request and when a snapshot is saved). Idle on-demand cameras are not woken. Default 10.',
    }),
  ),
  mqtt_snapshot_width: Type.Optional(
    Type.Integer({
      minimum: 64,
      maximum: 3840,
      default: INTEGRATION_DEFAULTS.mqtt_snapshot_width,
      description: 'Width in pixels of the camera entity’s picture sent over MQTT. Default 640.',
    }),
  ),
  ha_url: Type.Optional(
    Nullable(
      Type.String({
        pattern: '^https?://',
        maxLength: 2048,
        description:
          'Home Assistant URL for events, notifications and live cameras, e.g. http://homeassistant.local:8123 ' +
          '(development; the add-on uses the Supervisor proxy).',
      }),
    ),
  ),
  ha_token: Type.Optional(
    Nullable(Type.String({ minLength: 1, maxLength: 1024, description: 'Long-lived access token (with ha_url).' })),
  ),
  ha_live_cameras: Type.Optional(
    Type.Boolean({
      default: INTEGRATION_DEFAULTS.ha_live_cameras,
      description:
        'Add one Generic Camera per camera to Home Assistant, streaming Camstack’s RTSP restream (live video on ' +
        'dashboards). Turning it off removes them. Default true.',
    }),
  ),
  ha_camstack_host: Type.Optional(
    Nullable(
      Type.String({
        minLength: 1,
        maxLength: 253,
        description:
          'Host name or address Home Assistant uses to reach Camstack (RTSP restream and snapshots). Default: the ' +
          'add-on’s host name, or 127.0.0.1 outside the add-on.',
      }),
    ),
  ),
  rtsp_username: Type.Optional(
    Nullable(
      Type.String({
        pattern: '^[A-Za-z0-9_.-]{1,64}$',
        description: 'User name readers other than this box need for the RTSP restream. Default camstack.',
      }),
    ),
  ),
  rtsp_password: Type.Optional(
    Nullable(
      Type.String({
        minLength: 8,
        maxLength: 128,
        pattern: '^[^\\s:@/]+$',
        description:
          'Password for the RTSP restream (8–128 characters, no spaces, ":", "@" or "/"). Default: generated ' +
          'once and kept in the data folder.',
      }),
    ),
  ),
  notify_services: Type.Optional(
    Type.Array(
      Type.String({
        pattern: '^notify\\.[a-z0-9_]{1,100}$',
        description: 'A Home Assistant notify service, e.g. notify.mobile_app_pixel_8.',
      }),
      {
        maxItems: 16,
        uniqueItems: true,
        default: [],
        description:
          "Where camera events notify (the types each camera's events.notify names), with the picture of the " +
          'moment. Default none.',
      },
    ),
  ),
  triggers: Type.Optional(
    Type.Array(TriggerOptionSchema, {
      maxItems: 64,
      default: [],
      description: 'Home Assistant entities whose state change saves a clip. Default none.',
    }),
  ),
};

const IntegrationOptionsSchema = Type.Object(INTEGRATION_OPTION_SCHEMAS);
export type IntegrationOptions = Type.Static<typeof IntegrationOptionsSchema>;

export interface MqttOptions {
  enabled: boolean;
  /** null: the Supervisor's broker in the add-on, otherwise MQTT stays off. */
  host: string | null;
  port: number;
  ssl: boolean;
  username: string | null;
  password: string | null;
  topicPrefix: string;
  discoveryPrefix: string;
  snapshotIntervalSeconds: number;
  snapshotWidth: number;
}

export interface TriggerOption {
  entityId: string;
  to: string;
  camera: string;
  preRollSeconds: number | null;
  durationSeconds: number | null;
}

export interface HassOptions {
  url: string | null;
  token: string | null;
  liveCameras: boolean;
  camstackHost: string | null;
  triggers: TriggerOption[];
  /** `notify.mobile_app_x` services camera events notify through. */
  notifyServices: string[];
}

export interface RtspReaderOptions {
  username: string;
  /** null: generated and persisted under the data dir on first start. */
  password: string | null;
}

export interface IntegrationConfig {
  mqtt: MqttOptions;
  hass: HassOptions;
  rtspReader: RtspReaderOptions;
}

function nonEmpty(value: string | null | undefined): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : null;
}

/** Normalise validated options (snake_case, defaults missing) into the camelCase config. */
export function integrationConfig(o: Partial<IntegrationOptions>): IntegrationConfig {
  const d = INTEGRATION_DEFAULTS;
  return {
    mqtt: {
      enabled: o.mqtt_enabled ?? d.mqtt_enabled,
      host: nonEmpty(o.mqtt_host),
      port: o.mqtt_port ?? d.mqtt_port,
      ssl: o.mqtt_ssl ?? d.mqtt_ssl,
      username: nonEmpty(o.mqtt_username),
      // Passwords are taken as given (no trimming).
      password: o.mqtt_password === undefined || o.mqtt_password === '' ? null : o.mqtt_password,
      topicPrefix: o.mqtt_topic_prefix ?? d.mqtt_topic_prefix,
      discoveryPrefix: o.mqtt_discovery_prefix ?? d.mqtt_discovery_prefix,
      snapshotIntervalSeconds: o.mqtt_snapshot_interval_seconds ?? d.mqtt_snapshot_interval_seconds,
      snapshotWidth: o.mqtt_snapshot_width ?? d.mqtt_snapshot_width,
    },
    hass: {
      url: nonEmpty(o.ha_url)?.replace(/\/+$/, '') ?? null,
      token: nonEmpty(o.ha_token),
      liveCameras: o.ha_live_cameras ?? d.ha_live_cameras,
      camstackHost: nonEmpty(o.ha_camstack_host),
      triggers: (o.triggers ?? []).map((t) => ({
        entityId: t.entity_id,
        to: t.to ?? d.trigger_to,
        camera: t.camera,
        preRollSeconds: t.pre_roll ?? null,
        durationSeconds: t.duration ?? null,
      })),
      notifyServices: [...(o.notify_services ?? [])],
    },
    rtspReader: {
      username: nonEmpty(o.rtsp_username) ?? d.rtsp_username,
      password: o.rtsp_password === undefined || o.rtsp_password === '' ? null : o.rtsp_password,
    },
  };
}

/** Option keys whose values are secrets (never echoed in configuration errors). */
export const INTEGRATION_SECRET_KEYS = ['mqtt_password', 'ha_token', 'rtsp_password'] as const;
