/**
 * The retained states: each camera's (status, recording, storage, last clip, when its picture was
 * taken) and the hub's (engines, storage totals, camera count). An unchanged payload is not sent
 * again; the storage figures are rescanned on a timer and a little after recordings change.
 */
import { type BridgeContext, errorMessage, QOS1 } from './bridge-context.js';
import { cameraState, hubState } from './state.js';
import { cameraStateTopic, hubStateTopic } from './topics.js';

export class StatePublisher {
  readonly #b: BridgeContext;
  /** When the camera's picture was taken (ISO 8601), null before the first one. */
  readonly #pictureAt: (id: string) => string | null;
  /** Last payload per state topic, to skip identical republishing (cleared on reconnect). */
  readonly #lastState = new Map<string, string>();
  /** End of the newest clip per camera seen on the bus (the disk scan may lag behind). */
  readonly #lastClip = new Map<string, string>();
  #storageSoonTimer: NodeJS.Timeout | null = null;

  constructor(bridge: BridgeContext, pictureAt: (id: string) => string | null) {
    this.#b = bridge;
    this.#pictureAt = pictureAt;
  }

  /** Forget what was sent: the next publish of every state goes out. */
  reset(): void {
    this.#lastState.clear();
  }

  cameraRemoved(id: string): void {
    this.#lastState.delete(cameraStateTopic(this.#b.ctx, id));
  }

  /** A clip was saved (`clip.saved`): `end` is when its video ends. */
  clipSaved(e: { camera: string; end: string }): void {
    const previous = this.#lastClip.get(e.camera);
    if (previous === undefined || Date.parse(e.end) > Date.parse(previous)) this.#lastClip.set(e.camera, e.end);
    this.publishCamera(e.camera);
    this.storageSoon();
  }

  /** The hub's state and every camera's. */
  publishAll(): void {
    this.publishHub();
    for (const c of this.#b.d.cameras.list()) this.publishCamera(c.id);
  }

  publishCamera(id: string, opts: { force?: boolean } = {}): void {
    const d = this.#b.d;
    const camera = d.cameras.get(id);
    if (!camera) return;
    const scanned = d.storage?.current()?.cameras.get(id);
    const seen = this.#lastClip.get(id) ?? null;
    const lastClipAt =
      seen !== null && (scanned?.lastClipAt == null || Date.parse(seen) > Date.parse(scanned.lastClipAt))
        ? new Date(seen).toISOString()
        : (scanned?.lastClipAt ?? null);
    const storage = { bytes: scanned?.bytes ?? null, lastClipAt };
    const payload = cameraState(camera, d.status.get(id), storage, this.#pictureAt(id));
    this.#publishRetained(cameraStateTopic(this.#b.ctx, id), JSON.stringify(payload), opts.force ?? false);
  }

  publishHub(): void {
    const d = this.#b.d;
    const payload = hubState(
      d.engineHealth(),
      d.storage?.current()?.totals ?? null,
      d.cameras.list().length,
      this.#b.ctx.version,
    );
    this.#publishRetained(hubStateTopic(this.#b.ctx), JSON.stringify(payload), false);
  }

  async refreshStorage(): Promise<void> {
    if (!this.#b.d.storage) return;
    try {
      await this.#b.d.storage.refresh();
    } catch (err) {
      this.#b.log.debug({ err: errorMessage(err) }, 'MQTT: storage scan failed');
      return;
    }
    this.publishAll();
  }

  /** A storage rescan a little later (several deletions or segments in a row make one scan). */
  storageSoon(): void {
    if (!this.#b.d.storage || this.#storageSoonTimer || this.#b.stopped()) return;
    this.#storageSoonTimer = setTimeout(() => {
      this.#storageSoonTimer = null;
      void this.refreshStorage();
    }, 2000);
    this.#storageSoonTimer.unref();
  }

  stop(): void {
    if (this.#storageSoonTimer) clearTimeout(this.#storageSoonTimer);
  }

  #publishRetained(topic: string, payload: string, force: boolean): void {
    const client = this.#b.client();
    if (!client?.connected) return;
    if (!force && this.#lastState.get(topic) === payload) return;
    this.#lastState.set(topic, payload);
    client.publish(topic, payload, QOS1);
  }
}
