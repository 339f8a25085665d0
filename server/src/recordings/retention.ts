/**
 * Pure: which recordings retention and the storage limits delete, and when.
 *
 * - continuous segments: `retainDays` after they end (per camera);
 * - pre-roll buffer segments: a few minutes after they end, unless a clip still needs them;
 * - clips: `clipRetainDays` after they end;
 * - storage: above `storage_max_gb` in total, or below `storage_min_free_percent` free on the
 *   media disk, the oldest recordings of any camera go first.
 *
 * Never deleted: protected recordings, anything still being written (an open segment, a clip
 * being recorded), and buffer segments a pending clip covers.
 */
import type { RecordingSettings } from '../config/load.js';
import { RECORDING_DEFAULTS } from '../config/schema.js';
import type { RecordingRow } from './index-db.js';
import type { DeletionReason } from './types.js';

export const DAY_MS = 86_400_000;

export type RetentionSettings = Pick<RecordingSettings, 'retainDays' | 'clipRetainDays'>;

/** Retention of recordings whose camera is no longer configured. */
export const DEFAULT_RETENTION: RetentionSettings = {
  retainDays: RECORDING_DEFAULTS.retain_days,
  clipRetainDays: RECORDING_DEFAULTS.clip_retain_days,
};

export interface Span {
  startMs: number;
  endMs: number;
}

export interface RetentionContext {
  now: number;
  settings: (camera: string) => RetentionSettings;
  /** How long buffer segments are kept after they end. */
  bufferMs: number;
  /** Spans pending clips still need, per camera (buffer segments overlapping them are kept). */
  pinned: (camera: string) => readonly Span[];
  /** Files being written right now (relative paths), whatever the index says. */
  busy: ReadonlySet<string>;
}

/** Whether retention and the storage limits may touch this recording at all. */
export function deletable(row: RecordingRow, ctx: Pick<RetentionContext, 'pinned' | 'busy'>): boolean {
  if (row.protected || row.state !== 'complete' || row.path === null) return false;
  if (ctx.busy.has(row.path)) return false;
  return !ctx.pinned(row.camera).some((s) => row.startMs < s.endMs && row.endMs > s.startMs);
}

/** When retention deletes this recording (ms), or null if it never does (protected). */
export function expiresAt(
  row: RecordingRow,
  settings: RetentionSettings,
  bufferMs: number,
): { at: number; reason: DeletionReason } | null {
  if (row.protected) return null;
  if (row.type === 'clip') return { at: row.endMs + settings.clipRetainDays * DAY_MS, reason: 'retention' };
  if (row.kind === 'buffer') return { at: row.endMs + bufferMs, reason: 'buffer' };
  return { at: row.endMs + settings.retainDays * DAY_MS, reason: 'retention' };
}

export interface PlannedDeletion {
  row: RecordingRow;
  reason: DeletionReason;
  /** When it expires(d); for storage deletions, now. */
  at: number;
}

/** Recordings whose retention has run out at `ctx.now`. */
export function planAgeDeletions(rows: readonly RecordingRow[], ctx: RetentionContext): PlannedDeletion[] {
  const out: PlannedDeletion[] = [];
  for (const row of rows) {
    if (!deletable(row, ctx)) continue;
    const exp = expiresAt(row, ctx.settings(row.camera), ctx.bufferMs);
    if (exp !== null && exp.at <= ctx.now) out.push({ row, reason: exp.reason, at: exp.at });
  }
  return out;
}

export interface StorageState {
  /** Bytes of every indexed recording. */
  usedBytes: number;
  /** storage_max_gb in bytes; 0 = no cap. */
  maxBytes: number;
  /** The media disk, or null when unknown. */
  disk: { totalBytes: number; freeBytes: number } | null;
  minFreePercent: number;
}

/** How many bytes must go to satisfy both the cap and the free-space floor. */
export function bytesToFree(s: StorageState): number {
  const overCap = s.maxBytes > 0 ? s.usedBytes - s.maxBytes : 0;
  const floor = s.disk ? (s.disk.totalBytes * s.minFreePercent) / 100 - s.disk.freeBytes : 0;
  return Math.max(0, overCap, floor);
}

/**
 * The oldest deletable recordings (any camera, segments and clips alike) whose removal frees at
 * least `need` bytes. `oldestFirst` must be sorted by start time.
 */
export function planStorageDeletions(
  oldestFirst: Iterable<RecordingRow>,
  need: number,
  ctx: Pick<RetentionContext, 'pinned' | 'busy' | 'now'>,
): PlannedDeletion[] {
  const out: PlannedDeletion[] = [];
  let freed = 0;
  if (need <= 0) return out;
  for (const row of oldestFirst) {
    if (freed >= need) break;
    if (!deletable(row, ctx)) continue;
    out.push({ row, reason: 'storage', at: ctx.now });
    freed += row.size;
  }
  return out;
}

/**
 * What the next cleanup passes delete within `withinMs`: retention expiries (not the pre-roll
 * buffer, which is internal), sorted by time.
 */
export function planExpiring(
  rows: readonly RecordingRow[],
  withinMs: number,
  ctx: RetentionContext,
): PlannedDeletion[] {
  const out: PlannedDeletion[] = [];
  for (const row of rows) {
    if (row.kind === 'buffer' || !deletable(row, { ...ctx, pinned: () => [] })) continue;
    const exp = expiresAt(row, ctx.settings(row.camera), ctx.bufferMs);
    if (exp !== null && exp.at <= ctx.now + withinMs) out.push({ row, reason: exp.reason, at: exp.at });
  }
  return out.sort((a, b) => a.at - b.at || a.row.id - b.row.id);
}

/** Merges spans that touch or are closer than `toleranceMs`; input in any order. */
export function mergeSpans(spans: readonly Span[], toleranceMs: number): Span[] {
  const sorted = [...spans].filter((s) => s.endMs > s.startMs).sort((a, b) => a.startMs - b.startMs);
  const out: Span[] = [];
  for (const s of sorted) {
    const last = out.at(-1);
    if (last && s.startMs <= last.endMs + toleranceMs) last.endMs = Math.max(last.endMs, s.endMs);
    else out.push({ ...s });
  }
  return out;
}

/** The parts of [from, to) not covered by `covered` (merged, sorted). */
export function gapsIn(covered: readonly Span[], fromMs: number, toMs: number): Span[] {
  const out: Span[] = [];
  let cursor = fromMs;
  for (const s of covered) {
    if (s.endMs <= cursor) continue;
    if (s.startMs >= toMs) break;
    if (s.startMs > cursor) out.push({ startMs: cursor, endMs: Math.min(s.startMs, toMs) });
    cursor = Math.max(cursor, s.endMs);
  }
  if (cursor < toMs) out.push({ startMs: cursor, endMs: toMs });
  return out;
}
