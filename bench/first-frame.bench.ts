/**
 * `npm run bench first-frame`: time to the first decoded frame on a **warm** camera (recorded, so
 * pulled all the time, and held by Camstack's MSE relay with its latest GOP) at GOP 1 s and 4 s,
 * in real Chromium, through Camstack against go2rtc's own endpoints called directly (the anchor),
 * in the same run, interleaved, each after a random pause of up to one GOP:
 *   MSE     WebSocket /api/cameras/:id/ws (relay, GOP cache)  vs  go2rtc WebSocket /api/ws?src=:id
 *   WebRTC  POST /api/cameras/:id/webrtc                      vs  go2rtc POST /api/webrtc?src=:id
 * go2rtc direct waits for the camera's next keyframe (half a GOP on average); the relay sends the
 * cached keyframe at once. Also the first picture, the player's poster:
 *   poster  GET /api/cameras/:id/snapshot.jpg?width=480&maxAge=600000 (what <camstack-player> asks)
 *           vs  go2rtc GET /api/frame.jpeg?src=:id (a picture of the next keyframe)
 * timed to a decoded bitmap in the page, with the age of what it shows. The same again for **idle
 * on-demand** cameras (not recorded, nobody watching: every attempt starts after MediaMTX has let
 * the camera go, so both sides must wake it).
 * Results go to docs/benchmarks.md ("First picture").
 */
import { SyntheticCameraServer } from '../scripts/synthetic-cameras.js';
import {
  launchChromium,
  type MseResult,
  openLivePage,
  playMse,
  playWebrtc,
  type WebrtcResult,
} from '../test/helpers/browser.js';
import { freePorts } from '../test/helpers/ports.js';
import { waitUntil } from '../test/helpers/processes.js';
import { startServerProcess } from '../test/helpers/server-process.js';
import { fmtMs, loadavg, machineLine, mean, percentile } from './lib/report.js';

/** Runs per path and camera (default: 20 on the all-intra camera, 10 on the 2 s GOP one). */
const RUNS = process.env.BENCH_FIRST_FRAME_RUNS ? Number(process.env.BENCH_FIRST_FRAME_RUNS) : null;
const COUNT_MS = 600;

type PathName = 'webrtc-ours' | 'webrtc-direct' | 'mse-ours' | 'mse-direct' | 'poster-ours' | 'poster-direct';
const PATHS: PathName[] = ['webrtc-ours', 'webrtc-direct', 'mse-ours', 'mse-direct', 'poster-ours', 'poster-direct'];
const LABEL: Record<PathName, string> = {
  'webrtc-ours': 'WebRTC via Camstack POST /api/cameras/:id/webrtc',
  'webrtc-direct': 'WebRTC via go2rtc POST /api/webrtc (anchor)',
  'mse-ours': 'MSE via Camstack WS /api/cameras/:id/ws (relay, GOP cache)',
  'mse-direct': 'MSE via go2rtc WS /api/ws (anchor)',
  'poster-ours': 'poster: Camstack snapshot.jpg?width=480&maxAge=600000',
  'poster-direct': 'picture: go2rtc /api/frame.jpeg (anchor)',
};

interface Sample {
  firstFrameMs: number;
  /** WebRTC: the signalling round trip; MSE: from the start to go2rtc's {"type":"mse"} answer. */
  setupMs: number;
  frames: number;
  /** A picture: how old what it shows was when it was decoded (ms); null for live video. */
  ageMs: number | null;
}

/** Picture age column: p50 / max, or – for live video. */
function ageCell(s: Sample[]): string {
  const ages = s.map((x) => x.ageMs).filter((a): a is number => a !== null);
  return ages.length ? `${fmtMs(percentile(ages, 50))} / ${fmtMs(Math.max(...ages))}` : '–';
}

const signed = (n: number): string => `${n >= 0 ? '+' : '−'}${fmtMs(Math.abs(n))}`;

const loadAtStart = loadavg();
const cameras = [
  { id: 'gop1', gopSeconds: 1, label: 'warm camera, 1 s GOP', runs: RUNS ?? 8, idle: false },
  { id: 'gop4', gopSeconds: 4, label: 'warm camera, 4 s GOP', runs: RUNS ?? 8, idle: false },
  { id: 'idle1', gopSeconds: 1, label: 'idle on-demand camera, 1 s GOP', runs: RUNS ?? 6, idle: true },
  { id: 'idle4', gopSeconds: 4, label: 'idle on-demand camera, 4 s GOP', runs: RUNS ?? 6, idle: true },
];
const [rtspPort, apiPort] = (await freePorts(2)) as [number, number];
const sim = new SyntheticCameraServer({ rtspPort, apiPort });
await sim.start();
for (const c of cameras) {
  await sim.addCamera({ name: c.id, width: 640, height: 360, fps: 20, gopSeconds: c.gopSeconds, audio: true });
}
const sp = await startServerProcess({
  // An idle camera is let go 1 s after its last reader, and the relay keeps nothing warm, so each
  // attempt on an idle camera can start from a camera nobody pulls.
  options: { log_level: 'warning', on_demand_grace_seconds: 1 },
  env: { CAMSTACK_STATUS_POLL_MS: '1000', CAMSTACK_RECONCILE_MS: '2000', CAMSTACK_MSE_WARM_MS: '0' },
});
const browser = await launchChromium();
const warmers: AbortController[] = [];
const go2rtcOrigin = `http://127.0.0.1:${sp.enginePorts.go2rtcApi}`;

