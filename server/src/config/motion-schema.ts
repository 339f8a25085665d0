/**
 * PURE: the JSON Schema (TypeBox) of a camera's `motion` block in the file form, for the options
 * and cameras-file schemas, the API and OpenAPI once the detector is wired. It checks the shape
 * and ranges; `parseMotionConfig` (config.ts) applies the same rules, fills in the defaults and adds
 * what a schema cannot say (a zone encloses an area; the zones leave something to watch).
 */
import Type from 'typebox';
import { MOTION_DEFAULTS, MOTION_LIMITS } from './motion.js';
import { TEXT_PATTERN } from './text.js';

const fraction = Type.Number({ minimum: 0, maximum: 1 });

export const MotionZoneSchema = Type.Object(
  {
    mode: Type.Enum(['include', 'exclude'], {
      description:
        'exclude: changes inside never count. include: when a camera has include zones, only changes inside ' +
        'them count. Excludes win.',
    }),
    points: Type.Array(Type.Tuple([fraction, fraction]), {
      minItems: MOTION_LIMITS.points.min,
      maxItems: MOTION_LIMITS.points.max,
      description: 'Polygon corners as [x, y], fractions of the picture width and height ((0,0) = top left).',
    }),
    name: Type.Optional(
      Type.String({ minLength: 1, maxLength: MOTION_LIMITS.name.max, pattern: TEXT_PATTERN, description: 'Label.' }),
    ),
  },
  { additionalProperties: false },
);

export const MotionConfigSchema = Type.Object(
  {
    enabled: Type.Optional(
      Type.Boolean({ default: MOTION_DEFAULTS.enabled, description: 'Run the motion detector. Default false.' }),
    ),
    fps: Type.Optional(
      Type.Number({
        minimum: MOTION_LIMITS.fps.min,
        maximum: MOTION_LIMITS.fps.max,
        default: MOTION_DEFAULTS.fps,
        description: `Frames analysed per second. Default ${MOTION_DEFAULTS.fps}.`,
      }),
    ),
    width: Type.Optional(
      Type.Integer({
        minimum: MOTION_LIMITS.width.min,
        maximum: MOTION_LIMITS.width.max,
        multipleOf: 2,
        default: MOTION_DEFAULTS.width,
        description: `Width of the analysed grey picture (height: 9/16 of it). Default ${MOTION_DEFAULTS.width}.`,
      }),
    ),
    sensitivity: Type.Optional(
      Type.Number({
        minimum: MOTION_LIMITS.sensitivity.min,
        maximum: MOTION_LIMITS.sensitivity.max,
        default: MOTION_DEFAULTS.sensitivity,
        description: `0 (only large changes) to 100 (small changes count). Default ${MOTION_DEFAULTS.sensitivity}.`,
      }),
    ),
    min_duration_seconds: Type.Optional(
      Type.Number({
        minimum: MOTION_LIMITS.min_duration_seconds.min,
        maximum: MOTION_LIMITS.min_duration_seconds.max,
        default: MOTION_DEFAULTS.min_duration_seconds,
        description: `Motion must last this long to start an event. Default ${MOTION_DEFAULTS.min_duration_seconds} s.`,
      }),
    ),
    end_after_seconds: Type.Optional(
      Type.Number({
        minimum: MOTION_LIMITS.end_after_seconds.min,
        maximum: MOTION_LIMITS.end_after_seconds.max,
        default: MOTION_DEFAULTS.end_after_seconds,
        description: `The event ends after this long without motion. Default ${MOTION_DEFAULTS.end_after_seconds} s.`,
      }),
    ),
    stream: Type.Optional(
      Type.Enum(['substream', 'main'], {
        default: MOTION_DEFAULTS.stream,
        description: 'Stream to analyse: the substream when the camera has one (default), or the main stream.',
      }),
    ),
    zones: Type.Optional(
      Type.Array(MotionZoneSchema, {
        maxItems: MOTION_LIMITS.zones.max,
        description: 'Mask zones. Default none (the whole picture is watched).',
      }),
    ),
  },
  { additionalProperties: false, description: "A camera's motion detector. Off by default." },
);
