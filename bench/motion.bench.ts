/**
 * `npm run bench motion`: what the motion detector costs per camera, against what recording the
 * same camera 24/7 costs, measured in the same run.
 *
 * One synthetic camera with a main stream (1080p25 H.264, 4 Mbit/s, as in the recording bench) and
 * a substream (640x360, 15 fps, 512 kbit/s), both looped with stream copy from clips encoded once
 * into .cache/bench. The real server records the main stream 24/7 (MediaMTX, copy, fMP4) and
 * restreams the substream (a second camera entry: the path a substream would get). Then:
 *
 * 1. window A: MediaMTX's CPU while it records the camera (the anchor);
 * 2. window B: four detectors read the substream's restream at once (2 and 5 fps, each without and
 *    with a mask), plus the alternative design (FFmpeg computes the score itself: tblend +
 *    threshold + signalstats) at 5 fps, for the choice documented in docs/benchmarks.md, and one
 *    detector on the 1080p main stream (a camera without a substream);
 * 3. one 720p libx264 transcode (veryfast, 2 Mbit/s) of a 720p clip, the usual "expensive" anchor.
 *
 * CPU is utime+stime of each process from /proc over the window (the detectors' FFmpeg, MediaMTX),
 * and for the comparison done in Node, the CPU time the detector itself counts around it — never
 * wall-clock, so other load on the machine does not inflate the figures.
 *
 * Env: BENCH_MOTION_SECONDS (each window, default 60), BENCH_MOTION_TRANSCODE=0 skips step 3.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { SyntheticCameraServer } from '../scripts/synthetic-cameras.js';
import { analysisHeight, parseMotionConfig, thresholdsFor } from '../server/src/config/motion.js';
import { resolveBinaries } from '../server/src/engines/binaries.js';
import { EventBus } from '../server/src/events/bus.js';
import { createLogger } from '../server/src/log/logger.js';
import { SecretRedactor } from '../server/src/log/redact.js';
import { motionArgs } from '../server/src/motion/args.js';
import { MotionDetector } from '../server/src/motion/detector.js';
import { freePorts } from '../test/helpers/ports.js';
import { startServerProcess } from '../test/helpers/server-process.js';
import { probeBitrate, sourceClip, transcodeAnchor, waitForSegments } from './lib/media.js';
import { cpuSeconds, serverPids } from './lib/procs.js';
import { cpuModel, loadavg, machineLine } from './lib/report.js';

const WINDOW_S = Number(process.env.BENCH_MOTION_SECONDS ?? 60);
const TRANSCODE = process.env.BENCH_MOTION_TRANSCODE !== '0';
const bins = resolveBinaries();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A mask a user might draw: the sky (top fifth) and a tree on the right excluded, a driveway polygon included. */
const MASK = [
  {
    mode: 'include',
    points: [
      [0, 0.35],
      [0.7, 0.3],
      [0.95, 1],
      [0, 1],
    ],
  },
  {
    mode: 'exclude',
    points: [
      [0.55, 0.3],
      [0.8, 0.3],
      [0.8, 0.7],
      [0.6, 0.7],
    ],
  },
];

