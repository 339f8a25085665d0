/**
 * `GET /api/events`: Server-Sent Events from the one event bus, for the panel, Node-RED and
 * anyone else. Camera configuration events carry the public view only (never credentials).
 */
import { Type } from 'typebox';
import type { Camera } from '../config/load.js';
import {
  type ApiEvents,
  CAMERA_FIELD_EVENTS,
  type CameraStatus,
  type CameraView,
  EVENT_TYPES,
  type EventType,
} from '../contract/index.js';
import type { CamstackApp } from '../http/app.js';
import type { CamstackEvents, EventBus } from './bus.js';

/** Events a client may subscribe to, and how each is turned into the JSON sent. */
export interface EventsRouteOptions {
  bus: EventBus;
  status: { all(): CameraStatus[] };
  /** The public form of a camera (no credentials). */
  toView: (camera: Camera) => CameraView;
  /** Called while at least one client listens (e.g. the metrics sampler); returns a release. */
  acquireLive?: () => () => void;
  keepAliveMs?: number;
}

/** Every event of the contract is streamed. */
export const STREAMED_EVENTS = EVENT_TYPES;

const CAMERA_FIELD: ReadonlySet<EventType> = new Set(CAMERA_FIELD_EVENTS);

/** Pure: the camera an event is about (for the `camera` filter), or null for system events. */
export function eventCamera<K extends EventType>(name: K, payload: CamstackEvents[K]): string | null {
  if (name === 'camera.status') return (payload as CamstackEvents['camera.status']).status.id;
  if (name === 'process.state' || name === 'metrics.tick' || name === 'recording.paused') return null;
  if (CAMERA_FIELD.has(name)) return (payload as { camera: string }).camera;
  return (payload as CamstackEvents['camera.added']).camera.id;
}

/** Pure: what goes on the wire for an event. */
export function eventData<K extends EventType>(
  name: K,
  payload: CamstackEvents[K],
  toView: (c: Camera) => CameraView,
): ApiEvents[K] {
  switch (name) {
    case 'camera.added':
    case 'camera.updated':
    case 'camera.removed':
      return { camera: toView((payload as CamstackEvents['camera.added']).camera) } as ApiEvents[K];
    case 'camera.status':
      return (payload as CamstackEvents['camera.status']).status as ApiEvents[K];
    default:
      // Every other event carries the same payload on the bus and on the wire.
      return payload as unknown as ApiEvents[K];
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
      const types = wanted as EventType[];
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
