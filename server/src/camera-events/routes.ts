/**
 * Camera event routes: `GET /api/camera-events` (the stored events, newest first, with filters),
 * `GET /api/camera-events/:eid` and `…/picture.jpg` (the picture of the moment it started), and
 * `POST /api/cameras/:id/events` (report an event from outside: an automation, a Node-RED flow, a
 * doorbell).
 */
import { readFile } from 'node:fs/promises';
import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { CameraIdParamsSchema } from '../cameras/api-schemas.js';
import { CAMERA_ID_PATTERN, type CameraEventList, type CameraEventView } from '../contract/index.js';
import { DomainError } from '../domain-errors.js';
import type { CamstackApp } from '../http/app.js';
import { type ApiErrorSchema, errorResponses } from '../http/errors.js';
import { DETECTION_TYPES } from './rules.js';
import type { CameraEvents } from './service.js';

export interface CameraEventRoutesOptions {
  events: Pick<CameraEvents, 'list' | 'get' | 'picture' | 'report' | 'types'>;
  /** Where a camera's events come from, and how that is going (its ONVIF subscription). */
  sources?: (camera: string) => { onvif: OnvifSourceStatus | null; motion?: MotionSourceStatus | null };
}

/** A camera's motion detector as the API shows it. */
export interface MotionSourceStatus {
  running: boolean;
  healthy: boolean;
  motion: boolean;
  fps: number;
  lastScore: number | null;
  recentPeakScore: number | null;
  lastError: string | null;
  thresholds: { areaPercent: number };
}

/** A camera's ONVIF subscription as the API shows it. */
export interface OnvifSourceStatus {
  state: 'connecting' | 'subscribed' | 'retrying' | 'stopped';
  failures: number;
  error?: string | undefined;
  retryInMs?: number | undefined;
}

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid request; `problems` names every offending field.',
  404: 'No such camera or event, or the event has no picture yet.',
  413: 'Request body larger than 64 KiB.',
  415: 'Content-Type is not application/json.',
  500: 'Internal error.',
};

function errors(...codes: number[]): Record<number, typeof ApiErrorSchema> {
  return errorResponses(ERROR_DESCRIPTIONS, codes);
}

const nullable = <T extends Type.TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const DetectionTypeSchema = Type.Enum([...DETECTION_TYPES], { description: 'What happened.' });

export const CameraEventViewSchema = Type.Object(
  {
    id: Type.String({ description: 'Event id (`evt_<n>`).' }),
    camera: Type.String(),
    type: DetectionTypeSchema,
    source: Type.Enum(['onvif', 'motion', 'api'], {
      description: "Who reported it: the camera's ONVIF events, Camstack's motion detector, or the API.",
    }),
    start: Type.String({ format: 'date-time' }),
    end: nullable(Type.String({ format: 'date-time', description: 'null while it lasts.' })),
    active: Type.Boolean(),
    clipId: nullable(Type.String({ description: 'The clip it started or extended, when its rules record it.' })),
    pictureUrl: nullable(Type.String({ description: 'The picture of the moment it started, once taken.' })),
    detail: nullable(Type.String({ description: "The source's own name for it (an ONVIF topic)." })),
  },
  { additionalProperties: false, description: 'An event of a camera.' },
);

const CameraEventListSchema = Type.Object(
  { items: Type.Array(CameraEventViewSchema), total: Type.Integer({ minimum: 0 }) },
  { additionalProperties: false },
);

// Compile-time guards: the schemas describe the contract's views.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const viewMatches: Same<Type.Static<typeof CameraEventViewSchema>, CameraEventView> = true;
const listMatches: Same<Type.Static<typeof CameraEventListSchema>, CameraEventList> = true;
void viewMatches;
void listMatches;

const ListQuerySchema = Type.Object(
  {
    camera: Type.Optional(Type.String({ pattern: CAMERA_ID_PATTERN, description: 'Only this camera.' })),
    type: Type.Optional(DetectionTypeSchema),
    from: Type.Optional(Type.String({ format: 'date-time', description: 'Events ending after this time.' })),
    to: Type.Optional(Type.String({ format: 'date-time', description: 'Events starting before this time.' })),
    order: Type.Optional(Type.Enum(['asc', 'desc'], { description: 'By start time; default desc (newest first).' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'Default 100.' })),
    offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000_000 })),
  },
  { additionalProperties: false },
);

const EidParamsSchema = Type.Object(
  { eid: Type.String({ pattern: '^evt_[0-9]{1,15}$', description: 'Event id (`evt_<n>`).' }) },
  { additionalProperties: false },
);

const ReportBodySchema = Type.Object(
  {
    type: DetectionTypeSchema,
    state: Type.Enum(['start', 'end', 'pulse'], {
      description: '`start` and `end` an event that lasts; `pulse` starts one that ends after `seconds`.',
    }),
    seconds: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 600, description: '`pulse`: how long it lasts. Default 5.' }),
    ),
    detail: Type.Optional(
      Type.String({ maxLength: 120, pattern: '^[^\\u0000-\\u001f\\u007f]*$', description: 'A word on what it was.' }),
    ),
  },
  { additionalProperties: false, description: 'An event reported from outside (source `api`).' },
);

