/**
 * Recordings: the index of what MediaMTX recorded, clips with pre-roll, retention and the
 * storage limits. One service; the API, MQTT and Node-RED all call it.
 *
 * Who writes what:
 * - MediaMTX records every camera that is recorded (24/7, or a rolling pre-roll buffer) into
 *   fragmented MP4 segments `<media>/<camera>/<local time>.mp4` (see engine-plan.ts);
 * - this service scans those folders (a quick pass every couple of seconds, a full pass every
 *   minute and at start-up), indexes new segments, notices completed ones, repairs files left
 *   open by a crash, and drops index entries whose file is gone: the files are the truth;
 * - a clip is cut from the recording by MediaMTX's playback server once its end has been
 *   recorded (stream copy, one faststart MP4). A camera that is not recorded at all has no
 *   pre-roll to offer: its clips are recorded by an FFmpeg reader of the restream instead.
 *
 * Crash safety: segments are fragmented MP4 (a crash loses at most the part being written, and
 * {@link repairFragmentedMp4} closes the file properly); a clip's row is written before it is
 * recorded, so a clip cut short by a crash is finished at the next start-up; clip files appear
 * under their final name only complete (written elsewhere, then renamed).
 */
import { randomBytes } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import {
  access,
  mkdir,
  open,
  readdir,
  readlink,
  realpath,
  rename,
  rm,
  stat,
  statfs,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { setTimeout as sleep } from 'node:timers/promises';
import { isRecorded, restreamUrl } from '../cameras/engine-plan.js';
import type { Camera } from '../config/load.js';
import type { EventBus } from '../events/bus.js';
import { ApiError } from '../http/errors.js';
import type { Logger } from '../log/logger.js';
import type { SecretRedactor } from '../log/redact.js';
import { ManagedProcess } from '../supervisor/managed-process.js';
import {
  CLIP_FIRST_VIDEO_TIMEOUT_MS,
  CLIP_STALL_TIMEOUT_MS,
  noVideoReason,
  playbackClipEnd,
  recorderDecision,
  refineAnchor,
  videoHeldMs,
} from './clip-span.js';
import { concatCopy, probe, remuxFaststart } from './ffmpeg.js';
import { RecordingIndex as Index, type ListFilter, type RecordingIndex, type RecordingRow } from './index-db.js';
import {
  type FragmentCursor,
  type Mp4Info,
  readMp4Info,
  repairFragmentedMp4,
  scanFragments,
  type TrackSpan,
} from './mp4.js';
import {
  absolutePath,
  CLIPS_DIR,
  clipFileName,
  clipRelPath,
  formatRid,
  isCameraId,
  markerRelPath,
  PROTECTED_DIR,
  parseClipName,
  parseRid,
  parseSegmentName,
  partRelPath,
  sanitizeTrigger,
  segmentRelPath,
} from './naming.js';
import { coveredUntil, PlaybackClient, type RecordedRun, runsWithin } from './playback.js';
import {
  bytesToFree,
  DAY_MS,
  DEFAULT_RETENTION,
  expiresAt,
  gapsIn,
  mergeSpans,
  type PlannedDeletion,
  planAgeDeletions,
  planExpiring,
  planStorageDeletions,
  type RetentionContext,
  type RetentionSettings,
  type Span,
} from './retention.js';
import { type StorageReport, storageReport } from './storage.js';
import type { DeletionReason } from './types.js';
import type { RecordingView } from './view-types.js';

export type { RecordingView } from './view-types.js';

export const MAX_PRE_ROLL_SECONDS = 300;
export const MAX_CLIP_SECONDS = 3600;
/** An open clip extended again and again is closed at this length; the next request starts a new one. */
export const MAX_CLIP_TOTAL_MS = 4 * 3600_000;
export const MAX_EXPORT_MS = 24 * 3600_000;
/**
 * How long the clip FFmpeg may probe the restream before it writes anything. It stops as soon as
 * it knows every stream, which for video takes a keyframe (SPS): up to a GOP after an on-demand
 * camera was opened. What it reads while probing is kept.
 */
const RECORDER_PROBE_MS = 10_000;
/** The clip FFmpeg cuts fragments at least this often, so the video it holds is seen soon. */
const RECORDER_FRAGMENT_MS = 500;
/** How often a clip recorder's file is looked at. */
const RECORDER_POLL_MS = 150;
/** Above this estimated size an export is a fragmented MP4 (plain MP4 offsets are 32-bit). */
const PLAIN_MP4_LIMIT = 3.5e9;

export interface ClipRequest {
  /** Seconds before now to include (default: the camera's preRollSeconds). */
  preRoll?: number | undefined;
  /**
   * Seconds after now to record (default: the camera's clipSeconds): seconds of video, counted from
   * the camera's first video after the request when it had to be opened first.
   */
  duration?: number | undefined;
  /** Who asked: `api`, `mqtt`, `node-red`… (goes into the file name). */
  trigger: string;
}

export interface ClipStartResult {
  clip: RecordingView;
  /** True when an open clip of this camera was extended instead of starting a new one. */
  extended: boolean;
  /** Seconds of pre-roll the clip can include (0 when the camera keeps no buffer). */
  preRollSeconds: number;
}

export interface ExpiringItem {
  recording: RecordingView;
  expiresAt: string;
  reason: DeletionReason;
}

export interface Timeline {
  camera: string;
  day: string;
  from: string;
  to: string;
  recordedSeconds: number;
  ranges: { start: string; end: string }[];
  gaps: { start: string; end: string }[];
  clips: RecordingView[];
}

export interface ExportStream {
  body: Readable;
  fileName: string;
  /** Known for files; unknown when MediaMTX streams it. */
  size: number | null;
  fragmented: boolean;
}

export interface RecordingServiceOptions {
  /** The media folder (`media_dir`): `<camera>/…` segments and clips below it. */
  mediaDir: string;
  /** SQLite index file (under data_dir), or ':memory:'. */
  indexFile: string;
  cameras: () => readonly Camera[];
  bus: EventBus;
  logger: Logger;
  redactor: SecretRedactor;
  ffmpeg: string;
  ffprobe: string;
  ports: { mediamtxRtsp: number; mediamtxPlayback: number };
  /** The recording engine (MediaMTX): its pid tells which files are still being written. */
  recorder: { pid: () => number | null; running: () => boolean };
  /** Registers an FFmpeg reader of the restream so it is not counted as a viewer. */
  acquireInternalReader: (camera: string) => () => void;
  /** pid files of clip FFmpegs, reaped after a crash like the engines'. */
  pidDir?: string;
  storageMaxBytes?: number;
  storageMinFreePercent?: number;
  scanIntervalMs?: number;
  fullScanIntervalMs?: number;
  retentionIntervalMs?: number;
  /** How long pre-roll buffer segments are kept after they end. Default 600 s. */
  bufferSeconds?: number;
  /** How long after a clip's end to wait for the recording to reach it. Default 15 s. */
  clipSettleMs?: number;
  /**
   * How long a clip waits for the camera's first video after the request (an on-demand camera is
   * opened by it) before it fails with "camera did not deliver video within N s". Default 20 s.
   */
  clipFirstVideoTimeoutMs?: number;
  now?: () => number;
  /** Disk size and free space of the media folder (tests replace it). */
  diskUsage?: (dir: string) => Promise<{ totalBytes: number; freeBytes: number } | null>;
  /**
   * Below this much free space on the media disk recording pauses (rather than MediaMTX failing to
   * write mid-fragment and leaving empty files), until twice as much is free again. Default: 64 MiB,
   * or 5 % of a smaller disk. The storage limits normally keep the disk from getting here.
   */
  reserveBytes?: number;
  /** Called when recording pauses for lack of space, or resumes. */
  onRecordingPausedChange?: (paused: boolean) => void;
}

interface RecorderState {
  /** Wall-clock time of the file's media time 0 (see refineAnchor); null before the first fragment. */
  anchorMs: number | null;
  /** Media time the file starts at (its earliest track), ms. */
  mediaStartMs: number | null;
  /** Media time the video track covers so far. */
  video: TrackSpan | null;
  videoGrewAtMs: number | null;
  cursor: FragmentCursor | undefined;
  info: Mp4Info | null;
  /** Why the clip fails when the recorder's file holds no video (set when giving up waiting). */
  failReason: string | null;
  /** When the recorder was told to stop: its media ends about then. */
  stoppedAtMs: number | null;
  withAudio: boolean;
  attempts: number;
  /** Set when the clip holds the video it wanted: how much of it to keep (the rest is cut off). */
  keepVideoMs: number | null;
}

interface ActiveClip {
  rowId: number;
  camera: string;
  trigger: string;
  requestedMs: number;
  startMs: number;
  endMs: number;
  timer: NodeJS.Timeout | null;
  method: 'playback' | 'ffmpeg';
  proc: ManagedProcess | null;
  release: (() => void) | null;
  partRel: string | null;
  /** The end asked for (before any wait for the stream). */
  plannedEndMs: number;
  /** FFmpeg clips: the recorder's progress, read from its file (see #watchRecorder). */
  rec: RecorderState | null;
  finishing: Promise<RecordingView> | null;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function errnoCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : undefined;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path, constants.F_OK);
    return true;
  } catch {
    return false;
  }
}

