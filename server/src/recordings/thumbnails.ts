/**
 * Thumbnails of recordings (`GET /api/recordings/:rid/thumbnail.jpg`): a small JPEG of the first
 * keyframe, made once by FFmpeg (an argument array, a time limit) and then served from a cache
 * folder under the data dir — outside the media folder, so retention and the index never see
 * it. One FFmpeg per recording at a time (concurrent requests share it), and at most a couple at
 * once overall: a recording list scrolled on a Raspberry Pi must not start dozens.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { DomainError } from '../domain-errors.js';
import type { Logger } from '../log/logger.js';
import { parseRid } from './naming.js';

export const THUMBNAIL_WIDTH = 320;

export interface ThumbnailSource {
  /** The recording's file (404 unknown, 409 still being recorded). */
  file: (rid: string) => Promise<{ path: string; view: { start: string; path: string | null } }>;
}

export interface ThumbnailCacheOptions {
  ffmpeg: string;
  /** Where the JPEGs are kept (created when missing). */
  cacheDir: string;
  recordings: ThumbnailSource;
  logger: Logger;
  width?: number;
  timeoutMs?: number;
  maxConcurrent?: number;
}

/** Pure: FFmpeg arguments that write the first keyframe of `input`, `width` pixels wide at most, as a JPEG. */
export function thumbnailArgs(input: string, output: string, width = THUMBNAIL_WIDTH): string[] {
  return [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'error',
    // Decode keyframes only: the first one is the picture, and nothing before it is decoded.
    '-skip_frame',
    'nokey',
    '-i',
    input,
    '-map',
    '0:v:0',
    '-frames:v',
    '1',
    '-vf',
    `scale='min(${width},iw)':-2`,
    '-q:v',
    '5',
    '-f',
    'image2',
    '-c:v',
    'mjpeg',
    '-y',
    output,
  ];
}

/**
 * Pure: the cache file name of a recording's thumbnail. The id alone is not enough: ids of a
 * rebuilt index start again, so the file's path and start time are part of the name.
 */
export function thumbnailFileName(rid: string, path: string | null, start: string): string {
  if (parseRid(rid) === null) throw new Error(`not a recording id: ${rid}`);
  const hash = createHash('sha256')
    .update(`${path ?? ''}|${start}`)
    .digest('hex')
    .slice(0, 16);
  return `${rid}-${hash}.jpg`;
}

export class ThumbnailCache {
  readonly #o: ThumbnailCacheOptions;
  readonly #inFlight = new Map<string, Promise<Buffer>>();
  readonly #waiting: (() => void)[] = [];
  #running = 0;
  #dirReady: Promise<unknown> | null = null;

  constructor(options: ThumbnailCacheOptions) {
    this.#o = options;
  }

  /** The JPEG of recording `rid` (made on first use). 404 unknown, 409 still recording, 502 FFmpeg failed. */
  async get(rid: string): Promise<Buffer> {
    const file = await this.#o.recordings.file(rid);
    const name = thumbnailFileName(rid, file.view.path, file.view.start);
    const cached = join(this.#o.cacheDir, name);
    try {
      return await readFile(cached);
    } catch {
      // not made yet
    }
    let job = this.#inFlight.get(name);
    if (!job) {
      job = this.#make(file.path, cached).finally(() => this.#inFlight.delete(name));
      this.#inFlight.set(name, job);
    }
    return job;
  }

  /** Removes the thumbnails of a recording (it was deleted). */
  async forget(rid: string): Promise<void> {
    if (parseRid(rid) === null) return;
    let names: string[];
    try {
      names = await readdir(this.#o.cacheDir);
    } catch {
      return;
    }
    await Promise.all(
      names.filter((n) => n.startsWith(`${rid}-`)).map((n) => rm(join(this.#o.cacheDir, n), { force: true })),
    );
  }

  async #make(input: string, output: string): Promise<Buffer> {
    this.#dirReady ??= mkdir(this.#o.cacheDir, { recursive: true });
    await this.#dirReady;
    await this.#slot();
    const tmp = `${output}.${process.pid}.tmp`;
    try {
      const res = await execa(this.#o.ffmpeg, thumbnailArgs(input, tmp, this.#o.width), {
        reject: false,
        stdin: 'ignore',
        stdout: 'ignore',
        timeout: this.#o.timeoutMs ?? 20_000,
        killSignal: 'SIGKILL',
      });
      if (res.exitCode !== 0) {
        const why = res.timedOut
          ? 'timed out'
          : String(res.stderr ?? '')
              .trim()
              .split('\n')
              .pop() || 'failed';
        this.#o.logger.warn({ input, why }, 'thumbnail: FFmpeg failed');
        throw new DomainError(
          'failed',
          'thumbnail_failed',
          `no picture could be taken from the recording${res.timedOut ? ' in time' : ''}`,
        );
      }
      await rename(tmp, output);
      return await readFile(output);
    } finally {
      await rm(tmp, { force: true }).catch(() => {});
      this.#release();
    }
  }

  async #slot(): Promise<void> {
    if (this.#running < (this.#o.maxConcurrent ?? 2)) {
      this.#running++;
      return;
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }

  #release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#running--;
  }
}
