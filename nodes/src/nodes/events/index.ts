/**
 * `camstack-events`: Camstack's events (`GET /api/events`, Server-Sent Events) as messages,
 * filtered by camera and type on the server. Reconnects with backoff (1 s doubling to 30 s) and
 * shows the connection state. A message may change the filter (`msg.camera`, `msg.types`) or
 * pause and resume the subscription (`msg.payload` = `stop` / `start`).
 */
import type { CamstackError } from '../../client';
import { DEFAULT_EVENT_TYPES, type EventType } from '../../constants';
import { EventStream, type StreamState } from '../../event-stream';
import type { DoneFn, Node, NodeAPI, NodeDef, NodeMessage, SendFn } from '../../red';
import { onInput, Status, shortReason } from '../../status';
import { resolveAction, resolveCameraFilter, resolveEventTypes } from '../../validate';
import { serverOf } from '../server';

export const EVENTS_TYPE = 'camstack-events';

export interface EventsDef extends NodeDef {
  server?: string;
  /** A camera id, or empty for every camera. */
  camera?: string;
  /** Event types; empty: every type but `metrics.tick`. */
  types?: string[] | string;
}

type EventsAction = 'start' | 'stop';
const EVENTS_ACTIONS: readonly EventsAction[] = ['start', 'stop'];

/** The camera an event is about, when it names one. */
export function eventCamera(data: unknown): string | null {
  if (typeof data !== 'object' || data === null) return null;
  const d = data as { camera?: unknown; id?: unknown; state?: unknown };
  if (typeof d.camera === 'string') return d.camera;
  if (typeof d.camera === 'object' && d.camera !== null && typeof (d.camera as { id?: unknown }).id === 'string') {
    return (d.camera as { id: string }).id;
  }
  // camera.status carries the status itself: { id, state, … }
  if (typeof d.id === 'string' && typeof d.state === 'string') return d.id;
  return null;
}

/**
 * A camera event's picture of the moment and clip as absolute URLs of this server (fetch them
 * with the server's token, e.g. through a camstack node or an http request with the header).
 */
export function eventLinks(
  type: string,
  data: unknown,
  url: (path: string) => string,
): { picture?: string; clip?: string } {
  if (type !== 'camera.event' || typeof data !== 'object' || data === null) return {};
  const d = data as { pictureUrl?: unknown; clipId?: unknown };
  return {
    ...(typeof d.pictureUrl === 'string' && d.pictureUrl.startsWith('/api/') ? { picture: url(d.pictureUrl) } : {}),
    ...(typeof d.clipId === 'string' && /^clip_\d+$/.test(d.clipId)
      ? { clip: url(`/api/recordings/${d.clipId}/video`) }
      : {}),
  };
}

/** The event types a 400 from `GET /api/events` names as unknown (`problems: [{field: 'types', message: 'unknown: a, b'}]`). */
export function unknownTypes(err: CamstackError): string[] {
  if (err.status !== 400) return [];
  const problem = err.problems.find((p) => p.field === 'types');
  const m = /unknown: (.+)$/.exec(problem?.message ?? '');
  return m?.[1] ? m[1].split(',').map((t) => t.trim()) : [];
}

export function registerEvents(RED: NodeAPI): void {
  function CamstackEventsNode(this: Node, config: EventsDef): void {
    RED.nodes.createNode(this, config);
    const status = new Status(this);
    let stream: EventStream | null = null;
    let cameras: string[] = [];
    let types: EventType[] = [];
    let count = 0;
    let closed = false;
    let reportedOutage = false;
    /** The default types, less any this Camstack does not stream (an older add-on). */
    let defaultTypes: string[] = [...DEFAULT_EVENT_TYPES];

    const onState = (s: StreamState) => {
      if (closed) return;
      switch (s.state) {
        case 'connecting':
          status.busy(s.attempt > 1 ? `connecting (try ${s.attempt})…` : 'connecting…');
          break;
        case 'connected':
          reportedOutage = false;
          status.ok(count > 0 ? `connected · ${count} events` : 'connected');
          break;
        case 'waiting':
          status.show('failed', `retry in ${Math.ceil(s.retryInMs / 1000)} s: ${shortReason(s.error)}`, 40);
          // Once per outage, so a Catch node hears of it without a message every few seconds.
          if (!reportedOutage) {
            reportedOutage = true;
            this.error(s.error, { topic: 'error', payload: { state: 'disconnected', error: s.error.message } });
          }
          break;
        case 'failed':
          status.failed(s.error);
          this.error(s.error, { topic: 'error', payload: { state: 'failed', error: s.error.message } });
          break;
        case 'stopped':
          status.idle('stopped');
          break;
      }
    };

    const subscribe = async (): Promise<void> => {
      const old = stream;
      stream = null;
      await old?.stop();
      if (closed) return;
      const { client } = serverOf(RED, config.server);
      const s = new EventStream({
        client,
        cameras,
        types: types.length > 0 ? types : defaultTypes,
        onEvent: (ev) => {
          if (closed || stream !== s) return;
          count += 1;
          if (count === 1 || count % 10 === 0) {
            status.ok(`connected · ${count} events`);
          }
          this.send({
            topic: ev.type,
            event: ev.type,
            camera: eventCamera(ev.data),
            eventId: ev.id,
            payload: ev.data,
            ...eventLinks(ev.type, ev.data, (path) => client.url(path)),
          });
        },
        onState: (st) => {
          if (stream !== s) return;
          if (st.state === 'failed' && types.length === 0) {
            const unknown = unknownTypes(st.error);
            const rest = defaultTypes.filter((t) => !unknown.includes(t));
            if (unknown.length > 0 && rest.length > 0 && rest.length < defaultTypes.length) {
              this.warn(`this Camstack does not stream ${unknown.join(', ')}; following the other events`);
              defaultTypes = rest;
              void subscribe().catch((err: unknown) => status.failed(err));
              return;
            }
          }
          onState(st);
        },
      });
      stream = s;
      s.start();
    };

    const configure = (cameraValue: unknown, typesValue: unknown) => {
      cameras = resolveCameraFilter(cameraValue);
      types = resolveEventTypes(typesValue);
    };

    const handle = async (msg: NodeMessage, _send: SendFn, done: DoneFn): Promise<void> => {
      const action = resolveAction(msg.action, msg.payload, 'start' as EventsAction, EVENTS_ACTIONS);
      if (action === 'stop') {
        const old = stream;
        stream = null;
        await old?.stop();
        onState({ state: 'stopped' });
        done();
        return;
      }
      const nextCameras = msg.camera !== undefined ? resolveCameraFilter(msg.camera) : cameras;
      const nextTypes = msg.types !== undefined ? resolveEventTypes(msg.types) : types;
      cameras = nextCameras;
      types = nextTypes;
      await subscribe();
      done();
    };

    onInput(this, status, handle);
    this.on('close', (_removed, done) => {
      closed = true;
      const old = stream;
      stream = null;
      status.clear();
      void (old?.stop() ?? Promise.resolve()).then(() => done());
    });

    try {
      configure(config.camera, config.types);
      void subscribe().catch((err: unknown) => status.report(err));
    } catch (err) {
      status.report(err);
    }
  }

  RED.nodes.registerType(EVENTS_TYPE, CamstackEventsNode);
}
