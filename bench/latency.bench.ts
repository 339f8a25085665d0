/**
 * `npm run bench latency`: glass-to-glass latency in real Chromium, each path beside its engine
 * called directly (the anchor), in the same run, interleaved:
 *   WebRTC  POST /api/cameras/:id/webrtc          vs  go2rtc POST /api/webrtc?src=:id
 *   MSE     WS /api/cameras/:id/ws (relay)         vs  go2rtc WS /api/ws?src=:id
 *   HLS     /api/cameras/:id/hls/index.m3u8        vs  MediaMTX's own HLS (loopback) /:id/index.m3u8
 *   MJPEG   /api/cameras/:id/mjpeg in an <img>     vs  go2rtc /api/stream.mjpeg?src=:id
 * and 1, 4 and 8 viewers of one camera at once over MSE and WebRTC, with the CPU of the server and
 * its engines meanwhile.
 *
 * The synthetic camera burns the wall clock (100 ms units) into its frames (`timecode: true`);
 * the page grabs that strip from every presented frame and Node reads it with `readTimecode`.
 * Latency = shown at − (timecode + 50 ms): the code is floored to 100 ms, so a frame was taken on
 * average 50 ms after it says. Page and camera share this machine's clock.
 * Results go to docs/benchmarks.md ("Glass-to-glass latency").
 */
import type { Page } from 'playwright-core';
import { EDGE_HURRY_RATE, EDGE_HURRY_S, EDGE_JUMP_S, EDGE_TARGET_S } from '../panel/src/player/live-edge.js';
import { readTimecode, SyntheticCameraServer, TIMECODE_HEIGHT, TIMECODE_WIDTH } from '../scripts/synthetic-cameras.js';
import { launchChromium } from '../test/helpers/browser.js';
import { freePorts } from '../test/helpers/ports.js';
import { waitUntil } from '../test/helpers/processes.js';
import { startServerProcess } from '../test/helpers/server-process.js';
import {
  closePlayer,
  openPlayerPage,
  type PlayerKind,
  type PlayerOptions,
  playerStatus,
  type Recording,
  setRecording,
  startPlayer,
  takeRecording,
} from './lib/latency-page.js';
import { cpuSeconds, serverPids } from './lib/procs.js';
import { fmtMs, loadavg, machineLine, percentile } from './lib/report.js';

const env = (name: string, fallback: number): number => (process.env[name] ? Number(process.env[name]) : fallback);
/** Seconds of samples per path and side, split over ROUNDS interleaved rounds. */
const SECONDS = env('BENCH_LATENCY_SECONDS', 10);
const ROUNDS = env('BENCH_LATENCY_ROUNDS', 2);
/** Seconds of samples per viewer count and side (all viewers at once). */
const VIEWER_SECONDS = env('BENCH_LATENCY_VIEWER_SECONDS', 10);
const VIEWER_COUNTS = (process.env.BENCH_LATENCY_VIEWERS ?? '1,4,8').split(',').map(Number);
/** Skipped after the first frame before sampling (and, for MSE, until caught up with the live edge). */
const SETTLE_MS = 2000;
const CATCH_UP_TIMEOUT_MS = 15_000;
/** The timecode is floored to 100 ms: a frame was taken on average this long after its code. */
const FLOOR_BIAS_MS = 50;
const MJPEG_POLL_MS = 20;
const CAMERA = { id: 'lat', width: 640, height: 360, fps: 20, gopSeconds: 1 };

type Side = 'ours' | 'direct';
type PathName = 'WebRTC' | 'MSE' | 'HLS' | 'MJPEG';

interface PathDef {
  kind: PlayerKind;
  ours: { origin: 'server' | 'go2rtc' | 'mediamtx'; url: string; label: string };
  direct: { origin: 'server' | 'go2rtc' | 'mediamtx'; url: string; label: string };
}

