import { readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { isRecorded } from '../cameras/engine-plan.js';
import { errnoCode, exists, iso, message, type RecordingContext } from './context.js';
import { probe } from './ffmpeg.js';
import type { RecordingRow } from './index-db.js';
import { readMp4Info, repairFragmentedMp4, scanFragments } from './mp4.js';
import {
  CLIPS_DIR,
  clipRelPath,
  formatRid,
  isCameraId,
  markerRelPath,
  PROTECTED_DIR,
  parseClipName,
  parseSegmentName,
  partRelPath,
  segmentRelPath,
} from './naming.js';

/**
 * The media folder as the index sees it: new and growing segments, segments a crash left open
 * (repaired), clips the index does not know, protection markers, and files that are gone.
 */
export class Scanner {
  readonly #c: RecordingContext;
  /** A clip's part file the index does not own (left by a crash): recovered by the clips part. */
  readonly #recoverPart: (camera: string, finalRel: string) => Promise<void>;

  constructor(c: RecordingContext, recoverPart: (camera: string, finalRel: string) => Promise<void>) {
    this.#c = c;
    this.#recoverPart = recoverPart;
  }

  lastFull = 0;

  async #cameraDirs(): Promise<string[]> {
    try {
      const entries = await readdir(this.#c.mediaDir, { withFileTypes: true });
      return entries.filter((e) => e.isDirectory() && isCameraId(e.name)).map((e) => e.name);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return [];
      throw err;
    }
  }

  /**
   * One pass over the media folder. Quick: new and growing segments of recorded cameras. Full:
   * every camera folder, clips, protection markers, and index entries whose file is gone.
   * Returns whether bytes were added (the storage limits are checked then).
   */
  async scan(full: boolean): Promise<boolean> {
    const now = this.#c.now();
    if (full) this.lastFull = now;
    const busy = await this.#c.busyFiles();
    let grew = false;
    const dirs = new Set<string>();
    if (full) for (const d of await this.#cameraDirs()) dirs.add(d);
    else {
      for (const c of this.#c.cameraList()) if (c.enabled && isRecorded(c)) dirs.add(c.id);
      for (const rel of this.#c.cursors.keys()) dirs.add(rel.split('/')[0] ?? '');
    }
    const seen = new Set<string>();
    for (const camera of dirs) {
      if (!isCameraId(camera)) continue;
      let names: string[];
      try {
        names = await readdir(join(this.#c.mediaDir, camera));
      } catch (err) {
        if (errnoCode(err) === 'ENOENT') continue;
        throw err;
      }
      for (const name of names) {
        const startMs = parseSegmentName(name);
        if (startMs === null) continue;
        const rel = segmentRelPath(camera, name);
        seen.add(rel);
        if (this.#c.known.has(rel)) continue;
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
    const abs = join(this.#c.mediaDir, rel);
    let st: Awaited<ReturnType<typeof stat>>;
    try {
      st = await stat(abs);
    } catch {
      return false;
    }
    const row = this.#c.index.getByPath(rel);
    let info: Awaited<ReturnType<typeof readMp4Info>>;
    try {
      info = await readMp4Info(abs);
    } catch (err) {
      if (this.#c.isBusy(rel, busy, st.mtimeMs) || this.#c.now() - st.mtimeMs < 30_000) return false; // being created
      this.#c.warnOnce(rel, `${rel} is not a readable MP4 segment (${message(err)}); leaving it out of the index`);
      return false;
    }
    if (info.durationMs > 0) {
      await this.#completeSegment(camera, rel, startMs, startMs + info.durationMs, st.size, row);
      return true;
    }
    if (this.#c.isBusy(rel, busy, st.mtimeMs)) {
      // Being written: follow its complete parts.
      const scan = await scanFragments(abs, info, this.#c.cursors.get(rel));
      this.#c.cursors.set(rel, scan.cursor);
      const endMs = startMs + scan.mediaMs;
      if (row) {
        if (row.endMs !== endMs || row.size !== st.size) this.#c.index.update(row.id, { endMs, size: st.size });
      } else {
        this.#c.index.insert({
          type: 'segment',
          camera,
          path: rel,
          startMs,
          endMs,
          size: st.size,
          protected: await exists(join(this.#c.mediaDir, markerRelPath(rel))),
          trigger: null,
          kind: this.#c.kindFor(camera),
          state: 'open',
          requestedMs: null,
        });
      }
      return row === undefined || st.size > row.size;
    }
    if (this.#c.now() - st.mtimeMs < 3_000) return false; // just closed or just abandoned: look again soon
    // Left open by a crash of the recorder: close it properly.
    const repaired = await repairFragmentedMp4(abs).catch((err: unknown) => {
      this.#c.warnOnce(rel, `could not repair ${rel}: ${message(err)}`);
      return undefined;
    });
    if (repaired === undefined) return false;
    if (repaired === null) {
      this.#c.log.warn({ path: rel }, 'removing a segment that holds no complete part (left by a crash)');
      await unlink(abs).catch(() => undefined);
      if (row) this.#c.index.delete(row.id);
      this.#c.cursors.delete(rel);
      return false;
    }
    this.#c.log.warn({ path: rel, seconds: repaired.durationMs / 1000 }, 'recovered a segment left open by a crash');
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
      this.#c.index.update(row.id, { state: 'complete', endMs, size });
      id = row.id;
      kind = row.kind ?? 'continuous';
    } else {
      kind = this.#c.kindFor(camera);
      id = this.#c.index.insert({
        type: 'segment',
        camera,
        path: rel,
        startMs,
        endMs,
        size,
        protected: await exists(join(this.#c.mediaDir, markerRelPath(rel))),
        trigger: null,
        kind,
        state: 'complete',
        requestedMs: null,
      }).id;
    }
    this.#c.known.add(rel);
    this.#c.cursors.delete(rel);
    this.#c.o.bus.emit('recording.segment', {
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
    const dir = join(this.#c.mediaDir, camera, CLIPS_DIR);
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
        if (!this.#c.ownedParts.has(partRelPath(finalRel)) && parseClipName(part[1]) !== null) {
          await this.#recoverPart(camera, finalRel);
          grew = true;
        }
        continue;
      }
      const parsed = parseClipName(name);
      if (parsed === null) continue;
      const rel = clipRelPath(camera, name);
      seen.add(rel);
      if (this.#c.known.has(rel)) continue;
      const abs = join(this.#c.mediaDir, rel);
      try {
        const st = await stat(abs);
        let durationMs = 0;
        try {
          durationMs = (await readMp4Info(abs)).durationMs;
        } catch {
          durationMs = 0;
        }
        if (durationMs <= 0) durationMs = Math.round((await probe(this.#c.o.ffprobe, abs)).durationSeconds * 1000);
        const existing = this.#c.index.getByPath(rel);
        if (existing) {
          this.#c.index.update(existing.id, { state: 'complete', size: st.size, endMs: existing.startMs + durationMs });
        } else {
          this.#c.index.insert({
            type: 'clip',
            camera,
            path: rel,
            startMs: parsed.startMs,
            endMs: parsed.startMs + durationMs,
            size: st.size,
            protected: await exists(join(this.#c.mediaDir, markerRelPath(rel))),
            trigger: parsed.trigger,
            kind: null,
            state: 'complete',
            requestedMs: null,
          });
        }
        this.#c.known.add(rel);
        grew = true;
      } catch (err) {
        this.#c.warnOnce(rel, `${rel} is not a playable clip (${message(err)}); leaving it out of the index`);
      }
    }
    return grew;
  }

  /** Protection markers are the truth for the protected flag. */
  async #syncMarkers(camera: string): Promise<void> {
    for (const sub of [camera, join(camera, CLIPS_DIR)]) {
      const markerDir = join(this.#c.mediaDir, sub, PROTECTED_DIR);
      let markers: Set<string>;
      try {
        markers = new Set(await readdir(markerDir));
      } catch {
        markers = new Set();
      }
      const type = sub === camera ? 'segment' : 'clip';
      for (const row of this.#c.index.list({ camera, type })) {
        if (row.path === null || row.state !== 'complete') continue;
        const name = row.path.split('/').pop() ?? '';
        const marked = markers.has(name);
        markers.delete(name);
        if (marked !== row.protected) this.#c.index.update(row.id, { protected: marked });
      }
      // Markers whose recording is gone.
      for (const name of markers) {
        const target = join(this.#c.mediaDir, sub, name);
        if (!(await exists(target))) await unlink(join(markerDir, name)).catch(() => undefined);
      }
    }
  }

  async #dropMissing(seen: Set<string>): Promise<void> {
    for (const row of this.#c.index.list({ state: 'complete' })) {
      if (row.path === null || seen.has(row.path)) continue;
      if (await exists(join(this.#c.mediaDir, row.path))) continue;
      this.#c.log.warn({ path: row.path }, 'a recording in the index is gone from the disk; dropping it');
      this.#c.forget(row, 'missing');
    }
    for (const row of this.#c.index.list({ type: 'segment', state: 'open' })) {
      if (row.path && !(await exists(join(this.#c.mediaDir, row.path)))) this.#c.forget(row, 'missing');
    }
  }
}
