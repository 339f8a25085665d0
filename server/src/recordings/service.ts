/**
 * Recordings: the index of what MediaMTX recorded, clips with pre-roll, retention and the
 * storage limits. A thin front over parts with one job each (the way MediaMTX splits recording):
 * - context.ts: what they share (options, index, folder bookkeeping, the one lock);
 * - scanner.ts: segments and clips on disk into the index (repairing what a crash left open);
 * - disk-guard.ts: pauses recording when the media disk is full, and says why;
 * - cleaner.ts: runs the retention and storage plans;
 * - catalogue.ts: the read side, protect and delete;
 * - export.ts: any span as one MP4;
 * - vod.ts (+ hls-vod.ts): any span as an HLS playlist over the segment files (byte ranges);
 * - clips.ts (+ clip-recorder.ts): clips, cut from the recording or recorded by FFmpeg, and
 *   their crash recovery.
 * The API, MQTT and Node-RED all call this front.
 *
 * Who writes what:
 * - MediaMTX records every camera that is recorded (24/7, or a rolling pre-roll buffer) into
 *   fragmented MP4 segments `<media>/<camera>/<local time>.mp4` (see engine-plan.ts);
 * - the scanner indexes new segments (a quick pass every couple of seconds, a full pass every
 *   minute and at start-up), notices completed ones, repairs files left open by a crash, and
 *   drops index entries whose file is gone: the files are the truth;
 * - a clip is cut from the recording by MediaMTX's playback server once its end has been
 *   recorded (stream copy, one faststart MP4). A camera that is not recorded at all has no
 *   pre-roll to offer: its clips are recorded by an FFmpeg reader of the restream instead.
 *
 * Crash safety: segments are fragmented MP4 (a crash loses at most the part being written, and
 * repairFragmentedMp4 closes the file properly); a clip's row is written before it is recorded,
 * so a clip cut short by a crash is finished at the next start-up; clip files appear under their
 * final name only complete (written elsewhere, then renamed).
 */
import { mkdir, realpath, rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RecordingView } from '../contract/index.js';
import { Catalogue } from './catalogue.js';
import { Cleaner } from './cleaner.js';
import { Clips } from './clips.js';
import { message, RecordingContext } from './context.js';
import { DiskGuard } from './disk-guard.js';
import { Exporter } from './export.js';
import { FrameGrabber } from './frames.js';
import type { ListFilter, RecordingRow } from './index-db.js';
import { Scanner } from './scanner.js';
import type { StorageReport } from './storage.js';
import type { TranscodeTarget } from './transcode.js';
import type {
  ClipRequest,
  ClipStartResult,
  ExpiringItem,
  ExportStream,
  RecordingServiceOptions,
  Timeline,
} from './types-public.js';
import { VodPlaylists } from './vod.js';

export type { RecordingView } from '../contract/index.js';
export { MAX_CLIP_SECONDS, MAX_CLIP_TOTAL_MS, MAX_EXPORT_MS, MAX_PRE_ROLL_SECONDS } from './limits.js';
export type {
  ClipRequest,
  ClipStartResult,
  ExpiringItem,
  ExportStream,
  RecordingServiceOptions,
  Timeline,
} from './types-public.js';

export class RecordingService {
  #timers: NodeJS.Timeout[] = [];

  #ticking = false;

  #started = false;

  readonly #c: RecordingContext;
  readonly #guard: DiskGuard;
  readonly #cleaner: Cleaner;
  readonly #catalogue: Catalogue;
  readonly #exporter: Exporter;
  readonly #frames: FrameGrabber;
  readonly #clips: Clips;
  readonly #scanner: Scanner;
  readonly #vod: VodPlaylists;

  constructor(options: RecordingServiceOptions) {
    this.#c = new RecordingContext(options);
    this.#guard = new DiskGuard(this.#c);
    this.#cleaner = new Cleaner(this.#c);
    this.#catalogue = new Catalogue(this.#c, this.#cleaner);
    this.#exporter = new Exporter(this.#c);
    this.#frames = new FrameGrabber(this.#c);
    this.#vod = new VodPlaylists(this.#c);
    this.#clips = new Clips(this.#c, this.#exporter);
    this.#scanner = new Scanner(this.#c, (camera, finalRel) => this.#clips.recoverPart(camera, finalRel));
  }

