import type { Readable } from 'node:stream';
import type { Camera } from '../config/load.js';
import type { ClipStart, ExpiringItem, Timeline } from '../contract/index.js';
import type { EventBus } from '../events/bus.js';
import type { Logger } from '../log/logger.js';
import type { SecretRedactor } from '../log/redact.js';

export type { ExpiringItem, Timeline };

export interface ClipRequest {
  /** Seconds before now to include (default: the camera's preRollSeconds). */
  preRoll?: number | undefined;
  /**
   * Seconds after now to record (default: the camera's clipSeconds): seconds of video, counted from
   * the camera's first video after the request when it had to be opened first.
   */
  duration?: number | undefined;
  /** Who asked: `api`, `mqtt`, `node-red`… (goes into the file name). */
  trigger: string;
}

/** A clip started, or an open one extended. */
export type ClipStartResult = ClipStart;

export interface ExportStream {
  body: Readable;
  fileName: string;
  /** Known for files; unknown when MediaMTX streams it. */
  size: number | null;
  fragmented: boolean;
}

export interface RecordingServiceOptions {
  /** The media folder (`media_dir`): `<camera>/…` segments and clips below it. */
  mediaDir: string;
  /** SQLite index file (under data_dir), or ':memory:'. */
  indexFile: string;
  cameras: () => readonly Camera[];
  bus: EventBus;
  logger: Logger;
  redactor: SecretRedactor;
  ffmpeg: string;
  ffprobe: string;
  ports: { mediamtxRtsp: number; mediamtxPlayback: number };
  /** The recording engine (MediaMTX): its pid tells which files are still being written. */
  recorder: { pid: () => number | null; running: () => boolean };
  /** Registers an FFmpeg reader of the restream so it is not counted as a viewer. */
  acquireInternalReader: (camera: string) => () => void;
  /** pid files of clip FFmpegs, reaped after a crash like the engines'. */
  pidDir?: string;
  storageMaxBytes?: number;
  storageMinFreePercent?: number;
  scanIntervalMs?: number;
  fullScanIntervalMs?: number;
  retentionIntervalMs?: number;
  /** How long pre-roll buffer segments are kept after they end. Default 600 s. */
  bufferSeconds?: number;
  /** How long after a clip's end to wait for the recording to reach it. Default 15 s. */
  clipSettleMs?: number;
  /**
   * How long a clip waits for the camera's first video after the request (an on-demand camera is
   * opened by it) before it fails with "camera did not deliver video within N s". Default 20 s.
   */
  clipFirstVideoTimeoutMs?: number;
  now?: () => number;
  /** Disk size and free space of the media folder (tests replace it). */
  diskUsage?: (dir: string) => Promise<{ totalBytes: number; freeBytes: number } | null>;
  /**
   * Below this much free space on the media disk recording pauses (rather than MediaMTX failing to
   * write mid-fragment and leaving empty files), until twice as much is free again. Default: 64 MiB,
   * or 5 % of a smaller disk. The storage limits normally keep the disk from getting here.
   */
  reserveBytes?: number;
}
