/**
 * MediaMTX's playback server (loopback only): what is recorded (`/list`) and any span of it as
 * one MP4 (`/get`). Verified against MediaMTX 1.20.1:
 *
 * - `/get` also serves the segment still being written, up to its last complete part (1 s), so
 *   a clip can be cut a second or two after its end without waiting for the segment to close;
 * - `format=mp4` is a plain, faststart MP4 (`ftyp`, `moov`, `mdat`), starting at the keyframe
 *   before `start` with an edit list that begins playback exactly at `start` — no re-encoding;
 * - it uses 32-bit chunk offsets, so one `mp4` answer must stay under 4 GiB (`fmp4` has no limit);
 * - spans are served only while segments chain (same MediaMTX run, consecutive numbers): across a
 *   restart of MediaMTX or a gap, `/list` returns separate entries and `/get` stops at the first gap.
 */
import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';

export interface RecordedRun {
  startMs: number;
  durationMs: number;
}

export class PlaybackError extends Error {
  override readonly name = 'PlaybackError';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export class PlaybackClient {
  readonly base: string;

  constructor(port: number) {
    this.base = `http://127.0.0.1:${port}`;
  }

  /** Contiguous recorded runs of a camera from `startMs` on (all when omitted); [] when none. */
  async list(camera: string, startMs?: number, signal?: AbortSignal): Promise<RecordedRun[]> {
    const q = new URLSearchParams({ path: camera });
    if (startMs !== undefined) q.set('start', iso(startMs));
    const res = await fetch(`${this.base}/list?${q}`, { signal: signal ?? AbortSignal.timeout(10_000) });
    if (res.status === 404) return [];
    if (!res.ok)
      throw new PlaybackError(`MediaMTX playback /list answered ${res.status}: ${await res.text()}`, res.status);
    const body = (await res.json()) as { start: string; duration: number }[];
    return body
      .map((e) => ({ startMs: Date.parse(e.start), durationMs: Math.round(e.duration * 1000) }))
      .filter((r) => Number.isFinite(r.startMs) && r.durationMs > 0);
  }

  /** The loopback URL of the span [startMs, startMs + durationMs) (for FFmpeg to read). */
  getUrl(camera: string, startMs: number, durationMs: number, format: 'mp4' | 'fmp4'): string {
    const q = new URLSearchParams({
      path: camera,
      start: iso(startMs),
      duration: (durationMs / 1000).toFixed(3),
      format,
    });
    return `${this.base}/get?${q}`;
  }

  /** The span [startMs, startMs + durationMs) as one MP4 (or fragmented MP4) response. */
  async get(
    camera: string,
    startMs: number,
    durationMs: number,
    format: 'mp4' | 'fmp4',
    signal?: AbortSignal,
  ): Promise<Response> {
    const res = await fetch(this.getUrl(camera, startMs, durationMs, format), { ...(signal ? { signal } : {}) });
    if (!res.ok) {
      const text = await res.text().catch(() => '');
      throw new PlaybackError(`MediaMTX playback /get answered ${res.status}: ${text.slice(0, 300)}`, res.status);
    }
    return res;
  }

  /** Writes the span into `file` (created or replaced). */
  async getToFile(
    camera: string,
    startMs: number,
    durationMs: number,
    format: 'mp4' | 'fmp4',
    file: string,
    signal?: AbortSignal,
  ): Promise<void> {
    const res = await this.get(camera, startMs, durationMs, format, signal ?? AbortSignal.timeout(600_000));
    if (!res.body) throw new PlaybackError('MediaMTX playback answered without a body', 502);
    await pipeline(Readable.fromWeb(res.body as WebReadableStream<Uint8Array>), createWriteStream(file));
  }
}

/** The recorded runs clipped to [fromMs, toMs); runs shorter than `minMs` are dropped. */
export function runsWithin(runs: readonly RecordedRun[], fromMs: number, toMs: number, minMs = 200): RecordedRun[] {
  const out: RecordedRun[] = [];
  for (const r of runs) {
    const start = Math.max(r.startMs, fromMs);
    const end = Math.min(r.startMs + r.durationMs, toMs);
    if (end - start >= minMs) out.push({ startMs: start, durationMs: end - start });
  }
  return out;
}

/** End (ms) of the recording covered so far, or null when nothing is recorded. */
export function coveredUntil(runs: readonly RecordedRun[]): number | null {
  let end: number | null = null;
  for (const r of runs) end = Math.max(end ?? 0, r.startMs + r.durationMs);
  return end;
}
