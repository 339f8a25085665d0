/**
 * Pure: where recordings live under the media folder, what their names mean, and the ids the
 * API hands out. Clients only ever send ids (`seg_12`, `clip_7`), never paths; every path is built
 * here from a camera id (pattern-checked) and a name we generated or parsed.
 *
 * Layout (relative to `media_dir`, default /media/camstack):
 *
 *     <camera>/2026-05-01_14-03-00-123456.mp4             MediaMTX segment (local time, µs)
 *     <camera>/clips/<camera>_2026-05-01_14-03-05-250_api.mp4    clip (local time, ms, trigger)
 *     <camera>/.protected/<segment name>                  marker: this segment is protected
 *     <camera>/clips/.protected/<clip name>               marker: this clip is protected
 *     <camera>/clips/.<clip name>.part                    a clip being written (FFmpeg)
 *
 * Protection is stored next to the media (an empty marker file), not only in the index, so
 * deleting the index never un-protects anything. MediaMTX's playback server matches segment
 * names with an unanchored pattern `<camera>/<digits>…`; nothing else we write starts with digits
 * directly under `<camera>/`, so clips and markers never look like segments to it.
 */
import { basename, dirname, join, posix } from 'node:path';
import { CAMERA_ID_PATTERN } from '../config/schema.js';
import type { RecordingType } from '../contract/index.js';

export type { RecordingType } from '../contract/index.js';

const CAMERA_ID_RE = new RegExp(CAMERA_ID_PATTERN);
const SEGMENT_RE = /^(\d{4})-(\d{2})-(\d{2})_(\d{2})-(\d{2})-(\d{2})-(\d{6})\.mp4$/;
const CLIP_RE = /^([a-z0-9_]{1,64})_(\d{4})-(\d{2})-(\d{2})_(\d{2})-(\d{2})-(\d{2})-(\d{3})_([a-z0-9-]{1,32})\.mp4$/;
export const RID_PATTERN = '^(seg|clip)_[1-9][0-9]{0,14}$';
const RID_RE = new RegExp(RID_PATTERN);

export const CLIPS_DIR = 'clips';
export const PROTECTED_DIR = '.protected';

