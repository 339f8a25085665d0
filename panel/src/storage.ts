/**
 * Pure: the storage picture of the settings view from `GET api/storage` — one bar for the media
 * disk (recordings, their protected part, everything else on the disk, free space) with the
 * storage cap and the minimum free space marked on it, and one bar per camera scaled to the
 * largest. All numbers are percentages of their bar, clamped to 0–100.
 */
import type { CameraTestResult, CameraUsage, StorageReport } from './api-types.js';

export interface DiskPicture {
  /** What the bar stands for in bytes (the disk; without one, the cap or what is recorded). */
  scaleBytes: number;
  recordings: number;
  protected: number;
  /** Other files on the disk. */
  other: number;
  free: number;
  /** Where the storage cap (storage_max_gb) sits; null when there is none or it is off the bar. */
  capAt: number | null;
  /** Where recordings start to be deleted to keep storage_min_free_percent free; null when unknown. */
  minFreeAt: number | null;
}

export interface CameraBar extends Omit<CameraUsage, 'clips'> {
  /** The tiers in % of the largest camera: 24/7 video, clips (both unprotected), protected. */
  plain: number;
  clips: number;
  protected: number;
}

const pct = (part: number, whole: number) => (whole > 0 ? Math.max(0, Math.min(100, (part / whole) * 100)) : 0);

const sliver = (part: number, whole: number) => (part > 0 ? Math.max(0.5, pct(part, whole)) : 0);

export function diskPicture(r: StorageReport): DiskPicture {
  const cap = r.limits.maxBytes;
  const scale = r.disk ? r.disk.totalBytes : Math.max(r.totalBytes, cap ?? 0, 1);
  const used = r.disk ? r.disk.totalBytes - r.disk.freeBytes : r.totalBytes;
  const minFreeLine = r.disk && r.limits.minFreeBytes !== null ? r.disk.totalBytes - r.limits.minFreeBytes : null;
  return {
    scaleBytes: scale,
    // A few MB on a large disk would not show at all: at least a sliver when there is anything.
    recordings: sliver(r.totalBytes - r.protectedBytes, scale),
    protected: sliver(r.protectedBytes, scale),
    other: pct(Math.max(0, used - r.totalBytes), scale),
    free: r.disk ? pct(r.disk.freeBytes, scale) : 0,
    capAt: cap !== null && cap <= scale ? pct(cap, scale) : null,
    minFreeAt: minFreeLine === null ? null : pct(minFreeLine, scale),
  };
}

export function cameraBars(r: StorageReport): CameraBar[] {
  const max = Math.max(1, ...r.cameras.map((c) => c.bytes));
  return r.cameras.map((c) => ({
    camera: c.camera,
    name: c.name,
    configured: c.configured,
    bytes: c.bytes,
    protectedBytes: c.protectedBytes,
    recordings: c.recordings,
    clipBytes: c.clipBytes,
    plain: pct(c.bytes - c.protectedBytes - c.clipBytes, max),
    clips: pct(c.clipBytes, max),
    protected: pct(c.protectedBytes, max),
  }));
}

/** Pure: one line about a connection test ("H264 · 1280×720 · 15 fps"), or its reason. */
export function describeTest(r: CameraTestResult): string {
  if (!r.ok) return r.reason ?? 'the stream could not be read';
  const parts = [
    r.codec ? r.codec.toUpperCase() : null,
    r.width && r.height ? `${r.width}×${r.height}` : null,
    r.fps ? `${Math.round(r.fps * 10) / 10} fps` : null,
    r.audioCodec ? `audio ${r.audioCodec}` : null,
  ].filter((p): p is string => p !== null);
  return parts.length ? `Connected: ${parts.join(' · ')}` : 'Connected';
}
