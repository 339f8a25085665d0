import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { DomainError } from '../domain-errors.js';
import { iso, PLAIN_MP4_LIMIT, type RecordingContext } from './context.js';
import { concatCopy } from './ffmpeg.js';
import { MAX_EXPORT_MS } from './limits.js';
import { type RecordedRun, runsWithin } from './playback.js';
import { Transcoder, type TranscodeTarget } from './transcode.js';
import type { ExportStream } from './types-public.js';

/**
 * Spans of the recording cut out as one MP4 (stream copy), from MediaMTX's playback server; or,
 * on request, re-encoded to H.264 (a fragmented MP4 streamed while FFmpeg encodes).
 */
export class Exporter {
  readonly #c: RecordingContext;
  readonly #transcoder: Transcoder;

  constructor(c: RecordingContext) {
    this.#c = c;
    this.#transcoder = new Transcoder(c.o.ffmpeg);
  }

  /** Writes the recorded runs (one camera, in order) into one MP4 file. */
  async cutRuns(camera: string, runs: readonly RecordedRun[], out: string, fragmented: boolean): Promise<void> {
    const [first] = runs;
    if (first === undefined) throw new Error('nothing recorded in that span');
    if (runs.length === 1) {
      await this.#c.playback.getToFile(camera, first.startMs, first.durationMs, fragmented ? 'fmp4' : 'mp4', out);
      return;
    }
    // Several runs (a gap, or MediaMTX restarted): cut each, then join them without re-encoding.
    const pieces: string[] = [];
    try {
      for (const run of runs) {
        const piece = this.#c.tmpFile('.mp4');
        pieces.push(piece);
        await this.#c.playback.getToFile(camera, run.startMs, run.durationMs, 'mp4', piece);
      }
      await concatCopy(this.#c.o.ffmpeg, pieces, this.#c.tmpFile('.txt'), out, fragmented);
    } finally {
      for (const p of pieces) await rm(p, { force: true });
    }
  }

  /** Any recorded span of a camera (≤ 24 h) as one MP4, stream copy unless `transcode` says H.264. */
  async exportSpan(cameraId: string, fromMs: number, toMs: number, transcode?: TranscodeTarget): Promise<ExportStream> {
    this.#c.camera(cameraId);
    const problems = [];
    if (!(toMs > fromMs)) problems.push({ field: 'to', message: 'must be after from' });
    if (toMs - fromMs > MAX_EXPORT_MS) problems.push({ field: 'to', message: 'at most 24 hours after from' });
    if (problems.length) throw new DomainError('invalid', 'validation_failed', 'invalid export span', problems);
    const runs = runsWithin(await this.#c.playback.list(cameraId, fromMs).catch(() => []), fromMs, toMs);
    if (runs.length === 0) {
      throw new DomainError(
        'not_found',
        'no_recording',
        `nothing of camera "${cameraId}" is recorded between from and to`,
        [{ field: 'from', message: 'no recording in [from, to)' }],
      );
    }
    const segs = this.#c.index.list({ camera: cameraId, type: 'segment', fromMs, toMs });
    const bytesPerMs =
      segs.reduce((n, s) => n + s.size, 0) /
      Math.max(
        1,
        segs.reduce((n, s) => n + (s.endMs - s.startMs), 0),
      );
    const estimate = bytesPerMs * runs.reduce((n, r) => n + r.durationMs, 0);
    const fragmented = estimate > PLAIN_MP4_LIMIT;
    const fileName = `${cameraId}_${iso(fromMs).replace(/[:.]/g, '-')}${transcode ? '_h264' : ''}.mp4`;
    if (transcode) return this.#transcoded(cameraId, runs, fragmented, fileName);
    const [first] = runs;
    if (runs.length === 1 && first) {
      const res = await this.#c.playback.get(cameraId, first.startMs, first.durationMs, fragmented ? 'fmp4' : 'mp4');
      if (!res.body) throw new DomainError('failed', 'playback_failed', 'MediaMTX sent no data');
      const length = Number(res.headers.get('content-length') ?? Number.NaN);
      return {
        body: Readable.fromWeb(res.body as WebReadableStream<Uint8Array>),
        fileName,
        size: Number.isFinite(length) ? length : null,
        fragmented,
      };
    }
    const tmp = this.#c.tmpFile('.mp4');
    await this.cutRuns(cameraId, runs, tmp, fragmented);
    const { size } = await stat(tmp);
    const body = createReadStream(tmp);
    body.once('close', () => void rm(tmp, { force: true }));
    return { body, fileName, size, fragmented };
  }

  /** The runs re-encoded to H.264: FFmpeg reads MediaMTX's span (one run) or the joined copy (several). */
  async #transcoded(
    cameraId: string,
    runs: readonly RecordedRun[],
    fragmented: boolean,
    fileName: string,
  ): Promise<ExportStream> {
    const release = this.#transcoder.reserve();
    let tmp: string | null = null;
    try {
      const [first] = runs;
      let input: string;
      if (runs.length === 1 && first) {
        input = this.#c.playback.getUrl(cameraId, first.startMs, first.durationMs, fragmented ? 'fmp4' : 'mp4');
      } else {
        tmp = this.#c.tmpFile('.mp4');
        await this.cutRuns(cameraId, runs, tmp, fragmented);
        input = tmp;
      }
      const cleanup = tmp;
      const body = this.#transcoder.start(input, () => {
        release();
        if (cleanup) void rm(cleanup, { force: true });
      });
      return { body, fileName, size: null, fragmented: true };
    } catch (err) {
      release();
      if (tmp) await rm(tmp, { force: true });
      throw err;
    }
  }
}