export function isCameraId(id: string): boolean {
  return CAMERA_ID_RE.test(id);
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** Local time parts → epoch ms (local time, as MediaMTX and our clip names use it). */
function localMs(y: string, mo: string, d: string, h: string, mi: string, s: string, ms: number): number | null {
  const date = new Date(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  const t = date.getTime();
  if (!Number.isFinite(t)) return null;
  // Reject 2026-02-31 and friends (Date rolls them over).
  if (date.getMonth() !== Number(mo) - 1 || date.getDate() !== Number(d)) return null;
  return t + ms;
}

/** Start time (epoch ms, µs dropped) of a MediaMTX segment from its file name, or null. */
export function parseSegmentName(name: string): number | null {
  const m = SEGMENT_RE.exec(name);
  if (!m) return null;
  const [, y, mo, d, h, mi, s, us] = m as unknown as [string, string, string, string, string, string, string, string];
  return localMs(y, mo, d, h, mi, s, Math.floor(Number(us) / 1000));
}

/** The local-time stamp used in names: `2026-05-01_14-03-05-250` (ms). */
export function localStamp(ms: number): string {
  const t = new Date(ms);
  return (
    `${pad(t.getFullYear(), 4)}-${pad(t.getMonth() + 1, 2)}-${pad(t.getDate(), 2)}_` +
    `${pad(t.getHours(), 2)}-${pad(t.getMinutes(), 2)}-${pad(t.getSeconds(), 2)}-${pad(t.getMilliseconds(), 3)}`
  );
}

/** A trigger label as it may appear in a file name: lowercase letters, digits and `-`, ≤ 32. */
export function sanitizeTrigger(trigger: string): string {
  const clean = trigger
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 32)
    .replace(/-+$/, '');
  return clean === '' ? 'manual' : clean;
}

/** `<camera>_<local stamp>_<trigger>.mp4` */
export function clipFileName(camera: string, startMs: number, trigger: string): string {
  return `${camera}_${localStamp(startMs)}_${sanitizeTrigger(trigger)}.mp4`;
}

export interface ParsedClipName {
  camera: string;
  startMs: number;
  trigger: string;
}

export function parseClipName(name: string): ParsedClipName | null {
  const m = CLIP_RE.exec(name);
  if (!m) return null;
  const [, camera, y, mo, d, h, mi, s, ms, trigger] = m as unknown as string[];
  const startMs = localMs(y as string, mo as string, d as string, h as string, mi as string, s as string, Number(ms));
  if (startMs === null || camera === undefined || trigger === undefined) return null;
  return { camera, startMs, trigger };
}

/** Relative (POSIX) path of a segment. */
export function segmentRelPath(camera: string, name: string): string {
  return posix.join(camera, name);
}

export function clipRelPath(camera: string, name: string): string {
  return posix.join(camera, CLIPS_DIR, name);
}

/** The protection marker of a recording (relative path). */
export function markerRelPath(relPath: string): string {
  return posix.join(posix.dirname(relPath), PROTECTED_DIR, posix.basename(relPath));
}

/** The temporary file a clip is written to before it is renamed into place (relative path). */
export function partRelPath(relPath: string): string {
  return posix.join(posix.dirname(relPath), `.${posix.basename(relPath)}.part`);
}

/** What a relative path we stored means, re-checked (never trust a path, even our own). */
export function classifyRelPath(
  relPath: string,
):
  | { type: 'segment'; camera: string; startMs: number }
  | { type: 'clip'; camera: string; clip: ParsedClipName }
  | null {
  if (relPath.includes('\\') || relPath.split('/').some((p) => p === '..' || p === '.' || p === '')) return null;
  const parts = relPath.split('/');
  const camera = parts[0];
  if (camera === undefined || !isCameraId(camera)) return null;
  if (parts.length === 2 && parts[1] !== undefined) {
    const startMs = parseSegmentName(parts[1]);
    return startMs === null ? null : { type: 'segment', camera, startMs };
  }
  if (parts.length === 3 && parts[1] === CLIPS_DIR && parts[2] !== undefined) {
    const clip = parseClipName(parts[2]);
    return clip === null ? null : { type: 'clip', camera, clip };
  }
  return null;
}

/** Absolute path of a relative one under the media dir; throws if it would leave it. */
export function absolutePath(mediaDir: string, relPath: string): string {
  if (classifyRelPath(relPath) === null && !isMarkerOrPart(relPath)) {
    throw new Error(`refusing an unexpected recording path: ${JSON.stringify(relPath)}`);
  }
  const abs = join(mediaDir, relPath);
  if (!abs.startsWith(`${mediaDir.replace(/\/+$/, '')}/`)) throw new Error('path escapes the media folder');
  return abs;
}

function isMarkerOrPart(relPath: string): boolean {
  if (relPath.split('/').some((p) => p === '..' || p === '')) return false;
  const dir = dirname(relPath);
  const name = basename(relPath);
  if (basename(dir) === PROTECTED_DIR) return classifyRelPath(join(dirname(dir), name)) !== null;
  const m = /^\.(.+)\.part$/.exec(name);
  return m?.[1] !== undefined && classifyRelPath(join(dir, m[1])) !== null;
}

export function formatRid(type: RecordingType, id: number): string {
  return `${type === 'segment' ? 'seg' : 'clip'}_${id}`;
}

export function parseRid(rid: string): { type: RecordingType; id: number } | null {
  if (!RID_RE.test(rid)) return null;
  const [prefix, n] = rid.split('_') as [string, string];
  return { type: prefix === 'seg' ? 'segment' : 'clip', id: Number(n) };
}
