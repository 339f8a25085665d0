/**
 * The recordings API: list, inspect, play (HTTP ranges), protect and delete recordings; export
 * any recorded span as one MP4; the day timeline for the panel; start and stop clips. Register
 * with `recordingRoutes(app, { recordings, store })` (after the OpenAPI plugin).
 *
 * Clients only ever send ids (`seg_12`, `clip_7`, camera ids), validated by pattern before a
 * handler runs; paths are built on the server, so path traversal cannot be expressed.
 */
import { createReadStream } from 'node:fs';
import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { CameraIdParamsSchema } from '../cameras/api-schemas.js';
import type { CameraStore } from '../cameras/store.js';
import type { CamstackApp } from '../http/app.js';
import { ApiError, type ApiErrorSchema, errorBody, errorResponses } from '../http/errors.js';
import {
  ClipBodySchema,
  ClipStartSchema,
  ExpiringListSchema,
  ExpiringQuerySchema,
  ExportQuerySchema,
  ProtectBodySchema,
  RecordingListQuerySchema,
  RecordingListSchema,
  RecordingViewSchema,
  RidParamsSchema,
  TimelineQuerySchema,
  TimelineSchema,
} from './schemas.js';
import type { RecordingService } from './service.js';
import { StorageReportSchema } from './storage.js';
import type { ThumbnailCache } from './thumbnails.js';

export interface RecordingRoutesOptions {
  recordings: RecordingService;
  store: Pick<CameraStore, 'get'>;
  /** `GET /api/recordings/:rid/thumbnail.jpg`; without it the route is not offered. */
  thumbnails?: ThumbnailCache;
}

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid request; `problems` names every offending field.',
  404: 'No such camera or recording (or nothing recorded in the span).',
  409: 'Conflict: the recording is protected or still being written, or the camera is disabled.',
  413: 'Request body larger than 64 KiB.',
  415: 'Content-Type is not application/json.',
  416: 'The requested byte range is outside the file.',
  429: 'Too many transcodes at once: try again when one ends.',
  500: 'Internal error.',
  502: 'The recording engine could not produce the clip or export.',
  503: 'Shutting down, or the clip recorder could not start.',
};

function errors(...codes: number[]): Record<number, typeof ApiErrorSchema> {
  return errorResponses(ERROR_DESCRIPTIONS, codes);
}

const VIDEO = Type.String({ description: 'The MP4 (video/mp4).' });
const JPEG = Type.String({ description: 'The JPEG (image/jpeg).' });

/** `1d`, `12h`, `30m`, `45s` → milliseconds. */
export function parseWithin(text: string): number {
  const m = /^([1-9][0-9]{0,4})([smhd])$/.exec(text);
  if (!m) {
    throw new ApiError(400, 'validation_failed', 'within must be like 1d, 12h, 30m or 45s', [
      { field: 'within', message: 'must be a number followed by s, m, h or d' },
    ]);
  }
  const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
  const ms = Number(m[1]) * unit;
  if (ms > 365 * 86_400_000) {
    throw new ApiError(400, 'validation_failed', 'within must be at most 365d', [
      { field: 'within', message: 'must be at most 365d' },
    ]);
  }
  return ms;
}

/**
 * Pure: the byte range to send for a `Range` header (single ranges; anything else → whole file),
 * or 'unsatisfiable'.
 */
export function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | null | 'unsatisfiable' {
  if (header === undefined) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null; // not a single byte range: ignore it
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}

function dateField(value: string, field: string): number {
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) {
    throw new ApiError(400, 'validation_failed', `${field} is not a valid date-time`, [
      { field, message: 'must be an RFC 3339 date-time' },
    ]);
  }
  return ms;
}

/** Binary answers (streams) bypass the typed JSON replies. */
function raw(reply: unknown): FastifyReply {
  return reply as FastifyReply;
}

function contentDisposition(kind: 'inline' | 'attachment', name: string): string {
  const ascii = name.replace(/[^A-Za-z0-9._-]/g, '_');
  return `${kind}; filename="${ascii}"`;
}

