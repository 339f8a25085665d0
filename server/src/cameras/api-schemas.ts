/**
 * The camera API's shapes (camelCase, TypeBox → JSON Schema) and the mapping from a stored
 * {@link Camera} to what the API returns. Field limits are the cameras file's
 * ({@link CameraConfigSchema}), reused rather than restated; `additionalProperties: false`
 * everywhere, so an unknown field is a 400 naming it.
 *
 * A {@link CameraView} never carries the username or password, and its URLs have credential
 * query values (`password=`, `token=`…) masked.
 */
import { Type } from 'typebox';
import { DETECTION_TYPES, EventsConfigSchema } from '../config/events-config.js';
import type { Camera } from '../config/load.js';
import { MotionConfigSchema, MotionZoneSchema } from '../config/motion-schema.js';
import { OnvifConfigSchema } from '../config/onvif-config.js';
import { CAMERA_ID_PATTERN, CameraConfigSchema, RecordingConfigSchema } from '../config/schema.js';
import type { SourceType } from '../config/source.js';
import type { CameraStatus, CameraTestResult, CameraView, CameraWithStatus } from '../contract/index.js';

/**
 * A copy of a schema without its `default` keyword (TypeBox's hidden metadata such as
 * optionality is kept). API bodies must not get defaults filled in by the validator: a partial
 * update would otherwise reset every omitted field.
 */
function withoutDefault<T extends Type.TSchema>(schema: T, description?: string): T {
  const copy = Object.create(Object.getPrototypeOf(schema), Object.getOwnPropertyDescriptors(schema)) as T & {
    default?: unknown;
    description?: string;
  };
  Reflect.deleteProperty(copy, 'default');
  if (description !== undefined) copy.description = description;
  return copy;
}

const fileFields = CameraConfigSchema.properties;
const fileRecording = RecordingConfigSchema.properties;

/** The camera id pattern `^[a-z0-9_]{1,64}$`, as in the cameras file. */
export const CameraIdSchema = fileFields.id;

export const CameraIdParamsSchema = Type.Object(
  { id: Type.String({ pattern: CAMERA_ID_PATTERN, description: 'Camera id (lowercase letters, digits, _).' }) },
  { additionalProperties: false },
);

export const RecordingInputSchema = Type.Object(
  {
    continuous: withoutDefault(
      fileRecording.continuous,
      'Record 24/7 in segments, deleted after retainDays. Default false.',
    ),
    retainDays: withoutDefault(fileRecording.retain_days),
    clipRetainDays: withoutDefault(fileRecording.clip_retain_days),
    preRollSeconds: withoutDefault(fileRecording.pre_roll_seconds),
    clipSeconds: withoutDefault(fileRecording.clip_seconds),
  },
  { additionalProperties: false, description: 'Recording settings; every field is optional.' },
);

const fileEvents = EventsConfigSchema.properties;

export const EventsInputSchema = Type.Object(
  {
    record: fileEvents.record,
    preRollSeconds: fileEvents.pre_roll_seconds,
    postRollSeconds: withoutDefault(fileEvents.post_roll_seconds),
    cooldownSeconds: withoutDefault(fileEvents.cooldown_seconds),
    notify: fileEvents.notify,
    notifyCooldownSeconds: withoutDefault(fileEvents.notify_cooldown_seconds),
  },
  { additionalProperties: false, description: "What the camera's events do; every field is optional." },
);

const fileOnvif = OnvifConfigSchema.properties;

export const OnvifInputSchema = Type.Union(
  [
    Type.Object(
      {
        host: fileOnvif.host,
        port: withoutDefault(fileOnvif.port),
        username: fileOnvif.username,
        password: fileOnvif.password,
        events: withoutDefault(fileOnvif.events),
      },
      { additionalProperties: false },
    ),
    Type.Null(),
  ],
  { description: "The camera's ONVIF service (its own events): {} turns it on with the defaults, null off." },
);

const fileMotion = MotionConfigSchema.properties;