  /** Reconciles the index with the disk, finishes clips a crash interrupted, starts the timers. */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    await mkdir(this.#c.mediaDir, { recursive: true });
    this.#c.realMediaDir = await realpath(this.#c.mediaDir).catch(() => this.#c.mediaDir);
    await rm(this.#c.tmpDir, { recursive: true, force: true });
    await mkdir(this.#c.tmpDir, { recursive: true });
    await this.#c.locked(() => this.#scanner.scan(true));
    this.#c.freshIndex = false;
    this.#clips.recoverPendingClips();
    await this.#c
      .locked(() => this.#cleaner.cleanup())
      .catch((err: unknown) => this.#c.log.warn({ err: message(err) }, 'first retention pass failed'));
    const every = (ms: number, fn: () => void) => {
      const t = setInterval(fn, ms);
      t.unref();
      this.#timers.push(t);
    };
    every(this.#c.o.scanIntervalMs ?? 2000, () => void this.#tick());
    every(this.#c.o.retentionIntervalMs ?? 60_000, () => {
      void this.#c
        .locked(() => this.#cleaner.cleanup())
        .catch((err: unknown) => this.#c.log.warn({ err: message(err) }, 'retention pass failed'));
    });
  }

  /** Ends every open clip (saving what was recorded), then stops. Call before the engines stop. */
  async stop(): Promise<void> {
    if (this.#c.stopped) return;
    this.#c.stopped = true;
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    const ending = [...this.#clips.active.keys()].map((camera) =>
      this.#clips
        .stopClip(camera)
        .catch((err: unknown) =>
          this.#c.log.warn(
            { camera, err: message(err) },
            'clip could not be saved at shutdown; it is finished at the next start',
          ),
        ),
    );
    const all = Promise.allSettled([...ending, ...this.#clips.finishing]);
    await Promise.race([all, sleep(20_000, undefined, { ref: false })]);
    await this.#c.queue.catch(() => undefined);
    this.#c.index.close();
  }

  async #tick(): Promise<void> {
    if (this.#ticking || this.#c.stopped) return;
    this.#ticking = true;
    try {
      const full = this.#c.now() - this.#scanner.lastFull >= (this.#c.o.fullScanIntervalMs ?? 60_000);
      await this.#c.locked(async () => {
        const grew = await this.#scanner.scan(full);
        if (grew || this.#guard.recordingPaused()) await this.#cleaner.enforceStorage(await this.#cleaner.context());
      });
      await this.#guard.checkDiskSpace();
    } catch (err) {
      this.#c.log.warn({ err: message(err) }, 'recordings scan failed');
    } finally {
      this.#ticking = false;
    }
  }

  /** Runs a full scan now (tests, and after an external change). */
  scanNow(): Promise<void> {
    return this.#c
      .locked(async () => {
        await this.#scanner.scan(true);
      })
      .then(() => this.#guard.checkDiskSpace());
  }

  /** Runs a retention and storage pass now. */
  cleanupNow(): Promise<void> {
    return this.#c.locked(() => this.#cleaner.cleanup());
  }

  // ---- the front: what the API, MQTT, Home Assistant and Node-RED call ----------------------

  /** Whether recording is paused because the media disk is full. */
  recordingPaused(): boolean {
    return this.#guard.recordingPaused();
  }

  /** Why a recorded camera is not recording right now (the media disk is full), or null. */
  recordingError(camera: string): string | null {
    return this.#guard.recordingError(camera);
  }

  toView(row: RecordingRow): RecordingView {
    return this.#c.toView(row);
  }

  storage(): Promise<StorageReport> {
    return this.#catalogue.storage();
  }

  list(filter: ListFilter): { items: RecordingView[]; total: number } {
    return this.#catalogue.list(filter);
  }

  get(rid: string): RecordingView {
    return this.#catalogue.get(rid);
  }

  file(rid: string): Promise<{ path: string; size: number; name: string; view: RecordingView }> {
    return this.#catalogue.file(rid);
  }

  protect(rid: string, value: boolean): Promise<RecordingView> {
    return this.#catalogue.protect(rid, value);
  }

  remove(rid: string): Promise<RecordingView> {
    return this.#catalogue.remove(rid);
  }

  expiring(withinMs: number): Promise<ExpiringItem[]> {
    return this.#catalogue.expiring(withinMs);
  }

  timeline(cameraId: string, day: string): Timeline {
    return this.#catalogue.timeline(cameraId, day);
  }

  /** The frame shown at `atMs`, from the recording; null when nothing recorded holds it (yet). */
  frameAt(cameraId: string, atMs: number, width?: number): Promise<Buffer | null> {
    return this.#frames.frameAt(cameraId, atMs, width);
  }

  exportSpan(cameraId: string, fromMs: number, toMs: number, transcode?: TranscodeTarget): Promise<ExportStream> {
    return this.#exporter.exportSpan(cameraId, fromMs, toMs, transcode);
  }

  /** An HLS VOD playlist of the span (byte ranges of the segment files, named by `uriFor(rid)`). */
  hlsPlaylist(cameraId: string, fromMs: number, toMs: number, uriFor: (rid: string) => string): Promise<string> {
    return this.#vod.playlist(cameraId, fromMs, toMs, uriFor);
  }

  openClip(cameraId: string): RecordingView | null {
    return this.#clips.openClip(cameraId);
  }

  startClip(cameraId: string, request: ClipRequest): Promise<ClipStartResult> {
    return this.#clips.startClip(cameraId, request);
  }

  stopClip(cameraId: string): Promise<RecordingView> {
    return this.#clips.stopClip(cameraId);
  }
}
