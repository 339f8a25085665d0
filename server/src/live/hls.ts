/**
 * Live HLS (Low-Latency HLS, fMP4) through our API, made by MediaMTX's HLS server on loopback:
 *   GET /api/cameras/:id/hls/index.m3u8   opens one HLS session (one viewer) and answers its playlist
 *   GET /api/cameras/:id/hls/:file        what that playlist references: media playlists (with the
 *                                         LL-HLS blocking directives), init sections, segments, parts
 * The playlists MediaMTX writes reference bare file names (checked before we forward one), so
 * they resolve below `…/hls/` under any ingress prefix. Each client's session rides in the query
 * (`?session=`), which also lets us count it as a viewer until it goes quiet.
 */
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { CameraIdParamsSchema } from '../cameras/api-schemas.js';
import type { CameraStore } from '../cameras/store.js';
import type { CamstackApp } from '../http/app.js';
import { ApiError, ApiErrorSchema } from '../http/errors.js';
import type { Logger } from '../log/logger.js';
import {
  forChromium,
  foreignUris,
  HLS_FILE_PATTERN,
  HLS_NUMBER_PATTERN,
  HLS_SESSION_PATTERN,
  hlsCacheControl,
  isChromiumUserAgent,
  isPlaylistName,
  sessionOf,
  upstreamQuery,
} from './hls-names.js';

export interface HlsRoutesOptions {
  store: Pick<CameraStore, 'get'>;
  /** MediaMTX's HLS server, e.g. `http://127.0.0.1:9995`. */
  hlsBase: string;
  mediamtxRunning: () => boolean;
  viewers: HlsViewers;
  logger: Logger;
  /** How long to wait for MediaMTX's first byte (a camera started on demand needs a keyframe). */
  headersTimeoutMs?: number;
}

const MEDIAMTX_DOWN = 'MediaMTX is not running, so HLS is unavailable; MJPEG (…/mjpeg) and snapshots may still work';

/**
 * One viewer per HLS session while its requests keep coming: counted from its first answered
 * request, released `idleMs` after its last one.
 */
export class HlsViewers {
  readonly #acquire: (cameraId: string) => () => void;
  readonly #idleMs: number;
  readonly #sessions = new Map<string, { release: () => void; timer: NodeJS.Timeout }>();

  constructor(acquireViewer: (cameraId: string) => () => void, idleMs = 10_000) {
    this.#acquire = acquireViewer;
    this.#idleMs = idleMs;
  }

