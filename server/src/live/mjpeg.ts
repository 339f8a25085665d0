/**
 * MJPEG fallback: one FFmpeg per watched camera reads MediaMTX's restream (not go2rtc, so it keeps
 * working while go2rtc is down), encodes a few JPEGs a second, and every MJPEG client of that
 * camera gets the same frames. The FFmpeg starts with the first client and stops shortly after
 * the last one leaves.
 */
import type { EventBus } from '../events/bus.js';
import { rtspReaderArgs } from '../ffmpeg-args.js';
import type { Logger } from '../log/logger.js';
import type { SecretRedactor } from '../log/redact.js';
import { type FfmpegProgress, ProgressParser } from '../metrics/progress.js';
import { ManagedProcess } from '../supervisor/managed-process.js';

/** Pure: FFmpeg arguments turning an RTSP restream into a stream of JPEGs on stdout. */
export function mjpegArgs(
  input: string,
  opts: { fps: number; maxWidth: number; quality: number; progressFd?: number },
): string[] {
  return [
    ...rtspReaderArgs({ progressFd: opts.progressFd, statsPeriodSeconds: 1 }),
    '-i',
    input,
    '-an',
    '-vf',
    `fps=${opts.fps},scale='min(${opts.maxWidth},iw)':-2`,
    '-c:v',
    'mjpeg',
    '-q:v',
    String(opts.quality),
    '-f',
    'image2pipe',
    'pipe:1',
  ];
}

/**
 * Pure, incremental: splits a byte stream of concatenated JPEGs into whole images (SOI FFD8 …
 * EOI FFD9). JPEG entropy-coded data escapes 0xFF bytes, so an FFD9 marks the end of an image.
 */
export class JpegSplitter {
  #buf: Buffer = Buffer.alloc(0);
  readonly #maxBytes: number;

  constructor(maxBytes = 8 * 1024 * 1024) {
    this.#maxBytes = maxBytes;
  }

  push(chunk: Buffer): Buffer[] {
    this.#buf = this.#buf.length ? Buffer.concat([this.#buf, chunk]) : chunk;
    const out: Buffer[] = [];
    for (;;) {
      const start = this.#buf.indexOf(SOI);
      if (start < 0) {
        this.#buf = Buffer.alloc(0);
        break;
      }
      const end = this.#buf.indexOf(EOI, start + 2);
      if (end < 0) {
        this.#buf = start > 0 ? this.#buf.subarray(start) : this.#buf;
        if (this.#buf.length > this.#maxBytes) this.#buf = Buffer.alloc(0); // not JPEG; resync
        break;
      }
      out.push(Buffer.from(this.#buf.subarray(start, end + 2)));
      this.#buf = this.#buf.subarray(end + 2);
    }
    return out;
  }
}

const SOI = Buffer.from([0xff, 0xd8]);
const EOI = Buffer.from([0xff, 0xd9]);

export const MJPEG_BOUNDARY = 'camstackframe';

/** Pure: one part of a multipart/x-mixed-replace response. */
export function multipartPart(jpeg: Buffer): Buffer {
  const head = `--${MJPEG_BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head), jpeg, Buffer.from('\r\n')]);
}

export interface MjpegClient {
  /** Returns false when the client cannot take more now (it then misses frames; never buffers). */
  write: (part: Buffer) => boolean;
}

interface Feed {
  proc: ManagedProcess;
  clients: Set<MjpegClient>;
  splitter: JpegSplitter;
  linger: NodeJS.Timeout | null;
  releaseReader: () => void;
  frames: number;
}

export interface MjpegHubDeps {
  ffmpegBin: string;
  restreamUrl: (cameraId: string) => string;
  /** Registers the FFmpeg as one of our own readers of the restream (not a viewer). */
  acquireInternalReader: (cameraId: string) => () => void;
  bus: EventBus;
  logger: Logger;
  redactor: SecretRedactor;
  fps?: number;
  maxWidth?: number;
  quality?: number;
  lingerMs?: number;
  /** Each completed FFmpeg `-progress` block of a feed, by its process name (for the metrics). */
  onProgress?: (processName: string, progress: FfmpegProgress) => void;
  /** Where the feeds' pid files go (reaped after a crash, like the engines'). */
  pidDir?: string;
}

export class MjpegHub {
  readonly #d: MjpegHubDeps;
  readonly #feeds = new Map<string, Feed>();

  constructor(deps: MjpegHubDeps) {
    this.#d = deps;
  }

  /** Cameras with an MJPEG feed running and how many clients each has. */
  clients(cameraId: string): number {
    return this.#feeds.get(cameraId)?.clients.size ?? 0;
  }

  isTranscoding(cameraId: string): boolean {
    return this.#feeds.has(cameraId);
  }

  processes(): ManagedProcess[] {
    return [...this.#feeds.values()].map((f) => f.proc);
  }

  /** Adds a client; returns its removal. */
  subscribe(cameraId: string, client: MjpegClient): () => void {
    let feed = this.#feeds.get(cameraId);
    if (!feed) feed = this.#start(cameraId);
    if (feed.linger) {
      clearTimeout(feed.linger);
      feed.linger = null;
    }
    feed.clients.add(client);
    const current = feed;
    return () => {
      current.clients.delete(client);
      if (current.clients.size === 0 && !current.linger && this.#feeds.get(cameraId) === current) {
        current.linger = setTimeout(() => void this.#stop(cameraId, current), this.#d.lingerMs ?? 5000);
        current.linger.unref();
      }
    };
  }

  #start(cameraId: string): Feed {
    const d = this.#d;
    const splitter = new JpegSplitter();
    const name = `ffmpeg:${cameraId}:mjpeg`;
    const progress = new ProgressParser();
    const onProgress = d.onProgress;
    const feed: Feed = {
      clients: new Set(),
      splitter,
      linger: null,
      releaseReader: d.acquireInternalReader(cameraId),
      frames: 0,
      proc: new ManagedProcess({
        name,
        command: d.ffmpegBin,
        args: mjpegArgs(d.restreamUrl(cameraId), {
          fps: d.fps ?? 5,
          maxWidth: d.maxWidth ?? 1280,
          quality: d.quality ?? 7,
          ...(onProgress ? { progressFd: 3 } : {}),
        }),
        bus: d.bus,
        logger: d.logger,
        redactor: d.redactor,
        stopMethod: 'q',
        stopGraceMs: 1000,
        stuckAfterMs: 20_000,
        ...(d.pidDir ? { pidDir: d.pidDir } : {}),
        policy: { baseDelayMs: 1000, maxDelayMs: 10_000, maxRestarts: 20, windowMs: 600_000 },
        ...(onProgress
          ? {
              onProgressLine: (line: string) => {
                const block = progress.push(line);
                if (block) onProgress(name, block);
              },
            }
          : {}),
        onStdoutData: (chunk) => {
          for (const jpeg of splitter.push(chunk)) {
            feed.frames++;
            const part = multipartPart(jpeg);
            for (const c of feed.clients) c.write(part);
          }
        },
      }),
    };
    this.#feeds.set(cameraId, feed);
    void feed.proc.start();
    return feed;
  }

  async #stop(cameraId: string, feed: Feed): Promise<void> {
    if (this.#feeds.get(cameraId) === feed) this.#feeds.delete(cameraId);
    if (feed.linger) clearTimeout(feed.linger);
    feed.releaseReader();
    await feed.proc.stop();
  }

  async stop(): Promise<void> {
    await Promise.all([...this.#feeds.entries()].map(([id, f]) => this.#stop(id, f)));
  }
}