/** A permanent consumer on go2rtc (progressive MP4, drained), so the camera stays pulled. */
async function keepWarm(id: string): Promise<void> {
  const ctrl = new AbortController();
  warmers.push(ctrl);
  const res = await fetch(`${go2rtcOrigin}/api/stream.mp4?src=${id}`, {
    signal: ctrl.signal,
    headers: { 'user-agent': 'camstack-bench-warmer' },
  });
  if (!res.ok || !res.body) throw new Error(`warming ${id}: go2rtc answered ${res.status}`);
  const reader = res.body.getReader();
  await reader.read();
  void (async () => {
    try {
      while (!(await reader.read()).done) {
        /* drain */
      }
    } catch {
      /* aborted */
    }
  })();
}

/** Until MediaMTX has let an on-demand camera go (nobody pulls it). */
async function untilIdle(id: string): Promise<void> {
  await waitUntil(
    async () => {
      const res = await fetch(`http://127.0.0.1:${sp.enginePorts.mediamtxApi}/v3/paths/get/${id}`);
      if (res.status === 404) return true;
      return !((await res.json()) as { ready?: boolean }).ready;
    },
    60_000,
    `camera ${id} idle`,
  );
}

/** A picture fetched and decoded in the page: ms to the decoded bitmap, and its age then. */
async function picture(lp: Awaited<ReturnType<typeof openLivePage>>, url: string): Promise<Sample> {
  // A string, not a function: the page gets exactly this code.
  const r = (await lp.page.evaluate(`(async () => {
    const t0 = performance.now();
    const res = await fetch(${JSON.stringify(url)}, { cache: 'no-store' });
    if (!res.ok) throw new Error('answered ' + res.status);
    const bitmap = await createImageBitmap(await res.blob());
    const ms = performance.now() - t0;
    const taken = Date.parse(res.headers.get('x-snapshot-taken-at') || '');
    return { ms, width: bitmap.width, ageMs: Number.isFinite(taken) ? Date.now() - taken : 0 };
  })()`)) as { ms: number; width: number; ageMs: number };
  if (!(r.width > 0)) throw new Error('no picture');
  return { firstFrameMs: r.ms, setupMs: r.ms, frames: 1, ageMs: r.ageMs };
}

async function measure(path: PathName, id: string, gopSeconds: number, idle: boolean): Promise<Sample> {
  const ours = path.endsWith('ours');
  const origin = ours ? sp.baseUrl : go2rtcOrigin;
  if (idle) await untilIdle(id);
  const lp = await openLivePage(browser, ours ? `${origin}/api/health` : `${origin}/api`);
  try {
    // A random phase against the camera's keyframes: back-to-back runs would otherwise lock onto
    // the GOP (each run ends a fixed time after a keyframe) and measure the loop, not the path.
    await new Promise((r) => setTimeout(r, Math.random() * gopSeconds * 1000));
    if (path === 'poster-ours') return await picture(lp, `/api/cameras/${id}/snapshot.jpg?width=480&maxAge=600000`);
    // go2rtc's picture is of the keyframe it just decoded: age 0 by construction.
    if (path === 'poster-direct') return await picture(lp, `/api/frame.jpeg?src=${id}`);
    if (path.startsWith('webrtc')) {
      const url = ours ? `/api/cameras/${id}/webrtc` : `/api/webrtc?src=${id}`;
      const r: WebrtcResult = await playWebrtc(lp.page, { url, countMs: COUNT_MS, timeoutMs: 30_000 });
      if (r.frames < 1) throw new Error(`${path}: no frames after the first`);
      return { firstFrameMs: r.firstFrameMs, setupMs: r.signallingMs, frames: r.frames, ageMs: null };
    }
    const url = ours ? `/api/cameras/${id}/ws` : `/api/ws?src=${id}`;
    const r: MseResult = await playMse(lp.page, { url, countMs: COUNT_MS, timeoutMs: 30_000 });
    if (r.frames < 1) throw new Error(`${path}: no frames after the first`);
    return { firstFrameMs: r.firstFrameMs, setupMs: r.mimeMs, frames: r.frames, ageMs: null };
  } finally {
    await lp.close();
  }
}

