/**
 * Media the benchmarks share: a pre-encoded source clip that synthetic cameras loop with stream
 * copy (so hundreds of camera-minutes cost almost nothing), the libx264 transcode anchor, and the
 * check that recorded segments are complete and contiguous.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveBinaries } from '../../server/src/engines/binaries.js';
import type { RecordingView } from '../../server/src/recordings/service.js';
import { waitUntil } from '../../test/helpers/processes.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface ClipSpec {
  width: number;
  height: number;
  fps: number;
  kbps: number;
  gopSeconds: number;
}

export const label = (s: ClipSpec): string => `${s.height}p${s.fps}`;

/** testsrc2 with noise (so x264 really spends the bitrate), H.264 High, encoded once into .cache/bench. */
export function sourceClip(spec: ClipSpec): string {
  const bins = resolveBinaries();
  const dir = join(root, '.cache', 'bench');
  const gop = Math.round(spec.fps * spec.gopSeconds);
  const file = join(dir, `${label(spec)}-${spec.kbps}k-gop${spec.gopSeconds}.mp4`);
  if (existsSync(file)) return file;
  mkdirSync(dir, { recursive: true });
  process.stdout.write(`encoding the ${label(spec)} source clip once (cached in .cache/bench)…\n`);
  execFileSync(bins.ffmpeg, [
    '-hide_banner',
    '-loglevel',
    'error',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=${spec.width}x${spec.height}:rate=${spec.fps},noise=alls=12:allf=t`,
    '-t',
    '30',
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-profile:v',
    'high',
    '-pix_fmt',
    'yuv420p',
    '-g',
    String(gop),
    '-keyint_min',
    String(gop),
    '-sc_threshold',
    '0',
    '-b:v',
    `${spec.kbps}k`,
    '-maxrate',
    `${spec.kbps}k`,
    '-bufsize',
    `${spec.kbps * 2}k`,
    '-movflags',
    '+faststart',
    '-y',
    file,
  ]);
  return file;
}

export function probeBitrate(file: string): { kbps: number; seconds: number } {
  const out = String(
    execFileSync(resolveBinaries().ffprobe, [
      '-v',
      'error',
      '-show_entries',
      'format=duration,bit_rate',
      '-of',
      'csv=p=0',
      file,
    ]),
  ).trim();
  const [duration, bitRate] = out.split(',').map(Number) as [number, number];
  return { kbps: bitRate / 1000, seconds: duration };
}

/** The anchor: libx264 veryfast re-encoding the same stream at the same bitrate: CPU per media second. */
export function transcodeAnchor(file: string, seconds: number, kbps: number): { cpuPerSecond: number; speed: number } {
  const r = spawnSync(
    resolveBinaries().ffmpeg,
    [
      '-hide_banner',
      '-nostdin',
      '-benchmark',
      '-i',
      file,
      '-map',
      '0:v',
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      '-b:v',
      `${kbps}k`,
      '-maxrate',
      `${kbps}k`,
      '-bufsize',
      `${kbps * 2}k`,
      '-f',
      'mp4',
      '-y',
      '/dev/null',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  if (r.status !== 0) throw new Error(`FFmpeg transcode exited with ${r.status}: ${r.stderr.slice(-500)}`);
  const m = /bench: utime=([\d.]+)s stime=([\d.]+)s rtime=([\d.]+)s/.exec(r.stderr);
  if (!m) throw new Error(`no -benchmark line from FFmpeg:\n${r.stderr.slice(-500)}`);
  const cpu = Number(m[1]) + Number(m[2]);
  return { cpuPerSecond: cpu / seconds, speed: seconds / Number(m[3]) };
}

export interface SegmentCheck {
  /** Complete segments overlapping the window, all cameras. */
  inWindow: number;
  /** Human-readable problems: gaps over 1 s between segments, or less recorded than the window. */
  gaps: string[];
}

/** Every camera's complete segments across [t0, t1] (ms): contiguous, and covering the window. */
export function checkSegments(
  segments: readonly RecordingView[],
  cameras: readonly string[],
  t0: number,
  t1: number,
  segmentSeconds: number,
): SegmentCheck {
  const gaps: string[] = [];
  let inWindow = 0;
  const wall = (t1 - t0) / 1000;
  for (const name of cameras) {
    const mine = segments
      .filter((s) => !s.inProgress && s.camera === name && Date.parse(s.end) > t0 && Date.parse(s.start) < t1)
      .sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
    inWindow += mine.length;
    for (let i = 1; i < mine.length; i++) {
      const prev = mine[i - 1] as RecordingView;
      const cur = mine[i] as RecordingView;
      const gap = Date.parse(cur.start) - Date.parse(prev.end);
      if (gap > 1000) gaps.push(`${name}: ${gap} ms before ${cur.path}`);
    }
    const covered = mine.reduce((n, s) => n + s.durationSeconds, 0);
    if (covered < wall - segmentSeconds)
      gaps.push(`${name}: only ${covered.toFixed(0)} s recorded of ${wall.toFixed(0)} s`);
  }
  return { inWindow, gaps };
}

/** Recordings of one type from the API, oldest first (up to 1000). */
export async function listRecordings(baseUrl: string, type: 'segment' | 'clip'): Promise<RecordingView[]> {
  const res = await fetch(`${baseUrl}/api/recordings?type=${type}&limit=1000&order=asc`);
  return ((await res.json()) as { items: RecordingView[] }).items;
}

/** The warm-up every recording benchmark starts with: a complete segment from each camera. */
export async function waitForSegments(baseUrl: string, cameras: readonly string[], timeoutMs: number): Promise<void> {
  await waitUntil(
    async () => {
      const done = new Set(
        (await listRecordings(baseUrl, 'segment')).filter((r) => !r.inProgress).map((r) => r.camera),
      );
      return cameras.every((c) => done.has(c));
    },
    timeoutMs,
    'a complete segment from every camera',
  );
}