async function syncDir(dir: string): Promise<void> {
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // not every file system syncs directories
  }
}

async function defaultDiskUsage(dir: string): Promise<{ totalBytes: number; freeBytes: number } | null> {
  try {
    const s = await statfs(dir);
    return { totalBytes: s.blocks * s.bsize, freeBytes: s.bavail * s.bsize };
  } catch {
    return null;
  }
}

export class RecordingService {
  readonly #o: RecordingServiceOptions;
  readonly #log: Logger;
  readonly #index: RecordingIndex;
  readonly #playback: PlaybackClient;
  readonly #mediaDir: string;
  /** The media dir with symlinks resolved, as the kernel names the files MediaMTX has open. */
  #realMediaDir: string;
  readonly #tmpDir: string;
  readonly #bufferMs: number;
  /** Relative paths of complete, indexed files (skipped by the quick scan). */
  readonly #known = new Set<string>();
  /** Incremental fragment scans of segments being written. */
  readonly #cursors = new Map<string, FragmentCursor>();
  readonly #active = new Map<string, ActiveClip>();
  /** Clip spans the buffer must keep, by clip row id. */
  readonly #pins = new Map<number, { camera: string } & Span>();
  readonly #finishing = new Set<Promise<unknown>>();
  readonly #warned = new Set<string>();
  #queue: Promise<unknown> = Promise.resolve();
  #timers: NodeJS.Timeout[] = [];
  #ticking = false;
  /** Why recording is paused (the media disk is full), or null while it records. */
  #diskFull: string | null = null;
  #lastFull = 0;
  #started = false;
  #stopped = false;
  /** The index was created empty: files found at start-up are treated as 24/7 recordings. */
  #freshIndex: boolean;
  /** Before this, nothing of this run was recorded: where clips a crash interrupted end at the latest. */
  readonly #createdAt: number;

  constructor(options: RecordingServiceOptions) {
    this.#o = options;
    this.#log = options.logger.child({ module: 'recordings' });
    this.#mediaDir = options.mediaDir.replace(/\/+$/, '');
    this.#realMediaDir = this.#mediaDir;
    this.#tmpDir = join(this.#mediaDir, '.tmp');
    this.#index = new Index(options.indexFile);
    this.#freshIndex = this.#index.fresh;
    this.#playback = new PlaybackClient(options.ports.mediamtxPlayback);
    this.#bufferMs = (options.bufferSeconds ?? 600) * 1000;
    this.#createdAt = this.#now();
    for (const row of this.#index.list({ state: 'complete' })) if (row.path) this.#known.add(row.path);
  }

  #now(): number {
    return (this.#o.now ?? Date.now)();
  }

  /**
   * Part files (`.<clip>.mp4.part`) of clips this process records or is saving: the scan never
   * takes them for a crash's leftovers. A part leaves this set once its file is gone.
   */
  readonly #ownedParts = new Set<string>();

  #camCache: { at: number; list: readonly Camera[] } | null = null;

  /** The cameras, re-read at most every 250 ms (listing thousands of recordings asks per row). */
  #cameraList(): readonly Camera[] {
    const now = Date.now();
    if (this.#camCache === null || now - this.#camCache.at > 250) this.#camCache = { at: now, list: this.#o.cameras() };
    return this.#camCache.list;
  }

  #locked<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  // ---- life cycle ---------------------------------------------------------------------------

  /** Reconciles the index with the disk, finishes clips a crash interrupted, starts the timers. */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    await mkdir(this.#mediaDir, { recursive: true });
    this.#realMediaDir = await realpath(this.#mediaDir).catch(() => this.#mediaDir);
    await rm(this.#tmpDir, { recursive: true, force: true });
    await mkdir(this.#tmpDir, { recursive: true });
    await this.#locked(() => this.#scan(true));
    this.#freshIndex = false;
    this.#recoverPendingClips();
    await this.#locked(() => this.#cleanup()).catch((err: unknown) =>
      this.#log.warn({ err: message(err) }, 'first retention pass failed'),
    );
    const every = (ms: number, fn: () => void) => {
      const t = setInterval(fn, ms);
      t.unref();
      this.#timers.push(t);
    };
    every(this.#o.scanIntervalMs ?? 2000, () => void this.#tick());
    every(this.#o.retentionIntervalMs ?? 60_000, () => {
      void this.#locked(() => this.#cleanup()).catch((err: unknown) =>
        this.#log.warn({ err: message(err) }, 'retention pass failed'),
      );
    });
  }

  /** Ends every open clip (saving what was recorded), then stops. Call before the engines stop. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    const ending = [...this.#active.keys()].map((camera) =>
      this.stopClip(camera).catch((err: unknown) =>
        this.#log.warn(
          { camera, err: message(err) },
          'clip could not be saved at shutdown; it is finished at the next start',
        ),
      ),
    );
    const all = Promise.allSettled([...ending, ...this.#finishing]);
    await Promise.race([all, sleep(20_000, undefined, { ref: false })]);
    await this.#queue.catch(() => undefined);
    this.#index.close();
  }

  async #tick(): Promise<void> {
    if (this.#ticking || this.#stopped) return;
    this.#ticking = true;
    try {
      const full = this.#now() - this.#lastFull >= (this.#o.fullScanIntervalMs ?? 60_000);
      await this.#locked(async () => {
        const grew = await this.#scan(full);
        if (grew || this.#diskFull !== null) await this.#enforceStorage(await this.#context());
      });
      await this.#checkDiskSpace();
    } catch (err) {
      this.#log.warn({ err: message(err) }, 'recordings scan failed');
    } finally {
      this.#ticking = false;
    }
  }

  /** Whether recording is paused because the media disk is full. */
  recordingPaused(): boolean {
    return this.#diskFull !== null;
  }

  /** Why a recorded camera is not recording right now (the media disk is full), or null. */
  recordingError(camera: string): string | null {
    if (this.#diskFull === null) return null;
    const cam = this.#cameraList().find((c) => c.id === camera);
    return cam?.enabled && isRecorded(cam) ? this.#diskFull : null;
  }

  /**
   * Pauses recording when the media disk is (nearly) full, and resumes it once twice the reserve
   * is free again (deleting files, a larger disk, or the storage limits having freed space).
   */
  async #checkDiskSpace(): Promise<void> {
    const usage = await (this.#o.diskUsage ?? defaultDiskUsage)(this.#mediaDir);
    if (usage === null || this.#stopped) return;
    const reserve = this.#o.reserveBytes ?? Math.min(64 * 1024 * 1024, Math.floor(usage.totalBytes * 0.05));
    const mb = (n: number) => `${Math.round(n / 1e5) / 10} MB`;
    if (this.#diskFull === null && usage.freeBytes < reserve) {
      this.#diskFull =
        `media disk full: ${mb(usage.freeBytes)} free of ${mb(usage.totalBytes)}; recording is paused until ` +
        `${mb(2 * reserve)} are free (delete files, protect fewer clips, or lower retention or storage_max_gb)`;
      this.#log.error({ freeBytes: usage.freeBytes, totalBytes: usage.totalBytes, reserve }, this.#diskFull);
      this.#o.onRecordingPausedChange?.(true);
    } else if (this.#diskFull !== null && usage.freeBytes >= 2 * reserve) {
      this.#diskFull = null;
      this.#log.warn(
        { freeBytes: usage.freeBytes },
        `media disk has ${mb(usage.freeBytes)} free again: recording resumes`,
      );
      this.#o.onRecordingPausedChange?.(false);
    }
  }

  /** Runs a full scan now (tests, and after an external change). */
  scanNow(): Promise<void> {
    return this.#locked(async () => {
      await this.#scan(true);
    }).then(() => this.#checkDiskSpace());
  }

  /** Runs a retention and storage pass now. */
  cleanupNow(): Promise<void> {
    return this.#locked(() => this.#cleanup());
  }

  // ---- scanning -------------------------------------------------------------------------------

  /** Files under the media dir (relative paths) MediaMTX has open; null when that cannot be known. */
  async #busyFiles(): Promise<Set<string> | null> {
    const pid = this.#o.recorder.pid();
    if (pid === null) return new Set();
    try {
      const fds = await readdir(`/proc/${pid}/fd`);
      const out = new Set<string>();
      const prefixes = [`${this.#realMediaDir}/`, `${this.#mediaDir}/`];
      await Promise.all(
        fds.map(async (fd) => {
          try {
            const target = await readlink(`/proc/${pid}/fd/${fd}`);
            const prefix = prefixes.find((p) => target.startsWith(p));
            if (prefix) out.add(target.slice(prefix.length));
          } catch {
            // closed meanwhile
          }
        }),
      );
      return out;
    } catch {
      return null;
    }
  }

