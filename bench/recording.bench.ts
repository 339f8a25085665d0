/**
 * `npm run bench recording`: what 24/7 recording costs. Eight 1080p cameras (H.264, 4 Mbit/s,
 * 25 fps, 2 s GOP) recorded continuously by Camstack (MediaMTX, stream copy, fragmented MP4),
 * measured as CPU seconds per recorded camera-hour, against a libx264 transcode of the same stream
 * measured in the same run. Also checks that no segment was dropped.
 *
 * The synthetic cameras stay cheap: one 1080p clip is encoded once (cached under .cache/bench) and
 * every camera loops it with `-re -stream_loop -1 -c copy`. CPU is read from /proc (utime+stime)
 * of each process, so other load on the machine does not inflate it.
 *
 * Env: BENCH_RECORDING_SECONDS (measured window, default 120), BENCH_RECORDING_CAMERAS (default 8).
 * Targets: ≤ 2 % of one core per camera; copy/transcode CPU ratio ≤ 0.05. Results go to
 * docs/benchmarks.md ("Recording").
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SyntheticCameraServer } from '../scripts/synthetic-cameras.js';
import { resolveBinaries } from '../server/src/engines/binaries.js';
import type { RecordingView } from '../server/src/recordings/service.js';
import { freePorts } from '../test/helpers/ports.js';
import { processesMatching, waitUntil } from '../test/helpers/processes.js';
import { startServerProcess } from '../test/helpers/server-process.js';
import { cpuModel, loadavg, machineLine } from './lib/report.js';

const WINDOW_S = Number(process.env.BENCH_RECORDING_SECONDS ?? 120);
const CAMERAS = Number(process.env.BENCH_RECORDING_CAMERAS ?? 8);
const SEGMENT_S = 10;
const BITRATE_K = 4000;
const CLK_TCK = 100;

const root = fileURLToPath(new URL('..', import.meta.url));
const bins = resolveBinaries();

/** CPU seconds (user + system) a process has used so far; null when it is gone. */
function cpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLK_TCK;
  } catch {
    return null;
  }
}

/** The 1080p source, encoded once: testsrc2 with noise so x264 really spends 4 Mbit/s. */
function sourceClip(): string {
  const dir = join(root, '.cache', 'bench');
  const file = join(dir, `1080p25-${BITRATE_K}k-gop2.mp4`);
  if (existsSync(file)) return file;
  mkdirSync(dir, { recursive: true });
  process.stdout.write('encoding the 1080p source clip once (cached in .cache/bench)…\n');
  execFileSync(bins.ffmpeg, [
    '-hide_banner',
    '-loglevel',
    'error',
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=1920x1080:rate=25,noise=alls=12:allf=t',
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
    '50',
    '-keyint_min',
    '50',
    '-sc_threshold',
    '0',
    '-b:v',
    `${BITRATE_K}k`,
    '-maxrate',
    `${BITRATE_K}k`,
    '-bufsize',
    `${BITRATE_K * 2}k`,
    '-movflags',
    '+faststart',
    '-y',
    file,
  ]);
  return file;
}

function probeBitrate(file: string): { kbps: number; seconds: number } {
  const out = String(
    execFileSync(bins.ffprobe, ['-v', 'error', '-show_entries', 'format=duration,bit_rate', '-of', 'csv=p=0', file]),
  ).trim();
  const [duration, bitRate] = out.split(',').map(Number) as [number, number];
  return { kbps: bitRate / 1000, seconds: duration };
}

/** The anchor: libx264 (veryfast, 4 Mbit/s) re-encoding the same 1080p stream: CPU per media second. */
function transcodeAnchor(file: string, seconds: number): { cpuPerSecond: number; speed: number } {
  const r = spawnSyncStderr(bins.ffmpeg, [
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
    `${BITRATE_K}k`,
    '-maxrate',
    `${BITRATE_K}k`,
    '-bufsize',
    `${BITRATE_K * 2}k`,
    '-g',
    '50',
    '-f',
    'mp4',
    '-y',
    '/dev/null',
  ]);
  const m = /bench: utime=([\d.]+)s stime=([\d.]+)s rtime=([\d.]+)s/.exec(r);
  if (!m) throw new Error(`no -benchmark line from FFmpeg:\n${r.slice(-500)}`);
  const cpu = Number(m[1]) + Number(m[2]);
  return { cpuPerSecond: cpu / seconds, speed: seconds / Number(m[3]) };
}

/** Runs a command to completion and returns its stderr (FFmpeg's -benchmark line goes there). */
function spawnSyncStderr(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, {
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`${cmd} exited with ${r.status}: ${r.stderr.slice(-500)}`);
  return r.stderr;
}

