/**
 * PURE: parses FFmpeg's machine-readable progress (`-progress pipe:1 -nostats`), fed line by line.
 *
 * FFmpeg writes blocks of `key=value` lines, each block ending with `progress=continue` (or
 * `progress=end` for the last one):
 *
 *     frame=25
 *     fps=24.98
 *     stream_0_0_q=-0.0
 *     bitrate=  64.0kbits/s      (or N/A)
 *     total_size=8192            (or N/A)
 *     out_time_us=1000000        (or N/A)
 *     out_time_ms=1000000        (microseconds too, despite the name)
 *     out_time=00:00:01.000000
 *     dup_frames=0
 *     drop_frames=0
 *     speed=1.01x                (or N/A, " 201x", "4e+04x")
 *     progress=continue
 */

import type { FfmpegProgress } from '../contract/index.js';

export type { FfmpegProgress };

const KNOWN_KEYS = new Set([
  'frame',
  'fps',
  'bitrate',
  'total_size',
  'out_time_us',
  'out_time_ms',
  'out_time',
  'dup_frames',
  'drop_frames',
  'speed',
  'progress',
]);
/** Per-stream keys: stream_0_0_q, stream_0_0_psnr_y, stream_0_0_psnr_all… */
const STREAM_KEY = /^stream_\d+_\d+_[a-z0-9_]+$/;
/** One key, '=', optional padding, one token — unlike the human `-stats` line ("frame=   25 fps=0.0 q=…"). */
const LINE = /^([a-z0-9_]+)=\s*(\S*)$/;

function splitLine(line: string): { key: string; value: string } | null {
  const match = LINE.exec(line.trim());
  if (match === null) return null;
  const key = match[1] ?? '';
  if (!KNOWN_KEYS.has(key) && !STREAM_KEY.test(key)) return null;
  return { key, value: match[2] ?? '' };
}

/** True for a line of FFmpeg's `-progress` output (so callers can keep those out of the log). */
export function isProgressLine(line: string): boolean {
  return splitLine(line) !== null;
}

/** A finite number, or null for "N/A", empty or anything unparseable. */
function toNumber(value: string | undefined): number | null {
  if (value === undefined) return null;
  const text = value.trim();
  if (text === '' || text.toUpperCase() === 'N/A') return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : null;
}

function nonNegative(n: number | null): number | null {
  return n !== null && n >= 0 ? n : null;
}

/** "1234.5kbits/s" → 1234.5 */
function parseBitrate(value: string | undefined): number | null {
  if (value === undefined) return null;
  const match = /^(-?[\d.]+(?:e[+-]?\d+)?)\s*kbits\/s$/i.exec(value.trim());
  return nonNegative(match === null ? null : toNumber(match[1]));
}

/** "1.01x" → 1.01, "4e+04x" → 40000 */
function parseSpeed(value: string | undefined): number | null {
  if (value === undefined) return null;
  const match = /^(.*?)\s*x$/i.exec(value.trim());
  return nonNegative(match === null ? null : toNumber(match[1]));
}

/** "00:01:02.500000" → 62500000 (µs); negative or malformed → null. */
function parseClock(value: string | undefined): number | null {
  if (value === undefined) return null;
  const match = /^(\d+):(\d{2}):(\d{2}(?:\.\d+)?)$/.exec(value.trim());
  if (match === null) return null;
  const seconds = Number(match[1]) * 3600 + Number(match[2]) * 60 + Number(match[3]);
  return Number.isFinite(seconds) ? Math.round(seconds * 1_000_000) : null;
}

function toProgress(fields: ReadonlyMap<string, string>, ended: boolean): FfmpegProgress {
  const outTimeUs =
    nonNegative(toNumber(fields.get('out_time_us'))) ??
    nonNegative(toNumber(fields.get('out_time_ms'))) ??
    parseClock(fields.get('out_time'));
  return {
    frame: nonNegative(toNumber(fields.get('frame'))),
    fps: nonNegative(toNumber(fields.get('fps'))),
    bitrateKbps: parseBitrate(fields.get('bitrate')),
    totalSizeBytes: nonNegative(toNumber(fields.get('total_size'))),
    outTimeUs,
    speed: parseSpeed(fields.get('speed')),
    dropFrames: nonNegative(toNumber(fields.get('drop_frames'))),
    dupFrames: nonNegative(toNumber(fields.get('dup_frames'))),
    ended,
  };
}

/**
 * Accumulates `key=value` lines; `push` returns the completed block when the `progress=` line arrives,
 * null otherwise. Lines that are not progress output are ignored. One parser per FFmpeg run
 * (or call `reset()` when the process restarts).
 */
export class ProgressParser {
  #fields = new Map<string, string>();

  push(line: string): FfmpegProgress | null {
    const kv = splitLine(line);
    if (kv === null) return null;
    if (kv.key !== 'progress') {
      this.#fields.set(kv.key, kv.value);
      return null;
    }
    const progress = toProgress(this.#fields, kv.value === 'end');
    this.#fields = new Map();
    return progress;
  }

  /** Drops a partially received block. */
  reset(): void {
    this.#fields = new Map();
  }
}