/** The motion settings in the API's spelling (camelCase), every field optional on input. */
export const MotionInputSchema = Type.Object(
  {
    enabled: withoutDefault(fileMotion.enabled),
    fps: withoutDefault(fileMotion.fps),
    width: withoutDefault(fileMotion.width),
    sensitivity: withoutDefault(fileMotion.sensitivity),
    minDurationSeconds: withoutDefault(fileMotion.min_duration_seconds),
    endAfterSeconds: withoutDefault(fileMotion.end_after_seconds),
    stream: withoutDefault(fileMotion.stream),
    zones: withoutDefault(fileMotion.zones),
  },
  { additionalProperties: false, description: "Camstack's motion detector on this camera; every field is optional." },
);

const cameraFields = {
  name: fileFields.name,
  source: fileFields.source,
  substream: withoutDefault(
    fileFields.substream,
    'Optional low-resolution stream URL for dashboards and thumbnails; null removes it.',
  ),
  username: withoutDefault(
    fileFields.username,
    'Camera user name, stored apart from the URL and never returned. Omitted: unchanged; null: removed.',
  ),
  password: withoutDefault(
    fileFields.password,
    'Camera password, stored apart from the URL and never returned. Omitted: unchanged; null: removed.',
  ),
  enabled: withoutDefault(
    fileFields.enabled,
    'When false the camera stays configured but is not streamed or recorded. Default true.',
  ),
  recording: Type.Optional(RecordingInputSchema),
  events: Type.Optional(EventsInputSchema),
  onvif: Type.Optional(OnvifInputSchema),
  motion: Type.Optional(MotionInputSchema),
};

/** POST /api/cameras. Credentials may be embedded in `source`; they are split out and stored apart. */
export const CameraInputSchema = Type.Object(
  { id: CameraIdSchema, ...cameraFields },
  { additionalProperties: false, description: 'A new camera.' },
);

/**
 * POST /api/cameras/test — a camera to try without saving it: the fields of a new camera, `id`
 * optional. With the id of a configured camera the fields are merged over it (omitted ones keep
 * their value, as in PUT), so an edit form can test what it would save.
 */
export const CameraPreviewInputSchema = Type.Object(
  {
    id: Type.Optional(
      Type.String({
        pattern: CAMERA_ID_PATTERN,
        description: 'Optional. A configured camera id: test that camera with these changes.',
      }),
    ),
    name: Type.Optional(fileFields.name),
    source: Type.Optional(fileFields.source),
    substream: cameraFields.substream,
    username: cameraFields.username,
    password: cameraFields.password,
    enabled: cameraFields.enabled,
    recording: cameraFields.recording,
    events: cameraFields.events,
    onvif: cameraFields.onvif,
    motion: cameraFields.motion,
  },
  { additionalProperties: false, description: 'A camera to test; nothing is saved.' },
);

const nullableNumber = Type.Union([Type.Number(), Type.Null()]);

/** What a connection test found: stream facts, or the camera's own reason. */
export const CameraTestResultSchema = Type.Object(
  {
    ok: Type.Boolean({ description: 'Video frames were read from the camera.' }),
    reason: Type.Optional(
      Type.String({ description: 'Why not, in words a person understands (never with credentials).' }),
    ),
    codec: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    width: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
    height: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
    fps: Type.Optional(nullableNumber),
    audioCodec: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    durationMs: Type.Integer({ minimum: 0, description: 'How long the test took.' }),
  },
  { additionalProperties: false, description: 'The result of a connection test.' },
);

/**
 * PUT /api/cameras/:id — a partial update: fields not given keep their value. `id` may be
 * given only with the camera's own id (ids are immutable). `username`/`password`: omitted keeps,
 * null clears. A `source` equal to the (redacted) one the API returned keeps the stored URL.
 */
export const CameraUpdateSchema = Type.Object(
  {
    id: Type.Optional(Type.String({ pattern: CAMERA_ID_PATTERN, description: 'Must equal the camera id if given.' })),
    name: Type.Optional(fileFields.name),
    source: Type.Optional(fileFields.source),
    substream: cameraFields.substream,
    username: cameraFields.username,
    password: cameraFields.password,
    enabled: cameraFields.enabled,
    recording: cameraFields.recording,
    events: cameraFields.events,
    onvif: cameraFields.onvif,
    motion: cameraFields.motion,
  },
  { additionalProperties: false, description: 'Changes to a camera; omitted fields keep their value.' },
);

export const SOURCE_TYPES = ['rtsp', 'rtsps', 'rtmp', 'http-mjpeg', 'http-jpeg', 'ffmpeg-test'] as const;