async function main(): Promise<void> {
  const clip = sourceClip();
  const source = probeBitrate(clip);
  process.stdout.write(`source: ${clip} (${source.kbps.toFixed(0)} kbit/s, ${source.seconds.toFixed(1)} s)\n`);

  const [rtspPort, apiPort] = (await freePorts(2)) as [number, number];
  const sim = new SyntheticCameraServer({ rtspPort, apiPort });
  await sim.start();
  const names = Array.from({ length: CAMERAS }, (_, i) => `cam${i + 1}`);
  for (const name of names) await sim.addCamera({ name, loopFile: clip, audio: false });
  const sp = await startServerProcess({
    options: {
      log_level: 'info',
      cameras: names.map((id) => ({ id, name: id, source: sim.url(id), recording: { continuous: true } })),
    },
    env: { CAMSTACK_SEGMENT_SECONDS: String(SEGMENT_S) },
  });
  try {
    const list = async (): Promise<RecordingView[]> => {
      const res = await fetch(`${sp.baseUrl}/api/recordings?type=segment&limit=1000&order=asc`);
      return ((await res.json()) as { items: RecordingView[] }).items;
    };
    // Warm up: every camera has written a complete segment.
    await waitUntil(
      async () => new Set((await list()).filter((r) => !r.inProgress).map((r) => r.camera)).size === CAMERAS,
      120_000,
      'a complete segment from every camera',
    );
    const mediamtx = processesMatching(sp.dir).find((p) => p.argv.some((a) => a.endsWith('mediamtx.yml')));
    const go2rtc = processesMatching(sp.dir).find((p) => p.argv.some((a) => a.endsWith('go2rtc.yaml')));
    if (!mediamtx || !go2rtc || !sp.proc.pid) throw new Error('engine processes not found');
    const pids = { mediamtx: mediamtx.pid, go2rtc: go2rtc.pid, node: sp.proc.pid };
    const cpu0 = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSeconds(pid) ?? 0]));
    const t0 = Date.now();
    const load0 = loadavg();
    process.stdout.write(`measuring ${WINDOW_S} s of ${CAMERAS} cameras recording… (load ${load0})\n`);
    await new Promise((r) => setTimeout(r, WINDOW_S * 1000));
    const cpu1 = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSeconds(pid) ?? 0]));
    const t1 = Date.now();
    const load1 = loadavg();
    const wall = (t1 - t0) / 1000;
    const used = (k: string) => (cpu1[k] ?? 0) - (cpu0[k] ?? 0);

    // Segments: complete, contiguous, per camera, across the window.
    await new Promise((r) => setTimeout(r, (SEGMENT_S + 3) * 1000));
    const segs = (await list()).filter((r) => !r.inProgress);
    const gaps: string[] = [];
    let inWindow = 0;
    for (const name of names) {
      const mine = segs
        .filter((s) => s.camera === name && Date.parse(s.end) > t0 && Date.parse(s.start) < t1)
        .sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
      inWindow += mine.length;
      for (let i = 1; i < mine.length; i++) {
        const gap = Date.parse((mine[i] as RecordingView).start) - Date.parse((mine[i - 1] as RecordingView).end);
        if (gap > 1000) gaps.push(`${name}: ${gap} ms before ${(mine[i] as RecordingView).path}`);
      }
      const covered = mine.reduce((n, s) => n + s.durationSeconds, 0);
      if (covered < wall - SEGMENT_S)
        gaps.push(`${name}: only ${covered.toFixed(0)} s recorded of ${wall.toFixed(0)} s`);
    }

    // The anchor, in the same run, on the same stream.
    const anchor = transcodeAnchor(clip, source.seconds);
    const cameraHours = (CAMERAS * wall) / 3600;
    const copyPerHour = used('mediamtx') / cameraHours;
    const withNodePerHour = (used('mediamtx') + used('node')) / cameraHours;
    const transcodePerHour = anchor.cpuPerSecond * 3600;
    const pctCore = (used('mediamtx') / wall / CAMERAS) * 100;
    const pctCoreAll = ((used('mediamtx') + used('node')) / wall / CAMERAS) * 100;

    const lines = [
      '',
      `machine: ${machineLine()}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, kernel ${String(execFileSync('uname', ['-r'])).trim()}`,
      `CPU model: ${cpuModel()}; load average ${load0} → ${load1}`,
      `engines: MediaMTX (recording, fMP4, copy, ${SEGMENT_S} s segments), go2rtc idle; FFmpeg ${
        String(execFileSync(bins.ffmpeg, ['-version']))
          .split('\n')[0]
          ?.split(' ')[2]
      }`,
      `window: ${wall.toFixed(1)} s × ${CAMERAS} cameras (1080p25, ${source.kbps.toFixed(0)} kbit/s) = ${cameraHours.toFixed(3)} camera-hours`,
      '',
      '| what | CPU s | CPU s per camera-hour | % of one core per camera |',
      '|---|---|---|---|',
      `| MediaMTX recording (copy) | ${used('mediamtx').toFixed(2)} | ${copyPerHour.toFixed(1)} | ${pctCore.toFixed(2)} % |`,
      `| Camstack server (Node, everything it does) | ${used('node').toFixed(2)} | ${(used('node') / cameraHours).toFixed(1)} | ${((used('node') / wall / CAMERAS) * 100).toFixed(2)} % |`,
      `| both | ${(used('mediamtx') + used('node')).toFixed(2)} | ${withNodePerHour.toFixed(1)} | ${pctCoreAll.toFixed(2)} % |`,
      `| go2rtc (idle, no viewers) | ${used('go2rtc').toFixed(2)} | – | – |`,
      `| libx264 veryfast transcode, same stream (anchor) | ${(anchor.cpuPerSecond * source.seconds).toFixed(2)} for ${source.seconds.toFixed(0)} s | ${transcodePerHour.toFixed(0)} | ${(anchor.cpuPerSecond * 100).toFixed(0)} % (speed ${anchor.speed.toFixed(2)}×) |`,
      '',
      `copy / transcode CPU ratio: ${(copyPerHour / transcodePerHour).toFixed(4)} (MediaMTX only), ${(withNodePerHour / transcodePerHour).toFixed(4)} (with the server) — target ≤ 0.05`,
      `per camera: ${pctCore.toFixed(2)} % of one core (MediaMTX), ${pctCoreAll.toFixed(2)} % with the server — target ≤ 2 %`,
      `segments in the window: ${inWindow} over ${CAMERAS} cameras; dropped/gaps: ${gaps.length === 0 ? 'none' : gaps.join('; ')}`,
      '',
    ];
    process.stdout.write(lines.join('\n'));
  } finally {
    await sp.cleanup();
    await sim.stop();
  }
}

await main();