try {
  for (const c of cameras) {
    const add = await fetch(`${sp.baseUrl}/api/cameras`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        id: c.id,
        name: c.id,
        source: sim.url(c.id),
        ...(c.idle ? {} : { recording: { continuous: true } }),
      }),
    });
    if (add.status !== 201) throw new Error(`adding ${c.id} failed: ${add.status} ${await add.text()}`);
  }
  await waitUntil(
    async () => {
      const streams = (await (await fetch(`${go2rtcOrigin}/api/streams`)).json()) as Record<string, unknown>;
      return cameras.every((c) => c.id in streams);
    },
    30_000,
    'the cameras in go2rtc',
  );
  for (const c of cameras) if (!c.idle) await keepWarm(c.id);

  const out: string[] = [];
  out.push(`machine: ${machineLine()}, Chromium ${browser.version()} (headless, software decoding)`);
  out.push(`load average at start: ${loadAtStart}`);
  out.push(
    'cameras: synthetic 640x360, 20 fps, H.264 baseline + Opus; warm ones recorded and kept pulled, idle ones ' +
      'let go before every attempt (on_demand_grace_seconds 1); fresh page for every run',
  );
  out.push(
    'first frame: from the start of the attempt (before new RTCPeerConnection / MediaSource) to the first ' +
      'requestVideoFrameCallback; signalling: WebRTC offer POST → answer, MSE start → {"type":"mse"} answer',
  );
  for (const c of cameras) {
    // One warm-up of every path (first page, first peer connection, first socket), not counted.
    for (const p of PATHS) await measure(p, c.id, c.gopSeconds, c.idle).catch(() => null);
    const samples = Object.fromEntries(PATHS.map((p) => [p, []])) as unknown as Record<PathName, Sample[]>;
    const failures = Object.fromEntries(PATHS.map((p) => [p, []])) as unknown as Record<PathName, string[]>;
    for (let i = 0; i < c.runs; i++) {
      // Rotate the order each round, so no path always follows another.
      const order = PATHS.map((_, k) => PATHS[(k + i) % PATHS.length] as PathName);
      for (const p of order) {
        // A failed attempt is reported, not hidden, and does not stop the run.
        await measure(p, c.id, c.gopSeconds, c.idle).then(
          (x) => samples[p].push(x),
          (err: unknown) => failures[p].push(err instanceof Error ? err.message : String(err)),
        );
      }
    }
    out.push('');
    out.push(`### ${c.label} (camera "${c.id}")`);
    out.push('');
    out.push(
      '| path | n ok | failed | first frame p50 ms | p95 ms | mean ms | signalling p50 ms | frames in 0.6 s (min) | picture age p50 / max ms |',
    );
    out.push('|---|---|---|---|---|---|---|---|---|');
    for (const p of PATHS) {
      const s = samples[p];
      const ff = s.map((x) => x.firstFrameMs);
      out.push(
        `| ${LABEL[p]} | ${s.length} | ${failures[p].length} | ${fmtMs(percentile(ff, 50))} | ${fmtMs(percentile(ff, 95))} | ${fmtMs(mean(ff))} | ${fmtMs(
          percentile(
            s.map((x) => x.setupMs),
            50,
          ),
        )} | ${Math.min(...s.map((x) => x.frames))} | ${ageCell(s)} |`,
      );
    }
    out.push('');
    for (const kind of ['webrtc', 'mse', 'poster'] as const) {
      const ours = samples[`${kind}-ours`].map((x) => x.firstFrameMs);
      const direct = samples[`${kind}-direct`].map((x) => x.firstFrameMs);
      const r50 = percentile(ours, 50) / percentile(direct, 50);
      const r95 = percentile(ours, 95) / percentile(direct, 95);
      out.push(
        `${{ webrtc: 'WebRTC', mse: 'MSE', poster: 'Picture' }[kind]} ours/direct: p50 ${r50.toFixed(2)}, p95 ${r95.toFixed(2)} ` +
          `(p50 difference ${signed(percentile(ours, 50) - percentile(direct, 50))} ms) ` +
          (kind === 'mse' && !c.idle
            ? `(issue target: MSE p50 <= 500 ms: ${percentile(ours, 50) <= 500 ? 'met' : 'MISSED'})`
            : ''),
      );
    }
    for (const p of PATHS) {
      for (const f of failures[p]) out.push(`failed: ${LABEL[p]}: ${f}`);
    }
    process.stdout.write(`${out.splice(0).join('\n')}\n`);
  }
  process.stdout.write(`\nload average at end: ${loadavg()}\n`);
} finally {
  for (const w of warmers) w.abort();
  await browser.close().catch(() => {});
  await sp.cleanup();
  await sim.stop();
}