export async function recordingRoutes(app: CamstackApp, options: RecordingRoutesOptions): Promise<void> {
  const { recordings, store } = options;

  const mustCamera = (id: string) => {
    const camera = store.get(id);
    if (camera === undefined) {
      throw new ApiError(404, 'not_found', `no camera with id "${id}"`, [
        { field: 'id', message: `no camera "${id}"` },
      ]);
    }
    return camera;
  };

  app.get(
    '/api/recordings',
    {
      schema: {
        tags: ['recordings'],
        summary: 'List recordings',
        description:
          'Segments and clips, newest first by default, filtered by camera, time span, type and protection. ' +
          '`from`/`to` select recordings that overlap the span.',
        querystring: RecordingListQuerySchema,
        response: { 200: RecordingListSchema, ...errors(400, 500) },
      },
    },
    async (request) => {
      const q = request.query;
      const fromMs = q.from === undefined ? undefined : dateField(q.from, 'from');
      const toMs = q.to === undefined ? undefined : dateField(q.to, 'to');
      if (fromMs !== undefined && toMs !== undefined && fromMs > toMs) {
        throw new ApiError(400, 'validation_failed', 'from is after to', [
          { field: 'from', message: 'must not be after to' },
        ]);
      }
      return recordings.list({
        ...(q.camera !== undefined ? { camera: q.camera } : {}),
        ...(q.type !== undefined ? { type: q.type } : {}),
        ...(q.protected !== undefined ? { protected: q.protected } : {}),
        ...(fromMs !== undefined ? { fromMs } : {}),
        ...(toMs !== undefined ? { toMs } : {}),
        ...(q.order !== undefined ? { order: q.order } : {}),
        ...(q.limit !== undefined ? { limit: q.limit } : {}),
        ...(q.offset !== undefined ? { offset: q.offset } : {}),
      });
    },
  );

  app.get(
    '/api/recordings/expiring',
    {
      schema: {
        tags: ['recordings'],
        summary: 'Recordings the next cleanup passes delete',
        description:
          'Unprotected recordings whose retention ends within `within` (default 1d), plus any the storage limits ' +
          'need to delete now, soonest first. A `recording.expiring` event fires once per recording a day ahead.',
        querystring: ExpiringQuerySchema,
        response: { 200: ExpiringListSchema, ...errors(400, 500) },
      },
    },
    async (request) => {
      const within = request.query.within ?? '1d';
      return { within, items: await recordings.expiring(parseWithin(within)) };
    },
  );

  app.get(
    '/api/recordings/:rid',
    {
      schema: {
        tags: ['recordings'],
        summary: 'Get a recording',
        params: RidParamsSchema,
        response: { 200: RecordingViewSchema, ...errors(400, 404, 500) },
      },
    },
    async (request) => recordings.get(request.params.rid),
  );

  const thumbnails = options.thumbnails;
  if (thumbnails) {
    app.get(
      '/api/recordings/:rid/thumbnail.jpg',
      {
        schema: {
          tags: ['recordings'],
          summary: 'A thumbnail of a recording',
          description:
            'Its first keyframe as a JPEG at most 320 pixels wide, made once and then cached. 409 while a clip is ' +
            'still being recorded.',
          params: RidParamsSchema,
          response: { 200: JPEG, ...errors(400, 404, 409, 500, 502) },
        },
      },
      async (request, typedReply) => {
        const jpeg = await thumbnails.get(request.params.rid);
        return raw(typedReply)
          .code(200)
          .header('content-type', 'image/jpeg')
          .header('cache-control', 'private, max-age=86400')
          .send(jpeg);
      },
    );
  }

  app.get(
    '/api/storage',
    {
      schema: {
        tags: ['recordings'],
        summary: 'Storage used by recordings',
        description:
          'Bytes per camera (all, and protected), recordings per camera, the media disk size and free space, and ' +
          'the storage limits (storage_max_gb, storage_min_free_percent) beyond which the oldest recordings go.',
        response: { 200: StorageReportSchema, ...errors(500) },
      },
    },
    async () => recordings.storage(),
  );

  app.get(
    '/api/recordings/:rid/video',
    {
      schema: {
        tags: ['recordings'],
        summary: 'Play or download a recording',
        description:
          'The MP4 file, with HTTP range support (206 Partial Content, 416 outside the file) so browsers can ' +
          'seek. `?download=1` asks the browser to save it.',
        params: RidParamsSchema,
        querystring: Type.Object(
          { download: Type.Optional(Type.Boolean({ description: 'Content-Disposition: attachment.' })) },
          { additionalProperties: false },
        ),
        response: { 200: VIDEO, 206: VIDEO, ...errors(400, 404, 409, 416, 500) },
      },
    },
    async (request, typedReply) => {
      const reply = raw(typedReply);
      const file = await recordings.file(request.params.rid);
      const range = parseRange(request.headers.range, file.size);
      reply
        .header('accept-ranges', 'bytes')
        .header('content-type', 'video/mp4')
        .header('cache-control', file.view.inProgress ? 'no-store' : 'private, max-age=3600')
        .header('content-disposition', contentDisposition(request.query.download ? 'attachment' : 'inline', file.name));
      if (range === 'unsatisfiable') {
        return reply
          .code(416)
          .header('content-range', `bytes */${file.size}`)
          .type('application/json; charset=utf-8')
          .send(
            errorBody(416, 'range_not_satisfiable', `the file has ${file.size} bytes`, [
              { field: 'range', message: `must be within bytes 0-${Math.max(0, file.size - 1)}` },
            ]),
          );
      }
      if (range === null) {
        return reply
          .code(200)
          .header('content-length', file.size)
          .send(createReadStream(file.path, { end: Math.max(0, file.size - 1) }));
      }
      return reply
        .code(206)
        .header('content-range', `bytes ${range.start}-${range.end}/${file.size}`)
        .header('content-length', range.end - range.start + 1)
        .send(createReadStream(file.path, { start: range.start, end: range.end }));
    },
  );

  app.put(
    '/api/recordings/:rid/protect',
    {
      schema: {
        tags: ['recordings'],
        summary: 'Protect or unprotect a recording',
        description:
          'A protected recording is never deleted by retention or the storage limits (only by an explicit DELETE ' +
          'after unprotecting it). Stored next to the file, so it survives a rebuilt index.',
        params: RidParamsSchema,
        body: ProtectBodySchema,
        response: { 200: RecordingViewSchema, ...errors(400, 404, 413, 415, 500) },
      },
    },
    async (request) => recordings.protect(request.params.rid, request.body.protected),
  );

  app.delete(
    '/api/recordings/:rid',
    {
      schema: {
        tags: ['recordings'],
        summary: 'Delete a recording',
        description: 'Deletes the file now. 409 for a protected recording (unprotect it first) or one still written.',
        params: RidParamsSchema,
        response: { 204: Type.Null({ description: 'Deleted.' }), ...errors(400, 404, 409, 500) },
      },
    },
    async (request, reply) => {
      await recordings.remove(request.params.rid);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/cameras/:id/export.mp4',
    {
      schema: {
        tags: ['recordings'],
        summary: 'Export a span of recording as one MP4',
        description:
          'Any recorded span of the camera (at most 24 hours), across segments, as one MP4 without re-encoding. ' +
          'Gaps are skipped. Very large exports (over ~3.5 GB) are fragmented MP4. `transcode=h264` re-encodes it ' +
          '(for an H.265 camera in a browser without H.265).',
        params: CameraIdParamsSchema,
        querystring: ExportQuerySchema,
        response: { 200: VIDEO, ...errors(400, 404, 429, 500, 502) },
      },
    },
    async (request, typedReply) => {
      const reply = raw(typedReply);
      mustCamera(request.params.id);
      const fromMs = dateField(request.query.from, 'from');
      const toMs = dateField(request.query.to, 'to');
      const problems = [];
      if (fromMs >= toMs) problems.push({ field: 'from', message: 'must be before to' });
      else if (toMs - fromMs > 24 * 3_600_000)
        problems.push({ field: 'to', message: 'must be at most 24 hours after from' });
      if (problems.length) throw new ApiError(400, 'validation_failed', 'invalid export span', problems);
      const out = await recordings.exportSpan(request.params.id, fromMs, toMs, request.query.transcode);
      reply
        .code(200)
        .header('content-type', 'video/mp4')
        .header('content-disposition', contentDisposition('attachment', out.fileName))
        .header('cache-control', 'no-store');
      if (out.size !== null) reply.header('content-length', out.size);
      return reply.send(out.body);
    },
  );

  app.get(
    '/api/cameras/:id/recording.m3u8',
    {
      schema: {
        tags: ['recordings'],
        summary: 'A recorded span as an HLS playlist (VOD)',
        description:
          'For players without MSE (Safari on iPhone): the recording files themselves, by byte range ' +
          '(`../../recordings/<rid>/video`, relative), one `#EXT-X-MAP` per file, a discontinuity between files, ' +
          'media segments that start at keyframes where possible. At most 24 hours; gaps are skipped.',
        params: CameraIdParamsSchema,
        querystring: ExportQuerySchema,
        response: {
          200: Type.String({ description: 'The playlist (application/vnd.apple.mpegurl).' }),
          ...errors(400, 404, 500),
        },
      },
    },
    async (request, typedReply) => {
      mustCamera(request.params.id);
      const fromMs = dateField(request.query.from, 'from');
      const toMs = dateField(request.query.to, 'to');
      const text = await recordings.hlsPlaylist(
        request.params.id,
        fromMs,
        toMs,
        (rid) => `../../recordings/${rid}/video`,
      );
      return raw(typedReply)
        .code(200)
        .header('content-type', 'application/vnd.apple.mpegurl')
        .header('cache-control', 'no-cache')
        .send(text);
    },
  );

  app.get(
    '/api/cameras/:id/timeline',
    {
      schema: {
        tags: ['recordings'],
        summary: 'Recorded ranges, gaps and clips of one day',
        params: CameraIdParamsSchema,
        querystring: TimelineQuerySchema,
        response: { 200: TimelineSchema, ...errors(400, 404, 500) },
      },
    },
    async (request) => {
      mustCamera(request.params.id);
      return recordings.timeline(request.params.id, request.query.day);
    },
  );

  app.post(
    '/api/cameras/:id/clips',
    {
      schema: {
        tags: ['recordings'],
        summary: 'Start a clip',
        description:
          'Records a clip that includes up to `preRoll` seconds before the request and stops `duration` seconds ' +
          'after it. While a clip of the camera is open, another request extends it (200, `extended: true`) ' +
          'instead of starting a second one (201). The result is one MP4; `clip.saved` fires when it is written.',
        params: CameraIdParamsSchema,
        // A POST without a body is fine (Node-RED, Home Assistant rest_command): every field is optional.
        body: Type.Union([ClipBodySchema, Type.Null()]),
        response: {
          200: ClipStartSchema,
          201: Type.Object(ClipStartSchema.properties, { additionalProperties: false, description: 'Started.' }),
          ...errors(400, 404, 409, 413, 415, 500, 503),
        },
      },
    },
    async (request, reply) => {
      mustCamera(request.params.id);
      const body = request.body ?? {};
      const result = await recordings.startClip(request.params.id, {
        preRoll: body.preRoll,
        duration: body.duration,
        trigger: body.trigger ?? 'api',
      });
      return reply.code(result.extended ? 200 : 201).send(result);
    },
  );

  app.post(
    '/api/cameras/:id/clips/stop',
    {
      schema: {
        tags: ['recordings'],
        summary: 'Stop the open clip',
        description: 'Ends the camera open clip now and answers once its MP4 is saved.',
        params: CameraIdParamsSchema,
        response: { 200: RecordingViewSchema, ...errors(400, 404, 500, 502) },
      },
    },
    async (request) => {
      mustCamera(request.params.id);
      return recordings.stopClip(request.params.id);
    },
  );
}