/** A camera's recording settings as the API returns them. */
export const RecordingSettingsSchema = Type.Object(
  {
    continuous: Type.Boolean(),
    retainDays: Type.Integer(),
    clipRetainDays: Type.Integer(),
    preRollSeconds: Type.Integer(),
    clipSeconds: Type.Integer(),
  },
  { additionalProperties: false },
);

const EventTypesSchema = Type.Array(Type.Enum([...DETECTION_TYPES]));

/** A camera's event settings as the API returns them. */
export const EventSettingsSchema = Type.Object(
  {
    record: EventTypesSchema,
    preRollSeconds: Type.Union([Type.Integer(), Type.Null()]),
    postRollSeconds: Type.Integer(),
    cooldownSeconds: Type.Integer(),
    notify: EventTypesSchema,
    notifyCooldownSeconds: Type.Integer(),
  },
  { additionalProperties: false },
);

export const CameraViewSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    source: Type.String({ description: 'Main stream URL without credentials (credential query values masked).' }),
    substream: Type.Union([Type.String(), Type.Null()]),
    hasCredentials: Type.Boolean({ description: 'Whether a username or password is stored (never returned).' }),
    enabled: Type.Boolean(),
    sourceType: Type.Enum([...SOURCE_TYPES]),
    origin: Type.Enum(['options', 'file'], {
      description: 'options: defined in the add-on configuration; file: in the cameras file.',
    }),
    readOnly: Type.Boolean({ description: 'Cameras from the add-on configuration cannot be changed through the API.' }),
    recording: RecordingSettingsSchema,
    events: EventSettingsSchema,
    onvif: Type.Union([
      Type.Object(
        {
          host: Type.Union([Type.String(), Type.Null()]),
          port: Type.Integer(),
          hasCredentials: Type.Boolean({ description: 'An ONVIF account of its own is stored (never returned).' }),
          events: Type.Boolean(),
        },
        { additionalProperties: false },
      ),
      Type.Null(),
    ]),
    motion: Type.Object(
      {
        enabled: Type.Boolean(),
        fps: Type.Number(),
        width: Type.Integer(),
        sensitivity: Type.Integer(),
        minDurationSeconds: Type.Number(),
        endAfterSeconds: Type.Number(),
        stream: Type.Enum(['substream', 'main']),
        zones: Type.Array(MotionZoneSchema),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false, description: 'A camera as the API returns it (never its credentials).' },
);

const nullable = <T extends Type.TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** Runtime status; mirrors `CameraStatus` in status.ts (checked at compile time below). */
export const CameraStatusSchema = Type.Object(
  {
    id: Type.String(),
    state: Type.Enum(['idle', 'connecting', 'streaming', 'offline', 'error']),
    viewers: Type.Integer({ minimum: 0, description: 'Live consumers, excluding Camstack itself.' }),
    uptimeSeconds: Type.Number({ minimum: 0 }),
    lastFrameAt: nullable(Type.String({ description: 'ISO 8601 time of the last frame.' })),
    bitrateKbps: nullable(Type.Number()),
    fps: nullable(Type.Number()),
    codec: nullable(Type.String()),
    resolution: nullable(Type.String()),
    transcoding: Type.Boolean(),
    recording: Type.Boolean({ description: 'Continuous recording is writing segments.' }),
    lastError: nullable(Type.String()),
    retries: Type.Integer({
      minimum: 0,
      description:
        'Failed connection checks since the camera last streamed (MediaMTX also retries by itself every 5 s).',
    }),
    nextRetryAt: nullable(Type.String({ description: 'ISO 8601 time of the next connection check, if one is due.' })),
    recordingError: nullable(
      Type.String({ description: 'Why continuous recording is not writing although it is on (e.g. disk full).' }),
    ),
  },
  { additionalProperties: false, description: 'Runtime status of a camera (memory only).' },
);

export const CameraWithStatusSchema = Type.Object(
  { camera: CameraViewSchema, status: CameraStatusSchema },
  { additionalProperties: false, description: 'A camera with its runtime status.' },
);

export const OverviewSchema = Type.Object(
  { cameras: Type.Array(CameraWithStatusSchema) },
  { additionalProperties: false, description: 'Every camera with its status, in configuration order.' },
);

