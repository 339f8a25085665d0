/**
 * Snapshot routes: `GET /api/cameras/:id/snapshot.jpg` (the latest frame as a JPEG, cached) and
 * `POST /api/cameras/:id/snapshot` (save one under the media dir). Register with
 * `snapshotRoutes(app, { snapshots })`.
 */
import { Type } from 'typebox';
import { CameraIdParamsSchema } from '../cameras/api-schemas.js';
import type { SavedSnapshotView } from '../contract/index.js';
import type { CamstackApp } from '../http/app.js';
import { type ApiErrorSchema, errorResponses } from '../http/errors.js';
import {
  cacheControl,
  etagMatches,
  MAX_SNAPSHOT_MAX_AGE_MS,
  MAX_SNAPSHOT_WIDTH,
  MIN_SNAPSHOT_WIDTH,
} from './policy.js';
import type { Snapshot, SnapshotService } from './service.js';

export interface SnapshotRoutesOptions {
  snapshots: Pick<SnapshotService, 'get' | 'save'>;
}

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid request; `problems` names every offending field.',
  404: 'No camera with this id.',
  409: 'The camera is disabled.',
  413: 'Request body larger than 64 KiB.',
  415: 'Content-Type is not application/json.',
  500: 'Internal error, or the snapshot file could not be written.',
  503: 'The camera is offline, or no frame could be taken (go2rtc and FFmpeg both failed); `message` says why.',
};

function errors(...codes: number[]): Record<number, typeof ApiErrorSchema> {
  return errorResponses(ERROR_DESCRIPTIONS, codes);
}

const WidthSchema = Type.Integer({
  minimum: MIN_SNAPSHOT_WIDTH,
  maximum: MAX_SNAPSHOT_WIDTH,
  description: `Scale to this width in pixels (${MIN_SNAPSHOT_WIDTH}–${MAX_SNAPSHOT_WIDTH}); the height keeps the aspect ratio. Omitted: full size.`,
});

const MaxAgeSchema = Type.Integer({
  minimum: 0,
  maximum: MAX_SNAPSHOT_MAX_AGE_MS,
  description:
    'Oldest cached snapshot acceptable, in milliseconds (0 = take a new one). Omitted: 2000 while the camera ' +
    'streams, 10000 otherwise (a fresh frame wakes an idle camera).',
});

export const SnapshotQuerySchema = Type.Object(
  { width: Type.Optional(WidthSchema), maxAge: Type.Optional(MaxAgeSchema) },
  // Dashboards append cache busters (`?t=…`, `?_=…`) to image URLs: other parameters are ignored.
  { additionalProperties: true },
);

export const SaveSnapshotBodySchema = Type.Union(
  [
    Type.Object(
      {
        trigger: Type.Optional(
          Type.String({
            pattern: '^[a-z0-9_.:-]{1,32}$',
            description: 'Who asks (carried in the snapshot.saved event): api (default), node-red, automation…',
          }),
        ),
        maxAge: Type.Optional(
          Type.Integer({
            minimum: 0,
            maximum: MAX_SNAPSHOT_MAX_AGE_MS,
            description: 'Oldest frame acceptable, in milliseconds (0 = take a new one). Default 2000.',
          }),
        ),
      },
      { additionalProperties: false },
    ),
    Type.Null(),
  ],
  { description: 'Optional.' },
);

export const SavedSnapshotSchema = Type.Object(
  {
    camera: Type.String(),
    path: Type.String({
      description: 'Path of the file relative to the media dir: <id>/snapshots/<id>_<YYYYMMDD-HHMMSS-mmm>.jpg.',
    }),
    takenAt: Type.String({ format: 'date-time', description: 'When the frame was taken.' }),
    url: Type.Union([Type.String(), Type.Null()], {
      description: 'Where the saved file can be downloaded; null until the media browser serves files.',
    }),
  },
  { additionalProperties: false, description: 'The snapshot was written.' },
);

// Compile-time guard: the schema describes the contract's view.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const savedMatches: Same<Type.Static<typeof SavedSnapshotSchema>, SavedSnapshotView> = true;
void savedMatches;

const JpegResponse = Type.Unsafe<Buffer>({
  description:
    'The JPEG. Headers: ETag, Last-Modified, Cache-Control (private, max-age = remaining freshness), ' +
    'X-Snapshot-Source (cache, keyframe — decoded from the latest keyframe Camstack holds —, go2rtc or ffmpeg), X-Snapshot-Capture (sequence number of the capture that ' +
    'took it: equal for requests that shared one), X-Snapshot-Taken-At (ISO 8601, milliseconds).',
  content: { 'image/jpeg': { schema: { type: 'string', format: 'binary' } } },
});

/** Headers every snapshot answer carries, 200 and 304 alike. */
function snapshotHeaders(s: Snapshot): Record<string, string> {
  return {
    etag: s.etag,
    'last-modified': s.takenAt.toUTCString(),
    'cache-control': cacheControl(s.freshForMs),
    'x-snapshot-source': s.source,
    'x-snapshot-capture': String(s.capture),
    'x-snapshot-taken-at': s.takenAt.toISOString(),
  };
}

export async function snapshotRoutes(app: CamstackApp, options: SnapshotRoutesOptions): Promise<void> {
  const { snapshots } = options;

  app.get(
    '/api/cameras/:id/snapshot.jpg',
    {
      schema: {
        tags: ['snapshots'],
        summary: 'Latest frame of a camera as a JPEG',
        description:
          'Served from a per-camera cache while fresh enough (`maxAge`), otherwise taken from go2rtc (the next ' +
          'keyframe; this starts an idle on-demand camera) or, when go2rtc is down, by FFmpeg from the restream. ' +
          'Concurrent requests share one capture. Honours If-None-Match (304). Other query parameters, such as ' +
          'cache busters, are ignored.',
        params: CameraIdParamsSchema,
        querystring: SnapshotQuerySchema,
        response: {
          200: JpegResponse,
          304: Type.Null({ description: 'Not modified: the If-None-Match ETag is still the latest snapshot.' }),
          ...errors(400, 404, 409, 500, 503),
        },
      },
    },
    async (request, reply) => {
      const snapshot = await snapshots.get(request.params.id, {
        width: request.query.width,
        maxAgeMs: request.query.maxAge,
      });
      reply.headers(snapshotHeaders(snapshot));
      if (etagMatches(request.headers['if-none-match'], snapshot.etag)) return reply.code(304).send(null);
      return reply.code(200).type('image/jpeg').send(snapshot.jpeg);
    },
  );

  app.post(
    '/api/cameras/:id/snapshot',
    {
      schema: {
        tags: ['snapshots'],
        summary: 'Save a snapshot to the media folder',
        description:
          'Writes a fresh full-size JPEG (one at most `maxAge` ms old; default 2000 whatever the camera state) to ' +
          '<media dir>/<id>/snapshots/<id>_<YYYYMMDD-HHMMSS-mmm>.jpg (local time) and publishes a snapshot.saved ' +
          'event. The body is optional.',
        params: CameraIdParamsSchema,
        body: SaveSnapshotBodySchema,
        response: { 201: SavedSnapshotSchema, ...errors(400, 404, 409, 413, 415, 500, 503) },
      },
    },
    async (request, reply) => {
      const body = request.body ?? {};
      const saved = await snapshots.save(request.params.id, {
        trigger: body.trigger ?? 'api',
        maxAgeMs: body.maxAge,
      });
      return reply.code(201).send({
        camera: saved.camera,
        path: saved.relativePath,
        takenAt: saved.takenAt.toISOString(),
        url: null,
      });
    },
  );
}