async function main(): Promise<void> {
  const main1080 = sourceClip({ width: 1920, height: 1080, fps: 25, kbps: 4000, gopSeconds: 2 });
  const sub = sourceClip({ width: 640, height: 360, fps: 15, kbps: 512, gopSeconds: 2 });
  const mainInfo = probeBitrate(main1080);
  const subInfo = probeBitrate(sub);

  const [rtspPort, apiPort] = (await freePorts(2)) as [number, number];
  const sim = new SyntheticCameraServer({ rtspPort, apiPort });
  await sim.start();
  await sim.addCamera({ name: 'cam', loopFile: main1080, audio: false });
  await sim.addCamera({ name: 'cam_sub', loopFile: sub, audio: false });
  const sp = await startServerProcess({
    options: {
      log_level: 'info',
      cameras: [
        { id: 'cam', name: 'cam', source: sim.url('cam'), recording: { continuous: true } },
        { id: 'cam_sub', name: 'cam sub', source: sim.url('cam_sub') },
      ],
    },
    env: { CAMSTACK_SEGMENT_SECONDS: '10' },
  });
  const redactor = new SecretRedactor();
  const deps = {
    ffmpegBin: bins.ffmpeg,
    bus: new EventBus(),
    logger: createLogger({ level: 'warn', redactor }),
    redactor,
  };
  const input = `rtsp://127.0.0.1:${sp.enginePorts.mediamtxRtsp}/cam_sub`;
  const detectors: { label: string; d: MotionDetector }[] = [];
  let alternative: ChildProcess | null = null;
  try {
    await waitForSegments(sp.baseUrl, ['cam'], 120_000);
    const pids = serverPids(sp.proc.pid, sp.dir);
    const load0 = loadavg();

    // Window A: recording only.
    process.stdout.write(`window A: ${WINDOW_S} s of 24/7 recording… (load ${load0})\n`);
    const a0 = cpuSeconds(pids.mediamtx) ?? 0;
    const ta0 = Date.now();
    await sleep(WINDOW_S * 1000);
    const recordCpu = (cpuSeconds(pids.mediamtx) ?? 0) - a0;
    const wallA = (Date.now() - ta0) / 1000;

    // Window B: the detectors (and the FFmpeg-side alternative) on the substream's restream.
    for (const [fps, masked] of [
      [2, false],
      [2, true],
      [5, false],
      [5, true],
    ] as const) {
      const config = parseMotionConfig({ enabled: true, fps, ...(masked ? { zones: MASK } : {}) });
      const d = new MotionDetector(deps, {
        camera: `cam_${fps}${masked ? 'm' : ''}`,
        input,
        config,
        onMotion: () => {},
      });
      detectors.push({ label: `detector, ${fps} fps${masked ? ', with mask' : ''}`, d });
      await d.start();
    }
    // For comparison: what a camera without a substream costs (the default 3 fps on the 1080p main stream).
    const mainDetector = new MotionDetector(deps, {
      camera: 'cam_main',
      input: `rtsp://127.0.0.1:${sp.enginePorts.mediamtxRtsp}/cam`,
      config: parseMotionConfig({ enabled: true, stream: 'main' }),
      onMotion: () => {},
    });
    detectors.push({ label: 'detector, 3 fps, on the 1080p main stream (no substream)', d: mainDetector });
    await mainDetector.start();
    const width = 320;
    const height = analysisHeight(width);
    // The same input side as the detector's; only the filter and the output differ.
    const base = motionArgs(input, { fps: 5, width, height });
    const altArgs = ['-nostats', '-progress', 'pipe:1', '-stats_period', '1', ...base.slice(0, base.indexOf('-vf'))];
    altArgs.push(
      '-vf',
      `fps=5,scale=${width}:${height}:flags=area,format=gray,tblend=all_mode=difference,` +
        `lutyuv=y='gte(val,${thresholdsFor(50).pixelDelta})*255',signalstats,` +
        'metadata=mode=print:key=lavfi.signalstats.YAVG:file=/dev/null',
      '-f',
      'null',
      '-',
    );
    alternative = spawn(bins.ffmpeg, altArgs, { stdio: ['ignore', 'pipe', 'ignore'], detached: true });
    let altLines = 0; // frames the alternative has scored
    // Frames scored, from its -progress blocks (the metadata it prints goes to /dev/null: a pipe would
    // only be flushed every 32 KiB).
    alternative.stdout?.on('data', (chunk: Buffer) => {
      for (const m of chunk.toString().matchAll(/^frame=(\d+)$/gm)) altLines = Number(m[1]);
    });
    // Warm-up: every detector analyses frames.
    const warmDeadline = Date.now() + 60_000;
    while (detectors.some((x) => x.d.status().frames < 10) || altLines < 10) {
      if (Date.now() > warmDeadline) {
        const states = detectors.map((x) => JSON.stringify(x.d.status())).join('\n');
        throw new Error(`the detectors did not get frames within 60 s (alternative: ${altLines} lines)\n${states}`);
      }
      await sleep(200);
    }
    const cpuOf = (pid: number | null | undefined) => (pid ? (cpuSeconds(pid) ?? 0) : 0);
    const b0 = detectors.map((x) => ({
      pid: x.d.status().pid,
      ffmpeg: cpuOf(x.d.status().pid),
      node: x.d.status().analysisCpuMs,
      frames: x.d.status().frames,
    }));
    const alt0 = cpuOf(alternative.pid);
    const altLines0 = altLines;
    const mtx0 = cpuOf(pids.mediamtx);
    const tb0 = Date.now();
    process.stdout.write(`window B: ${WINDOW_S} s of ${detectors.length} detectors + the FFmpeg-side variant…\n`);
    await sleep(WINDOW_S * 1000);
    const wallB = (Date.now() - tb0) / 1000;
    const rows = detectors.map((x, i) => {
      const s = x.d.status();
      const start = b0[i] as (typeof b0)[number];
      if (s.pid !== start.pid) throw new Error(`${x.label}: its FFmpeg restarted during the window`);
      return {
        label: x.label,
        ffmpeg: cpuOf(s.pid) - start.ffmpeg,
        node: (s.analysisCpuMs - start.node) / 1000,
        frames: s.frames - start.frames,
      };
    });
    const altCpu = cpuOf(alternative.pid) - alt0;
    const altFrames = altLines - altLines0;
    const mtxB = cpuOf(pids.mediamtx) - mtx0;
    const load1 = loadavg();

    let transcode: { cpuPerSecond: number; speed: number } | null = null;
    if (TRANSCODE) {
      for (const x of detectors) await x.d.stop();
      const clip720 = sourceClip({ width: 1280, height: 720, fps: 25, kbps: 2000, gopSeconds: 2 });
      process.stdout.write('anchor: one 720p libx264 transcode…\n');
      transcode = transcodeAnchor(clip720, probeBitrate(clip720).seconds, 2000);
    }

    const pct = (cpu: number, wall: number) => `${((cpu / wall) * 100).toFixed(2)} %`;
    const recordPerS = recordCpu / wallA;
    const ratio = (cpu: number, wall: number) => (cpu / wall / recordPerS).toFixed(2);
    const versus720 = (cpu: number, wall: number) =>
      transcode ? (cpu / wall / transcode.cpuPerSecond).toFixed(3) : '–';
    const ffmpegVersion = String(execFileSync(bins.ffmpeg, ['-version']))
      .split('\n')[0]
      ?.split(' ')[2];
    const lines = [
      '',
      `machine: ${machineLine()}; CPU model: ${cpuModel()}; load average ${load0} → ${load1}; FFmpeg ${ffmpegVersion}`,
      `camera: main 1080p25 ${mainInfo.kbps.toFixed(0)} kbit/s recorded 24/7 (MediaMTX, copy); substream 640x360 15 fps ${subInfo.kbps.toFixed(0)} kbit/s read by the detectors through the restream`,
      `windows: A ${wallA.toFixed(1)} s (recording only), B ${wallB.toFixed(1)} s (detectors); CPU = utime+stime from /proc`,
      '',
      '| what | CPU s | % of one core | × the 24/7 recording | × one 720p transcode | frames analysed |',
      '|---|---|---|---|---|---|',
      `| MediaMTX recording the camera 24/7 (anchor, window A) | ${recordCpu.toFixed(2)} | ${pct(recordCpu, wallA)} | 1 | ${versus720(recordCpu, wallA)} | – |`,
      ...rows.map(
        (r) =>
          `| ${r.label}: FFmpeg | ${r.ffmpeg.toFixed(2)} | ${pct(r.ffmpeg, wallB)} | ${ratio(r.ffmpeg, wallB)} | ${versus720(r.ffmpeg, wallB)} | ${r.frames} |\n` +
          `| ${r.label}: Node comparing frames | ${r.node.toFixed(3)} | ${pct(r.node, wallB)} | ${ratio(r.node, wallB)} | – | – |`,
      ),
      `| alternative: FFmpeg scores itself (tblend+lut+signalstats), 5 fps, no mask | ${altCpu.toFixed(2)} | ${pct(altCpu, wallB)} | ${ratio(altCpu, wallB)} | ${versus720(altCpu, wallB)} | ${altFrames} |`,
      `| MediaMTX in window B (recording + substream ingest + the readers above) | ${mtxB.toFixed(2)} | ${pct(mtxB, wallB)} | ${ratio(mtxB, wallB)} | – | – |`,
      transcode
        ? `| libx264 veryfast 720p 2 Mbit/s transcode (anchor) | ${transcode.cpuPerSecond.toFixed(3)} per media s | ${(transcode.cpuPerSecond * 100).toFixed(1)} % | ${(transcode.cpuPerSecond / recordPerS).toFixed(1)} | 1 | – |`
        : '| 720p transcode | skipped (BENCH_MOTION_TRANSCODE=0) | | | | |',
      '',
    ];
    process.stdout.write(lines.join('\n'));
  } finally {
    for (const x of detectors) await x.d.stop();
    if (alternative?.pid && alternative.exitCode === null) {
      const exited = new Promise((r) => alternative?.once('exit', r));
      process.kill(-alternative.pid, 'SIGKILL');
      await exited;
    }
    await sp.cleanup();
    await sim.stop();
  }
}

await main();