const id = CAMERA.id;
const ALL_PATHS: Record<PathName, PathDef> = {
  WebRTC: {
    kind: 'webrtc',
    ours: { origin: 'server', url: `/api/cameras/${id}/webrtc`, label: 'POST /api/cameras/:id/webrtc' },
    direct: { origin: 'go2rtc', url: `/api/webrtc?src=${id}`, label: 'go2rtc POST /api/webrtc' },
  },
  MSE: {
    kind: 'mse',
    ours: { origin: 'server', url: `/api/cameras/${id}/ws`, label: 'WS /api/cameras/:id/ws (relay)' },
    direct: { origin: 'go2rtc', url: `/api/ws?src=${id}`, label: 'go2rtc WS /api/ws' },
  },
  HLS: {
    kind: 'hls',
    ours: { origin: 'server', url: `/api/cameras/${id}/hls/index.m3u8`, label: '/api/cameras/:id/hls/index.m3u8' },
    direct: { origin: 'mediamtx', url: `/${id}/index.m3u8`, label: 'MediaMTX HLS /:id/index.m3u8' },
  },
  MJPEG: {
    kind: 'mjpeg',
    ours: { origin: 'server', url: `/api/cameras/${id}/mjpeg`, label: '/api/cameras/:id/mjpeg' },
    // go2rtc's MJPEG needs a JPEG track: a stream of its own FFmpeg transcode (added below).
    direct: {
      origin: 'go2rtc',
      url: `/api/stream.mjpeg?src=${id}_mjpeg`,
      label: 'go2rtc /api/stream.mjpeg (`ffmpeg:<id>#video=mjpeg`)',
    },
  },
};

/** BENCH_LATENCY_PATHS=MSE,HLS measures only those (development). */
const only = process.env.BENCH_LATENCY_PATHS?.split(',');
const PATHS = Object.fromEntries(Object.entries(ALL_PATHS).filter(([name]) => !only || only.includes(name))) as Partial<
  Record<PathName, PathDef>
>;

interface Run {
  latencies: number[];
  misreads: number;
  /** Pictures grabbed per second while recording. */
  fps: number;
  firstFrameMs: number;
  /** MSE: whether the player had caught up with the live edge before sampling. */
  caughtUp: boolean;
  /** Seconds behind the end of the element's buffer (MSE) or seekable range (HLS) at the end. */
  lag: number | null;
  /** HLS: media files fetched (LL-HLS parts vs whole segments). */
  parts: number;
  segments: number;
}

const loadAtStart = loadavg();
let hlsKeeper: NodeJS.Timeout | undefined;
const [rtspPort, apiPort] = (await freePorts(2)) as [number, number];
const sim = new SyntheticCameraServer({ rtspPort, apiPort });
await sim.start();
await sim.addCamera({
  name: id,
  width: CAMERA.width,
  height: CAMERA.height,
  fps: CAMERA.fps,
  gopSeconds: CAMERA.gopSeconds,
  audio: true,
  timecode: true,
});
const sp = await startServerProcess({
  options: { log_level: 'warning' },
  env: { CAMSTACK_STATUS_POLL_MS: '1000', CAMSTACK_RECONCILE_MS: '2000' },
});
const browser = await launchChromium();
const origins = {
  server: sp.baseUrl,
  go2rtc: `http://127.0.0.1:${sp.enginePorts.go2rtcApi}`,
  mediamtx: `http://127.0.0.1:${sp.enginePorts.mediamtxHls}`,
};

const playerOptions = (kind: PlayerKind, url: string): PlayerOptions => ({
  kind,
  url,
  sourceWidth: CAMERA.width,
  stripWidth: TIMECODE_WIDTH,
  stripHeight: TIMECODE_HEIGHT,
  edge: { target: EDGE_TARGET_S, jump: EDGE_JUMP_S, hurry: EDGE_HURRY_S, rate: EDGE_HURRY_RATE },
  // panel/src/player/hls.ts: LIVE_MAX_LAG_S, LIVE_TARGET_S (not exported there).
  hlsEdge: { maxLag: 4, target: 1.5 },
  pollMs: MJPEG_POLL_MS,
  maxSamples: 2000,
  timeoutMs: 30_000,
});

