/**
 * Configuration schemas (TypeBox → JSON Schema). Two file forms, both snake_case:
 *
 * - `/data/options.json`: the Home Assistant add-on options ({@link OptionsSchema});
 * - the cameras YAML file (`cameras_file`, default `/config/cameras.yaml`) with a top-level
 *   `cameras:` list ({@link CamerasFileSchema}).
 *
 * Both are validated with Ajv in `load.ts`; the same schemas are meant to be reused by the
 * Fastify routes. Keys with a default are optional in the file form; `load.ts` fills the
 * defaults in from the constants below (the `default` keywords document the same values).
 */
import Type from 'typebox';
import { EventsConfigSchema } from './events-config.js';
import { INTEGRATION_OPTION_SCHEMAS } from './integration-options.js';
import { MotionConfigSchema } from './motion-schema.js';
import { OnvifConfigSchema } from './onvif-config.js';
import { CAMERA_ID_PATTERN, NO_CONTROL_PATTERN, TEXT_PATTERN } from './text.js';

export { CAMERA_ID_PATTERN, NO_CONTROL_PATTERN, TEXT_PATTERN };

/** Defaults for a camera's `recording` block. */
export const RECORDING_DEFAULTS = {
  continuous: false,
  retain_days: 7,
  clip_retain_days: 30,
  pre_roll_seconds: 0,
  clip_seconds: 20,
} as const;

/** Defaults of every add-on option that has one. `api_port`/`api_token` have none (off). */
export const OPTION_DEFAULTS = {
  log_level: 'info',
  cameras_file: '/config/cameras.yaml',
  media_dir: '/media/camstack',
  data_dir: '/data',
  max_cameras: 16,
  on_demand_grace_seconds: 30,
  webrtc_port: 8555,
  webrtc_candidates: [] as string[],
  rtsp_port: 8554,
  ingress_port: 8099,
  storage_max_gb: 0,
  storage_min_free_percent: 5,
} as const;

export const CAMERA_ENABLED_DEFAULT = true;

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warning', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** At least one non-whitespace character. */
export const NON_BLANK_PATTERN = '\\S';
/** An absolute POSIX path. */
export const ABSOLUTE_PATH_PATTERN = '^/';

const HOST_LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const PORT_NUMBER = '(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})';
/**
 * A WebRTC ICE candidate as go2rtc takes it: a host name, an IPv4 address or a bracketed IPv6
 * address, optionally followed by `:port`. Examples: `192.168.1.10:8555`, `cam.example.org`,
 * `[fd00::10]:8555`, `stun:8555` (go2rtc's "my public address via STUN").
 */
export const WEBRTC_CANDIDATE_PATTERN = `^(?:${HOST_LABEL}(?:\\.${HOST_LABEL})*|\\[[0-9A-Fa-f:.]+\\])(?::${PORT_NUMBER})?$`;

/** `T` or `null` (YAML's empty value, or "clear this field" in an API body). */
function Nullable<T extends Type.TSchema>(schema: T) {
  return Type.Union([schema, Type.Null()]);
}

const Port = (description: string, defaultValue?: number) =>
  Type.Integer({
    minimum: 1,
    maximum: 65535,
    description,
    ...(defaultValue === undefined ? {} : { default: defaultValue }),
  });

const Days = (description: string, defaultValue: number) =>
  Type.Integer({ minimum: 1, maximum: 3650, default: defaultValue, description });

export const RecordingConfigSchema = Type.Object(
  {
    continuous: Type.Optional(
      Type.Boolean({
        default: RECORDING_DEFAULTS.continuous,
        description: 'Record 24/7 in segments, deleted after retain_days. Default false.',
      }),
    ),
    retain_days: Type.Optional(
      Days('Days continuous-recording segments are kept (1–3650). Default 7.', RECORDING_DEFAULTS.retain_days),
    ),
    clip_retain_days: Type.Optional(
      Days(
        'Days event/manual clips are kept unless marked permanent (1–3650). Default 30.',
        RECORDING_DEFAULTS.clip_retain_days,
      ),
    ),
    pre_roll_seconds: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 60,
        default: RECORDING_DEFAULTS.pre_roll_seconds,
        description:
          'Seconds of video before the trigger included in a clip (0–60). Default 0. With continuous recording the ' +
          'pre-roll comes from the recording; without it, > 0 keeps the camera connected to hold a rolling buffer ' +
          '(a few minutes of segments, deleted unless a clip needs them).',
      }),
    ),
    clip_seconds: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 3600,
        default: RECORDING_DEFAULTS.clip_seconds,
        description: 'Length of a triggered clip in seconds when no duration is given (1–3600). Default 20.',
      }),
    ),
  },
  { additionalProperties: false, description: 'Recording settings of one camera. Every key is optional.' },
);

