/**
 * Live view through our own server, so that behind Home Assistant ingress (one origin, one port,
 * relative URLs) nothing but Camstack is exposed:
 *   POST /api/cameras/:id/webrtc      JSON offer → JSON answer (signalling proxied to go2rtc)
 *   POST /api/cameras/:id/whep        WHEP: application/sdp → 201 + Location
 *   GET  /api/cameras/:id/ws          go2rtc's stream-socket protocol: MSE through our relay (shared
 *                                     upstream, starts at the cached keyframe), anything else proxied
 *   GET  /api/cameras/:id/mjpeg       multipart MJPEG, works while go2rtc is down
 *   GET  /api/cameras/:id/stream.mp4  progressive fragmented MP4 (players, Node-RED, VLC); Safari,
 *                                     which cannot play it, is redirected to HLS (live/hls.ts)
 * WebRTC media itself flows between the browser and go2rtc's media port.
 * `?transcode=h264` on the go2rtc routes (webrtc, whep, ws, stream.mp4) plays the camera's
 * on-demand H.264 transcode instead (for browsers without its codec, H.265): a validated choice,
 * mapped here to the stream name, never a name the client sends.
 */
import { randomUUID } from 'node:crypto';
import websocket from '@fastify/websocket';
import { Type } from 'typebox';
import { CameraIdParamsSchema } from '../cameras/api-schemas.js';
import { h264StreamName } from '../cameras/engine-plan.js';
import type { CameraStore } from '../cameras/store.js';
import { EngineHttpError, type Go2rtcClient } from '../engines/clients.js';
import type { CamstackApp } from '../http/app.js';
import { ApiError, ApiErrorSchema } from '../http/errors.js';
import { ingressPrefix } from '../http/ingress.js';
import type { Logger } from '../log/logger.js';
import { isSafariUserAgent } from './hls-names.js';
import { MJPEG_BOUNDARY, type MjpegHub } from './mjpeg.js';
import type { MseRelay } from './mse-relay.js';

export interface LiveRoutesOptions {
  store: Pick<CameraStore, 'get'>;
  go2rtc: Go2rtcClient;
  go2rtcRunning: () => boolean;
  mjpeg: MjpegHub;
  /** The MSE relay behind `/ws` (shared upstreams with a GOP cache). */
  relay: Pick<MseRelay, 'handle'>;
  /** Counts a live consumer that go2rtc does not see (MJPEG); returns its release. */
  acquireViewer: (cameraId: string) => () => void;
  logger: Logger;
}

const Params = CameraIdParamsSchema;

const SessionParams = Type.Object(
  {
    id: Type.String({ pattern: '^[a-z0-9_]{1,64}$' }),
    session: Type.String({ pattern: '^[a-f0-9-]{36}$' }),
  },
  { additionalProperties: false },
);

/** Which go2rtc stream a live route plays: the camera as it is, or its on-demand H.264 transcode. */
export const LiveQuerySchema = Type.Object(
  {
    transcode: Type.Optional(
      Type.Literal('h264', {
        description:
          "Play the camera re-encoded to H.264 (started for the first such viewer, stopped after the last): for browsers that cannot decode the camera's codec (H.265). Costs server CPU; recordings are never transcoded this way.",
      }),
    ),
  },
  { additionalProperties: false },
);

/** The go2rtc stream of a live request (the id is validated, the transcode a literal). */
export function liveStream(id: string, transcode: 'h264' | undefined): string {
  return transcode === 'h264' ? h264StreamName(id) : id;
}

const Sdp = Type.String({ minLength: 10, maxLength: 60_000 });
const Offer = Type.Object({ type: Type.Literal('offer'), sdp: Sdp }, { additionalProperties: false });
const Answer = Type.Object({ type: Type.Literal('answer'), sdp: Type.String() });
const errors = {
  400: ApiErrorSchema,
  404: ApiErrorSchema,
  409: ApiErrorSchema,
  502: ApiErrorSchema,
  503: ApiErrorSchema,
};

const GO2RTC_DOWN =
  'go2rtc is not running, so WebRTC and MSE are unavailable; MJPEG (…/mjpeg) and snapshots still work';

