/**
 * `GET /api/storage`: what the recordings take per camera (all, and protected), the media disk's
 * size and free space, and the storage limits — what the panel draws as bars. The numbers come
 * from the recordings index (the same ones the storage cap enforces), not from walking the disk.
 */
import { Type } from 'typebox';
import type { StorageReport } from '../contract/index.js';

export interface CameraUsage {
  camera: string;
  bytes: number;
  protectedBytes: number;
  /** Clips not protected (kept clip_retain_days); the rest of the unprotected bytes is 24/7 video. */
  clipBytes: number;
  recordings: number;
  clips: number;
}

export interface DiskUsage {
  totalBytes: number;
  freeBytes: number;
}

export interface StorageLimits {
  /** storage_max_gb in bytes; 0: no cap. */
  maxBytes: number;
  /** storage_min_free_percent. */
  minFreePercent: number;
}

const CameraUsageSchema = Type.Object(
  {
    camera: Type.String(),
    name: Type.String({ description: 'The camera name; its id when it is no longer configured.' }),
    configured: Type.Boolean({ description: 'false: recordings of a camera that was removed.' }),
    bytes: Type.Integer({ minimum: 0, description: 'All its recordings (segments and clips).' }),
    protectedBytes: Type.Integer({ minimum: 0, description: 'Of which protected (never deleted automatically).' }),
    clipBytes: Type.Integer({
      minimum: 0,
      description: 'Of which clips not protected (kept clipRetainDays); the rest is 24/7 video (retainDays).',
    }),
    recordings: Type.Integer({ minimum: 0 }),
    clips: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);

export const StorageReportSchema = Type.Object(
  {
    cameras: Type.Array(CameraUsageSchema, { description: 'Configured cameras first (in their order), then others.' }),
    totalBytes: Type.Integer({ minimum: 0 }),
    protectedBytes: Type.Integer({ minimum: 0 }),
    recordings: Type.Integer({ minimum: 0 }),
    disk: Type.Union(
      [
        Type.Object(
          { totalBytes: Type.Integer({ minimum: 0 }), freeBytes: Type.Integer({ minimum: 0 }) },
          { additionalProperties: false },
        ),
        Type.Null(),
      ],
      { description: 'The media folder disk; null when it cannot be read.' },
    ),
    limits: Type.Object(
      {
        maxBytes: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()], {
          description: 'storage_max_gb in bytes; null: no cap.',
        }),
        minFreePercent: Type.Number({ minimum: 0, maximum: 100 }),
        minFreeBytes: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()], {
          description: 'minFreePercent of the disk in bytes; null when the disk size is unknown.',
        }),
        usableBytes: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()], {
          description:
            'What recordings may take in all before the oldest are deleted: the cap, or what the disk allows ' +
            'above its minimum free space, whichever is less; null when neither is known.',
        }),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false, description: 'Storage used by recordings, and the limits.' },
);
export type { StorageReport };

// Compile-time guard: the schema describes the contract's view.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const reportMatches: Same<Type.Static<typeof StorageReportSchema>, StorageReport> = true;
void reportMatches;

/** Pure: the storage report from the index's per-camera sums, the configured cameras and the disk. */
export function storageReport(
  usage: readonly CameraUsage[],
  cameras: readonly { id: string; name: string }[],
  disk: DiskUsage | null,
  limits: StorageLimits,
): StorageReport {
  const byCamera = new Map(usage.map((u) => [u.camera, u]));
  const rows: StorageReport['cameras'] = [];
  const empty = { bytes: 0, protectedBytes: 0, clipBytes: 0, recordings: 0, clips: 0 };
  for (const c of cameras) {
    const u = byCamera.get(c.id) ?? { camera: c.id, ...empty };
    byCamera.delete(c.id);
    rows.push({ camera: c.id, name: c.name, configured: true, ...pick(u) });
  }
  for (const u of byCamera.values()) rows.push({ camera: u.camera, name: u.camera, configured: false, ...pick(u) });
  const totalBytes = rows.reduce((n, r) => n + r.bytes, 0);
  const minFreeBytes = disk === null ? null : Math.ceil((disk.totalBytes * limits.minFreePercent) / 100);
  // Recordings may grow until the disk's free space reaches its minimum.
  const diskAllows = disk === null || minFreeBytes === null ? null : totalBytes + disk.freeBytes - minFreeBytes;
  const cap = limits.maxBytes > 0 ? limits.maxBytes : null;
  const candidates = [cap, diskAllows === null ? null : Math.max(0, diskAllows)].filter((v): v is number => v !== null);
  return {
    cameras: rows,
    totalBytes,
    protectedBytes: rows.reduce((n, r) => n + r.protectedBytes, 0),
    recordings: rows.reduce((n, r) => n + r.recordings, 0),
    disk: disk === null ? null : { totalBytes: Math.round(disk.totalBytes), freeBytes: Math.round(disk.freeBytes) },
    limits: {
      maxBytes: cap,
      minFreePercent: limits.minFreePercent,
      minFreeBytes,
      usableBytes: candidates.length ? Math.min(...candidates) : null,
    },
  };
}

function pick(u: Omit<CameraUsage, 'camera'>): Omit<CameraUsage, 'camera'> {
  return {
    bytes: u.bytes,
    protectedBytes: u.protectedBytes,
    clipBytes: u.clipBytes,
    recordings: u.recordings,
    clips: u.clips,
  };
}
