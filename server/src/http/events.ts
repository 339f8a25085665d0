/**
 * `GET /api/events`: Server-Sent Events from the one event bus, for the panel, Node-RED and
 * anyone else. Camera configuration events carry the public view only (never credentials).
 */
import { Type } from 'typebox';
import type { CameraStatusSource } from '../cameras/status.js';
import type { Camera } from '../config/load.js';
import type { CamstackEvents, EventBus, EventName } from '../events/bus.js';
import type { CamstackApp } from './app.js';

/** Events a client may subscribe to, and how each is turned into the JSON sent. */
export interface EventsRouteOptions {
  bus: EventBus;
  status: CameraStatusSource;
  /** The public form of a camera (no credentials). */
  toView: (camera: Camera) => unknown;
  /** Called while at least one client listens (e.g. the metrics sampler); returns a release. */
  acquireLive?: () => () => void;
  keepAliveMs?: number;
}

export const STREAMED_EVENTS = [
  'camera.added',
  'camera.updated',
  'camera.removed',
  'camera.status',
  'process.state',
  /** About once a second while someone listens: CPU, memory, fds of every process; FFmpeg progress. */
  'metrics.tick',
  /** A snapshot file was written (path relative to the media dir, trigger). */
  'snapshot.saved',
  /** Recording: a segment was indexed, clips started/saved/failed, files deleted or expiring. */
  'recording.segment',
  'clip.started',
  'clip.saved',
  'clip.failed',
  'recording.deleted',
  'recording.expiring',
  /** Recording paused (media disk full, with the reason) or resumed; about every recorded camera. */
  'recording.paused',
] as const satisfies readonly EventName[];

/** Events whose payload names its camera as a plain `camera` id. */
const CAMERA_FIELD_EVENTS: ReadonlySet<string> = new Set([
  'snapshot.saved',
  'recording.segment',
  'clip.started',
  'clip.saved',
  'clip.failed',
  'recording.deleted',
  'recording.expiring',
]);

type Streamed = (typeof STREAMED_EVENTS)[number];

/** Pure: the camera an event is about (for the `camera` filter), or null for system events. */
export function eventCamera(name: Streamed, payload: CamstackEvents[Streamed]): string | null {
  if (name === 'camera.status') return (payload as CamstackEvents['camera.status']).status.id;
  if (name === 'process.state' || name === 'metrics.tick' || name === 'recording.paused') return null;
  if (CAMERA_FIELD_EVENTS.has(name)) return (payload as { camera: string }).camera;
  return (payload as CamstackEvents['camera.added']).camera.id;
}

/** Pure: what goes on the wire for an event. */
export function eventData(name: Streamed, payload: CamstackEvents[Streamed], toView: (c: Camera) => unknown): unknown {
  switch (name) {
    case 'camera.added':
    case 'camera.removed':
      return { camera: toView((payload as CamstackEvents['camera.added']).camera) };
    case 'camera.updated':
      return { camera: toView((payload as CamstackEvents['camera.updated']).camera) };
    case 'camera.status':
      return (payload as CamstackEvents['camera.status']).status;
    default:
      return payload;
  }
}

/** Pure: an SSE frame. JSON never contains a raw newline, so one `data:` line suffices. */
export function sseFrame(id: number, event: string, data: unknown): string {
  return `id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

const CSV = Type.String({ maxLength: 2048, pattern: '^[a-z0-9_.,]*$' });

export async function eventsRoutes(app: CamstackApp, opts: EventsRouteOptions): Promise<void> {
  app.get(
    '/api/events',
    {
      schema: {
        tags: ['events'],
        summary: 'Server-Sent Events: camera changes, camera status, engine states, recordings and clips',
        querystring: Type.Object(
          {
            camera: Type.Optional(CSV),
            types: Type.Optional(CSV),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (req, reply) => {
      const cameras = req.query.camera ? new Set(req.query.camera.split(',').filter(Boolean)) : null;
      const wanted = req.query.types ? req.query.types.split(',').filter(Boolean) : [...STREAMED_EVENTS];
      const unknown = wanted.filter((t) => !(STREAMED_EVENTS as readonly string[]).includes(t));
      if (unknown.length) {
        return reply.code(400).send({
          statusCode: 400,
          error: 'Bad Request',
          code: 'UNKNOWN_EVENT_TYPE',
          message: `unknown event type(s): ${unknown.join(', ')} (known: ${STREAMED_EVENTS.join(', ')})`,
          problems: [{ field: 'types', message: `unknown: ${unknown.join(', ')}` }],
        });
      }
      const types = wanted as Streamed[];
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        // Home Assistant's ingress proxy and nginx must not buffer the stream.
        'x-accel-buffering': 'no',
      });
      let seq = 0;
      const send = (event: string, data: unknown) => {
        if (!res.writableEnded) res.write(sseFrame(++seq, event, data));
      };
      res.write('retry: 3000\n\n');
      // Current state first, so a client needs no separate request to start.
      if (types.includes('camera.status')) {
        for (const s of opts.status.all()) if (!cameras || cameras.has(s.id)) send('camera.status', s);
      }
      const offs = types.map((name) =>
        opts.bus.on(
          name,
          (payload) => {
            const cam = eventCamera(name, payload);
            if (cameras && cam !== null && !cameras.has(cam)) return;
            send(name, eventData(name, payload, opts.toView));
          },
          'sse',
        ),
      );
      const release = opts.acquireLive?.();
      const ping = setInterval(() => {
        if (!res.writableEnded) res.write(': ping\n\n');
      }, opts.keepAliveMs ?? 15_000);
      ping.unref();
      let closed = false;
      const close = () => {
        if (closed) return;
        closed = true;
        clearInterval(ping);
        for (const off of offs) off();
        release?.();
      };
      req.raw.once('close', close);
      res.once('close', close);
    },
  );
}
