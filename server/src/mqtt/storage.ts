/**
 * Storage facts for the MQTT sensors: bytes used under each camera's media folder, recordings
 * (MP4 files) per camera, the newest clip, and the media disk's free space. Read from disk (the
 * files are the truth), at most once per `minIntervalMs`, one scan at a time.
 *
 * When the recordings module offers the same numbers from its index, it can replace this with
 * its own {@link StorageSource}.
 */
import { readdir, stat, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import type { CameraStorageFacts, StorageTotals } from './state.js';

export interface StorageFacts {
  cameras: Map<string, CameraStorageFacts>;
  totals: StorageTotals;
  at: number;
}

export interface StorageSource {
  /** The latest facts, or null before the first scan finished. */
  current(): StorageFacts | null;
  /** Scan now (shared with a scan already running). */
  refresh(): Promise<StorageFacts | null>;
}

interface DirFacts {
  bytes: number;
  recordings: number;
  newestClipMs: number | null;
}

async function walk(dir: string, inClips: boolean, out: DirFacts, depth: number): Promise<void> {
  if (depth > 6) return;
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) {
      await walk(path, inClips || e.name === 'clips', out, depth + 1);
    } else if (e.isFile()) {
      try {
        const s = await stat(path);
        out.bytes += s.size;
        if (e.name.endsWith('.mp4') && !e.name.startsWith('.')) {
          out.recordings += 1;
          if (inClips && (out.newestClipMs === null || s.mtimeMs > out.newestClipMs)) out.newestClipMs = s.mtimeMs;
        }
      } catch {
        // removed while we looked
      }
    }
  }
}

export class DiskUsageScanner implements StorageSource {
  readonly #mediaDir: string;
  readonly #cameraIds: () => readonly string[];
  readonly #minIntervalMs: number;
  #facts: StorageFacts | null = null;
  #running: Promise<StorageFacts | null> | null = null;

  constructor(options: { mediaDir: string; cameraIds: () => readonly string[]; minIntervalMs?: number }) {
    this.#mediaDir = options.mediaDir;
    this.#cameraIds = options.cameraIds;
    this.#minIntervalMs = options.minIntervalMs ?? 5_000;
  }

  current(): StorageFacts | null {
    return this.#facts;
  }

  refresh(): Promise<StorageFacts | null> {
    if (this.#running) return this.#running;
    if (this.#facts && Date.now() - this.#facts.at < this.#minIntervalMs) return Promise.resolve(this.#facts);
    this.#running = this.#scan().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  async #scan(): Promise<StorageFacts | null> {
    const cameras = new Map<string, CameraStorageFacts>();
    let used = 0;
    let recordings = 0;
    for (const id of this.#cameraIds()) {
      const facts: DirFacts = { bytes: 0, recordings: 0, newestClipMs: null };
      await walk(join(this.#mediaDir, id), false, facts, 0);
      used += facts.bytes;
      recordings += facts.recordings;
      cameras.set(id, {
        bytes: facts.bytes,
        recordings: facts.recordings,
        lastClipAt: facts.newestClipMs === null ? null : new Date(facts.newestClipMs).toISOString(),
      });
    }
    let free = 0;
    try {
      const fs = await statfs(this.#mediaDir);
      free = fs.bavail * fs.bsize;
    } catch {
      // the media dir does not exist yet: nothing stored, free space unknown (0)
    }
    this.#facts = { cameras, totals: { usedBytes: used, freeBytes: free, recordings }, at: Date.now() };
    return this.#facts;
  }
}