  #isBusy(rel: string, busy: Set<string> | null, mtimeMs: number): boolean {
    if (busy !== null) return busy.has(rel);
    return this.#now() - mtimeMs < 15_000;
  }

  async #cameraDirs(): Promise<string[]> {
    try {
      const entries = await readdir(this.#mediaDir, { withFileTypes: true });
      return entries.filter((e) => e.isDirectory() && isCameraId(e.name)).map((e) => e.name);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return [];
      throw err;
    }
  }

  #kindFor(camera: string): 'continuous' | 'buffer' {
    if (this.#freshIndex) return 'continuous';
    const cam = this.#cameraList().find((c) => c.id === camera);
    return cam?.enabled && !cam.recording.continuous && cam.recording.preRollSeconds > 0 ? 'buffer' : 'continuous';
  }

  /**
   * One pass over the media folder. Quick: new and growing segments of recorded cameras. Full:
   * every camera folder, clips, protection markers, and index entries whose file is gone.
   * Returns whether bytes were added (the storage limits are checked then).
   */
  async #scan(full: boolean): Promise<boolean> {
    const now = this.#now();
    if (full) this.#lastFull = now;
    const busy = await this.#busyFiles();
    let grew = false;
    const dirs = new Set<string>();
    if (full) for (const d of await this.#cameraDirs()) dirs.add(d);
    else {
      for (const c of this.#cameraList()) if (c.enabled && isRecorded(c)) dirs.add(c.id);
      for (const rel of this.#cursors.keys()) dirs.add(rel.split('/')[0] ?? '');
    }
    const seen = new Set<string>();
    for (const camera of dirs) {
      if (!isCameraId(camera)) continue;
      let names: string[];
      try {
        names = await readdir(join(this.#mediaDir, camera));
      } catch (err) {
        if (errnoCode(err) === 'ENOENT') continue;
        throw err;
      }
      for (const name of names) {
        const startMs = parseSegmentName(name);
        if (startMs === null) continue;
        const rel = segmentRelPath(camera, name);
        seen.add(rel);
        if (this.#known.has(rel)) continue;
        if (await this.#examineSegment(camera, rel, startMs, busy)) grew = true;
      }
      if (full) {
        if (await this.#scanClips(camera, seen)) grew = true;
        await this.#syncMarkers(camera);
      }
    }
    if (full) await this.#dropMissing(seen);
    return grew;
  }

  /** Indexes or updates one segment file. Returns whether the index grew. */
  async #examineSegment(camera: string, rel: string, startMs: number, busy: Set<string> | null): Promise<boolean> {
    const abs = join(this.#mediaDir, rel);
    let st: Awaited<ReturnType<typeof stat>>;
    try {
      st = await stat(abs);
    } catch {
      return false;
    }
    const row = this.#index.getByPath(rel);
    let info: Awaited<ReturnType<typeof readMp4Info>>;
    try {
      info = await readMp4Info(abs);
    } catch (err) {
      if (this.#isBusy(rel, busy, st.mtimeMs) || this.#now() - st.mtimeMs < 30_000) return false; // being created
      this.#warnOnce(rel, `${rel} is not a readable MP4 segment (${message(err)}); leaving it out of the index`);
      return false;
    }
    if (info.durationMs > 0) {
      await this.#completeSegment(camera, rel, startMs, startMs + info.durationMs, st.size, row);
      return true;
    }
    if (this.#isBusy(rel, busy, st.mtimeMs)) {
      // Being written: follow its complete parts.
      const scan = await scanFragments(abs, info, this.#cursors.get(rel));
      this.#cursors.set(rel, scan.cursor);
      const endMs = startMs + scan.mediaMs;
      if (row) {
        if (row.endMs !== endMs || row.size !== st.size) this.#index.update(row.id, { endMs, size: st.size });
      } else {
        this.#index.insert({
          type: 'segment',
          camera,
          path: rel,
          startMs,
          endMs,
          size: st.size,
          protected: await exists(join(this.#mediaDir, markerRelPath(rel))),
          trigger: null,
          kind: this.#kindFor(camera),
          state: 'open',
          requestedMs: null,
        });
      }
      return row === undefined || st.size > row.size;
    }
    if (this.#now() - st.mtimeMs < 3_000) return false; // just closed or just abandoned: look again soon
    // Left open by a crash of the recorder: close it properly.
    const repaired = await repairFragmentedMp4(abs).catch((err: unknown) => {
      this.#warnOnce(rel, `could not repair ${rel}: ${message(err)}`);
      return undefined;
    });
    if (repaired === undefined) return false;
    if (repaired === null) {
      this.#log.warn({ path: rel }, 'removing a segment that holds no complete part (left by a crash)');
      await unlink(abs).catch(() => undefined);
      if (row) this.#index.delete(row.id);
      this.#cursors.delete(rel);
      return false;
    }
    this.#log.warn({ path: rel, seconds: repaired.durationMs / 1000 }, 'recovered a segment left open by a crash');
    await this.#completeSegment(camera, rel, startMs, startMs + repaired.durationMs, repaired.size, row);
    return true;
  }

  async #completeSegment(
    camera: string,
    rel: string,
    startMs: number,
    endMs: number,
    size: number,
    row: RecordingRow | undefined,
  ): Promise<void> {
    let id: number;
    let kind: 'continuous' | 'buffer';
    if (row) {
      this.#index.update(row.id, { state: 'complete', endMs, size });
      id = row.id;
      kind = row.kind ?? 'continuous';
    } else {
      kind = this.#kindFor(camera);
      id = this.#index.insert({
        type: 'segment',
        camera,
        path: rel,
        startMs,
        endMs,
        size,
        protected: await exists(join(this.#mediaDir, markerRelPath(rel))),
        trigger: null,
        kind,
        state: 'complete',
        requestedMs: null,
      }).id;
    }
    this.#known.add(rel);
    this.#cursors.delete(rel);
    this.#o.bus.emit('recording.segment', {
      id: formatRid('segment', id),
      camera,
      path: rel,
      start: iso(startMs),
      end: iso(endMs),
      size,
      kind,
    });
  }

  /** Clips on disk that the index does not know (e.g. after the index was deleted); FFmpeg leftovers. */
  async #scanClips(camera: string, seen: Set<string>): Promise<boolean> {
    const dir = join(this.#mediaDir, camera, CLIPS_DIR);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return false;
    }
    let grew = false;
    for (const name of names) {
      const part = /^\.(.+\.mp4)\.part$/.exec(name);
      if (part?.[1] !== undefined) {
        const finalRel = clipRelPath(camera, part[1]);
        if (!this.#ownedParts.has(partRelPath(finalRel)) && parseClipName(part[1]) !== null) {
          await this.#recoverPart(camera, finalRel);
          grew = true;
        }
        continue;
      }
      const parsed = parseClipName(name);
      if (parsed === null) continue;
      const rel = clipRelPath(camera, name);
      seen.add(rel);
      if (this.#known.has(rel)) continue;
      const abs = join(this.#mediaDir, rel);
      try {
        const st = await stat(abs);
        let durationMs = 0;
        try {
          durationMs = (await readMp4Info(abs)).durationMs;
        } catch {
          durationMs = 0;
        }
        if (durationMs <= 0) durationMs = Math.round((await probe(this.#o.ffprobe, abs)).durationSeconds * 1000);
        const existing = this.#index.getByPath(rel);
        if (existing) {
          this.#index.update(existing.id, { state: 'complete', size: st.size, endMs: existing.startMs + durationMs });
        } else {
          this.#index.insert({
            type: 'clip',
            camera,
            path: rel,
            startMs: parsed.startMs,
            endMs: parsed.startMs + durationMs,
            size: st.size,
            protected: await exists(join(this.#mediaDir, markerRelPath(rel))),
            trigger: parsed.trigger,
            kind: null,
            state: 'complete',
            requestedMs: null,
          });
        }
        this.#known.add(rel);
        grew = true;
      } catch (err) {
        this.#warnOnce(rel, `${rel} is not a playable clip (${message(err)}); leaving it out of the index`);
      }
    }
    return grew;
  }

  /** Protection markers are the truth for the protected flag. */
  async #syncMarkers(camera: string): Promise<void> {
    for (const sub of [camera, join(camera, CLIPS_DIR)]) {
      const markerDir = join(this.#mediaDir, sub, PROTECTED_DIR);
      let markers: Set<string>;
      try {
        markers = new Set(await readdir(markerDir));
      } catch {
        markers = new Set();
      }
      const type = sub === camera ? 'segment' : 'clip';
      for (const row of this.#index.list({ camera, type })) {
        if (row.path === null || row.state !== 'complete') continue;
        const name = row.path.split('/').pop() ?? '';
        const marked = markers.has(name);
        markers.delete(name);
        if (marked !== row.protected) this.#index.update(row.id, { protected: marked });
      }
      // Markers whose recording is gone.
      for (const name of markers) {
        const target = join(this.#mediaDir, sub, name);
        if (!(await exists(target))) await unlink(join(markerDir, name)).catch(() => undefined);
      }
    }
  }

  async #dropMissing(seen: Set<string>): Promise<void> {
    for (const row of this.#index.list({ state: 'complete' })) {
      if (row.path === null || seen.has(row.path)) continue;
      if (await exists(join(this.#mediaDir, row.path))) continue;
      this.#log.warn({ path: row.path }, 'a recording in the index is gone from the disk; dropping it');
      this.#forget(row, 'missing');
    }
    for (const row of this.#index.list({ type: 'segment', state: 'open' })) {
      if (row.path && !(await exists(join(this.#mediaDir, row.path)))) this.#forget(row, 'missing');
    }
  }

  #forget(row: RecordingRow, reason: DeletionReason): void {
    this.#index.delete(row.id);
    if (row.path) {
      this.#known.delete(row.path);
      this.#cursors.delete(row.path);
    }
    this.#o.bus.emit('recording.deleted', {
      id: formatRid(row.type, row.id),
      type: row.type,
      camera: row.camera,
      path: row.path ?? '',
      start: iso(row.startMs),
      end: iso(row.endMs),
      size: row.size,
      reason,
    });
  }

  #warnOnce(key: string, text: string): void {
    if (this.#warned.has(key)) return;
    this.#warned.add(key);
    this.#log.warn(text);
  }

  // ---- retention ------------------------------------------------------------------------------

  #settings(camera: string): RetentionSettings {
    const cam = this.#cameraList().find((c) => c.id === camera);
    return cam ? cam.recording : DEFAULT_RETENTION;
  }

  #pinned(camera: string): Span[] {
    return [...this.#pins.values()].filter((p) => p.camera === camera);
  }

  async #context(): Promise<RetentionContext> {
    const busy = new Set(await this.#busyFiles());
    for (const rel of this.#cursors.keys()) busy.add(rel);
    return {
      now: this.#now(),
      settings: (c) => this.#settings(c),
      bufferMs: this.#bufferMs,
      pinned: (c) => this.#pinned(c),
      busy,
    };
  }

  async #cleanup(): Promise<void> {
    const ctx = await this.#context();
    const rows = this.#index.list({ state: 'complete', protected: false });
    for (const d of planAgeDeletions(rows, ctx)) await this.#delete(d.row, d.reason, ctx.busy);
    await this.#enforceStorage(ctx);
    // Tell once, about a day ahead, what retention will delete.
    const remaining = this.#index.list({ state: 'complete', protected: false });
    for (const e of planExpiring(remaining, DAY_MS, ctx)) {
      if (e.row.expiringNotified || e.row.path === null) continue;
      this.#index.update(e.row.id, { expiringNotified: true });
      this.#o.bus.emit('recording.expiring', {
        id: formatRid(e.row.type, e.row.id),
        type: e.row.type,
        camera: e.row.camera,
        path: e.row.path,
        start: iso(e.row.startMs),
        end: iso(e.row.endMs),
        expiresAt: iso(e.at),
      });
    }
  }

  async #storagePlan(ctx: RetentionContext): Promise<PlannedDeletion[]> {
    const usage = await (this.#o.diskUsage ?? defaultDiskUsage)(this.#mediaDir);
    const need = bytesToFree({
      usedBytes: this.#index.totalSize(),
      maxBytes: this.#o.storageMaxBytes ?? 0,
      disk: usage,
      minFreePercent: this.#o.storageMinFreePercent ?? 0,
    });
    if (need <= 0) return [];
    const index = this.#index;
    function* oldestFirst(): Generator<RecordingRow> {
      const page = 500;
      for (let offset = 0; ; offset += page) {
        const rows = index.list({ state: 'complete', protected: false, order: 'asc', limit: page, offset });
        yield* rows;
        if (rows.length < page) return;
      }
    }
    return planStorageDeletions(oldestFirst(), need, ctx);
  }

  async #enforceStorage(ctx: RetentionContext): Promise<void> {
    const plan = await this.#storagePlan(ctx);
    if (plan.length === 0) return;
    this.#log.info(
      { count: plan.length, bytes: plan.reduce((n, d) => n + d.row.size, 0) },
      'storage limit reached: deleting the oldest recordings',
    );
    for (const d of plan) await this.#delete(d.row, d.reason, ctx.busy);
  }

  /** Deletes a recording's file, marker and index entry. Never a protected or busy one. */
  async #delete(row: RecordingRow, reason: DeletionReason, busy: ReadonlySet<string>): Promise<boolean> {
    const current = this.#index.get(row.id);
    if (!current || current.protected || current.state !== 'complete' || current.path === null) return false;
    if (busy.has(current.path)) return false;
    // The marker next to the file is the truth, whatever the index says.
    if (await exists(join(this.#mediaDir, markerRelPath(current.path)))) {
      this.#index.update(current.id, { protected: true });
      return false;
    }
    try {
      await unlink(absolutePath(this.#mediaDir, current.path));
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') {
        this.#log.warn({ path: current.path, err: message(err) }, 'could not delete a recording');
        return false;
      }
    }
    this.#forget(current, reason);
    return true;
  }

  // ---- queries (API) --------------------------------------------------------------------------

  toView(row: RecordingRow): RecordingView {
    const exp = row.state === 'complete' ? expiresAt(row, this.#settings(row.camera), this.#bufferMs) : null;
    const rid = formatRid(row.type, row.id);
    const hasFile = row.path !== null && (row.type === 'segment' || row.state === 'complete');
    return {
      id: rid,
      type: row.type,
      camera: row.camera,
      start: iso(row.startMs),
      end: iso(row.endMs),
      durationSeconds: Math.max(0, Math.round(row.endMs - row.startMs) / 1000),
      size: row.size,
      protected: row.protected,
      inProgress: row.state === 'open',
      trigger: row.trigger,
      kind: row.type === 'segment' ? (row.kind ?? 'continuous') : null,
      path: hasFile ? row.path : null,
      url: hasFile ? `/api/recordings/${rid}/video` : null,
      expiresAt: exp ? iso(exp.at) : null,
    };
  }

  /** Bytes per camera (all, protected), the media disk and the storage limits (GET /api/storage). */
  async storage(): Promise<StorageReport> {
    const disk = await (this.#o.diskUsage ?? defaultDiskUsage)(this.#mediaDir);
    return storageReport(this.#index.usageByCamera(), this.#cameraList(), disk, {
      maxBytes: this.#o.storageMaxBytes ?? 0,
      minFreePercent: this.#o.storageMinFreePercent ?? 0,
    });
  }

  list(filter: ListFilter): { items: RecordingView[]; total: number } {
    const { limit, offset, order, ...where } = filter;
    return {
      items: this.#index
        .list({ ...where, order: order ?? 'desc', limit: limit ?? 100, offset: offset ?? 0 })
        .map((r) => this.toView(r)),
      total: this.#index.count(where),
    };
  }

  #row(rid: string): RecordingRow {
    const parsed = parseRid(rid);
    const row = parsed ? this.#index.get(parsed.id) : undefined;
    if (!parsed || !row || row.type !== parsed.type) {
      throw new ApiError(404, 'not_found', `no recording "${rid}"`, [
        { field: 'rid', message: `no recording with id "${rid}" (it may have been deleted)` },
      ]);
    }
    return row;
  }

  get(rid: string): RecordingView {
    return this.toView(this.#row(rid));
  }

  /** The file behind a recording, for playing and downloading. */
  async file(rid: string): Promise<{ path: string; size: number; name: string; view: RecordingView }> {
    const row = this.#row(rid);
    if (row.path === null || (row.type === 'clip' && row.state !== 'complete')) {
      throw new ApiError(409, 'in_progress', `${rid} is still being recorded; its file does not exist yet`, [
        { field: 'rid', message: 'still being recorded' },
      ]);
    }
    const abs = absolutePath(this.#mediaDir, row.path);
    try {
      const st = await stat(abs);
      return { path: abs, size: st.size, name: row.path.split('/').pop() ?? 'recording.mp4', view: this.toView(row) };
    } catch {
      await this.#locked(async () => this.#forget(row, 'missing'));
      throw new ApiError(404, 'not_found', `the file of ${rid} is gone`, [
        { field: 'rid', message: 'the recording file no longer exists' },
      ]);
    }
  }

  /** Protects (never deleted by retention or the storage cap) or unprotects a recording. */
  protect(rid: string, value: boolean): Promise<RecordingView> {
    return this.#locked(async () => {
      const row = this.#row(rid);
      if (row.path !== null && (row.type === 'segment' || row.state === 'complete')) {
        const abs = join(this.#mediaDir, row.path);
        if (!(await exists(abs))) {
          this.#forget(row, 'missing');
          throw new ApiError(404, 'not_found', `${rid} is gone from the disk`, [
            { field: 'rid', message: 'the recording file no longer exists' },
          ]);
        }
        const marker = join(this.#mediaDir, markerRelPath(row.path));
        if (value) {
          await mkdir(join(marker, '..'), { recursive: true });
          await writeFile(marker, '');
        } else {
          await unlink(marker).catch((err: unknown) => {
            if (errnoCode(err) !== 'ENOENT') throw err;
          });
        }
      }
      this.#index.update(row.id, { protected: value, expiringNotified: false });
      return this.get(rid);
    });
  }

  /** Deletes a recording now. 409 for a protected or unfinished one. */
  remove(rid: string): Promise<RecordingView> {
    return this.#locked(async () => {
      const row = this.#row(rid);
      if (row.protected) {
        throw new ApiError(409, 'protected', `${rid} is protected; unprotect it first`, [
          { field: 'rid', message: `is protected; PUT /api/recordings/${rid}/protect {"protected": false} first` },
        ]);
      }
      const ctx = await this.#context();
      if (row.state !== 'complete' || (row.path !== null && ctx.busy.has(row.path))) {
        throw new ApiError(409, 'in_progress', `${rid} is still being written`, [
          { field: 'rid', message: 'is still being written; try again when it is complete' },
        ]);
      }
      const view = this.toView(row);
      if (!(await this.#delete(row, 'user', ctx.busy))) {
        throw new ApiError(500, 'delete_failed', `${rid} could not be deleted`);
      }
      return view;
    });
  }

  /** What the next cleanup passes delete within `withinMs` (retention, and the storage limits now). */
  async expiring(withinMs: number): Promise<ExpiringItem[]> {
    const ctx = await this.#context();
    const rows = this.#index.list({ state: 'complete', protected: false });
    const items = new Map<number, ExpiringItem>();
    for (const d of await this.#storagePlan(ctx)) {
      items.set(d.row.id, { recording: this.toView(d.row), expiresAt: iso(d.at), reason: d.reason });
    }
    for (const d of planExpiring(rows, withinMs, ctx)) {
      if (!items.has(d.row.id)) {
        items.set(d.row.id, { recording: this.toView(d.row), expiresAt: iso(d.at), reason: d.reason });
      }
    }
    return [...items.values()].sort((a, b) => a.expiresAt.localeCompare(b.expiresAt));
  }

  #camera(id: string): Camera {
    const camera = this.#o.cameras().find((c) => c.id === id);
    if (!camera) {
      throw new ApiError(404, 'not_found', `no camera with id "${id}"`, [
        { field: 'id', message: `no camera "${id}"` },
      ]);
    }
    return camera;
  }

  /** Recorded ranges, gaps and clips of one local calendar day, for the panel's timeline. */
  timeline(cameraId: string, day: string): Timeline {
    this.#camera(cameraId);
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
    const from = m ? new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3])).getTime() : Number.NaN;
    if (!m || !Number.isFinite(from) || new Date(from).getDate() !== Number(m[3])) {
      throw new ApiError(400, 'validation_failed', `day must be a date YYYY-MM-DD (got "${day}")`, [
        { field: 'day', message: 'must be a calendar date YYYY-MM-DD' },
      ]);
    }
    const to = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + 1).getTime();
    const segs = this.#index.list({ camera: cameraId, type: 'segment', fromMs: from, toMs: to });
    const ranges = mergeSpans(
      segs.map((s) => ({ startMs: Math.max(from, s.startMs), endMs: Math.min(to, s.endMs) })),
      2000,
    );
    const until = Math.min(to, this.#now());
    const gaps = until > from ? gapsIn(ranges, from, until) : [];
    const clips = this.#index.list({ camera: cameraId, type: 'clip', fromMs: from, toMs: to });
    const out = (s: Span) => ({ start: iso(s.startMs), end: iso(s.endMs) });
    return {
      camera: cameraId,
      day,
      from: iso(from),
      to: iso(to),
      recordedSeconds: Math.round(ranges.reduce((n, r) => n + (r.endMs - r.startMs), 0) / 1000),
      ranges: ranges.map(out),
      gaps: gaps.map(out),
      clips: clips.map((c) => this.toView(c)),
    };
  }

  // ---- cutting spans out of the recording ---------------------------------------------------

  #tmpFile(ext: string): string {
    return join(this.#tmpDir, `${randomBytes(8).toString('hex')}${ext}`);
  }

  /** Writes the recorded runs (one camera, in order) into one MP4 file. */
  async #cutRuns(camera: string, runs: readonly RecordedRun[], out: string, fragmented: boolean): Promise<void> {
    const [first] = runs;
    if (first === undefined) throw new Error('nothing recorded in that span');
    if (runs.length === 1) {
      await this.#playback.getToFile(camera, first.startMs, first.durationMs, fragmented ? 'fmp4' : 'mp4', out);
      return;
    }
    // Several runs (a gap, or MediaMTX restarted): cut each, then join them without re-encoding.
    const pieces: string[] = [];
    try {
      for (const run of runs) {
        const piece = this.#tmpFile('.mp4');
        pieces.push(piece);
        await this.#playback.getToFile(camera, run.startMs, run.durationMs, 'mp4', piece);
      }
      await concatCopy(this.#o.ffmpeg, pieces, this.#tmpFile('.txt'), out, fragmented);
    } finally {
      for (const p of pieces) await rm(p, { force: true });
    }
  }

  /** Any recorded span of a camera (≤ 24 h) as one MP4, stream copy. */
  async exportSpan(cameraId: string, fromMs: number, toMs: number): Promise<ExportStream> {
    this.#camera(cameraId);
    const problems = [];
    if (!(toMs > fromMs)) problems.push({ field: 'to', message: 'must be after from' });
    if (toMs - fromMs > MAX_EXPORT_MS) problems.push({ field: 'to', message: 'at most 24 hours after from' });
    if (problems.length) throw new ApiError(400, 'validation_failed', 'invalid export span', problems);
    const runs = runsWithin(await this.#playback.list(cameraId, fromMs).catch(() => []), fromMs, toMs);
    if (runs.length === 0) {
      throw new ApiError(404, 'no_recording', `nothing of camera "${cameraId}" is recorded between from and to`, [
        { field: 'from', message: 'no recording in [from, to)' },
      ]);
    }
    const segs = this.#index.list({ camera: cameraId, type: 'segment', fromMs, toMs });
    const bytesPerMs =
      segs.reduce((n, s) => n + s.size, 0) /
      Math.max(
        1,
        segs.reduce((n, s) => n + (s.endMs - s.startMs), 0),
      );
    const estimate = bytesPerMs * runs.reduce((n, r) => n + r.durationMs, 0);
    const fragmented = estimate > PLAIN_MP4_LIMIT;
    const fileName = `${cameraId}_${iso(fromMs).replace(/[:.]/g, '-')}.mp4`;
    const [first] = runs;
    if (runs.length === 1 && first) {
      const res = await this.#playback.get(cameraId, first.startMs, first.durationMs, fragmented ? 'fmp4' : 'mp4');
      if (!res.body) throw new ApiError(502, 'playback_failed', 'MediaMTX sent no data');
      const length = Number(res.headers.get('content-length') ?? Number.NaN);
      return {
        body: Readable.fromWeb(res.body as WebReadableStream<Uint8Array>),
        fileName,
        size: Number.isFinite(length) ? length : null,
        fragmented,
      };
    }
    const tmp = this.#tmpFile('.mp4');
    await this.#cutRuns(cameraId, runs, tmp, fragmented);
    const { size } = await stat(tmp);
    const body = createReadStream(tmp);
    body.once('close', () => void rm(tmp, { force: true }));
    return { body, fileName, size, fragmented };
  }

  // ---- clips --------------------------------------------------------------------------------

  /** The open clip of a camera, if any. */
  openClip(cameraId: string): RecordingView | null {
    const clip = this.#active.get(cameraId);
    const row = clip ? this.#index.get(clip.rowId) : undefined;
    return row ? this.toView(row) : null;
  }

  /**
   * Starts a clip of `cameraId` that includes up to `preRoll` seconds before now and ends
   * `duration` seconds from now (auto-stop). A request while a clip of the camera is open extends
   * that clip instead. Throws ApiError (404 unknown camera, 409 disabled, 400 bad numbers).
   */
  async startClip(cameraId: string, request: ClipRequest): Promise<ClipStartResult> {
    if (this.#stopped) throw new ApiError(503, 'shutting_down', 'Camstack is shutting down');
    const camera = this.#camera(cameraId);
    const problems = [];
    const preRoll = request.preRoll ?? camera.recording.preRollSeconds;
    const duration = request.duration ?? camera.recording.clipSeconds;
    if (!Number.isInteger(preRoll) || preRoll < 0 || preRoll > MAX_PRE_ROLL_SECONDS) {
      problems.push({
        field: 'preRoll',
        message: `must be an integer from 0 to ${MAX_PRE_ROLL_SECONDS} (got ${preRoll})`,
      });
    }
    if (!Number.isInteger(duration) || duration < 1 || duration > MAX_CLIP_SECONDS) {
      problems.push({
        field: 'duration',
        message: `must be an integer from 1 to ${MAX_CLIP_SECONDS} (got ${duration})`,
      });
    }
    if (problems.length) throw new ApiError(400, 'validation_failed', 'invalid clip request', problems);
    if (!camera.enabled) {
      throw new ApiError(409, 'camera_disabled', `camera "${cameraId}" is disabled`, [
        { field: 'id', message: 'the camera is disabled' },
      ]);
    }
    const now = this.#now();
    const open = this.#active.get(cameraId);
    if (open && open.finishing === null) {
      const wanted = now + duration * 1000;
      open.plannedEndMs = Math.max(open.plannedEndMs, wanted);
      open.endMs = Math.min(Math.max(open.endMs, wanted), open.startMs + MAX_CLIP_TOTAL_MS);
      this.#index.update(open.rowId, { endMs: open.endMs });
      const pin = this.#pins.get(open.rowId);
      if (pin) pin.endMs = open.endMs;
      this.#schedule(open);
      const row = this.#index.get(open.rowId);
      if (!row) throw new ApiError(500, 'internal_error', 'open clip vanished from the index');
      return { clip: this.toView(row), extended: true, preRollSeconds: (open.requestedMs - open.startMs) / 1000 };
    }
    const method = isRecorded(camera) ? 'playback' : 'ffmpeg';
    // A clip that just ended is still being saved: the new one starts where it ended at the
    // earliest, so the pre-roll does not copy the same seconds into two clips.
    const previousEnd = open?.finishing ? open.endMs : Number.NEGATIVE_INFINITY;
    const effectivePreRoll =
      method === 'playback' ? Math.max(0, Math.min(preRoll, Math.floor((now - previousEnd) / 1000))) : 0;
    const trigger = sanitizeTrigger(request.trigger);
    const startMs = now - effectivePreRoll * 1000;
    const endMs = now + duration * 1000;
    const rel = clipRelPath(cameraId, clipFileName(cameraId, startMs, trigger));
    const row = this.#index.insert({
      type: 'clip',
      camera: cameraId,
      path: rel,
      startMs,
      endMs,
      size: 0,
      protected: false,
      trigger,
      kind: null,
      state: 'open',
      requestedMs: now,
    });
    const clip: ActiveClip = {
      rowId: row.id,
      camera: cameraId,
      trigger,
      requestedMs: now,
      startMs,
      endMs,
      timer: null,
      method,
      proc: null,
      release: null,
      partRel: method === 'ffmpeg' ? partRelPath(rel) : null,
      plannedEndMs: endMs,
      rec:
        method === 'ffmpeg'
          ? {
              anchorMs: null,
              mediaStartMs: null,
              video: null,
              videoGrewAtMs: null,
              cursor: undefined,
              info: null,
              failReason: null,
              stoppedAtMs: null,
              withAudio: true,
              attempts: 0,
              keepVideoMs: null,
            }
          : null,
      finishing: null,
    };
    this.#active.set(cameraId, clip);
    if (clip.partRel) this.#ownedParts.add(clip.partRel);
    this.#pins.set(row.id, { camera: cameraId, startMs, endMs });
    if (method === 'ffmpeg') {
      try {
        await this.#startRecorder(clip, camera);
        void this.#watchRecorder(clip, camera);
      } catch (err) {
        this.#active.delete(cameraId);
        this.#pins.delete(row.id);
        this.#index.delete(row.id);
        throw new ApiError(503, 'clip_failed', `could not start recording camera "${cameraId}": ${message(err)}`);
      }
    }
    this.#schedule(clip);
    const view = this.toView(row);
    this.#log.info({ camera: cameraId, clip: view.id, preRoll: effectivePreRoll, duration, trigger }, 'clip started');
    this.#o.bus.emit('clip.started', {
      id: view.id,
      camera: cameraId,
      start: iso(startMs),
      end: iso(endMs),
      requestedAt: iso(now),
      preRollSeconds: effectivePreRoll,
      trigger,
    });
    return { clip: view, extended: false, preRollSeconds: effectivePreRoll };
  }

  /** Ends the open clip of a camera now and resolves once it is saved. 404 when none is open. */
  stopClip(cameraId: string): Promise<RecordingView> {
    const clip = this.#active.get(cameraId);
    if (!clip) {
      return Promise.reject(
        new ApiError(404, 'no_open_clip', `camera "${cameraId}" has no clip being recorded`, [
          { field: 'id', message: 'no open clip for this camera' },
        ]),
      );
    }
    if (clip.finishing) return clip.finishing;
    clip.endMs = Math.min(clip.endMs, this.#now());
    return this.#finish(clip);
  }

  #schedule(clip: ActiveClip): void {
    if (clip.timer) clearTimeout(clip.timer);
    clip.timer = null;
    // An FFmpeg clip ends when its file holds the video it wants (#watchRecorder), not on a clock.
    if (clip.method === 'ffmpeg') return;
    clip.timer = setTimeout(
      () => {
        clip.timer = null;
        void this.#finish(clip).catch(() => undefined);
      },
      Math.max(0, clip.endMs - this.#now()),
    );
    clip.timer.unref();
  }

  async #startRecorder(clip: ActiveClip, camera: Camera): Promise<void> {
    const rec = clip.rec;
    if (clip.partRel === null || rec === null) throw new Error('no part file');
    const partAbs = join(this.#mediaDir, clip.partRel);
    await mkdir(join(this.#mediaDir, camera.id, CLIPS_DIR), { recursive: true });
    // Ended meanwhile (a retry racing a stop): #save has stopped the recorder it knew of.
    if (clip.finishing) return;
    // A new attempt starts a new file (FFmpeg overwrites it): forget what was read of the old one.
    rec.cursor = undefined;
    rec.info = null;
    rec.attempts++;
    clip.release ??= this.#o.acquireInternalReader(camera.id);
    const args = [
      '-hide_banner',
      '-loglevel',
      'error',
      '-rtsp_transport',
      'tcp',
      '-timeout',
      '10000000',
      '-analyzeduration',
      String(RECORDER_PROBE_MS * 1000),
      '-probesize',
      String(32 * 1024 * 1024),
      // No frame-rate estimate (it would hold the first write back by 20 frames); timestamps come from RTP.
      '-fpsprobesize',
      '0',
      '-i',
      restreamUrl(camera.id, { mediamtxRtsp: this.#o.ports.mediamtxRtsp, go2rtcRtsp: 0 }),
      '-map',
      '0:v:0',
      ...(rec.withAudio ? ['-map', '0:a:0?'] : ['-an']),
      '-c',
      'copy',
      '-f',
      'mp4',
      '-movflags',
      '+frag_keyframe+empty_moov+default_base_moof',
      '-frag_duration',
      String(RECORDER_FRAGMENT_MS * 1000),
      '-y',
      partAbs,
    ];
    const proc = new ManagedProcess({
      name: `ffmpeg:${camera.id}:clip`,
      command: this.#o.ffmpeg,
      args,
      bus: this.#o.bus,
      logger: this.#o.logger,
      redactor: this.#o.redactor,
      restartOnExit: false,
      stopMethod: 'q',
      policy: { maxRestarts: 0 },
      ...(this.#o.pidDir ? { pidDir: this.#o.pidDir } : {}),
    });
    clip.proc = proc;
    await proc.start();
  }

  /**
   * Drives an FFmpeg clip from what its file holds: the clip starts with the camera's first
   * keyframe after the request (an on-demand camera is being opened, FFmpeg waits for a keyframe)
   * and ends once it holds the video asked for — `duration` seconds of it, however long the camera
   * took to deliver the first frame. Gives up when no video came within the first-video timeout.
   * A recorder that fails before any video (the camera is not ready yet; an audio codec MP4 cannot
   * hold) is started again, without audio, until then.
   */
  async #watchRecorder(clip: ActiveClip, camera: Camera): Promise<void> {
    const rec = clip.rec;
    if (clip.partRel === null || rec === null) return;
    const partAbs = join(this.#mediaDir, clip.partRel);
    const firstVideoTimeoutMs = this.#o.clipFirstVideoTimeoutMs ?? CLIP_FIRST_VIDEO_TIMEOUT_MS;
    let lastSize = -1;
    let failedAt: number | null = null;
    while (!clip.finishing && !this.#stopped) {
      const now = this.#now();
      const st = await stat(partAbs).catch(() => null);
      if (st && st.size > 0 && st.size !== lastSize) {
        lastSize = st.size;
        await this.#readRecorderFile(clip, partAbs, now).catch(() => undefined);
      }
      if (clip.finishing) return;
      const proc = clip.proc;
      const alive = proc !== null && proc.state !== 'failed' && proc.state !== 'stopped';
      if (!alive && rec.video === null && now - clip.requestedMs < firstVideoTimeoutMs) {
        // Failed before any video: try again (without audio, in case its codec was the problem).
        failedAt ??= now;
        if (now - failedAt >= 1000) {
          failedAt = null;
          this.#log.warn(
            { camera: camera.id, why: proc?.lastError, attempt: rec.attempts },
            'clip recorder failed before any video; retrying without audio',
          );
          rec.withAudio = false;
          lastSize = -1;
          await this.#startRecorder(clip, camera).catch((err: unknown) =>
            this.#log.warn({ camera: camera.id, err: message(err) }, 'clip recorder could not be started'),
          );
          continue;
        }
      }
      const wantedMs = Math.min(clip.plannedEndMs - clip.requestedMs, MAX_CLIP_TOTAL_MS);
      const decision = recorderDecision({
        nowMs: now,
        requestedMs: clip.requestedMs,
        wantedMs,
        video: rec.video,
        videoGrewAtMs: rec.videoGrewAtMs,
        recorderAlive: alive,
        firstVideoTimeoutMs,
        stallTimeoutMs: CLIP_STALL_TIMEOUT_MS,
      });
      if (decision.action !== 'wait') {
        if (videoHeldMs(rec.video) >= wantedMs) rec.keepVideoMs = wantedMs;
        if (decision.action === 'fail') {
          const why = proc?.lastError ? ` (recorder: ${proc.lastError.split('\n').slice(-1)[0]})` : '';
          rec.failReason = `${decision.reason}${alive ? '' : why}`;
        }
        void this.#finish(clip).catch(() => undefined);
        return;
      }
      await sleep(RECORDER_POLL_MS, undefined, { ref: false });
    }
  }

  /** Reads the new fragments of a clip recorder's file: the video it holds, and its wall clock. */
  async #readRecorderFile(clip: ActiveClip, partAbs: string, observedAtMs: number): Promise<void> {
    const rec = clip.rec;
    if (rec === null) return;
    rec.info ??= await readMp4Info(partAbs);
    const scan = await scanFragments(partAbs, rec.info, rec.cursor);
    rec.cursor = scan.cursor;
    if (scan.tracks.size === 0) return;
    let videoId: number | null = null;
    for (const [id, handler] of rec.info.handlers) if (handler === 'vide') videoId = id;
    const video = videoId === null ? undefined : scan.tracks.get(videoId);
    if (video === undefined) return;
    if (rec.video === null || video.endMs > rec.video.endMs) rec.videoGrewAtMs = observedAtMs;
    rec.video = { ...video };
    rec.mediaStartMs = Math.min(...[...scan.tracks.values()].map((t) => t.startMs));
    rec.anchorMs = refineAnchor(rec.anchorMs, observedAtMs, scan.mediaMs);
    // The clip as far as it is known (the API lists it in progress with these times).
    const startMs = rec.anchorMs + rec.mediaStartMs;
    const endMs =
      rec.anchorMs +
      Math.max(video.startMs, video.firstSampleEndMs) +
      Math.min(clip.plannedEndMs - clip.requestedMs, MAX_CLIP_TOTAL_MS);
    if (startMs !== clip.startMs || endMs !== clip.endMs) {
      clip.startMs = startMs;
      clip.endMs = endMs;
      this.#index.update(clip.rowId, { startMs, endMs });
    }
  }

  #finish(clip: ActiveClip): Promise<RecordingView> {
    if (clip.finishing) return clip.finishing;
    if (clip.timer) clearTimeout(clip.timer);
    clip.timer = null;
    const done = this.#save(clip).finally(() => {
      if (this.#active.get(clip.camera) === clip) this.#active.delete(clip.camera);
      this.#pins.delete(clip.rowId);
      this.#finishing.delete(done);
    });
    clip.finishing = done;
    this.#finishing.add(done);
    done.catch(() => undefined);
    return done;
  }

  /** Records the rest, writes the clip file, indexes it; on failure drops the row and says why. */
  async #save(clip: ActiveClip): Promise<RecordingView> {
    const row = this.#index.get(clip.rowId);
    try {
      if (!row) throw new Error('the clip vanished from the index');
      const tmp = this.#tmpFile('.mp4');
      let startMs = clip.startMs;
      try {
        if (clip.method === 'ffmpeg') {
          if (clip.rec) clip.rec.stoppedAtMs = this.#now();
          try {
            await clip.proc?.stop();
          } finally {
            clip.release?.();
          }
          if (clip.partRel === null || clip.rec === null) throw new Error('no part file');
          const rec = clip.rec;
          // The recorder may have got more than asked for (what FFmpeg read while it probed the
          // stream comes at once; stopping it takes a moment): the clip keeps what it wants, from
          // the file's start to `wanted` after its first video.
          const keepMs =
            rec.keepVideoMs !== null && rec.video !== null && rec.mediaStartMs !== null
              ? Math.max(rec.video.startMs, rec.video.firstSampleEndMs) - rec.mediaStartMs + rec.keepVideoMs
              : undefined;
          try {
            await this.#remuxPart(
              join(this.#mediaDir, clip.partRel),
              tmp,
              keepMs === undefined ? undefined : keepMs / 1000,
            );
          } catch (err) {
            throw new Error(rec.failReason ?? message(err));
          }
          const probed = await probe(this.#o.ffprobe, tmp).catch(() => null);
          if (probed === null || !(probed.durationSeconds > 0) || probed.videoCodec === null) {
            throw new Error(rec.failReason ?? 'the clip has no video');
          }
          // From the media: where its file's time 0 was on the wall clock, or (no fragment was
          // seen before the recorder stopped) its media ending when the recorder was stopped.
          const stoppedAt = rec.stoppedAtMs ?? this.#now();
          startMs =
            rec.anchorMs !== null
              ? rec.anchorMs + (rec.mediaStartMs ?? 0)
              : stoppedAt - Math.round(probed.durationSeconds * 1000);
        } else {
          startMs = await this.#cutClip(clip, tmp);
        }
        const view = await this.#commitClip(row, tmp, startMs);
        // Committed: its part file must not outlive it (a scan would take it for a crash's leftover).
        await this.#dropPart(clip.partRel);
        return view;
      } finally {
        await rm(tmp, { force: true });
      }
    } catch (err) {
      const reason = message(err);
      this.#log.warn({ camera: clip.camera, clip: formatRid('clip', clip.rowId), reason }, 'clip failed');
      if (this.#index.get(clip.rowId)) this.#index.delete(clip.rowId);
      await this.#dropPart(clip.partRel);
      this.#o.bus.emit('clip.failed', {
        id: formatRid('clip', clip.rowId),
        camera: clip.camera,
        trigger: clip.trigger,
        reason,
      });
      throw new ApiError(502, 'clip_failed', `the clip could not be saved: ${reason}`);
    }
  }

  /**
   * Waits until the recording reaches the clip's end (or stops growing), then cuts it. When the
   * camera was not being recorded at the request (reconnecting), the part after the request starts
   * with the first recording after it and still lasts as long as asked (see playbackClipEnd).
   */
  async #cutClip(clip: ActiveClip, out: string): Promise<number> {
    const { camera, startMs } = clip;
    const settle = this.#o.clipSettleMs ?? 15_000;
    const firstVideoTimeoutMs = this.#o.clipFirstVideoTimeoutMs ?? CLIP_FIRST_VIDEO_TIMEOUT_MS;
    let endMs = clip.endMs;
    let runs: RecordedRun[] = [];
    let lastUntil: number | null = null;
    let lastProgress = this.#now();
    for (;;) {
      runs = await this.#playback.list(camera, startMs - 1000).catch(() => []);
      // A clip ended early (stop, shutdown, a restart) keeps its end; otherwise it may move later.
      const onPlan = clip.endMs >= clip.plannedEndMs;
      if (onPlan) {
        endMs = Math.min(playbackClipEnd(runs, clip.requestedMs, clip.plannedEndMs), startMs + MAX_CLIP_TOTAL_MS);
        if (endMs !== clip.endMs) {
          clip.endMs = endMs;
          const pin = this.#pins.get(clip.rowId);
          if (pin) pin.endMs = endMs;
          this.#index.update(clip.rowId, { endMs });
        }
      }
      const until = coveredUntil(runs);
      if (until !== null && until >= endMs) break;
      const now = this.#now();
      if (until !== lastUntil) {
        lastUntil = until;
        lastProgress = now;
      }
      // Nothing recorded at all, long after the request: the camera is not delivering video.
      if (onPlan && runsWithin(runs, startMs, endMs).length === 0 && now - clip.requestedMs >= firstVideoTimeoutMs) {
        throw new Error(noVideoReason(firstVideoTimeoutMs));
      }
      // Give up waiting once the end is long past and nothing new arrives (camera offline…).
      if (now > endMs + settle || (now > endMs + 3000 && now - lastProgress > 8000)) break;
      await sleep(400);
    }
    const within = runsWithin(runs, startMs, endMs);
    const [first] = within;
    if (first === undefined) throw new Error('nothing was recorded during the clip (camera offline or not recorded?)');
    await this.#cutRuns(camera, within, out, false);
    return first.startMs;
  }

  async #remuxPart(partAbs: string, out: string, maxSeconds?: number): Promise<void> {
    const st = await stat(partAbs).catch(() => null);
    if (!st || st.size === 0) throw new Error('the clip recorder wrote nothing (camera offline?)');
    await remuxFaststart(this.#o.ffmpeg, partAbs, out, undefined, maxSeconds);
  }

  /** Moves a finished clip file into place under its final name and indexes it. */
  #commitClip(row: RecordingRow, tmp: string, startMs: number): Promise<RecordingView> {
    return this.#locked(async () => {
      const probed = await probe(this.#o.ffprobe, tmp);
      if (!(probed.durationSeconds > 0) || probed.videoCodec === null) throw new Error('the clip has no video');
      const durationMs = Math.round(probed.durationSeconds * 1000);
      const trigger = row.trigger ?? 'manual';
      let at = startMs;
      let rel = clipRelPath(row.camera, clipFileName(row.camera, at, trigger));
      while (rel !== row.path && (await exists(join(this.#mediaDir, rel)))) {
        at += 1;
        rel = clipRelPath(row.camera, clipFileName(row.camera, at, trigger));
      }
      const abs = absolutePath(this.#mediaDir, rel);
      await mkdir(join(this.#mediaDir, row.camera, CLIPS_DIR), { recursive: true });
      const fh = await open(tmp, 'r');
      await fh.sync().finally(() => fh.close());
      await rename(tmp, abs);
      await syncDir(join(this.#mediaDir, row.camera, CLIPS_DIR));
      const { size } = await stat(abs);
      const current = this.#index.get(row.id) ?? row;
      this.#index.update(row.id, { path: rel, startMs: at, endMs: at + durationMs, size, state: 'complete' });
      this.#known.add(rel);
      if (current.protected) {
        const marker = join(this.#mediaDir, markerRelPath(rel));
        await mkdir(join(marker, '..'), { recursive: true });
        await writeFile(marker, '');
      }
      const saved = this.#index.get(row.id);
      if (!saved) throw new Error('the clip vanished from the index');
      const view = this.toView(saved);
      this.#log.info({ camera: row.camera, clip: view.id, path: rel, seconds: durationMs / 1000 }, 'clip saved');
      this.#o.bus.emit('clip.saved', {
        id: view.id,
        camera: row.camera,
        path: rel,
        url: view.url ?? '',
        start: view.start,
        end: view.end,
        durationSeconds: view.durationSeconds,
        size,
        trigger,
        protected: saved.protected,
      });
      return view;
    });
  }

  async #dropPart(partRel: string | null): Promise<void> {
    if (partRel === null) return;
    try {
      await rm(join(this.#mediaDir, partRel), { force: true });
    } finally {
      this.#ownedParts.delete(partRel);
    }
  }

  /** A clip FFmpeg was recording when Camstack died: its fragmented part becomes the clip. */
  async #recoverPart(camera: string, finalRel: string): Promise<void> {
    const partAbs = join(this.#mediaDir, partRelPath(finalRel));
    const row = this.#index.getByPath(finalRel);
    const requested = parseClipName(finalRel.split('/').pop() ?? '')?.startMs;
    // A clip is named after its first keyframe once saved, its part after the request: a part
    // whose request has a saved clip was committed (Camstack stopped before removing the part).
    const committed = this.#index
      .list({ type: 'clip', camera, state: 'complete' })
      .find((r) => r.requestedMs !== null && r.requestedMs === requested);
    if (committed) {
      this.#log.info(
        { path: finalRel, clip: formatRid('clip', committed.id) },
        'removing the part file of a saved clip',
      );
      await rm(partAbs, { force: true });
      return;
    }
    const tmp = this.#tmpFile('.mp4');
    try {
      await this.#remuxPart(partAbs, tmp);
      const parsed = parseClipName(finalRel.split('/').pop() ?? '');
      const target =
        row ??
        this.#index.insert({
          type: 'clip',
          camera,
          path: finalRel,
          startMs: parsed?.startMs ?? this.#now(),
          endMs: parsed?.startMs ?? this.#now(),
          size: 0,
          protected: false,
          trigger: parsed?.trigger ?? 'manual',
          kind: null,
          state: 'open',
          requestedMs: null,
        });
      // Called under the lock already (scan): commit inline.
      const probed = await probe(this.#o.ffprobe, tmp);
      const abs = absolutePath(this.#mediaDir, finalRel);
      await rename(tmp, abs);
      const { size } = await stat(abs);
      this.#index.update(target.id, {
        state: 'complete',
        size,
        endMs: target.startMs + Math.round(probed.durationSeconds * 1000),
      });
      this.#known.add(finalRel);
      this.#log.warn({ path: finalRel }, 'recovered a clip interrupted by a crash');
      const view = this.get(formatRid('clip', target.id));
      this.#o.bus.emit('clip.saved', {
        id: view.id,
        camera,
        path: finalRel,
        url: view.url ?? '',
        start: view.start,
        end: view.end,
        durationSeconds: view.durationSeconds,
        size,
        trigger: view.trigger ?? 'manual',
        protected: view.protected,
      });
    } catch (err) {
      this.#log.warn({ path: finalRel, err: message(err) }, 'an interrupted clip could not be recovered');
      if (row) this.#index.delete(row.id);
    } finally {
      await rm(partAbs, { force: true });
      await rm(tmp, { force: true });
    }
  }

  /**
   * Clips that were being recorded when Camstack stopped without finishing them: cut them from
   * the recording now, ending where the recording ends (or as planned). Runs in the background;
   * MediaMTX's playback server may need a few seconds to come up.
   */
  #recoverPendingClips(): void {
    const pending = this.#index.list({ type: 'clip', state: 'open' });
    for (const row of pending) {
      if (row.path !== null && this.#known.has(row.path)) continue;
      const partAbs = row.path ? join(this.#mediaDir, partRelPath(row.path)) : null;
      const clip: ActiveClip = {
        rowId: row.id,
        camera: row.camera,
        trigger: row.trigger ?? 'manual',
        requestedMs: row.requestedMs ?? row.startMs,
        startMs: row.startMs,
        endMs: Math.min(row.endMs, this.#createdAt),
        timer: null,
        method: 'playback',
        proc: null,
        release: null,
        partRel: null,
        plannedEndMs: row.endMs,
        rec: null,
        finishing: null,
      };
      this.#pins.set(row.id, { camera: row.camera, startMs: row.startMs, endMs: row.endMs });
      const job = (async () => {
        if (partAbs && (await exists(partAbs))) {
          // Handled by the scan (FFmpeg clip): nothing to cut.
          this.#pins.delete(row.id);
          return;
        }
        for (let i = 0; i < 30 && !this.#stopped; i++) {
          if (this.#o.recorder.running()) break;
          await sleep(1000);
        }
        this.#log.info(
          { camera: row.camera, clip: formatRid('clip', row.id) },
          'finishing a clip a restart interrupted',
        );
        await this.#finish(clip);
      })().catch(() => undefined);
      void job;
    }
  }
}
