/**
 * The motion detector against real FFmpeg and MediaMTX. MediaMTX plays both the camera and our
 * restream: each path's publisher (FFmpeg drawing a lavfi scene) is started on demand by MediaMTX
 * when the detector connects, so the scene's clock (t = 0 at the publisher's start) begins with the
 * detector and "motion from t = 8 s" always falls while the detector watches, however slow the
 * machine. Nothing here depends on wall-clock speed: the waits count frames and events, with
 * generous limits.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type MotionConfig, parseMotionConfig } from '../../server/src/config/motion.js';
import { resolveBinaries } from '../../server/src/engines/binaries.js';
import { EventBus } from '../../server/src/events/bus.js';
import { createLogger } from '../../server/src/log/logger.js';
import { SecretRedactor } from '../../server/src/log/redact.js';
import {
  MotionDetector,
  type MotionDetectorDeps,
  type MotionEvent,
  type MotionStatus,
} from '../../server/src/motion/detector.js';
import { MotionHub } from '../../server/src/motion/hub.js';
import { freePorts } from '../helpers/ports.js';
import { descendantsOf, isAlive, waitUntil } from '../helpers/processes.js';

const bins = resolveBinaries();
const dir = mkdtempSync(join(tmpdir(), 'camstack-motion-'));
let mediamtx: ChildProcess | null = null;
let rtspPort = 0;
const logLines: string[] = [];

/** lavfi scenes, 640x360 at 10 fps: a grey background, and sometimes a white 60x60 box moving. */
const SCENES: Record<string, string> = {
  // Still picture with strong temporal noise (every frame differs everywhere, a little).
  still_noise: 'smptebars=size=640x360:rate=10,noise=alls=20:allf=t',
  // Still for 8 s, a box crossing the left half for 4 s, then still again, with light noise.
  motion:
    "color=c=0x404040:size=640x360:rate=10[bg];color=c=white:size=60x60:rate=10[box];[bg][box]overlay=x='20+mod(t*150,240)':y=150:enable='between(t,8,12)',noise=alls=8:allf=t",
  // As `motion`, but later (12 to 16 s) and at a low bitrate: the scene of the starved-FFmpeg test.
  motion_late:
    "color=c=0x404040:size=640x360:rate=10[bg];color=c=white:size=60x60:rate=10[box];[bg][box]overlay=x='20+mod(t*150,240)':y=150:enable='between(t,12,16)',noise=alls=8:allf=t",
  // A box moving all the time, only in the right third (x from 70 % to 95 %).
  masked:
    "color=c=0x404040:size=640x360:rate=10[bg];color=c=white:size=60x60:rate=10[box];[bg][box]overlay=x='448+mod(t*100,100)':y=150,noise=alls=8:allf=t",
};

function publisherScript(scene: string): string {
  const graph = SCENES[scene] as string;
  // `exec`, so MediaMTX's SIGINT on close reaches FFmpeg itself.
  return [
    '#!/bin/sh',
    `exec '${bins.ffmpeg}' -hide_banner -loglevel error -nostdin -re -f lavfi -i "${graph}" \\`,
    '  -c:v libx264 -preset ultrafast -tune zerolatency -pix_fmt yuv420p -g 10 -keyint_min 10 -sc_threshold 0 \\',
    '  -b:v 400k -maxrate 400k -bufsize 800k \\',
    '  -f rtsp -rtsp_transport tcp "rtsp://127.0.0.1:$RTSP_PORT/$MTX_PATH"',
    '',
  ].join('\n');
}

before(async () => {
  const [rtsp, api] = (await freePorts(2)) as [number, number];
  rtspPort = rtsp;
  const paths: Record<string, unknown> = {};
  for (const scene of Object.keys(SCENES)) {
    const script = join(dir, `${scene}.sh`);
    writeFileSync(script, publisherScript(scene), { mode: 0o755 });
    paths[scene] = {
      runOnDemand: `/bin/sh ${script}`,
      runOnDemandStartTimeout: '20s',
      runOnDemandCloseAfter: '2s',
    };
  }
  const config = {
    logLevel: 'warn',
    api: true,
    apiAddress: `127.0.0.1:${api}`,
    rtsp: true,
    rtspTransports: ['tcp'],
    rtspAddress: `127.0.0.1:${rtsp}`,
    // Room for a reader stopped for ~15 s (the starved-FFmpeg test): its packets queue up instead of
    // being dropped, and neither its silence nor a blocked write ends its session.
    writeQueueSize: 16384,
    readTimeout: '60s',
    writeTimeout: '60s',
    rtmp: false,
    hls: false,
    webrtc: false,
    srt: false,
    moq: false,
    playback: false,
    metrics: false,
    pprof: false,
    paths,
  };
  const file = join(dir, 'mediamtx.yml');
  writeFileSync(file, JSON.stringify(config));
  mediamtx = spawn(bins.mediamtx, [file], { stdio: ['ignore', 'ignore', 'inherit'], detached: true });
  await waitUntil(
    async () =>
      (await fetch(`http://127.0.0.1:${api}/v3/info`, { signal: AbortSignal.timeout(500) }).catch(() => null))?.ok ===
      true,
    15_000,
    'MediaMTX',
  );
});

