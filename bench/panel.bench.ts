/**
 * `npm run bench panel`: the panel's own player, `<camstack-player>`, in real Chromium — time from
 * creating the element to its first decoded frame, in WebRTC mode and in MSE mode — against
 * go2rtc's own endpoints called directly by the minimal player of test/helpers/browser.ts (the
 * anchor of `npm run bench live`), in the same run. The panel's figure includes everything the
 * element does (render, snapshot poster request, ICE gathering, signalling through our server,
 * the frame watcher); the anchor only the bare protocol. Paths are interleaved in a rotating
 * order, each run on a fresh page; the cameras are kept warm (a background consumer), so the
 * figures are about the player, not about connecting to a camera. Also reports the bundle size
 * (raw and gzip -9 of the built JS + CSS). Results go to docs/benchmarks.md ("Panel").
 */
import { SyntheticCameraServer } from '../scripts/synthetic-cameras.js';
import { buildPanel, bundleSize } from '../test/e2e/panel-support.js';
import { launchChromium, openLivePage, playMse, playWebrtc } from '../test/helpers/browser.js';
import { freePorts } from '../test/helpers/ports.js';
import { waitUntil } from '../test/helpers/processes.js';
import { startServerProcess } from '../test/helpers/server-process.js';
import { fmtMs, loadavg, machineLine, mean, percentile } from './lib/report.js';

const RUNS = Number(process.env.BENCH_PANEL_RUNS ?? 10);

type PathName = 'panel-webrtc' | 'direct-webrtc' | 'panel-mse' | 'direct-mse';
const PATHS: PathName[] = ['panel-webrtc', 'direct-webrtc', 'panel-mse', 'direct-mse'];
const LABEL: Record<PathName, string> = {
  'panel-webrtc': '<camstack-player modes="webrtc"> (panel)',
  'direct-webrtc': 'WebRTC via go2rtc POST /api/webrtc (anchor)',
  'panel-mse': '<camstack-player modes="mse"> (panel)',
  'direct-mse': 'MSE via go2rtc WS /api/ws (anchor)',
};

/** In the panel's page: create a player, resolve with ms to its first frame. */
const PANEL_FIRST_FRAME = (camera: string, modes: string) => `(async () => {
  const t0 = performance.now();
  const el = document.createElement('camstack-player');
  el.setAttribute('camera', ${JSON.stringify(camera)});
  el.setAttribute('modes', ${JSON.stringify(modes)});
  el.setAttribute('keep-alive', '');
  el.setAttribute('release-delay', '60000');
  el.style.width = '640px';
  const first = new Promise((resolve, reject) => {
    el.addEventListener('camstack-first-frame', (e) => resolve({ ms: performance.now() - t0, mode: e.detail.mode }), { once: true });
    setTimeout(() => reject(new Error('no first frame in 30 s: ' + el.reason)), 30000);
  });
  document.body.append(el);
  try {
    return await first;
  } finally {
    el.remove();
  }
})()`;

const loadAtStart = loadavg();
buildPanel();
const bundle = bundleSize();
const cameras = [
  { id: 'gop025', gopSeconds: 0.25, label: '0.25 s GOP' },
  { id: 'gop2', gopSeconds: 2, label: '2 s GOP' },
];
const [rtspPort, apiPort] = (await freePorts(2)) as [number, number];
const sim = new SyntheticCameraServer({ rtspPort, apiPort });
await sim.start();
for (const c of cameras) {
  await sim.addCamera({ name: c.id, width: 640, height: 360, fps: 20, gopSeconds: c.gopSeconds, audio: true });
}
const sp = await startServerProcess({
  options: { log_level: 'warning' },
  env: { CAMSTACK_STATUS_POLL_MS: '1000', CAMSTACK_RECONCILE_MS: '2000' },
});
const browser = await launchChromium();
const warmers: AbortController[] = [];
const go2rtcOrigin = `http://127.0.0.1:${sp.enginePorts.go2rtcApi}`;

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

async function measure(path: PathName, id: string): Promise<number> {
  if (path.startsWith('panel')) {
    // The panel on the server's own origin (settings: no player of its own), element definitions loaded.
    const lp = await openLivePage(browser, `${sp.baseUrl}/settings`);
    try {
      await lp.page.waitForFunction('customElements.get("camstack-player") !== undefined');
      const r = (await lp.page.evaluate(PANEL_FIRST_FRAME(id, path === 'panel-webrtc' ? 'webrtc' : 'mse'))) as {
        ms: number;
        mode: string;
      };
      return r.ms;
    } finally {
      await lp.close();
    }
  }
  const lp = await openLivePage(browser, `${go2rtcOrigin}/api`);
  try {
    if (path === 'direct-webrtc') {
      return (await playWebrtc(lp.page, { url: `/api/webrtc?src=${id}`, countMs: 0, timeoutMs: 30_000 })).firstFrameMs;
    }
    return (await playMse(lp.page, { url: `/api/ws?src=${id}`, countMs: 0, timeoutMs: 30_000 })).firstFrameMs;
  } finally {
    await lp.close();
  }
}

try {
  for (const c of cameras) {
    const add = await fetch(`${sp.baseUrl}/api/cameras`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: c.id, name: c.id, source: sim.url(c.id) }),
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
  for (const c of cameras) await keepWarm(c.id);

  const out: string[] = [];
  out.push(`machine: ${machineLine()}, Chromium ${browser.version()} (headless, software decoding)`);
  out.push(`load average at start: ${loadAtStart}`);
  out.push('');
  out.push('### Bundle (server/public/assets, as built by `npm run build:panel`)');
  out.push('');
  out.push('| file | raw bytes | gzip -9 bytes |');
  out.push('|---|---|---|');
  for (const f of bundle.files) out.push(`| ${f.name.replace(/-[\w-]{8}\./, '-<hash>.')} | ${f.raw} | ${f.gzip} |`);
  out.push(`| **total** | **${bundle.raw}** | **${bundle.gzip}** |`);
  out.push('');
  out.push(
    `cameras: synthetic 640x360, 20 fps, H.264 baseline + Opus; kept warm; ${RUNS} runs per path, fresh page each`,
  );
  for (const c of cameras) {
    for (const p of PATHS) await measure(p, c.id); // warm-up, not counted
    const samples: Record<PathName, number[]> = {
      'panel-webrtc': [],
      'direct-webrtc': [],
      'panel-mse': [],
      'direct-mse': [],
    };
    for (let i = 0; i < RUNS; i++) {
      const order = PATHS.map((_, k) => PATHS[(k + i) % PATHS.length] as PathName);
      for (const p of order) samples[p].push(await measure(p, c.id));
    }
    out.push('');
    out.push(`### ${c.label} (camera "${c.id}")`);
    out.push('');
    out.push('| path | n | first frame p50 ms | p95 ms | mean ms |');
    out.push('|---|---|---|---|---|');
    for (const p of PATHS) {
      const s = samples[p];
      out.push(
        `| ${LABEL[p]} | ${s.length} | ${fmtMs(percentile(s, 50))} | ${fmtMs(percentile(s, 95))} | ${fmtMs(mean(s))} |`,
      );
    }
    out.push('');
    for (const kind of ['webrtc', 'mse'] as const) {
      const ours = samples[`panel-${kind}`];
      const direct = samples[`direct-${kind}`];
      out.push(
        `${kind === 'webrtc' ? 'WebRTC' : 'MSE'} panel/direct: p50 ${(percentile(ours, 50) / percentile(direct, 50)).toFixed(2)}, ` +
          `p95 ${(percentile(ours, 95) / percentile(direct, 95)).toFixed(2)}`,
      );
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
