/**
 * `npm run bench scale`: sixteen 720p cameras (H.264, 2 Mbit/s, 25 fps, 2 s GOP) recorded 24/7 with
 * stream copy while four people watch live (two WebRTC, two MSE, in real Chromium), on this machine.
 * Reports CPU per camera, the resident memory of our server and of each engine, and dropped
 * segments (target: none). The anchor, measured in the same run, is libx264 re-encoding one of
 * these 720p streams: the whole installation is expressed as a fraction of one such transcode.
 *
 * The server runs compiled (server/dist, as in the add-on; `npm run build` is run first), so its
 * figures carry no TypeScript loader. CPU is utime+stime from /proc of each process over the
 * window, so other load does not inflate it; Chromium (the viewers' decoding) and the synthetic
 * cameras are reported apart and are not Camstack's cost.
 *
 * Env: BENCH_SCALE_CAMERAS (default 16), BENCH_SCALE_VIEWERS (default 4), BENCH_SCALE_SECONDS
 * (measured window, default 180), BENCH_SCALE_NODE_OPTIONS (flags for the server's Node, e.g.
 * `--max-semi-space-size=4` to compare memory against CPU). Results go to docs/benchmarks.md ("Scale").
 */
import { execFileSync } from 'node:child_process';
import { totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { SyntheticCameraServer } from '../scripts/synthetic-cameras.js';
import {
  closeSession,
  launchChromium,
  openLivePage,
  playMse,
  playWebrtc,
  sessionFrames,
} from '../test/helpers/browser.js';
import { freePorts } from '../test/helpers/ports.js';
import { processesMatching } from '../test/helpers/processes.js';
import { startServerProcess } from '../test/helpers/server-process.js';
import {
  checkSegments,
  listRecordings,
  probeBitrate,
  sourceClip,
  transcodeAnchor,
  waitForSegments,
} from './lib/media.js';
import { cpuSeconds, fdCount, mib, rssBytes, serverPids } from './lib/procs.js';
import { cpuModel, loadavg, machineLine, mean } from './lib/report.js';

const CAMERAS = Number(process.env.BENCH_SCALE_CAMERAS ?? 16);
const VIEWERS = Number(process.env.BENCH_SCALE_VIEWERS ?? 4);
const WINDOW_S = Number(process.env.BENCH_SCALE_SECONDS ?? 180);
const SEGMENT_S = 10;
const SPEC = { width: 1280, height: 720, fps: 25, kbps: 2000, gopSeconds: 2 };

const root = fileURLToPath(new URL('..', import.meta.url));

process.stdout.write('building the server (npm run build)…\n');
execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });

const clip = sourceClip(SPEC);
const source = probeBitrate(clip);
const [rtspPort, apiPort] = (await freePorts(2)) as [number, number];
const sim = new SyntheticCameraServer({ rtspPort, apiPort });
await sim.start();
const names = Array.from({ length: CAMERAS }, (_, i) => `cam${String(i + 1).padStart(2, '0')}`);
for (const name of names) await sim.addCamera({ name, loopFile: clip, audio: false });
const sp = await startServerProcess({
  entry: 'dist',
  options: {
    log_level: 'info',
    cameras: names.map((id) => ({ id, name: id, source: sim.url(id), recording: { continuous: true } })),
  },
  env: {
    CAMSTACK_SEGMENT_SECONDS: String(SEGMENT_S),
    ...(process.env.BENCH_SCALE_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_SCALE_NODE_OPTIONS } : {}),
  },
});
const browser = await launchChromium();
try {
  await waitForSegments(sp.baseUrl, names, 180_000);

  // Viewers: alternate WebRTC and MSE, each on its own page and camera, kept open.
  const viewers: { page: Awaited<ReturnType<typeof openLivePage>>; session: string; mode: string; camera: string }[] =
    [];
  for (let i = 0; i < VIEWERS; i++) {
    const camera = names[i % names.length] as string;
    const page = await openLivePage(browser, `${sp.baseUrl}/api/health`);
    if (i % 2 === 0) {
      const r = await playWebrtc(page.page, {
        url: `/api/cameras/${camera}/webrtc`,
        keepOpen: true,
        timeoutMs: 30_000,
      });
      viewers.push({ page, session: r.session ?? '', mode: 'WebRTC', camera });
    } else {
      const r = await playMse(page.page, { url: `/api/cameras/${camera}/ws`, keepOpen: true, timeoutMs: 30_000 });
      viewers.push({ page, session: r.session ?? '', mode: 'MSE', camera });
    }
  }
  const framesAtStart = await Promise.all(viewers.map((v) => sessionFrames(v.page.page, v.session)));

  const pids = serverPids(sp.proc.pid, sp.dir);
  const simPids = [
    ...processesMatching(`127.0.0.1:${rtspPort}/`),
    ...processesMatching('camera-sim.yml').filter((p) => p.ppid === process.pid),
  ].map((p) => p.pid);
  const chromiumPids = processesMatching('--allow-loopback-in-peer-connection').map((p) => p.pid);
  const cpuOf = (list: number[]): number => list.reduce((n, pid) => n + (cpuSeconds(pid) ?? 0), 0);
  const keys = ['node', 'go2rtc', 'mediamtx'] as const;
  const cpu0 = { ...Object.fromEntries(keys.map((k) => [k, cpuSeconds(pids[k]) ?? 0])) };
  const sim0 = cpuOf(simPids);
  const chr0 = cpuOf(chromiumPids);
  const rss: Record<(typeof keys)[number], number[]> = { node: [], go2rtc: [], mediamtx: [] };
  const fds: Record<(typeof keys)[number], number[]> = { node: [], go2rtc: [], mediamtx: [] };
  const load0 = loadavg();
  const t0 = Date.now();
  process.stdout.write(`measuring ${WINDOW_S} s: ${CAMERAS} cameras recording, ${VIEWERS} viewers (load ${load0})…\n`);
  while (Date.now() - t0 < WINDOW_S * 1000) {
    for (const k of keys) {
      rss[k].push(rssBytes(pids[k]) ?? 0);
      fds[k].push(fdCount(pids[k]) ?? 0);
    }
    await new Promise((r) => setTimeout(r, 5000));
  }
  const t1 = Date.now();
  const load1 = loadavg();
  const wall = (t1 - t0) / 1000;
  const used = (k: (typeof keys)[number]): number => (cpuSeconds(pids[k]) ?? 0) - (cpu0[k] ?? 0);
  const used1 = Object.fromEntries(keys.map((k) => [k, used(k)])) as Record<(typeof keys)[number], number>;
  const simUsed = cpuOf(simPids) - sim0;
  const chrUsed = cpuOf(chromiumPids) - chr0;
  const framesAtEnd = await Promise.all(viewers.map((v) => sessionFrames(v.page.page, v.session)));
  for (const v of viewers) {
    await closeSession(v.page.page, v.session);
    await v.page.close();
  }

  await new Promise((r) => setTimeout(r, (SEGMENT_S + 3) * 1000));
  const { inWindow, gaps } = checkSegments(await listRecordings(sp.baseUrl, 'segment'), names, t0, t1, SEGMENT_S);
  const anchor = transcodeAnchor(clip, source.seconds, SPEC.kbps);

  const total = used1.node + used1.go2rtc + used1.mediamtx;
  const pct = (cpu: number): string => `${((cpu / wall) * 100).toFixed(1)} %`;
  const perCam = (cpu: number): string => `${((cpu / wall / CAMERAS) * 100).toFixed(2)} %`;
  const row = (name: string, k: (typeof keys)[number]): string =>
    `| ${name} | ${used1[k].toFixed(1)} | ${pct(used1[k])} | ${perCam(used1[k])} | ${mib(mean(rss[k]))} | ${mib(Math.max(...rss[k]))} | ${Math.min(...fds[k])}–${Math.max(...fds[k])} |`;
  const lines = [
    '',
    `machine: ${machineLine()}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM; CPU ${cpuModel()}; load ${load0} → ${load1}`,
    `cameras: ${CAMERAS} × ${SPEC.height}p${SPEC.fps} H.264 ${source.kbps.toFixed(0)} kbit/s (looped with -c copy), 24/7 recording, ${SEGMENT_S} s segments`,
    `server Node flags: ${process.env.BENCH_SCALE_NODE_OPTIONS || '(none)'}`,
    `viewers: ${viewers.map((v) => `${v.mode} ${v.camera}`).join(', ')}; window ${wall.toFixed(0)} s`,
    '',
    '| process | CPU s | % of one core | per camera | RSS mean MiB | RSS max MiB | fds |',
    '|---|---|---|---|---|---|---|',
    row('Camstack server (Node 22, compiled)', 'node'),
    row('MediaMTX (ingest + recording)', 'mediamtx'),
    row('go2rtc (live viewers)', 'go2rtc'),
    `| **Camstack total** | ${total.toFixed(1)} | ${pct(total)} | ${perCam(total)} | ${mib(mean(rss.node) + mean(rss.go2rtc) + mean(rss.mediamtx))} | – | – |`,
    `| synthetic cameras (FFmpeg -c copy publishers + their RTSP server; not Camstack) | ${simUsed.toFixed(1)} | ${pct(simUsed)} | – | – | – | – |`,
    `| Chromium (the ${VIEWERS} viewers' decoding; not Camstack) | ${chrUsed.toFixed(1)} | ${pct(chrUsed)} | – | – | – | – |`,
    `| libx264 veryfast transcode of ONE of these cameras (anchor) | ${(anchor.cpuPerSecond * source.seconds).toFixed(1)} for ${source.seconds.toFixed(0)} s | ${(anchor.cpuPerSecond * 100).toFixed(0)} % | – | – | – | – |`,
    '',
    `all ${CAMERAS} cameras + ${VIEWERS} viewers / one 720p transcode: ${(total / wall / anchor.cpuPerSecond).toFixed(3)} (CPU ratio)`,
    `viewers still playing at the end: ${framesAtEnd.filter((f, i) => f.open && f.frames > (framesAtStart[i]?.frames ?? 0)).length}/${VIEWERS}`,
    `segments in the window: ${inWindow}; dropped/gaps: ${gaps.length === 0 ? 'none' : gaps.join('; ')}`,
    '',
  ];
  process.stdout.write(lines.join('\n'));
} finally {
  await browser.close().catch(() => {});
  await sp.cleanup();
  await sim.stop();
}
