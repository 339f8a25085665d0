/**
 * Camera events on MQTT: per event type a camera has reported, a retained `ON`/`OFF` state (the
 * binary sensor), the latest event as JSON attributes (its picture and clip), and a `start` on
 * the trigger topic when one begins (a device trigger in Home Assistant). A type the camera
 * reports for the first time gets its entities first (its device config again).
 */
import type { Camera } from '../config/load.js';
import type { CameraEventView } from '../contract/index.js';
import { type BridgeContext, QOS1 } from './bridge-context.js';
import { cameraEventAttributesTopic, cameraEventTopic, cameraEventTriggerTopic } from './topics.js';

/** Pure: the attributes of an event type's binary sensor (the latest event of that type). */
export function eventAttributes(e: CameraEventView): Record<string, unknown> {
  return {
    event_id: e.id,
    source: e.source,
    start: e.start,
    end: e.end,
    picture_url: e.pictureUrl,
    clip_id: e.clipId,
    detail: e.detail,
  };
}

export class EventStates {
  readonly #b: BridgeContext;
  readonly #announce: (camera: Camera) => void;
  /** Events whose start was sent as a trigger (an event's later updates send none). */
  readonly #triggered = new Set<string>();

  constructor(bridge: BridgeContext, announce: (camera: Camera) => void) {
    this.#b = bridge;
    this.#announce = announce;
  }

  /** Every camera's event types: ON while one lasts, else OFF (after a connect or HA's birth). */
  publishAll(): void {
    const client = this.#b.client();
    const events = this.#b.d.events;
    if (!client?.connected || !events) return;
    for (const camera of this.#b.d.cameras.list()) {
      const active = new Set(events.activeTypes(camera.id));
      for (const type of events.types(camera.id)) {
        client.publish(cameraEventTopic(this.#b.ctx, camera.id, type), active.has(type) ? 'ON' : 'OFF', QOS1);
      }
    }
  }

  /** A camera was removed: its event states and attributes are cleared (its device already is). */
  cameraRemoved(id: string): void {
    const client = this.#b.client();
    if (!client?.connected) return;
    for (const type of this.#b.d.events?.types(id) ?? []) {
      client.publish(cameraEventTopic(this.#b.ctx, id, type), '', QOS1);
      client.publish(cameraEventAttributesTopic(this.#b.ctx, id, type), '', QOS1);
    }
  }

  /** An event started, changed or ended. */
  changed(e: CameraEventView): void {
    const client = this.#b.client();
    const events = this.#b.d.events;
    const camera = this.#b.d.cameras.get(e.camera);
    if (!client?.connected || !events || !camera) return;
    // A first event of its type: the device config gains its entities before their states.
    this.#announce(camera);
    const { ctx } = this.#b;
    const on = events.activeTypes(e.camera).includes(e.type);
    client.publish(cameraEventTopic(ctx, e.camera, e.type), on ? 'ON' : 'OFF', QOS1);
    client.publish(cameraEventAttributesTopic(ctx, e.camera, e.type), JSON.stringify(eventAttributes(e)), QOS1);
    if (e.active && !this.#triggered.has(e.id)) {
      this.#triggered.add(e.id);
      client.publish(cameraEventTriggerTopic(ctx, e.camera, e.type), 'start', { qos: 1, retain: false });
    }
    if (!e.active) this.#triggered.delete(e.id);
  }
}