  /** A request of `session` on `cameraId` was answered. */
  touch(cameraId: string, session: string): void {
    const key = `${cameraId}/${session}`;
    const known = this.#sessions.get(key);
    if (known) {
      known.timer.refresh();
      return;
    }
    const release = this.#acquire(cameraId);
    const timer = setTimeout(() => {
      this.#sessions.delete(key);
      release();
    }, this.#idleMs);
    timer.unref();
    this.#sessions.set(key, { release, timer });
  }

  /** Sessions counted now, for one camera. */
  count(cameraId: string): number {
    let n = 0;
    for (const key of this.#sessions.keys()) if (key.startsWith(`${cameraId}/`)) n++;
    return n;
  }

  stop(): void {
    for (const { release, timer } of this.#sessions.values()) {
      clearTimeout(timer);
      release();
    }
    this.#sessions.clear();
  }
}

const errors = {
  400: ApiErrorSchema,
  404: ApiErrorSchema,
  409: ApiErrorSchema,
  410: ApiErrorSchema,
  502: ApiErrorSchema,
  503: ApiErrorSchema,
  504: ApiErrorSchema,
};

const FileParams = Type.Object(
  {
    id: CameraIdParamsSchema.properties.id,
    file: Type.String({
      pattern: HLS_FILE_PATTERN,
      description: 'A file the playlist references: `video1_stream.m3u8`, `<prefix>_video1_seg12.mp4`…',
    }),
  },
  { additionalProperties: false },
);

const NUMBER = Type.String({ pattern: HLS_NUMBER_PATTERN });
const FileQuery = Type.Object(
  {
    session: Type.String({ pattern: HLS_SESSION_PATTERN, description: 'The HLS session, as the playlist gives it.' }),
    _HLS_msn: Type.Optional({ ...NUMBER, description: 'LL-HLS: block until this media sequence number exists.' }),
    _HLS_part: Type.Optional({ ...NUMBER, description: 'LL-HLS: … and this part of it (needs `_HLS_msn`).' }),
    _HLS_skip: Type.Optional(
      Type.Union([Type.Literal('YES'), Type.Literal('v2')], { description: 'LL-HLS: a delta update.' }),
    ),
  },
  { additionalProperties: false },
);

export async function hlsRoutes(app: CamstackApp, opts: HlsRoutesOptions): Promise<void> {
  const { store, viewers } = opts;
  const headersTimeoutMs = opts.headersTimeoutMs ?? 30_000;

  const camera = (id: string) => {
    const cam = store.get(id);
    if (!cam) throw new ApiError(404, 'not_found', `no camera "${id}"`, [{ field: 'id', message: 'unknown camera' }]);
    if (!cam.enabled) throw new ApiError(409, 'camera_disabled', `camera "${id}" is disabled`);
    if (!opts.mediamtxRunning()) throw new ApiError(503, 'hls_unavailable', MEDIAMTX_DOWN);
    return cam;
  };

  /** GET from MediaMTX; aborted when our client goes away, or when no answer starts in time. */
  const upstream = async (req: FastifyRequest, reply: FastifyReply, path: string): Promise<Response> => {
    const ctrl = new AbortController();
    reply.raw.once('close', () => ctrl.abort());
    const timer = setTimeout(() => ctrl.abort(new Error('timeout')), headersTimeoutMs);
    try {
      return await fetch(`${opts.hlsBase}/${path}`, {
        signal: ctrl.signal,
        redirect: 'manual',
        headers: { 'user-agent': String(req.headers['user-agent'] ?? 'camstack-hls-client') },
      });
    } catch (err) {
      if (ctrl.signal.reason instanceof Error && ctrl.signal.reason.message === 'timeout') {
        throw new ApiError(504, 'hls_timeout', `MediaMTX gave no HLS answer within ${headersTimeoutMs / 1000} s`);
      }
      opts.logger.debug({ err: String(err) }, 'MediaMTX HLS request failed');
      throw new ApiError(503, 'hls_unavailable', MEDIAMTX_DOWN);
    } finally {
      clearTimeout(timer);
    }
  };

  const upstreamText = async (res: Response): Promise<string> => (await res.text().catch(() => '')).slice(0, 300);

  app.get(
    '/api/cameras/:id/hls/index.m3u8',
    {
      schema: {
        tags: ['live'],
        summary: 'Live Low-Latency HLS: the playlist (each request opens one HLS session)',
        description:
          'fMP4 HLS from the camera stream without transcoding (H.264/H.265, AAC/Opus). Every URI in it is ' +
          'relative (`…/hls/<file>?session=…`). Native players: Safari (macOS, iOS), recent Chrome. 503 while ' +
          'MediaMTX is down or the camera has no stream yet.',
        params: CameraIdParamsSchema,
        querystring: Type.Object({}, { additionalProperties: false }),
        response: { 200: Type.String({ description: 'application/vnd.apple.mpegurl' }), ...errors },
      },
    },
    async (req, reply) => {
      const { id } = camera(req.params.id);
      // `cookieCheck=1`: we carry no cookies, so MediaMTX puts the session into every URI it writes.
      const res = await upstream(req, reply, `${encodeURIComponent(id)}/index.m3u8?cookieCheck=1`);
      if (res.status === 404) {
        await res.body?.cancel();
        throw new ApiError(503, 'stream_unavailable', `camera "${id}" has no stream right now (offline or starting)`);
      }
      if (!res.ok) {
        throw new ApiError(
          502,
          'hls_failed',
          `MediaMTX could not make HLS (${res.status}): ${await upstreamText(res)}`,
        );
      }
      const text = await res.text();
      const session = sessionOf(text);
      const foreign = foreignUris(text);
      if (session === null || foreign.length > 0) {
        opts.logger.warn({ camera: id, foreign: foreign.slice(0, 3) }, 'refused an HLS playlist from MediaMTX');
        throw new ApiError(502, 'hls_failed', 'MediaMTX answered an HLS playlist we do not forward');
      }
      viewers.touch(id, session);
      return reply
        .code(200)
        .header('content-type', 'application/vnd.apple.mpegurl')
        .header('cache-control', 'no-store')
        .send(isChromiumUserAgent(req.headers['user-agent']) ? forChromium(text) : text);
    },
  );

  app.get(
    '/api/cameras/:id/hls/:file',
    {
      schema: {
        tags: ['live'],
        summary: 'Live HLS: a media playlist, init section, segment or part named by the playlist',
        description:
          'Only names MediaMTX writes are accepted, with the `session` of the playlist. LL-HLS blocking playlist ' +
          'reloads (`_HLS_msn`, `_HLS_part`, `_HLS_skip`) are passed on. 410 once the session expired (load ' +
          '`index.m3u8` again); 404 for a segment no longer kept.',
        params: FileParams,
        querystring: FileQuery,
        response: { 200: Type.String({ description: 'A playlist or fMP4 data.' }), ...errors },
      },
    },
    async (req, reply) => {
      const { id } = camera(req.params.id);
      const { file } = req.params;
      const q = req.query;
      if (!isPlaylistName(file) && (q._HLS_msn ?? q._HLS_part ?? q._HLS_skip) !== undefined) {
        throw new ApiError(400, 'validation_failed', 'LL-HLS directives apply to media playlists only', [
          { field: '_HLS_msn', message: 'only on a …_stream.m3u8 playlist' },
        ]);
      }
      if (q._HLS_part !== undefined && q._HLS_msn === undefined) {
        throw new ApiError(400, 'validation_failed', '_HLS_part needs _HLS_msn', [
          { field: '_HLS_part', message: 'only together with _HLS_msn' },
        ]);
      }
      const res = await upstream(req, reply, `${encodeURIComponent(id)}/${file}?${upstreamQuery(q)}`);
      if (!res.ok || !res.body) {
        const detail = await upstreamText(res);
        if (res.status === 401) {
          throw new ApiError(410, 'hls_session_expired', 'the HLS session expired: load index.m3u8 again');
        }
        if (res.status === 404) throw new ApiError(404, 'not_found', `${file} is no longer available`);
        if (res.status === 400) {
          throw new ApiError(400, 'validation_failed', 'MediaMTX refused the LL-HLS directives', [
            { field: '_HLS_msn', message: 'outside the playlist' },
          ]);
        }
        throw new ApiError(502, 'hls_failed', `MediaMTX answered ${res.status}: ${detail}`);
      }
      viewers.touch(id, q.session);
      if (isPlaylistName(file)) {
        const text = await res.text();
        if (foreignUris(text).length > 0) {
          throw new ApiError(502, 'hls_failed', 'MediaMTX answered an HLS playlist we do not forward');
        }
        return reply
          .code(200)
          .header('content-type', 'application/vnd.apple.mpegurl')
          .header('cache-control', hlsCacheControl(file))
          .send(isChromiumUserAgent(req.headers['user-agent']) ? forChromium(text) : text);
      }
      reply
        .code(200)
        .header('content-type', res.headers.get('content-type') ?? 'video/mp4')
        .header('cache-control', hlsCacheControl(file));
      const length = res.headers.get('content-length');
      if (length !== null && /^[0-9]+$/.test(length)) reply.header('content-length', length);
      // A stream is not one of the typed (JSON/text) answers.
      return (reply as FastifyReply).send(Readable.fromWeb(res.body as WebReadableStream<Uint8Array>));
    },
  );
}
