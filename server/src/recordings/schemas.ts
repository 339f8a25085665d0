/**
 * The recordings API's shapes (TypeBox → JSON Schema → request validation and OpenAPI). Clients
 * name recordings by id (`seg_12`, `clip_7`), never by path.
 */
import { Type } from 'typebox';
import { CAMERA_ID_PATTERN } from '../config/schema.js';
import type { ClipStart, ExpiringItem, RecordingList, RecordingView, Timeline } from '../contract/index.js';
import { RID_PATTERN } from './naming.js';
import { MAX_CLIP_SECONDS, MAX_PRE_ROLL_SECONDS } from './service.js';

/** A clip's `trigger` label: short, lowercase, safe in a file name. */
export const CLIP_TRIGGER_PATTERN = '^[a-z0-9_.-]{1,32}$';

const nullable = <T extends Type.TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const RidParamsSchema = Type.Object(
  {
    rid: Type.String({
      pattern: RID_PATTERN,
      maxLength: 20,
      description: 'Recording id: `seg_<n>` for a segment, `clip_<n>` for a clip.',
    }),
  },
  { additionalProperties: false },
);

export const RecordingViewSchema = Type.Object(
  {
    id: Type.String({ description: 'Recording id (`seg_<n>` or `clip_<n>`).' }),
    type: Type.Enum(['segment', 'clip']),
    camera: Type.String(),
    start: Type.String({ format: 'date-time' }),
    end: Type.String({ format: 'date-time', description: 'So far, while in progress.' }),
    durationSeconds: Type.Number({ minimum: 0 }),
    size: Type.Integer({ minimum: 0, description: 'Bytes.' }),
    protected: Type.Boolean({ description: 'Never deleted by retention or the storage limits.' }),
    inProgress: Type.Boolean({ description: 'A segment still being written or a clip still being recorded.' }),
    trigger: nullable(Type.String({ description: 'Clips: who started it (api, mqtt, node-red…).' })),
    kind: nullable(
      Type.Enum(['continuous', 'buffer'], {
        description: 'Segments: 24/7 recording, or the short pre-roll buffer of a camera that is not recorded 24/7.',
      }),
    ),
    path: nullable(Type.String({ description: 'File path relative to the media folder.' })),
    url: nullable(Type.String({ description: 'API path that plays the file (HTTP ranges supported).' })),
    expiresAt: nullable(
      Type.String({ format: 'date-time', description: 'When retention deletes it; null if protected.' }),
    ),
  },
  { additionalProperties: false, description: 'A recorded segment or clip.' },
);

export const RecordingListQuerySchema = Type.Object(
  {
    camera: Type.Optional(Type.String({ pattern: CAMERA_ID_PATTERN, description: 'Only this camera.' })),
    from: Type.Optional(Type.String({ format: 'date-time', description: 'Recordings ending after this time.' })),
    to: Type.Optional(Type.String({ format: 'date-time', description: 'Recordings starting before this time.' })),
    type: Type.Optional(Type.Enum(['segment', 'clip'])),
    protected: Type.Optional(Type.Boolean()),
    order: Type.Optional(Type.Enum(['asc', 'desc'], { description: 'By start time; default desc (newest first).' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'Default 100.' })),
    offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000_000 })),
  },
  { additionalProperties: false },
);

export const RecordingListSchema = Type.Object(
  {
    items: Type.Array(RecordingViewSchema),
    total: Type.Integer({ minimum: 0, description: 'Matching recordings in all (for paging).' }),
  },
  { additionalProperties: false },
);

export const ProtectBodySchema = Type.Object(
  { protected: Type.Boolean({ description: 'true: never delete it automatically; false: normal retention.' }) },
  { additionalProperties: false },
);

export const ExpiringQuerySchema = Type.Object(
  {
    within: Type.Optional(
      Type.String({
        pattern: '^[1-9][0-9]{0,4}[smhd]$',
        description: 'Look-ahead: a number with s, m, h or d (at most 365d). Default 1d.',
      }),
    ),
  },
  { additionalProperties: false },
);

