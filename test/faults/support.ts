/**
 * Shared by the fault suite (test/faults/*.test.ts): a pre-encoded fixture clip the synthetic
 * cameras loop with stream copy (cheap: no encoder per camera), CPU time from /proc, the
 * recordings API, an SSE reader, and orphan checks. Everything is real: no mocks.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveBinaries } from '../../server/src/engines/binaries.js';
import { parseSegmentName } from '../../server/src/recordings/naming.js';
import type { RecordingView } from '../../server/src/recordings/service.js';
import { processTable } from '../helpers/processes.js';
import type { ServerProcess } from '../helpers/server-process.js';

/** Throws naming `npm run setup` when go2rtc, MediaMTX, FFmpeg or ffprobe is missing. */
export const bins = resolveBinaries();

/**
 * A short H.264 clip (no audio, 1 s GOP) encoded once per test process and variant into a temp
 * dir (removed when the process exits); the synthetic cameras publish it in a loop with `-c copy`.
 */
export function fixtureClip(opts: { width?: number; height?: number; fps?: number; bitrateKbps?: number } = {}) {
  const width = opts.width ?? 320;
  const height = opts.height ?? 240;
  const fps = opts.fps ?? 10;
  const kbps = opts.bitrateKbps ?? 0;
  const dir = join(tmpdir(), `camstack-fault-fixtures-${process.pid}`);
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true });
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  const file = join(dir, `clip-${width}x${height}-${fps}-${kbps}.mp4`);
  if (existsSync(file)) return file;
  const rate = kbps > 0 ? ['-b:v', `${kbps}k`, '-maxrate', `${kbps}k`, '-bufsize', `${kbps}k`] : ['-crf', '30'];
  // testsrc2 (not a flat pattern) so the bitrate is real; -x264opts keeps the bitrate up on noise.
  execFileSync(bins.ffmpeg, [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=${width}x${height}:rate=${fps}${kbps > 0 ? ',noise=alls=40:allf=t' : ''}`,
    '-t',
    '10',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-pix_fmt',
    'yuv420p',
    '-g',
    String(fps),
    '-keyint_min',
    String(fps),
    '-sc_threshold',
    '0',
    ...rate,
    '-movflags',
    '+faststart',
    `${file}.tmp.mp4`,
  ]);
  execFileSync('mv', [`${file}.tmp.mp4`, file]);
  return file;
}

const TICKS = 100; // USER_HZ on Linux

/** utime+stime of a process, and cutime+cstime (its reaped children), in seconds; null when gone. */
export function cpuOf(pid: number): { self: number; children: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the comm: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14).
    return { self: (Number(f[11]) + Number(f[12])) / TICKS, children: (Number(f[13]) + Number(f[14])) / TICKS };
  } catch {
    return null;
  }
}

/**
 * CPU seconds consumed so far by a process tree: the root (its own time and that of the children
 * it reaped) plus every live descendant. Differences of two readings give the CPU used in between,
 * whatever the wall clock did.
 */
export function treeCpuSeconds(root: number): number {
  const table = processTable();
  const tree = new Set([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const p of table) {
      if (!tree.has(p.pid) && tree.has(p.ppid)) {
        tree.add(p.pid);
        grew = true;
      }
    }
  }
  let total = 0;
  for (const pid of tree) {
    const c = cpuOf(pid);
    if (!c) continue;
    total += c.self + (pid === root ? c.children : 0);
  }
  return total;
}

export async function api<T>(sp: ServerProcess, method: string, path: string, body?: unknown) {
  const res = await fetch(`${sp.baseUrl}${path}`, {
    method,
    ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
}

export interface StatusView {
  id: string;
  state: string;
  recording: boolean;
  lastError: string | null;
  retries?: number;
  nextRetryAt?: string | null;
  recordingError?: string | null;
  [key: string]: unknown;
}

export async function status(sp: ServerProcess, id: string): Promise<StatusView> {
  const r = await api<StatusView>(sp, 'GET', `/api/cameras/${id}/status`);
  assert.equal(r.status, 200, `status of ${id}: ${JSON.stringify(r.body)}`);
  return r.body;
}

export interface EngineHealth {
  state: string;
  pid: number | null;
  restarts: number;
}

export async function engines(sp: ServerProcess): Promise<Record<'go2rtc' | 'mediamtx', EngineHealth>> {
  const h = await api<{ engines: Record<'go2rtc' | 'mediamtx', EngineHealth> }>(sp, 'GET', '/api/health');
  return h.body.engines;
}

export async function recordings(sp: ServerProcess, camera?: string): Promise<RecordingView[]> {
  const q = camera ? `&camera=${camera}` : '';
  const r = await api<{ items: RecordingView[] }>(sp, 'GET', `/api/recordings?limit=1000&order=asc${q}`);
  assert.equal(r.status, 200);
  return r.body.items;
}

/** Segments of a camera (ms), in order. */
export async function segments(sp: ServerProcess, camera: string) {
  return (await recordings(sp, camera))
    .filter((r) => r.type === 'segment')
    .map((r) => ({ ...r, startMs: Date.parse(r.start), endMs: Date.parse(r.end) }))
    .sort((a, b) => a.startMs - b.startMs);
}

/** The longest hole between consecutive segments starting within [fromMs, toMs], in seconds. */
export function longestGap(segs: { startMs: number; endMs: number }[], fromMs: number, toMs: number): number {
  let worst = 0;
  let prevEnd: number | null = null;
  for (const s of segs) {
    if (s.endMs < fromMs) {
      prevEnd = s.endMs;
      continue;
    }
    if (s.startMs > toMs) break;
    if (prevEnd !== null) worst = Math.max(worst, (s.startMs - prevEnd) / 1000);
    prevEnd = Math.max(prevEnd ?? s.endMs, s.endMs);
  }
  return worst;
}

/** Stream duration by ffprobe, which must read the whole file without an error. */
export function ffprobeOk(file: string): number {
  const out = execFileSync(bins.ffprobe, ['-v', 'error', '-show_entries', 'stream=duration', '-of', 'csv=p=0', file], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const d = Math.max(...out.trim().split('\n').map(Number));
  assert.ok(Number.isFinite(d) && d > 0, `${file}: ffprobe duration ${out.trim()}`);
  // Decoding every packet finds truncated or corrupt fragments that the header alone would hide.
  const errs = execFileSync(bins.ffmpeg, ['-v', 'error', '-i', file, '-map', '0:v', '-c', 'copy', '-f', 'null', '-'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  assert.equal(errs.trim(), '', `${file} reads without errors`);
  return d;
}

/**
 * Every indexed, complete recording exists and plays; every segment file on disk is indexed. The
 * disk is listed first and the index read a few scans later, so a segment MediaMTX opens in between
 * is not counted against it.
 */
export async function assertIndexMatchesDisk(sp: ServerProcess, mediaDir: string, cameras: string[]): Promise<void> {
  const onDisk: string[] = [];
  for (const cam of cameras) {
    const dir = join(mediaDir, cam);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).filter((n) => parseSegmentName(n) !== null)) onDisk.push(`${cam}/${name}`);
  }
  await new Promise((r) => setTimeout(r, 2500));
  const items = await recordings(sp);
  const ids = new Set<string>();
  for (const r of items) {
    assert.ok(!ids.has(r.id), `duplicate ${r.id}`);
    ids.add(r.id);
    assert.ok(r.path, `${r.id} has a file`);
    const file = join(mediaDir, r.path);
    assert.ok(existsSync(file), `${r.path} exists`);
    if (!r.inProgress) ffprobeOk(file);
  }
  const indexed = new Set(items.map((r) => r.path));
  for (const rel of onDisk) {
    assert.ok(indexed.has(rel) || !existsSync(join(mediaDir, rel)), `${rel} on disk is indexed`);
  }
}

/** Processes whose command line names `marker` that are not in `expected` (pids): leaks. */
export function strays(marker: string, expected: Iterable<number>): { pid: number; ppid: number; argv: string }[] {
  const ok = new Set(expected);
  return processTable()
    .filter((p) => p.pid !== process.pid && p.argv.some((a) => a.includes(marker)) && !ok.has(p.pid))
    .map((p) => ({ pid: p.pid, ppid: p.ppid, argv: p.argv.join(' ').slice(0, 200) }));
}

/** Reads `/api/events` (Server-Sent Events) in the background and keeps every event. */
export class SseReader {
  readonly events: { event: string; data: unknown; at: number }[] = [];
  readonly #ctrl = new AbortController();
  readonly done: Promise<void>;

  constructor(url: string) {
    this.done = (async () => {
      const res = await fetch(url, { signal: this.#ctrl.signal, headers: { accept: 'text/event-stream' } });
      if (!res.ok || !res.body) throw new Error(`events answered ${res.status}`);
      const decoder = new TextDecoder();
      let buf = '';
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buf += decoder.decode(chunk, { stream: true });
        for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          let event = 'message';
          let data = '';
          for (const line of block.split('\n')) {
            if (line.startsWith('event:')) event = line.slice(6).trim();
            else if (line.startsWith('data:')) data += line.slice(5).trim();
          }
          if (data) this.events.push({ event, data: JSON.parse(data), at: Date.now() });
        }
      }
    })().catch((err: unknown) => {
      if (!this.#ctrl.signal.aborted) throw err;
    });
  }

  /** The states a camera went through (from `camera.status` events) since `sinceMs`. */
  states(camera: string, sinceMs = 0): { state: string; at: number; lastError: string | null }[] {
    const out: { state: string; at: number; lastError: string | null }[] = [];
    for (const e of this.events) {
      if (e.event !== 'camera.status' || e.at < sinceMs) continue;
      const s = e.data as { id: string; state: string; lastError: string | null };
      if (s.id === camera) out.push({ state: s.state, lastError: s.lastError, at: e.at });
    }
    return out;
  }

  close(): void {
    this.#ctrl.abort();
  }
}