/** Reads every grabbed strip: latency of each picture, and how many did not read cleanly. */
function decode(rec: Recording): { latencies: number[]; misreads: number } {
  const size = TIMECODE_WIDTH * TIMECODE_HEIGHT;
  const bytes = Buffer.from(rec.grey, 'base64');
  const latencies: number[] = [];
  let misreads = 0;
  rec.times.forEach((shownAt, i) => {
    try {
      const code = readTimecode(bytes.subarray(i * size, (i + 1) * size), TIMECODE_WIDTH, shownAt);
      latencies.push(shownAt - (code + FLOOR_BIAS_MS));
    } catch {
      misreads++;
    }
  });
  return { latencies, misreads };
}

interface Viewer {
  close: () => Promise<void>;
  page: Page;
  player: string;
  requests: string[];
  firstFrameMs: number;
}

async function openViewer(path: PathDef, side: Side): Promise<Viewer> {
  const target = path[side];
  const userAgent = `Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${browser.version()} Safari/537.36`;
  const context = await browser.newContext({ viewport: { width: 800, height: 600 }, userAgent });
  try {
    const { page, requests } = await openPlayerPage(context, origins[target.origin]);
    const { id: player, firstFrameMs } = await startPlayer(page, playerOptions(path.kind, target.url));
    return { page, player, requests, firstFrameMs, close: () => context.close() };
  } catch (err) {
    await context.close().catch(() => {});
    throw err;
  }
}

/** Waits SETTLE_MS, then (MSE) until the player is within the hurry threshold at normal speed. */
async function settle(v: Viewer, kind: PlayerKind): Promise<boolean> {
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  if (kind !== 'mse') return true;
  const deadline = Date.now() + CATCH_UP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const st = await playerStatus(v.page, v.player);
    if (st.error) throw new Error(st.error);
    if (st.lag !== null && st.lag <= EDGE_HURRY_S && st.rate === 1) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

/** CPU seconds so far of the server and its engines. */
let serverCpu = (): number => 0;

interface Measured {
  runs: Run[];
  /** CPU of the server and its engines while recording, % of one core. */
  cpuPct: number;
}

/** Records all viewers for `ms` at once; one Run per viewer. */
async function recordAll(viewers: Viewer[], caughtUp: boolean[], ms: number): Promise<Measured> {
  const before = viewers.map((v) => v.requests.length);
  await Promise.all(viewers.map((v) => setRecording(v.page, v.player, true)));
  const c0 = serverCpu();
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, ms));
  const cpuPct = ((serverCpu() - c0) / ((Date.now() - t0) / 1000)) * 100;
  await Promise.all(viewers.map((v) => setRecording(v.page, v.player, false)));
  const runs = await Promise.all(
    viewers.map(async (v, i) => {
      const st = await playerStatus(v.page, v.player);
      if (st.error) throw new Error(st.error);
      const rec = await takeRecording(v.page, v.player);
      const fetched = v.requests.slice(before[i]);
      return {
        ...decode(rec),
        fps: rec.times.length / (ms / 1000),
        firstFrameMs: v.firstFrameMs,
        caughtUp: caughtUp[i] ?? true,
        lag: st.lag,
        parts: fetched.filter((u) => /_part\d+\.mp4/.test(u)).length,
        segments: fetched.filter((u) => /_seg\d+\.mp4/.test(u)).length,
      };
    }),
  );
  return { runs, cpuPct };
}

async function measure(path: PathDef, side: Side, viewers: number, ms: number): Promise<Measured> {
  const open = await Promise.all(Array.from({ length: viewers }, () => openViewer(path, side)));
  try {
    const caughtUp = await Promise.all(open.map((v) => settle(v, path.kind)));
    return await recordAll(open, caughtUp, ms);
  } finally {
    await Promise.all(open.map((v) => closePlayer(v.page, v.player).catch(() => false)));
    await Promise.all(open.map((v) => v.close().catch(() => {})));
  }
}

const cell = (xs: number[]): string => `${fmtMs(percentile(xs, 50))} / ${fmtMs(percentile(xs, 95))}`;
const ratio = (a: number[], b: number[], p: number): string => (percentile(a, p) / percentile(b, p)).toFixed(2);