export const ExpiringItemSchema = Type.Object(
  {
    recording: RecordingViewSchema,
    expiresAt: Type.String({ format: 'date-time' }),
    reason: Type.Enum(['retention', 'buffer', 'storage', 'user', 'missing'], {
      description: 'retention: its camera retention runs out; storage: the storage limits need the space now.',
    }),
  },
  { additionalProperties: false },
);

export const ExpiringListSchema = Type.Object(
  { within: Type.String(), items: Type.Array(ExpiringItemSchema) },
  { additionalProperties: false },
);

export const ClipBodySchema = Type.Object(
  {
    preRoll: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: MAX_PRE_ROLL_SECONDS,
        description:
          'Seconds before the request to include (default: the camera preRollSeconds). Available when the camera ' +
          'records 24/7 or keeps a pre-roll buffer.',
      }),
    ),
    duration: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_CLIP_SECONDS,
        description:
          'Seconds of video after the request; the clip stops by itself (default: the camera clipSeconds). A camera ' +
          'that is not streaming yet (on demand) is opened first: the clip starts with its first video and still ' +
          'holds `duration` seconds; it fails when no video comes within 20 s.',
      }),
    ),
    trigger: Type.Optional(
      Type.String({
        pattern: CLIP_TRIGGER_PATTERN,
        description: 'Who asks, shown with the clip and in its file name (e.g. `node-red`, `doorbell`). Default `api`.',
      }),
    ),
  },
  { additionalProperties: false, description: 'Every field is optional.' },
);

export const ClipStartSchema = Type.Object(
  {
    clip: RecordingViewSchema,
    extended: Type.Boolean({ description: 'true: a clip of this camera was open and now ends later instead.' }),
    preRollSeconds: Type.Number({ minimum: 0, description: 'Pre-roll the clip includes.' }),
  },
  { additionalProperties: false },
);

export const ExportQuerySchema = Type.Object(
  {
    from: Type.String({ format: 'date-time', description: 'Start of the span (RFC 3339).' }),
    to: Type.String({ format: 'date-time', description: 'End of the span; at most 24 hours after from.' }),
    transcode: Type.Optional(
      Type.Literal('h264', {
        description:
          'Re-encode to H.264 + AAC (a fragmented MP4 streamed while FFmpeg encodes; no Content-Length) so that ' +
          'browsers without the recorded codec (H.265) can play it. Costs server CPU; at most 3 at once (429 beyond).',
      }),
    ),
  },
  { additionalProperties: false },
);

export const TimelineQuerySchema = Type.Object(
  {
    day: Type.String({
      pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$',
      description: 'Local calendar day YYYY-MM-DD (the add-on time zone).',
    }),
  },
  { additionalProperties: false },
);

const RangeSchema = Type.Object(
  { start: Type.String({ format: 'date-time' }), end: Type.String({ format: 'date-time' }) },
  { additionalProperties: false },
);

export const TimelineSchema = Type.Object(
  {
    camera: Type.String(),
    day: Type.String(),
    from: Type.String({ format: 'date-time' }),
    to: Type.String({ format: 'date-time' }),
    recordedSeconds: Type.Integer({ minimum: 0 }),
    ranges: Type.Array(RangeSchema, { description: 'Recorded, merged.' }),
    gaps: Type.Array(RangeSchema, { description: 'Not recorded (up to now).' }),
    clips: Type.Array(RecordingViewSchema),
  },
  { additionalProperties: false },
);

// Compile-time guards: the schemas describe what the service returns.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const viewMatches: Same<Type.Static<typeof RecordingViewSchema>, RecordingView> = true;
const timelineMatches: Same<Type.Static<typeof TimelineSchema>, Timeline> = true;
const expiringMatches: Same<Type.Static<typeof ExpiringItemSchema>, ExpiringItem> = true;
const clipStartMatches: Same<Type.Static<typeof ClipStartSchema>, ClipStart> = true;
const listMatches: Same<Type.Static<typeof RecordingListSchema>, RecordingList> = true;
void clipStartMatches;
void listMatches;
void viewMatches;
void timelineMatches;
void expiringMatches;
