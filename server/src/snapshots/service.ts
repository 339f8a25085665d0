/**
 * Snapshots: a JPEG for covers and dashboard thumbnails, still served when go2rtc is down.
 *
 * - One cache per camera of the latest JPEG for each requested width (a width-less request is
 *   the full size), served while fresh enough: `maxAge` from the caller, or by default 2 s while
 *   the camera streams and 10 s otherwise (see {@link DEFAULT_MAX_AGE_MS}).
 * - A fresh frame comes from go2rtc's frame API (the next keyframe of the camera's go2rtc stream,
 *   which reads MediaMTX's restream; that wakes an on-demand camera). When go2rtc is down or the
 *   call fails, FFmpeg reads one frame from MediaMTX's restream itself, registered as an internal
 *   reader so it is not counted as a viewer.
 * - A held keyframe first: when the MSE relay holds the camera's latest keyframe (a recorded or
 *   watched camera) and it is newer than the cached picture and within `maxAge`, FFmpeg decodes it
 *   (tens of ms) instead of waiting for the camera's next keyframe; the picture is dated when that
 *   keyframe arrived, so its age is honest.
 * - Single flight: concurrent requests for the same camera and width share one capture.
 * - `save()` writes a snapshot under the media dir (atomically) and publishes `snapshot.saved`.
 *
 * Errors are {@link DomainError}s: not_found (unknown camera), conflict (disabled), unavailable (offline or capture failed)
 * (with the reason, credentials redacted), 500 when the file cannot be written.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { execa } from 'execa';
import { type PlanPorts, restreamUrl, streamChanged } from '../cameras/engine-plan.js';
import type { CameraStatus } from '../cameras/status.js';
import { classifyFailure } from '../cameras/verify.js';
import type { Camera } from '../config/load.js';
import { DomainError } from '../domain-errors.js';
import { EngineHttpError, type Go2rtcClient } from '../engines/clients.js';
import type { EventBus } from '../events/bus.js';
import type { Logger } from '../log/logger.js';
import { redactUrlCredentials, type SecretRedactor } from '../log/redact.js';
import { isJpeg } from './jpeg.js';
import {
  DEFAULT_MAX_AGE_MS,
  defaultMaxAgeMs,
  etagOf,
  ffmpegKeyframeSnapshotArgs,
  ffmpegSnapshotArgs,
  freshForMs,
  snapshotRelativePath,
} from './policy.js';

export type SnapshotSource = 'cache' | 'go2rtc' | 'ffmpeg' | 'keyframe';

export interface Snapshot {
  jpeg: Buffer;
  /** When the frame was received (the capture finished). */
  takenAt: Date;
  /** Strong ETag derived from the bytes (quoted). */
  etag: string;
  /** The width asked for; undefined for full size. */
  width?: number;
  /** `cache` when served from the cache, otherwise the engine that just took it. */
  source: SnapshotSource;
  /** Sequence number of the capture that produced these bytes: equal for every request one capture served. */
  capture: number;
  /** How much longer it stays fresh under the maxAge applied to this request (ms, 0 = stale already). */
  freshForMs: number;
}

export interface SnapshotOptions {
  /** Scale to this width (pixels; height keeps the aspect ratio). Omitted: full size. */
  width?: number | undefined;
  /** Oldest cached snapshot acceptable (ms). Omitted: 2 s while streaming, 10 s otherwise. */
  maxAgeMs?: number | undefined;
}

export interface SaveOptions {
  /** Who asked: `api`, `mqtt`, `node-red`, `automation`… (carried in the event). */
  trigger: string;
  /**
   * Oldest acceptable frame (ms). Default: the streaming default (2 s) whatever the camera's
   * state — a saved snapshot records "now", so the longer idle default would be too old.
   */
  maxAgeMs?: number | undefined;
}

export interface SavedSnapshot {
  camera: string;
  /** Absolute path of the written file. */
  path: string;
  /** Path relative to the media dir: `<id>/snapshots/<id>_<YYYYMMDD-HHMMSS-mmm>.jpg`. */
  relativePath: string;
  takenAt: Date;
  trigger: string;
  snapshot: Snapshot;
}

