import { mkdir, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RecordingView } from '../contract/index.js';
import { DomainError } from '../domain-errors.js';
import type { Cleaner } from './cleaner.js';
import { defaultDiskUsage, errnoCode, exists, iso, type RecordingContext } from './context.js';
import type { ListFilter } from './index-db.js';
import { absolutePath, markerRelPath } from './naming.js';
import { gapsIn, mergeSpans, planExpiring, type Span } from './retention.js';
import { type StorageReport, storageReport } from './storage.js';
import type { ExpiringItem, Timeline } from './types-public.js';

/** The read side of the recordings (lists, files, the day timeline, storage), plus protect and delete. */
export class Catalogue {
  readonly #c: RecordingContext;
  readonly #cleaner: Cleaner;

  constructor(c: RecordingContext, cleaner: Cleaner) {
    this.#c = c;
    this.#cleaner = cleaner;
  }

  /** Bytes per camera (all, protected), the media disk and the storage limits (GET /api/storage). */
  async storage(): Promise<StorageReport> {
    const disk = await (this.#c.o.diskUsage ?? defaultDiskUsage)(this.#c.mediaDir);
    return storageReport(this.#c.index.usageByCamera(), this.#c.cameraList(), disk, {
      maxBytes: this.#c.o.storageMaxBytes ?? 0,
      minFreePercent: this.#c.o.storageMinFreePercent ?? 0,
    });
  }

  list(filter: ListFilter): { items: RecordingView[]; total: number } {
    const { limit, offset, order, ...where } = filter;
    return {
      items: this.#c.index
        .list({ ...where, order: order ?? 'desc', limit: limit ?? 100, offset: offset ?? 0 })
        .map((r) => this.#c.toView(r)),
      total: this.#c.index.count(where),
    };
  }

  get(rid: string): RecordingView {
    return this.#c.toView(this.#c.row(rid));
  }

  /** The file behind a recording, for playing and downloading. */
  async file(rid: string): Promise<{ path: string; size: number; name: string; view: RecordingView }> {
    const row = this.#c.row(rid);
    if (row.path === null || (row.type === 'clip' && row.state !== 'complete')) {
      throw new DomainError('conflict', 'in_progress', `${rid} is still being recorded; its file does not exist yet`, [
        { field: 'rid', message: 'still being recorded' },
      ]);
    }
    const abs = absolutePath(this.#c.mediaDir, row.path);
    try {
      const st = await stat(abs);
      return {
        path: abs,
        size: st.size,
        name: row.path.split('/').pop() ?? 'recording.mp4',
        view: this.#c.toView(row),
      };
    } catch {
      await this.#c.locked(async () => this.#c.forget(row, 'missing'));
      throw new DomainError('not_found', 'not_found', `the file of ${rid} is gone`, [
        { field: 'rid', message: 'the recording file no longer exists' },
      ]);
    }
  }

  /** Protects (never deleted by retention or the storage cap) or unprotects a recording. */
  protect(rid: string, value: boolean): Promise<RecordingView> {
    return this.#c.locked(async () => {
      const row = this.#c.row(rid);
      if (row.path !== null && (row.type === 'segment' || row.state === 'complete')) {
        const abs = join(this.#c.mediaDir, row.path);
        if (!(await exists(abs))) {
          this.#c.forget(row, 'missing');
          throw new DomainError('not_found', 'not_found', `${rid} is gone from the disk`, [
            { field: 'rid', message: 'the recording file no longer exists' },
          ]);
        }
        const marker = join(this.#c.mediaDir, markerRelPath(row.path));
        if (value) {
          await mkdir(join(marker, '..'), { recursive: true });
          await writeFile(marker, '');
        } else {
          await unlink(marker).catch((err: unknown) => {
            if (errnoCode(err) !== 'ENOENT') throw err;
          });
        }
      }
      this.#c.index.update(row.id, { protected: value, expiringNotified: false });
      return this.get(rid);
    });
  }

  /** Deletes a recording now. 409 for a protected or unfinished one. */
  remove(rid: string): Promise<RecordingView> {
    return this.#c.locked(async () => {
      const row = this.#c.row(rid);
      if (row.protected) {
        throw new DomainError('conflict', 'protected', `${rid} is protected; unprotect it first`, [
          { field: 'rid', message: `is protected; PUT /api/recordings/${rid}/protect {"protected": false} first` },
        ]);
      }
      const ctx = await this.#cleaner.context();
      if (row.state !== 'complete' || (row.path !== null && ctx.busy.has(row.path))) {
        throw new DomainError('conflict', 'in_progress', `${rid} is still being written`, [
          { field: 'rid', message: 'is still being written; try again when it is complete' },
        ]);
      }
      const view = this.#c.toView(row);
      if (!(await this.#cleaner.delete(row, 'user', ctx.busy))) {
        throw new DomainError('internal', 'delete_failed', `${rid} could not be deleted`);
      }
      return view;
    });
  }

  /** What the next cleanup passes delete within `withinMs` (retention, and the storage limits now). */
  async expiring(withinMs: number): Promise<ExpiringItem[]> {
    const ctx = await this.#cleaner.context();
    const rows = this.#c.index.list({ state: 'complete', protected: false });
    const items = new Map<number, ExpiringItem>();
    for (const d of await this.#cleaner.storagePlan(ctx)) {
      items.set(d.row.id, { recording: this.#c.toView(d.row), expiresAt: iso(d.at), reason: d.reason });
    }
    for (const d of planExpiring(rows, withinMs, ctx)) {
      if (!items.has(d.row.id)) {
        items.set(d.row.id, { recording: this.#c.toView(d.row), expiresAt: iso(d.at), reason: d.reason });
      }
    }
    return [...items.values()].sort((a, b) => a.expiresAt.localeCompare(b.expiresAt));
  }

  /** Recorded ranges, gaps and clips of one local calendar day, for the panel's timeline. */
  timeline(cameraId: string, day: string): Timeline {
    this.#c.camera(cameraId);
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
    const from = m ? new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3])).getTime() : Number.NaN;
    if (!m || !Number.isFinite(from) || new Date(from).getDate() !== Number(m[3])) {
      throw new DomainError('invalid', 'validation_failed', `day must be a date YYYY-MM-DD (got "${day}")`, [
        { field: 'day', message: 'must be a calendar date YYYY-MM-DD' },
      ]);
    }
    const to = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + 1).getTime();
    const segs = this.#c.index.list({ camera: cameraId, type: 'segment', fromMs: from, toMs: to });
    const ranges = mergeSpans(
      segs.map((s) => ({ startMs: Math.max(from, s.startMs), endMs: Math.min(to, s.endMs) })),
      2000,
    );
    const until = Math.min(to, this.#c.now());
    const gaps = until > from ? gapsIn(ranges, from, until) : [];
    const clips = this.#c.index.list({ camera: cameraId, type: 'clip', fromMs: from, toMs: to });
    const out = (s: Span) => ({ start: iso(s.startMs), end: iso(s.endMs) });
    return {
      camera: cameraId,
      day,
      from: iso(from),
      to: iso(to),
      recordedSeconds: Math.round(ranges.reduce((n, r) => n + (r.endMs - r.startMs), 0) / 1000),
      ranges: ranges.map(out),
      gaps: gaps.map(out),
      clips: clips.map((c) => this.#c.toView(c)),
    };
  }
}
