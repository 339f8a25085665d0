/**
 * Recordings re-encoded to H.264 on request (`?transcode=h264`), for browsers that cannot decode
 * what the camera recorded (H.265 in Chrome without hardware decoding, Firefox): FFmpeg reads the
 * recorded span (MediaMTX's playback URL or a file), encodes H.264 + AAC, and streams a
 * fragmented MP4 as it goes. Recording itself is never transcoded; this runs only while a client
 * reads it (closing the response ends FFmpeg) and at most {@link MAX_TRANSCODES} at a time.
 */
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { DomainError } from '../domain-errors.js';

/** What `?transcode=` accepts (the only target). */
export type TranscodeTarget = 'h264';

/** FFmpeg encodes at once, per server: beyond it a request gets "busy" (429), not a slower machine. */
export const MAX_TRANSCODES = 3;

/**
 * Pure: FFmpeg arguments that read `input` (a local file or a loopback http URL we built) and write
 * a fragmented MP4 on stdout: the first video stream as H.264 (yuv420p, High profile, a keyframe
 * every 2 s so fragments come often), the first audio stream (if any) as AAC.
 */
export function h264TranscodeArgs(input: string): string[] {
  return [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'error',
    '-i',
    input,
    '-map',
    '0:v:0',
    '-map',
    '0:a:0?',
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-crf',
    '23',
    '-profile:v',
    'high',
    '-pix_fmt',
    'yuv420p',
    '-force_key_frames',
    'expr:gte(t,n_forced*2)',
    '-c:a',
    'aac',
    '-b:a',
    '96k',
    '-movflags',
    '+frag_keyframe+empty_moov+default_base_moof',
    '-f',
    'mp4',
    'pipe:1',
  ];
}

/** Counts the FFmpeg transcodes running, so that they stay within {@link MAX_TRANSCODES}. */
export class Transcoder {
  readonly #ffmpeg: string;
  readonly #max: number;
  #running = 0;

  constructor(ffmpeg: string, max = MAX_TRANSCODES) {
    this.#ffmpeg = ffmpeg;
    this.#max = max;
  }

  get running(): number {
    return this.#running;
  }

  /** Throws "busy" when {@link MAX_TRANSCODES} already run; call before preparing the input. */
  reserve(): () => void {
    if (this.#running >= this.#max) {
      throw new DomainError(
        'busy',
        'transcode_busy',
        `${this.#max} transcodes are already running: try again when one ends, or export without transcode`,
      );
    }
    this.#running++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#running--;
    };
  }

  /**
   * Starts FFmpeg on `input` and returns its output. Destroying the stream (the client went away)
   * stops FFmpeg; `done` runs once FFmpeg has exited, however it ended (to release the slot, or
   * delete a temporary input).
   */
  start(input: string, done: () => void): Readable {
    const proc = spawn(this.#ffmpeg, h264TranscodeArgs(input), { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (d: string) => {
      if (stderr.length < 2000) stderr += d;
    });
    const out = proc.stdout;
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      done();
    };
    proc.once('exit', (code, signal) => {
      finish();
      // A failed encode must not look like a complete (short) video.
      if (code !== 0 && signal === null && !out.destroyed) {
        out.destroy(new Error(`ffmpeg transcode failed (exit ${code}): ${stderr.trim().slice(0, 300)}`));
      }
    });
    proc.once('error', (err) => {
      finish();
      out.destroy(err);
    });
    out.once('close', () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    });
    return out;
  }
}
