import { stat } from 'node:fs/promises';
import { DomainError } from '../domain-errors.js';
import type { RecordingContext } from './context.js';
import { buildVodPlaylist, type FragmentLayout, readFragmentLayout, type VodFile } from './hls-vod.js';
import { MAX_EXPORT_MS } from './limits.js';
import { absolutePath, formatRid } from './naming.js';

/** Layouts kept (by path and size: a file still written is read again once it grew). */
const CACHE_FILES = 256;

/** HLS VOD playlists of recorded spans (hls-vod.ts), over the segment files as they are. */
export class VodPlaylists {
  readonly #c: RecordingContext;
  readonly #layouts = new Map<string, { size: number; layout: FragmentLayout }>();

  constructor(c: RecordingContext) {
    this.#c = c;
  }

  /**
   * The playlist of [fromMs, toMs) of a camera; `uriFor` names a segment's bytes by its
   * recording id (the player fetches byte ranges of `GET /api/recordings/:rid/video`).
   */
  async playlist(cameraId: string, fromMs: number, toMs: number, uriFor: (rid: string) => string): Promise<string> {
    this.#c.camera(cameraId);
    const problems = [];
    if (!(toMs > fromMs)) problems.push({ field: 'to', message: 'must be after from' });
    if (toMs - fromMs > MAX_EXPORT_MS) problems.push({ field: 'to', message: 'at most 24 hours after from' });
    if (problems.length) throw new DomainError('invalid', 'validation_failed', 'invalid span', problems);
    const rows = this.#c.index.list({ camera: cameraId, type: 'segment', fromMs, toMs, order: 'asc', limit: 500 });
    const files: VodFile[] = [];
    for (const row of rows) {
      if (row.path === null) continue;
      const layout = await this.#layout(absolutePath(this.#c.mediaDir, row.path)).catch(() => null);
      if (layout) files.push({ uri: uriFor(formatRid('segment', row.id)), startMs: row.startMs, layout });
    }
    const text = buildVodPlaylist(files, { fromMs, toMs });
    if (text === null) {
      throw new DomainError('not_found', 'no_recording', `nothing of camera "${cameraId}" is recorded in that span`, [
        { field: 'from', message: 'no recording in [from, to)' },
      ]);
    }
    return text;
  }

  async #layout(path: string): Promise<FragmentLayout> {
    const { size } = await stat(path);
    const known = this.#layouts.get(path);
    if (known && known.size === size) return known.layout;
    const layout = await readFragmentLayout(path);
    this.#layouts.delete(path);
    this.#layouts.set(path, { size, layout });
    if (this.#layouts.size > CACHE_FILES) this.#layouts.delete(this.#layouts.keys().next().value as string);
    return layout;
  }
}