export interface SnapshotStats {
  /** Captures started, and how each one ended. */
  captures: number;
  go2rtc: number;
  ffmpeg: number;
  /** Decoded from the keyframe the MSE relay holds (no wait for the camera). */
  keyframe: number;
  failed: number;
  /** Requests answered from the cache. */
  cacheHits: number;
}

export interface SnapshotServiceDeps {
  store: { get(id: string): Camera | undefined };
  runtime: { get(id: string): CameraStatus | undefined; acquireInternalReader(id: string): () => void };
  go2rtc: Pick<Go2rtcClient, 'frame'>;
  go2rtcRunning: () => boolean;
  /**
   * Brings the engines in line with the cameras (the reconciler's pass). A camera added a moment
   * ago may not be in go2rtc yet: when go2rtc does not know the stream, the snapshot waits for this
   * once and asks go2rtc again before falling back to FFmpeg.
   */
  syncEngines?: () => Promise<void>;
  ffmpegBin: string;
  /** For the MediaMTX restream URL. */
  ports: PlanPorts;
  mediaDir: string;
  bus: EventBus;
  logger: Logger;
  /** Masks registered secrets in error messages (URL credentials are masked regardless). */
  redactor?: SecretRedactor;
  defaultMaxAgeMs?: { streaming: number; other: number };
  /** Longest wait for go2rtc's frame (covers an on-demand start plus a GOP). Default 10 s. */
  go2rtcTimeoutMs?: number;
  /** Longest FFmpeg capture. Default 10 s. */
  ffmpegTimeoutMs?: number;
  /**
   * The newest keyframe held for the camera's stream (the MSE relay's GOP cache: an MP4 of the init
   * segment and the keyframe's fragment, and when it arrived), or null. A held keyframe newer than
   * the cached picture, and within the request's maxAge, is decoded at once instead of waiting for
   * the camera's next keyframe.
   */
  heldKeyframe?: (cameraId: string) => { readonly mp4: Uint8Array; atMs: number } | null;
  /** Cached widths per camera (least recently taken evicted). Default 8. */
  maxCachedSizes?: number;
  now?: () => number;
}

interface Captured {
  jpeg: Buffer;
  takenAtMs: number;
  etag: string;
  width: number | undefined;
  source: 'go2rtc' | 'ffmpeg' | 'keyframe';
  capture: number;
}

/** Cache key of a size: 0 stands for full size. */
const sizeKey = (width: number | undefined) => width ?? 0;

export class SnapshotService {
  readonly #d: SnapshotServiceDeps;
  /** camera id → size key → latest capture. */
  readonly #cache = new Map<string, Map<number, Captured>>();
  /** `<camera>@<size>` → the capture in progress. */
  readonly #inflight = new Map<string, Promise<Captured>>();
  /** `<camera>@<size>@<keyframe time>` → the decode of a held keyframe in progress. */
  readonly #inflightHeld = new Map<string, Promise<Captured | null>>();
  /** Bumped when a camera changes or goes: captures started before do not fill the cache. */
  readonly #generation = new Map<string, number>();
  readonly #abort = new AbortController();
  readonly #stats: SnapshotStats = { captures: 0, go2rtc: 0, ffmpeg: 0, keyframe: 0, failed: 0, cacheHits: 0 };
  readonly #unsubscribe: (() => void)[];
  #seq = 0;

  constructor(deps: SnapshotServiceDeps) {
    this.#d = deps;
    this.#unsubscribe = [
      deps.bus.on(
        'camera.updated',
        ({ camera, previous }) => {
          if (streamChanged(camera, previous)) this.#invalidate(camera.id);
        },
        'snapshots',
      ),
      deps.bus.on('camera.removed', ({ camera }) => this.#invalidate(camera.id), 'snapshots'),
    ];
  }

