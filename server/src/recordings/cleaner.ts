import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { defaultDiskUsage, errnoCode, exists, iso, message, type RecordingContext } from './context.js';
import type { RecordingRow } from './index-db.js';
import { absolutePath, formatRid, markerRelPath } from './naming.js';
import {
  bytesToFree,
  DAY_MS,
  type PlannedDeletion,
  planAgeDeletions,
  planExpiring,
  planStorageDeletions,
  type RetentionContext,
  type Span,
} from './retention.js';
import type { DeletionReason } from './types.js';

/** Runs the retention plans (retention.ts) and the storage limits: deletes what they say, never a protected or busy file. */
export class Cleaner {
  readonly #c: RecordingContext;

  constructor(c: RecordingContext) {
    this.#c = c;
  }

  #pinned(camera: string): Span[] {
    return [...this.#c.pins.values()].filter((p) => p.camera === camera);
  }

  async context(): Promise<RetentionContext> {
    const busy = new Set(await this.#c.busyFiles());
    for (const rel of this.#c.cursors.keys()) busy.add(rel);
    return {
      now: this.#c.now(),
      settings: (c) => this.#c.settings(c),
      bufferMs: this.#c.bufferMs,
      pinned: (c) => this.#pinned(c),
      busy,
    };
  }

  async cleanup(): Promise<void> {
    const ctx = await this.context();
    const rows = this.#c.index.list({ state: 'complete', protected: false });
    for (const d of planAgeDeletions(rows, ctx)) await this.delete(d.row, d.reason, ctx.busy);
    await this.enforceStorage(ctx);
    // Tell once, about a day ahead, what retention will delete.
    const remaining = this.#c.index.list({ state: 'complete', protected: false });
    for (const e of planExpiring(remaining, DAY_MS, ctx)) {
      if (e.row.expiringNotified || e.row.path === null) continue;
      this.#c.index.update(e.row.id, { expiringNotified: true });
      this.#c.o.bus.emit('recording.expiring', {
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

  async storagePlan(ctx: RetentionContext): Promise<PlannedDeletion[]> {
    const usage = await (this.#c.o.diskUsage ?? defaultDiskUsage)(this.#c.mediaDir);
    const need = bytesToFree({
      usedBytes: this.#c.index.totalSize(),
      maxBytes: this.#c.o.storageMaxBytes ?? 0,
      disk: usage,
      minFreePercent: this.#c.o.storageMinFreePercent ?? 0,
    });
    if (need <= 0) return [];
    const index = this.#c.index;
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

  async enforceStorage(ctx: RetentionContext): Promise<void> {
    const plan = await this.storagePlan(ctx);
    if (plan.length === 0) return;
    this.#c.log.info(
      { count: plan.length, bytes: plan.reduce((n, d) => n + d.row.size, 0) },
      'storage limit reached: deleting the oldest recordings',
    );
    for (const d of plan) await this.delete(d.row, d.reason, ctx.busy);
  }

  /** Deletes a recording's file, marker and index entry. Never a protected or busy one. */
  async delete(row: RecordingRow, reason: DeletionReason, busy: ReadonlySet<string>): Promise<boolean> {
    const current = this.#c.index.get(row.id);
    if (!current || current.protected || current.state !== 'complete' || current.path === null) return false;
    if (busy.has(current.path)) return false;
    // The marker next to the file is the truth, whatever the index says.
    if (await exists(join(this.#c.mediaDir, markerRelPath(current.path)))) {
      this.#c.index.update(current.id, { protected: true });
      return false;
    }
    try {
      await unlink(absolutePath(this.#c.mediaDir, current.path));
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') {
        this.#c.log.warn({ path: current.path, err: message(err) }, 'could not delete a recording');
        return false;
      }
    }
    this.#c.forget(current, reason);
    return true;
  }
}