export const CameraConfigSchema = Type.Object(
  {
    id: Type.String({
      pattern: CAMERA_ID_PATTERN,
      description:
        'Stable slug (lowercase letters, digits, underscore; 1–64 characters) used in entity ids, MQTT topics and ' +
        'recording paths. Changing it makes a new camera.',
    }),
    name: Type.String({
      minLength: 1,
      maxLength: 100,
      pattern: TEXT_PATTERN,
      description:
        'Display name (1–100 characters, not blank, no control characters; surrounding whitespace is trimmed).',
    }),
    source: Type.String({
      minLength: 1,
      maxLength: 2048,
      description:
        'Main stream URL: rtsp://, rtsps://, rtmp://, or http(s):// for MJPEG streams and JPEG snapshots (the type ' +
        'is detected from the URL). Credentials may be embedded on input; they are split into username/password.',
    }),
    substream: Type.Optional(
      Nullable(
        Type.String({
          minLength: 1,
          maxLength: 2048,
          description: 'Optional low-resolution stream URL for dashboards and thumbnails. Default none.',
        }),
      ),
    ),
    username: Type.Optional(
      Nullable(
        Type.String({
          maxLength: 256,
          pattern: NO_CONTROL_PATTERN,
          description: 'Camera user name, kept apart from the URL. Default none.',
        }),
      ),
    ),
    password: Type.Optional(
      Nullable(
        Type.String({
          maxLength: 256,
          description: 'Camera password, kept apart from the URL and never returned by the API. Default none.',
        }),
      ),
    ),
    enabled: Type.Optional(
      Type.Boolean({
        default: CAMERA_ENABLED_DEFAULT,
        description: 'When false the camera stays configured but is not streamed or recorded. Default true.',
      }),
    ),
    recording: Type.Optional(Nullable(RecordingConfigSchema)),
    events: Type.Optional(Nullable(EventsConfigSchema)),
    onvif: Type.Optional(Nullable(OnvifConfigSchema)),
    motion: Type.Optional(Nullable(MotionConfigSchema)),
  },
  { additionalProperties: false, description: 'One camera, as written in options.json or the cameras file.' },
);

export const OptionsSchema = Type.Object(
  {
    log_level: Type.Optional(
      Type.Enum([...LOG_LEVELS], {
        default: OPTION_DEFAULTS.log_level,
        description: 'Log level: trace, debug, info, warning or error. Default info.',
      }),
    ),
    cameras_file: Type.Optional(
      Type.String({
        pattern: ABSOLUTE_PATH_PATTERN,
        default: OPTION_DEFAULTS.cameras_file,
        description:
          'Absolute path of the YAML file with more cameras (top-level key `cameras:`). Default ' +
          '/config/cameras.yaml; a missing file at the default path means no cameras from a file.',
      }),
    ),
    media_dir: Type.Optional(
      Type.String({
        pattern: ABSOLUTE_PATH_PATTERN,
        default: OPTION_DEFAULTS.media_dir,
        description: 'Absolute directory for recordings, clips and snapshots. Default /media/camstack.',
      }),
    ),
    data_dir: Type.Optional(
      Type.String({
        pattern: ABSOLUTE_PATH_PATTERN,
        default: OPTION_DEFAULTS.data_dir,
        description: 'Absolute directory for internal state (engine configs, indexes). Default /data.',
      }),
    ),
    cameras: Type.Optional(
      Type.Array(CameraConfigSchema, {
        default: [],
        description: 'Cameras defined in the add-on configuration UI. Default none.',
      }),
    ),
    max_cameras: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 64,
        default: OPTION_DEFAULTS.max_cameras,
        description: 'Most cameras (options and file together, enabled or not) accepted (1–64). Default 16.',
      }),
    ),
    on_demand_grace_seconds: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 3600,
        default: OPTION_DEFAULTS.on_demand_grace_seconds,
        description: 'Seconds a stream keeps running after its last viewer leaves (0–3600). Default 30.',
      }),
    ),
    webrtc_port: Type.Optional(Port('WebRTC media port (UDP and TCP). Default 8555.', OPTION_DEFAULTS.webrtc_port)),
    webrtc_candidates: Type.Optional(
      Type.Array(
        Type.String({
          pattern: WEBRTC_CANDIDATE_PATTERN,
          description: 'host, host:port, [ipv6]:port or stun:port',
        }),
        {
          default: [],
          maxItems: 16,
          description:
            'Extra WebRTC ICE candidates (host or host:port) for clients outside the LAN, e.g. a public address. ' +
            'Default none.',
        },
      ),
    ),
    rtsp_port: Type.Optional(Port('RTSP restream port. Default 8554.', OPTION_DEFAULTS.rtsp_port)),
    api_port: Type.Optional(
      Nullable(
        Port('Direct API port for Node-RED and other clients, protected by api_token. Off when omitted (the default).'),
      ),
    ),
    api_token: Type.Optional(
      Nullable(
        Type.String({
          minLength: 16,
          maxLength: 512,
          description: 'Bearer token for the direct API port (at least 16 characters). Required with api_port.',
        }),
      ),
    ),
    ingress_port: Type.Optional(Port('Home Assistant ingress port. Default 8099.', OPTION_DEFAULTS.ingress_port)),
    // MQTT discovery, the HA websocket and HA live cameras (integration-options.ts).
    ...INTEGRATION_OPTION_SCHEMAS,
    storage_max_gb: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: 1_000_000,
        default: OPTION_DEFAULTS.storage_max_gb,
        description:
          'Most gigabytes (10^9 bytes) all recordings may use together; the oldest unprotected recordings of any ' +
          'camera are deleted first. 0 = no cap (the default).',
      }),
    ),
    storage_min_free_percent: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 90,
        default: OPTION_DEFAULTS.storage_min_free_percent,
        description:
          'Keep at least this much of the media disk free (0–90 %); the oldest unprotected recordings are deleted ' +
          'first. Default 5.',
      }),
    ),
  },
  { additionalProperties: false, description: 'Camstack add-on options (/data/options.json).' },
);

export const CamerasFileSchema = Type.Object(
  {
    cameras: Type.Optional(
      Nullable(Type.Array(CameraConfigSchema, { description: 'Cameras managed in the file. Default none.' })),
    ),
  },
  { additionalProperties: false, description: 'The cameras YAML file.' },
);

export type RecordingConfig = Type.Static<typeof RecordingConfigSchema>;
export type CameraConfig = Type.Static<typeof CameraConfigSchema>;
export type Options = Type.Static<typeof OptionsSchema>;
export type CamerasFile = Type.Static<typeof CamerasFileSchema>;