  /** Stops listening to the bus and cancels captures in progress (their FFmpeg is killed). */
  close(): void {
    for (const off of this.#unsubscribe.splice(0)) off();
    this.#abort.abort();
  }

  stats(): SnapshotStats {
    return { ...this.#stats };
  }

  /** A snapshot of the camera: from the cache when fresh enough, otherwise a new capture (shared). */
  async get(cameraId: string, opts: SnapshotOptions = {}): Promise<Snapshot> {
    const camera = this.#d.store.get(cameraId);
    if (camera === undefined) throw new DomainError('not_found', 'not_found', `no camera with id "${cameraId}"`);
    if (!camera.enabled) throw new DomainError('conflict', 'camera_disabled', `camera "${cameraId}" is disabled`);
    const status = this.#d.runtime.get(cameraId);
    if (status && (status.state === 'offline' || status.state === 'error')) {
      const why = status.lastError ? `: ${this.#redact(status.lastError)}` : '';
      throw new DomainError('unavailable', 'camera_unavailable', `camera "${cameraId}" is ${status.state}${why}`);
    }
    const maxAgeMs = opts.maxAgeMs ?? defaultMaxAgeMs(status?.state, this.#d.defaultMaxAgeMs ?? DEFAULT_MAX_AGE_MS);
    const size = sizeKey(opts.width);
    const cached = this.#cache.get(cameraId)?.get(size);
    const now = this.#now();
    const held = this.#d.heldKeyframe?.(cameraId) ?? null;
    if (held && now - held.atMs <= maxAgeMs && (!cached || held.atMs > cached.takenAtMs)) {
      const fromKeyframe = await this.#decodeHeld(camera, opts.width, held);
      if (fromKeyframe) return this.#view(fromKeyframe, 'keyframe', maxAgeMs, this.#now());
    }
    if (cached && freshForMs(cached.takenAtMs, now, maxAgeMs) > 0) {
      this.#stats.cacheHits++;
      return this.#view(cached, 'cache', maxAgeMs, now);
    }
    const key = `${cameraId}@${size}`;
    let pending = this.#inflight.get(key);
    if (pending === undefined) {
      const started = this.#capture(camera, opts.width).finally(() => {
        if (this.#inflight.get(key) === started) this.#inflight.delete(key);
      });
      pending = started;
      this.#inflight.set(key, started);
    }
    const captured = await pending;
    return this.#view(captured, captured.source, maxAgeMs, this.#now());
  }

  /** The cached snapshot of a size (undefined = full size), without any I/O; undefined if none. */
  latest(cameraId: string, width?: number): Snapshot | undefined {
    const cached = this.#cache.get(cameraId)?.get(sizeKey(width));
    if (cached === undefined) return undefined;
    const state = this.#d.runtime.get(cameraId)?.state;
    const maxAgeMs = defaultMaxAgeMs(state, this.#d.defaultMaxAgeMs ?? DEFAULT_MAX_AGE_MS);
    return this.#view(cached, 'cache', maxAgeMs, this.#now());
  }

  /**
   * Writes a fresh (or fresh-enough) full-size snapshot to
   * `<mediaDir>/<id>/snapshots/<id>_<YYYYMMDD-HHMMSS-mmm>.jpg` (write, then rename: a reader never
   * sees half a file) and publishes `snapshot.saved`.
   */
  async save(cameraId: string, opts: SaveOptions): Promise<SavedSnapshot> {
    const maxAgeMs = opts.maxAgeMs ?? (this.#d.defaultMaxAgeMs ?? DEFAULT_MAX_AGE_MS).streaming;
    const snapshot = await this.get(cameraId, { maxAgeMs });
    const relativePath = snapshotRelativePath(cameraId, snapshot.takenAt);
    const path = join(this.#d.mediaDir, relativePath);
    const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    try {
      await mkdir(dirname(path), { recursive: true });
      await writeFile(tmp, snapshot.jpeg, { mode: 0o644 });
      await rename(tmp, path);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : String(err);
      this.#d.logger.error({ camera: cameraId, path, code }, 'writing a snapshot failed');
      throw new DomainError('internal', 'write_failed', `could not write the snapshot to ${relativePath} (${code})`);
    }
    const saved: SavedSnapshot = {
      camera: cameraId,
      path,
      relativePath,
      takenAt: snapshot.takenAt,
      trigger: opts.trigger,
      snapshot,
    };
    this.#d.logger.info({ camera: cameraId, path: relativePath, trigger: opts.trigger }, 'snapshot saved');
    this.#d.bus.emit('snapshot.saved', {
      camera: cameraId,
      path,
      relativePath,
      takenAt: snapshot.takenAt.toISOString(),
      trigger: opts.trigger,
    });
    return saved;
  }

  #view(c: Captured, source: SnapshotSource, maxAgeMs: number, now: number): Snapshot {
    return {
      jpeg: c.jpeg,
      takenAt: new Date(c.takenAtMs),
      etag: c.etag,
      ...(c.width === undefined ? {} : { width: c.width }),
      source,
      capture: c.capture,
      freshForMs: freshForMs(c.takenAtMs, now, maxAgeMs),
    };
  }

  #invalidate(cameraId: string): void {
    this.#generation.set(cameraId, (this.#generation.get(cameraId) ?? 0) + 1);
    this.#cache.delete(cameraId);
    // Captures already running still answer their callers, but new requests start afresh.
    for (const key of [...this.#inflight.keys()]) if (key.startsWith(`${cameraId}@`)) this.#inflight.delete(key);
  }

  async #capture(camera: Camera, width: number | undefined): Promise<Captured> {
    const d = this.#d;
    const id = camera.id;
    const capture = ++this.#seq;
    const generation = this.#generation.get(id) ?? 0;
    this.#stats.captures++;
    const started = this.#now();
    let source: Captured['source'] = 'go2rtc';
    let jpeg: Buffer | null = null;
    let go2rtcReason: string | null = null;
    if (d.go2rtcRunning()) {
      try {
        jpeg = await this.#fromGo2rtc(id, width).catch(async (err: unknown) => {
          if (!(err instanceof EngineHttpError && err.status === 404 && d.syncEngines)) throw err;
          await d.syncEngines();
          return this.#fromGo2rtc(id, width);
        });
      } catch (err) {
        go2rtcReason = this.#reason(err, 'go2rtc');
        d.logger.warn({ camera: id, reason: go2rtcReason }, 'go2rtc could not take a snapshot; trying FFmpeg');
      }
    } else {
      go2rtcReason = 'go2rtc is not running';
    }
    if (jpeg === null) {
      source = 'ffmpeg';
      try {
        jpeg = await this.#fromFfmpeg(id, width);
      } catch (err) {
        this.#stats.failed++;
        const reason = this.#reason(err, 'FFmpeg');
        d.logger.warn({ camera: id, reason, go2rtc: go2rtcReason }, 'snapshot failed');
        throw new DomainError(
          'unavailable',
          'snapshot_failed',
          `could not take a snapshot of camera "${id}": ${reason}${go2rtcReason ? ` (go2rtc: ${go2rtcReason})` : ''}`,
        );
      }
    }
    this.#stats[source]++;
    const takenAtMs = this.#now();
    const captured: Captured = { jpeg, takenAtMs, etag: etagOf(jpeg), width, source, capture };
    d.logger.debug({ camera: id, source, width, bytes: jpeg.length, ms: takenAtMs - started }, 'snapshot taken');
    if ((this.#generation.get(id) ?? 0) === generation) this.#store(id, captured);
    return captured;
  }

  #store(id: string, captured: Captured): void {
    let sizes = this.#cache.get(id);
    if (sizes === undefined) {
      sizes = new Map();
      this.#cache.set(id, sizes);
    }
    sizes.set(sizeKey(captured.width), captured);
    const limit = this.#d.maxCachedSizes ?? 8;
    while (sizes.size > limit) {
      let oldest: [number, number] | null = null;
      for (const [k, v] of sizes) if (oldest === null || v.takenAtMs < oldest[1]) oldest = [k, v.takenAtMs];
      if (oldest === null) break;
      sizes.delete(oldest[0]);
    }
  }

  /** One picture from a held keyframe (single flight per keyframe and size); null when FFmpeg fails. */
  async #decodeHeld(
    camera: Camera,
    width: number | undefined,
    held: { readonly mp4: Uint8Array; atMs: number },
  ): Promise<Captured | null> {
    const id = camera.id;
    const key = `${id}@${sizeKey(width)}@${held.atMs}`;
    let pending = this.#inflightHeld.get(key);
    if (pending === undefined) {
      const generation = this.#generation.get(id) ?? 0;
      const started = (async (): Promise<Captured | null> => {
        const mp4 = held.mp4; // joined once, here
        const res = await execa(this.#d.ffmpegBin, ffmpegKeyframeSnapshotArgs(width), {
          reject: false,
          input: Buffer.from(mp4.buffer, mp4.byteOffset, mp4.byteLength),
          encoding: 'buffer',
          maxBuffer: 64 * 1024 * 1024,
          timeout: this.#d.ffmpegTimeoutMs ?? 10_000,
          killSignal: 'SIGKILL',
          cancelSignal: this.#abort.signal,
        });
        const jpeg = Buffer.from(res.stdout);
        if (res.exitCode !== 0 || !isJpeg(jpeg)) {
          const why = this.#redact(Buffer.from(res.stderr).toString('utf8').trim()).slice(0, 200);
          this.#d.logger.debug({ camera: id, why }, 'the held keyframe did not decode; capturing instead');
          return null;
        }
        this.#stats.captures++;
        this.#stats.keyframe++;
        const captured: Captured = {
          jpeg,
          takenAtMs: held.atMs,
          etag: etagOf(jpeg),
          width,
          source: 'keyframe',
          capture: ++this.#seq,
        };
        const cached = this.#cache.get(id)?.get(sizeKey(width));
        if ((this.#generation.get(id) ?? 0) === generation && (!cached || cached.takenAtMs < held.atMs)) {
          this.#store(id, captured);
        }
        return captured;
      })().finally(() => {
        if (this.#inflightHeld.get(key) === started) this.#inflightHeld.delete(key);
      });
      pending = started;
      this.#inflightHeld.set(key, started);
    }
    return pending;
  }

  async #fromGo2rtc(id: string, width: number | undefined): Promise<Buffer> {
    const jpeg = await this.#d.go2rtc.frame(id, width, {
      timeoutMs: this.#d.go2rtcTimeoutMs ?? 10_000,
      signal: this.#abort.signal,
    });
    if (jpeg.length === 0) throw new Error('no image (the stream did not start)');
    if (!isJpeg(jpeg)) throw new Error('the answer is not a JPEG');
    return jpeg;
  }

  async #fromFfmpeg(id: string, width: number | undefined): Promise<Buffer> {
    const timeoutMs = this.#d.ffmpegTimeoutMs ?? 10_000;
    const release = this.#d.runtime.acquireInternalReader(id);
    try {
      const res = await execa(
        this.#d.ffmpegBin,
        ffmpegSnapshotArgs(restreamUrl(id, this.#d.ports), { width, timeoutMs }),
        {
          reject: false,
          stdin: 'ignore',
          encoding: 'buffer',
          maxBuffer: 64 * 1024 * 1024,
          timeout: timeoutMs + 1000,
          killSignal: 'SIGKILL',
          cancelSignal: this.#abort.signal,
        },
      );
      const stdout = Buffer.from(res.stdout);
      if (res.exitCode === 0 && isJpeg(stdout)) return stdout;
      if (res.isCanceled) throw new Error('cancelled: Camstack is stopping');
      throw new Error(classifyFailure(Buffer.from(res.stderr).toString('utf8'), res.timedOut === true));
    } finally {
      release();
    }
  }

  #reason(err: unknown, engine: string): string {
    let text: string;
    if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
      text = this.#abort.signal.aborted ? 'cancelled: Camstack is stopping' : `no frame from ${engine} in time`;
    } else if (err instanceof TypeError && err.cause instanceof Error) {
      text = `${engine} unreachable (${'code' in err.cause ? String(err.cause.code) : err.cause.message})`;
    } else {
      text = err instanceof Error ? err.message : String(err);
    }
    return this.#redact(text).slice(0, 300);
  }

  #redact(text: string): string {
    return this.#d.redactor ? this.#d.redactor.redact(text) : redactUrlCredentials(text);
  }

  #now(): number {
    return (this.#d.now ?? Date.now)();
  }
}
