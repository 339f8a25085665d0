/**
 * What the recordings parts share: the options, the index, the media folder and its bookkeeping
 * (known files, fragment cursors, clip pins, owned part files), one lock that serialises every
 * change of the index and the folder, and the small helpers each part needs.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, readdir, readlink, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import type { Camera } from '../config/load.js';
import type { RecordingView } from '../contract/index.js';
import { DomainError } from '../domain-errors.js';
import type { Logger } from '../log/logger.js';
import { RecordingIndex as Index, type RecordingIndex, type RecordingRow } from './index-db.js';
import type { FragmentCursor } from './mp4.js';
import { formatRid, parseRid } from './naming.js';
import { PlaybackClient } from './playback.js';
import { DEFAULT_RETENTION, expiresAt, type RetentionSettings, type Span } from './retention.js';
import type { DeletionReason } from './types.js';
import type { RecordingServiceOptions } from './types-public.js';

/**
 * How long the clip FFmpeg may probe the restream before it writes anything. It stops as soon as
 * it knows every stream, which for video takes a keyframe (SPS): up to a GOP after an on-demand
 * camera was opened. What it reads while probing is kept.
 */
export const RECORDER_PROBE_MS = 10_000;
/** The clip FFmpeg cuts fragments at least this often, so the video it holds is seen soon. */
export const RECORDER_FRAGMENT_MS = 500;
/** How often a clip recorder's file is looked at. */
export const RECORDER_POLL_MS = 150;
/** Above this estimated size an export is a fragmented MP4 (plain MP4 offsets are 32-bit). */
export const PLAIN_MP4_LIMIT = 3.5e9;

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function errnoCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : undefined;
}

export function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export async function exists(path: string): Promise<boolean> {
  try {
    await access(path, constants.F_OK);
    return true;
  } catch {
    return false;
  }
}

export async function defaultDiskUsage(dir: string): Promise<{ totalBytes: number; freeBytes: number } | null> {
  try {
    const s = await statfs(dir);
    return { totalBytes: s.blocks * s.bsize, freeBytes: s.bavail * s.bsize };
  } catch {
    return null;
  }
}

export class RecordingContext {
  readonly o: RecordingServiceOptions;

  readonly log: Logger;

  readonly index: RecordingIndex;

  readonly playback: PlaybackClient;

  readonly mediaDir: string;

  /** The media dir with symlinks resolved, as the kernel names the files MediaMTX has open. */
  realMediaDir: string;

  readonly tmpDir: string;

  readonly bufferMs: number;

  /** Relative paths of complete, indexed files (skipped by the quick scan). */
  readonly known = new Set<string>();

  /** Incremental fragment scans of segments being written. */
  readonly cursors = new Map<string, FragmentCursor>();

  /** Clip spans the buffer must keep, by clip row id. */
  readonly pins = new Map<number, { camera: string } & Span>();

  readonly warned = new Set<string>();

  queue: Promise<unknown> = Promise.resolve();

  stopped = false;

  /** The index was created empty: files found at start-up are treated as 24/7 recordings. */
  freshIndex: boolean;

  /** Before this, nothing of this run was recorded: where clips a crash interrupted end at the latest. */
  readonly createdAt: number;

  constructor(options: RecordingServiceOptions) {
    this.o = options;
    this.log = options.logger.child({ module: 'recordings' });
    this.mediaDir = options.mediaDir.replace(/\/+$/, '');
    this.realMediaDir = this.mediaDir;
    this.tmpDir = join(this.mediaDir, '.tmp');
    this.index = new Index(options.indexFile);
    this.freshIndex = this.index.fresh;
    this.playback = new PlaybackClient(options.ports.mediamtxPlayback);
    this.bufferMs = (options.bufferSeconds ?? 600) * 1000;
    this.createdAt = this.now();
    for (const row of this.index.list({ state: 'complete' })) if (row.path) this.known.add(row.path);
  }

  /** A recording's view by its id (`seg_<n>`, `clip_<n>`); 404 when there is none. */
  view(rid: string): RecordingView {
    return this.toView(this.row(rid));
  }

  now(): number {
    return (this.o.now ?? Date.now)();
  }

  /**
   * Part files (`.<clip>.mp4.part`) of clips this process records or is saving: the scan never
   * takes them for a crash's leftovers. A part leaves this set once its file is gone.
   */
  readonly ownedParts = new Set<string>();

  camCache: { at: number; list: readonly Camera[] } | null = null;

  /** The cameras, re-read at most every 250 ms (listing thousands of recordings asks per row). */
  cameraList(): readonly Camera[] {
    const now = Date.now();
    if (this.camCache === null || now - this.camCache.at > 250) this.camCache = { at: now, list: this.o.cameras() };
    return this.camCache.list;
  }

  locked<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Files under the media dir (relative paths) MediaMTX has open; null when that cannot be known. */
  async busyFiles(): Promise<Set<string> | null> {
    const pid = this.o.recorder.pid();
    if (pid === null) return new Set();
    try {
      const fds = await readdir(`/proc/${pid}/fd`);
      const out = new Set<string>();
      const prefixes = [`${this.realMediaDir}/`, `${this.mediaDir}/`];
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

  isBusy(rel: string, busy: Set<string> | null, mtimeMs: number): boolean {
    if (busy !== null) return busy.has(rel);
    return this.now() - mtimeMs < 15_000;
  }

  kindFor(camera: string): 'continuous' | 'buffer' {
    if (this.freshIndex) return 'continuous';
    const cam = this.cameraList().find((c) => c.id === camera);
    return cam?.enabled && !cam.recording.continuous && cam.recording.preRollSeconds > 0 ? 'buffer' : 'continuous';
  }

  forget(row: RecordingRow, reason: DeletionReason): void {
    this.index.delete(row.id);
    if (row.path) {
      this.known.delete(row.path);
      this.cursors.delete(row.path);
    }
    this.o.bus.emit('recording.deleted', {
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

  warnOnce(key: string, text: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.log.warn(text);
  }

  settings(camera: string): RetentionSettings {
    const cam = this.cameraList().find((c) => c.id === camera);
    return cam ? cam.recording : DEFAULT_RETENTION;
  }

  toView(row: RecordingRow): RecordingView {
    const exp = row.state === 'complete' ? expiresAt(row, this.settings(row.camera), this.bufferMs) : null;
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

  row(rid: string): RecordingRow {
    const parsed = parseRid(rid);
    const row = parsed ? this.index.get(parsed.id) : undefined;
    if (!parsed || !row || row.type !== parsed.type) {
      throw new DomainError('not_found', 'not_found', `no recording "${rid}"`, [
        { field: 'rid', message: `no recording with id "${rid}" (it may have been deleted)` },
      ]);
    }
    return row;
  }

  camera(id: string): Camera {
    const camera = this.o.cameras().find((c) => c.id === id);
    if (!camera) {
      throw new DomainError('not_found', 'not_found', `no camera with id "${id}"`, [
        { field: 'id', message: `no camera "${id}"` },
      ]);
    }
    return camera;
  }

  tmpFile(ext: string): string {
    return join(this.tmpDir, `${randomBytes(8).toString('hex')}${ext}`);
  }
}
