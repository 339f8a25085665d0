import { isRecorded } from '../cameras/engine-plan.js';
import { defaultDiskUsage, type RecordingContext } from './context.js';

/**
 * Pauses recording when the media disk is (nearly) full, and says why, until twice the reserve is
 * free: emits `recording.paused` (the reconciler stops recording, the camera status says why).
 */
export class DiskGuard {
  readonly #c: RecordingContext;

  constructor(c: RecordingContext) {
    this.#c = c;
  }

  /** Why recording is paused (the media disk is full), or null while it records. */
  #diskFull: string | null = null;

  /** Whether recording is paused because the media disk is full. */
  recordingPaused(): boolean {
    return this.#diskFull !== null;
  }

  /** Why a recorded camera is not recording right now (the media disk is full), or null. */
  recordingError(camera: string): string | null {
    if (this.#diskFull === null) return null;
    const cam = this.#c.cameraList().find((c) => c.id === camera);
    return cam?.enabled && isRecorded(cam) ? this.#diskFull : null;
  }

  /**
   * Pauses recording when the media disk is (nearly) full, and resumes it once twice the reserve
   * is free again (deleting files, a larger disk, or the storage limits having freed space).
   */
  async checkDiskSpace(): Promise<void> {
    const usage = await (this.#c.o.diskUsage ?? defaultDiskUsage)(this.#c.mediaDir);
    if (usage === null || this.#c.stopped) return;
    const reserve = this.#c.o.reserveBytes ?? Math.min(64 * 1024 * 1024, Math.floor(usage.totalBytes * 0.05));
    const mb = (n: number) => `${Math.round(n / 1e5) / 10} MB`;
    if (this.#diskFull === null && usage.freeBytes < reserve) {
      this.#diskFull =
        `media disk full: ${mb(usage.freeBytes)} free of ${mb(usage.totalBytes)}; recording is paused until ` +
        `${mb(2 * reserve)} are free (delete files, protect fewer clips, or lower retention or storage_max_gb)`;
      this.#c.log.error({ freeBytes: usage.freeBytes, totalBytes: usage.totalBytes, reserve }, this.#diskFull);
      this.#c.o.bus.emit('recording.paused', { paused: true, reason: this.#diskFull });
    } else if (this.#diskFull !== null && usage.freeBytes >= 2 * reserve) {
      this.#diskFull = null;
      this.#c.log.warn(
        { freeBytes: usage.freeBytes },
        `media disk has ${mb(usage.freeBytes)} free again: recording resumes`,
      );
      this.#c.o.bus.emit('recording.paused', { paused: false, reason: null });
    }
  }
}
