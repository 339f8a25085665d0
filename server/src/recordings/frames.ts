/**
 * The picture of a moment that has passed: the frame shown at a given time, decoded from the
 * recording (24/7 segments, or the pre-roll buffer of a camera that is not recorded 24/7) rather
 * than the live stream's next keyframe. FFmpeg seeks in the segment file (MediaMTX writes
 * fragmented MP4 with 1 s parts, so a segment still being written is readable up to its last
 * part) and decodes from the keyframe before the moment up to it.
 */
import { join } from 'node:path';
import { execa } from 'execa';
import { jpegFrameOutputArgs } from '../ffmpeg-args.js';
import { isJpeg } from '../snapshots/jpeg.js';
import type { RecordingContext } from './context.js';

/** Pure: FFmpeg arguments for the frame `offsetSeconds` into `file`, as a JPEG on stdout. */
export function frameAtArgs(file: string, offsetSeconds: number, width?: number): string[] {
  return [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'error',
    '-ss',
    Math.max(0, offsetSeconds).toFixed(3),
    '-i',
    file,
    ...jpegFrameOutputArgs(width),
  ];
}

export class FrameGrabber {
  readonly #c: RecordingContext;

  constructor(c: RecordingContext) {
    this.#c = c;
  }

  /**
   * The JPEG of the frame at `atMs`, or null when nothing recorded holds that moment (yet: the
   * part holding it may not be written; the caller tries again a little later).
   */
  async frameAt(camera: string, atMs: number, width?: number): Promise<Buffer | null> {
    const rows = this.#c.index
      .list({ camera, type: 'segment', toMs: atMs, order: 'desc', limit: 2 })
      // A segment being written is indexed with the end of its last scan: it may hold more.
      .filter((r) => r.path !== null && (r.endMs >= atMs || r.state === 'open'));
    for (const row of rows) {
      if (row.path === null) continue;
      const res = await execa(
        this.#c.o.ffmpeg,
        frameAtArgs(join(this.#c.mediaDir, row.path), (atMs - row.startMs) / 1000, width),
        {
          reject: false,
          stdin: 'ignore',
          encoding: 'buffer',
          maxBuffer: 32 * 1024 * 1024,
          timeout: 15_000,
          killSignal: 'SIGKILL',
        },
      );
      const jpeg = Buffer.from(res.stdout);
      if (res.exitCode === 0 && isJpeg(jpeg)) return jpeg;
    }
    return null;
  }
}