export async function cameraEventRoutes(app: CamstackApp, options: CameraEventRoutesOptions): Promise<void> {
  const { events } = options;

  app.get(
    '/api/camera-events',
    {
      schema: {
        tags: ['camera events'],
        summary: 'Camera events (motion, person, vehicle…), newest first',
        querystring: ListQuerySchema,
        response: { 200: CameraEventListSchema, ...errors(400, 500) },
      },
    },
    async (request) => {
      const q = request.query;
      const time = (field: 'from' | 'to', v: string | undefined) => {
        if (v === undefined) return undefined;
        const ms = Date.parse(v);
        if (Number.isNaN(ms)) throw new DomainError('invalid', 'invalid_time', `${field} is not a time`);
        return ms;
      };
      return events.list({
        camera: q.camera,
        type: q.type,
        fromMs: time('from', q.from),
        toMs: time('to', q.to),
        order: q.order,
        limit: q.limit,
        offset: q.offset,
      });
    },
  );

  app.get(
    '/api/camera-events/:eid',
    {
      schema: {
        tags: ['camera events'],
        summary: 'One camera event',
        params: EidParamsSchema,
        response: { 200: CameraEventViewSchema, ...errors(400, 404, 500) },
      },
    },
    async (request) => events.get(request.params.eid),
  );

  app.get(
    '/api/camera-events/:eid/picture.jpg',
    {
      schema: {
        tags: ['camera events'],
        summary: 'The picture of the moment the event started (from the recording)',
        params: EidParamsSchema,
        response: { 200: Type.String({ description: 'The JPEG (image/jpeg).' }), ...errors(400, 404, 500) },
      },
    },
    async (request, reply) => {
      const path = events.picture(request.params.eid);
      const jpeg = await readFile(path).catch(() => null);
      if (jpeg === null)
        throw new DomainError('not_found', 'no_picture', `the picture of ${request.params.eid} is gone`);
      // The typed reply knows only the schema's string; the body is the JPEG's bytes.
      return (reply as FastifyReply)
        .header('content-type', 'image/jpeg')
        .header('cache-control', 'private, max-age=86400, immutable')
        .send(jpeg);
    },
  );

  app.get(
    '/api/cameras/:id/events',
    {
      schema: {
        tags: ['camera events'],
        summary: "A camera's event sources: the types it has reported, and its ONVIF subscription",
        params: CameraIdParamsSchema,
        response: {
          200: Type.Object(
            {
              camera: Type.String(),
              types: Type.Array(DetectionTypeSchema, { description: 'The event types this camera has reported.' }),
              onvif: nullable(
                Type.Object(
                  {
                    state: Type.Enum(['connecting', 'subscribed', 'retrying', 'stopped']),
                    failures: Type.Integer({ minimum: 0 }),
                    error: Type.Optional(Type.String({ description: 'What went wrong last (credentials masked).' })),
                    retryInMs: Type.Optional(Type.Integer({ minimum: 0 })),
                  },
                  { additionalProperties: false },
                ),
              ),
              motion: nullable(
                Type.Object(
                  {
                    running: Type.Boolean(),
                    healthy: Type.Boolean({ description: 'Frames are arriving.' }),
                    motion: Type.Boolean({ description: 'Motion now.' }),
                    fps: Type.Number({ description: 'Frames analysed per second.' }),
                    lastScore: nullable(Type.Number({ description: 'Share of the watched picture that changed, %.' })),
                    recentPeakScore: nullable(Type.Number({ description: 'The highest score of the last 10 s.' })),
                    areaPercent: Type.Number({ description: 'The score that counts as motion at this sensitivity.' }),
                    lastError: nullable(Type.String()),
                  },
                  { additionalProperties: false },
                ),
              ),
            },
            { additionalProperties: false },
          ),
          ...errors(400, 404, 500),
        },
      },
    },
    async (request) => {
      const { id } = request.params;
      const sources = options.sources?.(id);
      const motion = sources?.motion ?? null;
      const onvif = sources?.onvif ?? null;
      return {
        camera: id,
        types: events.types(id),
        onvif:
          onvif === null
            ? null
            : {
                state: onvif.state,
                failures: onvif.failures,
                ...(onvif.error !== undefined ? { error: onvif.error } : {}),
                ...(onvif.retryInMs !== undefined ? { retryInMs: Math.round(onvif.retryInMs) } : {}),
              },
        motion:
          motion === null
            ? null
            : {
                running: motion.running,
                healthy: motion.healthy,
                motion: motion.motion,
                fps: motion.fps,
                lastScore: motion.lastScore,
                recentPeakScore: motion.recentPeakScore,
                areaPercent: motion.thresholds.areaPercent,
                lastError: motion.lastError,
              },
      };
    },
  );

  app.post(
    '/api/cameras/:id/events',
    {
      schema: {
        tags: ['camera events'],
        summary: 'Report an event of a camera (from an automation, a flow, a doorbell)',
        description:
          'Starts or ends an event with source `api`, or a `pulse` that ends by itself. It is stored, streamed, ' +
          'published and recorded like the camera’s own events, by the camera’s rules.',
        params: CameraIdParamsSchema,
        body: ReportBodySchema,
        response: {
          200: Type.Object({ event: nullable(CameraEventViewSchema) }, { additionalProperties: false }),
          ...errors(400, 404, 413, 415, 500),
        },
      },
    },
    async (request) => {
      const { id } = request.params;
      const b = request.body;
      const base = { camera: id, type: b.type, source: 'api' as const, detail: b.detail ?? null };
      if (b.state === 'pulse') {
        const event = events.report({ ...base, state: 'start' });
        const t = setTimeout(
          () => {
            try {
              events.report({ ...base, state: 'end' });
            } catch {
              // the camera was removed meanwhile
            }
          },
          (b.seconds ?? 5) * 1000,
        );
        t.unref();
        return { event };
      }
      return { event: events.report({ ...base, state: b.state }) };
    },
  );
}