export type CameraInput = Type.Static<typeof CameraInputSchema>;
export type CameraUpdate = Type.Static<typeof CameraUpdateSchema>;
export type CameraPreviewInput = Type.Static<typeof CameraPreviewInputSchema>;
export type RecordingInput = Type.Static<typeof RecordingInputSchema>;
export type { CameraTestResult, CameraView, CameraWithStatus };

// Compile-time guards: the schemas and the interfaces they mirror describe the same values.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const statusSchemaMatches: Same<Type.Static<typeof CameraStatusSchema>, CameraStatus> = true;
const sourceTypesMatch: Same<(typeof SOURCE_TYPES)[number], SourceType> = true;
const viewMatches: Same<Type.Static<typeof CameraViewSchema>, CameraView> = true;
const withStatusMatches: Same<Type.Static<typeof CameraWithStatusSchema>, CameraWithStatus> = true;
const testResultMatches: Same<Type.Static<typeof CameraTestResultSchema>, CameraTestResult> = true;
void viewMatches;
void withStatusMatches;
void testResultMatches;
void statusSchemaMatches;
void sourceTypesMatch;

/** Query parameters whose value is a secret (or the user name that goes with one). */
const SECRET_PARAM_NAMES = new Set([
  'user',
  'username',
  'usr',
  'login',
  'pw',
  'pwd',
  'pass',
  'passwd',
  'password',
  'key',
  'apikey',
  'auth',
  'authorization',
  'sig',
  'signature',
  'session',
  'sessionid',
  'sid',
  'credentials',
]);
const SECRET_PARAM_PARTS = /token|secret|passw|apikey|api_key|auth/i;

function isSecretParam(name: string): boolean {
  const lower = name.toLowerCase();
  return SECRET_PARAM_NAMES.has(lower.replace(/[^a-z0-9]/g, '')) || SECRET_PARAM_PARTS.test(lower);
}

/**
 * A stored URL as the API shows it: credential query values (`password=`, `user=`, `token=`,
 * `*secret*`…) replaced by `***`. Stored URLs never contain userinfo (it is split out), but any
 * that slipped in is masked too.
 */
export function redactSourceForView(url: string): string {
  const hashAt = url.indexOf('#');
  const beforeHash = hashAt < 0 ? url : url.slice(0, hashAt);
  const fragment = hashAt < 0 ? '' : url.slice(hashAt);
  const queryAt = beforeHash.indexOf('?');
  let head = queryAt < 0 ? beforeHash : beforeHash.slice(0, queryAt);
  head = head.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, '$1***@');
  if (queryAt < 0) return head + fragment;
  const query = beforeHash
    .slice(queryAt + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq < 0) return pair;
      const name = pair.slice(0, eq);
      return isSecretParam(name) && eq < pair.length - 1 ? `${name}=***` : pair;
    })
    .join('&');
  return `${head}?${query}${fragment}`;
}

/** What the API returns for a camera. Builds the object field by field: nothing else leaks. */
export function toCameraView(camera: Camera): CameraView {
  return {
    id: camera.id,
    name: camera.name,
    source: redactSourceForView(camera.source),
    substream: camera.substream === null ? null : redactSourceForView(camera.substream),
    hasCredentials: camera.username !== null || camera.password !== null,
    enabled: camera.enabled,
    sourceType: camera.sourceType,
    origin: camera.origin,
    readOnly: camera.origin === 'options',
    recording: {
      continuous: camera.recording.continuous,
      retainDays: camera.recording.retainDays,
      clipRetainDays: camera.recording.clipRetainDays,
      preRollSeconds: camera.recording.preRollSeconds,
      clipSeconds: camera.recording.clipSeconds,
    },
    events: {
      ...camera.events,
      record: [...camera.events.record],
      notify: [...camera.events.notify],
    },
    onvif:
      camera.onvif === null
        ? null
        : {
            host: camera.onvif.host,
            port: camera.onvif.port,
            hasCredentials: camera.onvif.username !== null,
            events: camera.onvif.events,
          },
    motion: {
      ...camera.motion,
      zones: camera.motion.zones.map((z) => ({ ...z, points: z.points.map(([x, y]): [number, number] => [x, y]) })),
    },
  };
}
