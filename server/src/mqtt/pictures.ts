/**
 * The camera entities' pictures: a snapshot, at most one per interval per camera unless asked
 * for, sent retained as JPEG. Cameras something really uses are refreshed each interval; idle
 * ones are not woken (each read would restart an on-demand camera's grace period).
 */
import { isRecorded } from '../cameras/engine-plan.js';
import { type BridgeContext, errorMessage, QOS1 } from './bridge-context.js';
import { cameraImageTopic } from './topics.js';

export class PicturePublisher {
  readonly #b: BridgeContext;
  /** A new picture went out: its camera's state says when it was taken. */
  readonly #onNewPicture: (id: string) => void;
  /** The last picture sent per camera: its ETag, when it was sent, when it was taken (ISO 8601). */
  readonly #lastImage = new Map<string, { etag: string; at: number; takenAt: string }>();
  readonly #inFlight = new Set<string>();
  readonly #failedAt = new Map<string, number>();

  constructor(bridge: BridgeContext, onNewPicture: (id: string) => void) {
    this.#b = bridge;
    this.#onNewPicture = onNewPicture;
  }

  /** A new connection: every camera's picture goes out again. */
  reset(): void {
    this.#lastImage.clear();
    this.#failedAt.clear();
  }

  cameraRemoved(id: string): void {
    this.#lastImage.delete(id);
    this.#failedAt.delete(id);
  }

  /** Whether a picture of the camera was sent on this connection. */
  sent(id: string): boolean {
    return this.#lastImage.has(id);
  }

  /** When the last picture sent was taken (ISO 8601), null before the first. */
  takenAt(id: string): string | null {
    return this.#lastImage.get(id)?.takenAt ?? null;
  }

  /** Enabled, no picture sent since we connected, and no failed attempt in the last `backoffMs`. */
  needsFirst(id: string, backoffMs = 30_000): boolean {
    if (this.#lastImage.has(id) || !this.#b.d.cameras.get(id)?.enabled) return false;
    const failed = this.#failedAt.get(id);
    return failed === undefined || Date.now() - failed > backoffMs;
  }

  /** One picture per enabled camera (two at a time: waking many cameras at once is heavy). */
  publishAll(): void {
    const ids = this.#b.d.cameras
      .list()
      .filter((c) => c.enabled)
      .map((c) => c.id);
    const next = async (): Promise<void> => {
      const id = ids.shift();
      if (id === undefined || this.#b.stopped()) return;
      await this.publish(id, { force: true });
      await next();
    };
    void next();
    void next();
  }

  /**
   * Cameras that something really uses (a viewer, 24/7 or pre-roll recording) get a fresh picture
   * each interval. Others are not woken, except once for a camera that has no picture yet: in
   * particular an on-demand camera kept pulled only by its grace period gets none, since reading
   * it would keep it pulled for ever (each read restarts the grace period). Home Assistant keeps
   * the last picture, and `picture_at` in the camera's state says when it was taken.
   */
  refreshStreaming(): void {
    for (const c of this.#b.d.cameras.list()) {
      if (!c.enabled) continue;
      const status = this.#b.d.status.get(c.id);
      if (status?.state === 'streaming' && (status.viewers > 0 || isRecorded(c))) void this.publish(c.id);
      else if (this.needsFirst(c.id)) void this.publish(c.id, { force: true });
    }
  }

  async publish(id: string, opts: { force?: boolean } = {}): Promise<void> {
    const { d, ctx, log } = this.#b;
    const snapshots = d.snapshots;
    const client = this.#b.client();
    if (!snapshots || !client?.connected || this.#inFlight.has(id)) return;
    const intervalMs = Math.max(2000, d.options.snapshotIntervalSeconds * 1000);
    const last = this.#lastImage.get(id);
    // Rate limit: at most one picture per interval per camera, unless asked for (a saved snapshot…).
    if (!opts.force && last && Date.now() - last.at < intervalMs - 250) return;
    this.#inFlight.add(id);
    try {
      const snap = await snapshots.get(id, { width: d.options.snapshotWidth, maxAgeMs: intervalMs });
      if (this.#b.client() !== client || !client.connected) return;
      if (last?.etag === snap.etag && !opts.force) return;
      const newPicture = this.#lastImage.get(id)?.takenAt !== snap.takenAt.toISOString();
      this.#lastImage.set(id, { etag: snap.etag, at: Date.now(), takenAt: snap.takenAt.toISOString() });
      this.#failedAt.delete(id);
      await client.publishAsync(cameraImageTopic(ctx, id), snap.jpeg, QOS1);
      if (newPicture) this.#onNewPicture(id);
    } catch (err) {
      this.#failedAt.set(id, Date.now());
      log.debug({ camera: id, err: errorMessage(err) }, 'MQTT: no picture for the camera entity');
    } finally {
      this.#inFlight.delete(id);
    }
  }
}
