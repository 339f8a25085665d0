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
import { execFileSync } from 'node:child_process';
import { totalmem } from 'node:os';
import { SyntheticCameraServer } from '../scripts/synthetic-cameras.js';
import { resolveBinaries } from '../server/src/engines/binaries.js';
import { freePorts } from '../test/helpers/ports.js';
import { startServerProcess } from '../test/helpers/server-process.js';
import {
  checkSegments,
  listRecordings,
  probeBitrate,
  sourceClip,
  transcodeAnchor,
  waitForSegments,
} from './lib/media.js';
import { cpuSeconds, serverPids } from './lib/procs.js';
import { cpuModel, loadavg, machineLine } from './lib/report.js';

const WINDOW_S = Number(process.env.BENCH_RECORDING_SECONDS ?? 120);
const CAMERAS = Number(process.env.BENCH_RECORDING_CAMERAS ?? 8);
const SEGMENT_S = 10;
const BITRATE_K = 4000;

const bins = resolveBinaries();

async function main(): Promise<void> {
  const clip = sourceClip({ width: 1920, height: 1080, fps: 25, kbps: BITRATE_K, gopSeconds: 2 });
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
    // Warm up: every camera has written a complete segment.
    await waitForSegments(sp.baseUrl, names, 120_000);
    const pids = serverPids(sp.proc.pid, sp.dir);
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
    const segs = (await listRecordings(sp.baseUrl, 'segment')).filter((r) => !r.inProgress);
    const { inWindow, gaps } = checkSegments(segs, names, t0, t1, SEGMENT_S);

    // The anchor, in the same run, on the same stream.
    const anchor = transcodeAnchor(clip, source.seconds, BITRATE_K);
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