/** go2rtc's refusals become our errors: a bad offer is the client's (400), anything else 502. */
async function signal(exchange: () => Promise<string>): Promise<string> {
  try {
    return await exchange();
  } catch (err) {
    const body = err instanceof EngineHttpError ? err.body.trim() : String(err);
    if (err instanceof EngineHttpError && /sdp|offer|codec|media/i.test(body)) {
      throw new ApiError(400, 'invalid_offer', `the SDP offer was refused: ${body.slice(0, 200)}`, [
        { field: 'sdp', message: body.slice(0, 200) },
      ]);
    }
    throw new ApiError(502, 'live_failed', `go2rtc could not answer the offer: ${body.slice(0, 200)}`);
  }
}

export async function liveRoutes(app: CamstackApp, opts: LiveRoutesOptions): Promise<void> {
  const { store, go2rtc, mjpeg } = opts;

  const camera = (id: string) => {
    const cam = store.get(id);
    if (!cam) throw new ApiError(404, 'not_found', `no camera "${id}"`, [{ field: 'id', message: 'unknown camera' }]);
    if (!cam.enabled) throw new ApiError(409, 'camera_disabled', `camera "${id}" is disabled`);
    return cam;
  };
  const needGo2rtc = () => {
    if (!opts.go2rtcRunning()) throw new ApiError(503, 'live_unavailable', GO2RTC_DOWN);
  };

  // WHEP bodies are raw SDP.
  app.addContentTypeParser('application/sdp', { parseAs: 'string', bodyLimit: 64 * 1024 }, (_req, body, done) =>
    done(null, body),
  );

  app.post(
    '/api/cameras/:id/webrtc',
    {
      schema: {
        tags: ['live'],
        summary: 'WebRTC signalling: send an SDP offer, get the answer',
        description:
          'The answer carries every ICE candidate (no trickle). Media flows directly between the browser and ' +
          "go2rtc's WebRTC port; when that port cannot be reached, use the WebSocket (MSE) instead.",
        params: Params,
        querystring: LiveQuerySchema,
        body: Offer,
        response: { 200: Answer, ...errors },
      },
    },
    async (req) => {
      camera(req.params.id);
      needGo2rtc();
      const src = liveStream(req.params.id, req.query.transcode);
      const res = await signal(() => go2rtc.webrtc(src, req.body.sdp, 'json'));
      return { type: 'answer' as const, sdp: res };
    },
  );

  app.post(
    '/api/cameras/:id/whep',
    {
      schema: {
        tags: ['live'],
        summary: 'WHEP: POST an SDP offer (application/sdp), get 201 with the answer and a Location',
        params: Params,
        querystring: LiveQuerySchema,
        body: Sdp,
        consumes: ['application/sdp'],
        response: { 201: Type.String(), ...errors },
      },
    },
    async (req, reply) => {
      if (!String(req.headers['content-type'] ?? '').startsWith('application/sdp')) {
        throw new ApiError(415, 'unsupported_media_type', 'WHEP expects Content-Type: application/sdp');
      }
      camera(req.params.id);
      needGo2rtc();
      const src = liveStream(req.params.id, req.query.transcode);
      const answer = await signal(() => go2rtc.webrtc(src, req.body, 'sdp'));
      const session = randomUUID();
      const prefix = ingressPrefix(req.headers['x-ingress-path']);
      return reply
        .code(201)
        .header('content-type', 'application/sdp')
        .header('location', `${prefix}/api/cameras/${req.params.id}/whep/${session}`)
        .send(answer);
    },
  );

  app.delete(
    '/api/cameras/:id/whep/:session',
    {
      schema: {
        tags: ['live'],
        summary: 'WHEP: end a session',
        description: 'go2rtc ends the stream when the peer connection closes; this only acknowledges.',
        params: SessionParams,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (req, reply) => {
      camera(req.params.id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/cameras/:id/mjpeg',
    {
      schema: {
        tags: ['live'],
        summary: 'Live MJPEG (multipart/x-mixed-replace): the fallback that needs neither WebRTC nor go2rtc',
        params: Params,
        response: { ...errors },
      },
    },
    async (req, reply) => {
      const { id } = camera(req.params.id);
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': `multipart/x-mixed-replace; boundary=${MJPEG_BOUNDARY}`,
        'cache-control': 'no-cache, no-store, must-revalidate',
        pragma: 'no-cache',
        connection: 'close',
        'x-accel-buffering': 'no',
      });
      const releaseViewer = opts.acquireViewer(id);
      // A slow client misses frames rather than making us buffer without bound.
      const unsubscribe = mjpeg.subscribe(id, {
        write: (part) => (res.writableLength > 2 * 1024 * 1024 ? false : res.write(part)),
      });
      let closed = false;
      const close = () => {
        if (closed) return;
        closed = true;
        unsubscribe();
        releaseViewer();
      };
      req.raw.once('close', close);
      res.once('close', close);
    },
  );

  app.get(
    '/api/cameras/:id/stream.mp4',
    {
      schema: {
        tags: ['live'],
        summary: 'Live progressive fragmented MP4 (copy, unless ?transcode=h264)',
        description:
          'Safari cannot play a progressive fragmented MP4: it is answered 302 to `hls/index.m3u8` (relative, ' +
          'so it works under ingress), the same camera over HLS.',
        params: Params,
        querystring: LiveQuerySchema,
        response: { 302: Type.Null({ description: 'Safari: see Location (HLS).' }), ...errors },
      },
    },
    async (req, reply) => {
      const { id } = camera(req.params.id);
      if (isSafariUserAgent(req.headers['user-agent'])) {
        return reply.code(302).header('location', 'hls/index.m3u8').header('cache-control', 'no-store').send(null);
      }
      needGo2rtc();
      const ctrl = new AbortController();
      const src = liveStream(id, req.query.transcode);
      const upstream = await fetch(`${go2rtc.base}/api/stream.mp4?src=${encodeURIComponent(src)}`, {
        signal: ctrl.signal,
        // Not the browser's user agent: go2rtc answers Safari with a redirect to HLS, which we do not proxy.
        headers: { 'user-agent': 'camstack-mp4-client' },
        redirect: 'manual',
      }).catch((err: unknown) => {
        throw new ApiError(502, 'live_failed', `go2rtc did not answer: ${String(err)}`);
      });
      if (!upstream.ok || !upstream.body) throw new ApiError(502, 'live_failed', `go2rtc answered ${upstream.status}`);
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': upstream.headers.get('content-type') ?? 'video/mp4',
        'cache-control': 'no-cache',
        'x-accel-buffering': 'no',
      });
      req.raw.once('close', () => ctrl.abort());
      const reader = upstream.body.getReader();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done || res.destroyed) break;
          if (!res.write(value)) await new Promise((r) => res.once('drain', r));
        }
      } catch {
        // client or upstream went away
      } finally {
        ctrl.abort();
        res.end();
      }
    },
  );

  await app.register(websocket, { options: { maxPayload: 1024 * 1024 } });
  app.register(async (scoped) => {
    scoped.get<{ Params: { id: string }; Querystring: { transcode?: 'h264' } }>(
      '/api/cameras/:id/ws',
      {
        websocket: true,
        schema: {
          tags: ['live'],
          summary: "WebSocket to go2rtc's stream socket: MSE (fMP4 fragments) and WebRTC signalling",
          description:
            'Messages are go2rtc\'s: send {"type":"mse","value":"<codecs>"} and receive {"type":"mse","value":"<mime>"} ' +
            'followed by binary fMP4 fragments (init segment, then from the latest keyframe the server holds, then ' +
            'live); or {"type":"webrtc/offer"} / candidates.',
          params: Params,
          querystring: LiveQuerySchema,
        },
      },
      (socket, req) => {
        const id = req.params.id;
        const cam = store.get(id);
        if (!cam?.enabled || !opts.go2rtcRunning()) {
          const reason = !cam ? `no camera "${id}"` : !cam.enabled ? 'camera disabled' : GO2RTC_DOWN;
          socket.send(JSON.stringify({ type: 'error', value: reason }));
          socket.close(!cam ? 4404 : !cam.enabled ? 4409 : 4503, reason.slice(0, 120));
          return;
        }
        opts.relay.handle(
          socket,
          id,
          String(req.headers['user-agent'] ?? 'camstack-client'),
          liveStream(id, req.query.transcode),
        );
      },
    );
  });
}