after(async () => {
  if (mediamtx?.pid) {
    const exited = new Promise((r) => mediamtx?.once('exit', r));
    process.kill(-mediamtx.pid, 'SIGINT');
    const timer = setTimeout(() => mediamtx?.pid && process.kill(-mediamtx.pid, 'SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
  rmSync(dir, { recursive: true, force: true });
});

function deps(): MotionDetectorDeps {
  const redactor = new SecretRedactor();
  return {
    ffmpegBin: bins.ffmpeg,
    bus: new EventBus(),
    logger: createLogger({ level: 'debug', redactor, destination: { write: (l: string) => logLines.push(l) } }),
    redactor,
    policy: { baseDelayMs: 200, maxDelayMs: 2000, maxRestarts: 20, windowMs: 600_000 },
  };
}

function detector(
  scene: string,
  settings: Record<string, unknown>,
  userinfo = '',
): { d: MotionDetector; events: MotionEvent[]; config: MotionConfig } {
  const events: MotionEvent[] = [];
  const config = parseMotionConfig({ enabled: true, ...settings });
  const d = new MotionDetector(deps(), {
    camera: scene,
    input: `rtsp://${userinfo}127.0.0.1:${rtspPort}/${scene}`,
    config,
    onMotion: (e) => events.push(e),
  });
  return { d, events, config };
}

/** Waits until the detector has analysed `frames` more frames (slow machines just take longer). */
async function framesPass(d: MotionDetector, frames: number, timeoutMs = 120_000): Promise<MotionStatus> {
  const target = d.status().frames + frames;
  await waitUntil(() => d.status().frames >= target, timeoutMs, `${frames} frames from ${d.camera}`);
  return d.status();
}

/** The group (= pid of the leader) has no live process left. */
function groupGone(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

describe('motion detector (real FFmpeg and MediaMTX)', { timeout: 900_000 }, () => {
  it('a still picture, then a box moving for 4 s: exactly one start, then one end', async () => {
    const { d, events } = detector('motion', {});
    try {
      await d.start();
      await waitUntil(() => events.length >= 2, 150_000, 'motion start and end');
      // The scene stays still from here on: no further event while more frames pass.
      await framesPass(d, 15);
      assert.deepEqual(
        events.map((e) => e.state),
        ['start', 'end'],
        JSON.stringify(events),
      );
      const [start, end] = events as [MotionEvent, MotionEvent];
      process.stdout.write(`# events: ${JSON.stringify(events)}; status: ${JSON.stringify(d.status())}\n`);
      assert.equal(start.camera, 'motion');
      assert.ok(Date.parse(end.at) > Date.parse(start.at), 'the end is dated after the start');
      // Moving for about 4 s of scene time (the box appears at 8 s and leaves at 12 s).
      const seconds = (Date.parse(end.at) - Date.parse(start.at)) / 1000;
      assert.ok(seconds >= 2, `motion lasted ${seconds} s`);
      assert.ok(start.score >= 0.538 && end.score >= start.score, `scores ${start.score} → ${end.score}`);
      const status = d.status();
      assert.equal(status.motion, false);
      assert.equal(status.running, true);
      assert.ok(status.fps > 0);
      assert.ok(status.lastScore !== null && status.lastScore < 0.538, `quiet again: ${status.lastScore}`);
    } finally {
      await d.stop();
    }
  });

  it('a starved FFmpeg delivering the whole motion in one late burst: still one start and one end, ~4 s apart', async () => {
    const { d, events } = detector('motion_late', {});
    try {
      await d.start();
      // Frames arrive no earlier than they happen, so 9 frames means the scene is at least ~3 s
      // in (before the motion at 12 s on any machine that keeps up at all).
      await framesPass(d, 9);
      const pid = d.status().pid as number;
      process.kill(pid, 'SIGSTOP');
      try {
        await sleep(15_000);
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      assert.equal(events.length, 0, 'nothing while stopped');
      await waitUntil(() => events.length >= 2, 120_000, 'motion start and end after the burst').catch((err) => {
        throw new Error(`${err}; events ${JSON.stringify(events)}; status ${JSON.stringify(d.status())}`);
      });
      await framesPass(d, 15);
      process.stdout.write(`# starved: ${JSON.stringify(events)}; ${JSON.stringify(d.status())}\n`);
      assert.equal(d.status().pid, pid, 'the same FFmpeg (not restarted)');
      assert.deepEqual(
        events.map((e) => e.state),
        ['start', 'end'],
      );
      const seconds = (Date.parse((events[1] as MotionEvent).at) - Date.parse((events[0] as MotionEvent).at)) / 1000;
      // By arrival, the moving frames came within a fraction of a second: no event at all.
      assert.ok(seconds >= 2 && seconds < 8, `motion lasted ${seconds} s of stream time`);
    } finally {
      await d.stop();
    }
  });

  it('a still picture with noise: no event', async () => {
    const { d, events } = detector('still_noise', {});
    try {
      await d.start();
      const status = await framesPass(d, 45); // 15 s at 3 fps
      assert.deepEqual(events, []);
      assert.equal(status.healthy, true);
      process.stdout.write(`# still with noise: ${JSON.stringify(status)}\n`);
      assert.ok(
        status.recentPeakScore !== null && status.recentPeakScore < status.thresholds.areaPercent,
        `noise scores up to ${status.recentPeakScore}`,
      );
    } finally {
      await d.stop();
    }
  });

  it('motion only inside an excluded zone: no event (while the same stream without the mask has one)', async () => {
    const masked = detector('masked', {
      zones: [
        {
          mode: 'exclude',
          name: 'right third',
          points: [
            [0.6, 0],
            [1, 0],
            [1, 1],
            [0.6, 1],
          ],
        },
      ],
    });
    const open = detector('masked', {});
    try {
      await Promise.all([masked.d.start(), open.d.start()]);
      await framesPass(masked.d, 45);
      await waitUntil(() => open.events.length >= 1, 60_000, 'the unmasked detector to see the box');
      assert.equal(open.events[0]?.state, 'start');
      assert.deepEqual(masked.events, [], 'the masked detector saw nothing');
      const s = masked.d.status();
      process.stdout.write(`# masked: ${JSON.stringify(s)}; unmasked: ${JSON.stringify(open.d.status())}\n`);
      assert.ok(
        s.recentPeakScore !== null && s.recentPeakScore < s.thresholds.areaPercent,
        `masked ${s.recentPeakScore}`,
      );
    } finally {
      await Promise.all([masked.d.stop(), open.d.stop()]);
    }
    assert.deepEqual(
      open.events.map((e) => e.state),
      ['start', 'end'],
      'stop() ends the event in progress',
    );
  });

  it('FFmpeg killed: restarted with backoff, frames flow again; stop() leaves no process', async () => {
    // Credentials in the input (a restream behind auth): they must never reach a log line or lastError.
    const { d } = detector('still_noise', {}, 'motionuser:s3cret-pass@');
    await d.start();
    await framesPass(d, 6);
    const first = d.status().pid;
    assert.ok(first !== null);
    process.kill(first, 'SIGKILL');
    await waitUntil(() => d.status().restarts >= 1 && d.status().pid !== null, 60_000, 'a restart');
    const second = d.status().pid as number;
    assert.notEqual(second, first);
    const status = await framesPass(d, 6);
    assert.equal(status.running, true);
    assert.match(status.lastError ?? '', /killed by SIGKILL/);
    assert.equal(isAlive(first), false);

    await d.stop();
    assert.equal(d.status().process, 'stopped');
    assert.equal(d.status().pid, null);
    assert.equal(isAlive(second), false, 'the FFmpeg is gone');
    assert.equal(groupGone(second), true, 'nothing is left in its process group');
    assert.deepEqual(
      descendantsOf(process.pid).filter((p) => p.argv.includes('rawvideo')),
      [],
      'no detector FFmpeg is left (the publishers are MediaMTX children)',
    );
    const frames = d.status().frames;
    await sleep(1000);
    assert.equal(d.status().frames, frames, 'no frame after stop()');
    assert.ok(!logLines.join('').includes('s3cret-pass'), 'the password is in no log line');
    assert.ok(!(d.status().lastError ?? '').includes('s3cret-pass'), 'nor in lastError');
  });

  it('the hub runs exactly the enabled detectors and stops them all', async () => {
    const events: MotionEvent[] = [];
    const hub = new MotionHub({ ...deps(), onMotion: (e) => events.push(e) });
    const input = `rtsp://127.0.0.1:${rtspPort}/still_noise`;
    try {
      await hub.sync([
        { camera: 'a', input, config: parseMotionConfig({ enabled: true }) },
        { camera: 'b', input, config: parseMotionConfig({ enabled: false }) },
      ]);
      assert.deepEqual(
        hub.status().map((s) => s.camera),
        ['a'],
      );
      const a = hub.get('a') as MotionDetector;
      await framesPass(a, 3);
      const pid = a.status().pid as number;
      // Same settings: left alone. New settings: restarted with them.
      await hub.sync([{ camera: 'a', input, config: parseMotionConfig({ enabled: true }) }]);
      assert.equal(hub.get('a'), a);
      await hub.sync([{ camera: 'a', input, config: parseMotionConfig({ enabled: true, fps: 2 }) }]);
      assert.notEqual(hub.get('a'), a);
      assert.equal(isAlive(pid), false);
      await framesPass(hub.get('a') as MotionDetector, 3);
    } finally {
      const pids = hub.status().map((s) => s.pid);
      await hub.stop();
      for (const pid of pids) if (pid !== null) assert.equal(isAlive(pid), false);
    }
    assert.deepEqual(hub.status(), []);
    assert.deepEqual(events, []);
  });
});