try {
  const add = await fetch(`${sp.baseUrl}/api/cameras`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id, name: id, source: sim.url(id), recording: { continuous: true } }),
  });
  if (add.status !== 201) throw new Error(`adding ${id} failed: ${add.status} ${await add.text()}`);
  await waitUntil(
    async () => {
      const streams = (await (await fetch(`${origins.go2rtc}/api/streams`)).json()) as Record<string, unknown>;
      return id in streams;
    },
    30_000,
    'the camera in go2rtc',
  );
  const put = await fetch(
    `${origins.go2rtc}/api/streams?name=${id}_mjpeg&src=${encodeURIComponent(`ffmpeg:${id}#video=mjpeg`)}`,
    { method: 'PUT' },
  );
  if (!put.ok) throw new Error(`adding go2rtc's MJPEG stream failed: ${put.status} ${await put.text()}`);
  // MediaMTX's HLS muxer starts with the first request and closes 15 s after the last one, and
  // Chromium's player refuses a fresh muxer's playlists (EXT-X-GAP placeholders): keep it open
  // all along, and start once its media playlist has no gap left.
  const hlsIndex = `${origins.mediamtx}/${id}/index.m3u8`;
  const hlsReady = async (): Promise<boolean> => {
    const index = await (await fetch(hlsIndex)).text();
    const media = index.split('\n').find((l) => l.startsWith('video') && l.includes('.m3u8'));
    if (!media) return false;
    const list = await (await fetch(`${origins.mediamtx}/${id}/${media}`)).text();
    return list.includes('#EXTINF') && !list.includes('#EXT-X-GAP');
  };
  hlsKeeper = setInterval(() => void fetch(hlsIndex).catch(() => {}), 5000);
  await waitUntil(hlsReady, 60_000, "MediaMTX's HLS muxer without gap segments");
  const pids = serverPids(sp.proc.pid, sp.dir);
  serverCpu = () => [pids.node, pids.go2rtc, pids.mediamtx].reduce((n, p) => n + (cpuSeconds(p) ?? 0), 0);

  const out: string[] = [];
  const say = (line = ''): void => {
    out.push(line);
    process.stdout.write(`${line}\n`);
  };
  say(`machine: ${machineLine()}, Chromium ${browser.version()} (headless, software decoding)`);
  say(`load average at start: ${loadAtStart}`);
  say(
    `camera: synthetic ${CAMERA.width}x${CAMERA.height}, ${CAMERA.fps} fps, ${CAMERA.gopSeconds} s GOP, H.264 baseline ` +
      `(x264 ultrafast, zerolatency) + Opus, recorded; timecode in 100 ms units, ${FLOOR_BIAS_MS} ms floor bias removed`,
  );
  say(
    `per path and side: ${SECONDS} s of samples in ${ROUNDS} rounds (ours and the anchor alternate), each after ` +
      `${SETTLE_MS / 1000} s of play (MSE: and after catching up with the live edge, the panel's policy)`,
  );

  // One warm-up of every path and side, not counted (first page, first socket, HLS muxer start).
  for (const [name, path] of Object.entries(PATHS)) {
    for (const side of ['ours', 'direct'] as const) {
      await measure(path, side, 1, 500).catch((err: unknown) => say(`warm-up ${name} ${side} failed: ${String(err)}`));
    }
  }

  const runs: Record<string, Record<Side, Run[]>> = {};
  const failures: string[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, path] of Object.entries(PATHS)) {
      runs[name] ??= { ours: [], direct: [] };
      const sides: Side[] = round % 2 === 0 ? ['ours', 'direct'] : ['direct', 'ours'];
      for (const side of sides) {
        await measure(path, side, 1, (SECONDS * 1000) / ROUNDS).then(
          (r) => runs[name]?.[side].push(...r.runs),
          (err: unknown) => failures.push(`${name} ${side}: ${err instanceof Error ? err.message : String(err)}`),
        );
      }
    }
  }

  const all = (rs: Run[]): number[] => rs.flatMap((r) => r.latencies);
  const sum = (rs: Run[], f: (r: Run) => number): number => rs.reduce((n, r) => n + f(r), 0);
  say('');
  say('### One viewer');
  say('');
  say(
    '| path | ours | ours p50 / p95 ms | anchor | anchor p50 / p95 ms | ratio p50 (p95) | samples ours / anchor (misread) | pictures/s ours / anchor |',
  );
  say('|---|---|---|---|---|---|---|---|');
  for (const [name, path] of Object.entries(PATHS)) {
    const o = runs[name]?.ours ?? [];
    const d = runs[name]?.direct ?? [];
    const fps = (rs: Run[]) => (rs.length ? (sum(rs, (r) => r.fps) / rs.length).toFixed(1) : '–');
    say(
      `| ${name} | ${path.ours.label} | ${cell(all(o))} | ${path.direct.label} | ${cell(all(d))} | ` +
        `${ratio(all(o), all(d), 50)} (${ratio(all(o), all(d), 95)}) | ${all(o).length} / ${all(d).length} ` +
        `(${sum(o, (r) => r.misreads)} / ${sum(d, (r) => r.misreads)}) | ${fps(o)} / ${fps(d)} |`,
    );
  }
  const mse = runs.MSE;
  if (mse) {
    const notCaught = [...mse.ours, ...mse.direct].filter((r) => !r.caughtUp).length;
    say('');
    say(`MSE runs that had not caught up with the live edge within ${CATCH_UP_TIMEOUT_MS / 1000} s: ${notCaught}`);
  }
  for (const name of ['MSE', 'HLS'] as const) {
    const r = runs[name];
    if (!r) continue;
    const lags = (rs: Run[]) => rs.map((x) => (x.lag === null ? '–' : (x.lag * 1000).toFixed(0))).join(', ');
    say(
      `${name} buffered behind the element's edge at the end of each run, ms: ours ${lags(r.ours)}; anchor ${lags(r.direct)}`,
    );
  }
  const hls = runs.HLS;
  if (hls) {
    for (const side of ['ours', 'direct'] as const) {
      say(
        `HLS ${side}: Chromium fetched ${sum(hls[side], (r) => r.parts)} LL-HLS parts and ` +
          `${sum(hls[side], (r) => r.segments)} whole segments while sampling`,
      );
    }
  }
  for (const f of failures) say(`failed: ${f}`);

  say('');
  say('### Several viewers of one camera');
  say('');
  say(
    '| path | viewers | ours p50 / p95 ms | worst viewer p50 | anchor p50 / p95 ms | worst viewer p50 | ratio p50 | CPU ours % (node+go2rtc+mediamtx) | CPU anchor % |',
  );
  say('|---|---|---|---|---|---|---|---|---|');
  for (const n of VIEWER_COUNTS) {
    for (const name of ['MSE', 'WebRTC'] as const) {
      const path = PATHS[name];
      if (!path) continue;
      const res: Partial<Record<Side, { runs: Run[]; cpu: number }>> = {};
      const sides: Side[] = n % 2 === 0 ? ['direct', 'ours'] : ['ours', 'direct'];
      for (const side of sides) {
        await measure(path, side, n, VIEWER_SECONDS * 1000).then(
          (r) => {
            res[side] = { runs: r.runs, cpu: r.cpuPct };
          },
          (err: unknown) => say(`failed: ${name} ${side} ${n} viewers: ${String(err)}`),
        );
      }
      const o = res.ours?.runs ?? [];
      const d = res.direct?.runs ?? [];
      const worst = (rs: Run[]) => (rs.length ? fmtMs(Math.max(...rs.map((r) => percentile(r.latencies, 50)))) : '–');
      say(
        `| ${name} | ${n} | ${cell(all(o))} | ${worst(o)} | ${cell(all(d))} | ${worst(d)} | ${ratio(all(o), all(d), 50)} | ` +
          `${res.ours?.cpu.toFixed(0) ?? '–'} | ${res.direct?.cpu.toFixed(0) ?? '–'} |`,
      );
    }
  }
  say('');
  say(`load average at end: ${loadavg()}`);
} finally {
  clearInterval(hlsKeeper);
  await browser.close().catch(() => {});
  await sp.cleanup();
  await sim.stop();
}
