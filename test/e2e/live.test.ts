/**
 * Live view end to end: a synthetic camera (H.264 + Opus, 2 s GOP), the real server with its real
 * engines, and real Chromium playing through our own endpoints — WebRTC, WHEP, MSE over the
 * WebSocket, MJPEG — plus the fallbacks: MSE when WebRTC is unavailable or cannot connect, MJPEG
 * while go2rtc is down. Media stays on loopback. No assertion here is about speed.
 */
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { SyntheticCameraServer } from '../../scripts/synthetic-cameras.js';
import type { CameraStatus } from '../../server/src/cameras/status.js';
import type { HealthReport } from '../../server/src/http/health.js';
import {
  closeSession,
  DISABLE_WEBRTC,
  type FrameStats,
  type LivePage,
  launchChromium,
  openLivePage,
  playAuto,
  playMse,
  playProgressive,
  playWebrtc,
  sampleMjpeg,
  sessionFrames,
  tryMse,
  tryWebrtc,
  watchMjpeg,
} from '../helpers/browser.js';
import { freePorts } from '../helpers/ports.js';
import { waitUntil } from '../helpers/processes.js';
import { type ServerProcess, type StartOptions, startServerProcess } from '../helpers/server-process.js';

const CAM = 'porch';
const WIDTH = 320;
const HEIGHT = 240;

/** startServerProcess, with a longer wait for /api/health: this machine is shared and often busy. */
async function startServer(opts: StartOptions): Promise<ServerProcess> {
  const sp = await startServerProcess({ ...opts, waitHealthy: false });
  try {
    await waitUntil(
      async () => {
        if (sp.proc.exitCode !== null) throw new Error(`server exited with ${sp.proc.exitCode}:\n${sp.output()}`);
        return fetch(`${sp.baseUrl}/api/health`, { signal: AbortSignal.timeout(2000) }).then(
          (r) => r.ok,
          () => false,
        );
      },
      120_000,
      'the server to answer /api/health',
    );
  } catch (err) {
    await sp.cleanup();
    throw err;
  }
  return sp;
}

async function addCamera(sp: ServerProcess, id: string, source: string): Promise<void> {
  const res = await fetch(`${sp.baseUrl}/api/cameras`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id, name: id, source }),
    signal: AbortSignal.timeout(10_000),
  });
  assert.equal(res.status, 201, await res.text());
}

async function status(sp: ServerProcess, id: string): Promise<CameraStatus> {
  return sp.json<CameraStatus>(`/api/cameras/${id}/status`);
}

async function waitViewers(
  sp: ServerProcess,
  id: string,
  pred: (n: number) => boolean,
  what: string,
  timeoutMs = 15_000,
): Promise<void> {
  let last = -1;
  await waitUntil(
    async () => {
      last = (await status(sp, id).catch(() => null))?.viewers ?? -1;
      return pred(last);
    },
    timeoutMs,
    `${what} (last viewers: ${last})`,
  );
}

async function waitHealth(sp: ServerProcess, pred: (h: HealthReport) => boolean, what: string): Promise<HealthReport> {
  let last: HealthReport | null = null;
  await waitUntil(
    async () => {
      last = await sp.json<HealthReport>('/api/health').catch(() => null);
      return last !== null && pred(last);
    },
    45_000,
    `${what} (last health: ${JSON.stringify(last)})`,
  );
  return last as unknown as HealthReport;
}

/** Frames were decoded and kept coming: the picture advances, it is not one frozen frame. */
function assertPlays(r: FrameStats, what: string): void {
  const info = `${what}: ${JSON.stringify(r)}`;
  assert.ok(r.frames >= 3, `frames advance (${info})`);
  assert.ok(r.mediaAdvance > 0.2, `media time advances (${info})`);
  assert.equal(r.width, WIDTH, info);
  assert.equal(r.height, HEIGHT, info);
}

describe('live view in Chromium', { timeout: 600_000 }, () => {
  let sim: SyntheticCameraServer;
  let sp: ServerProcess;
  let down: ServerProcess | undefined;
  let badDir: string | undefined;
  let browser: Browser;
  const pages: LivePage[] = [];

  const page = async (origin: string, initScript?: string): Promise<LivePage> => {
    const p = await openLivePage(browser, `${origin}/api/health`, initScript ? { initScript } : {});
    pages.push(p);
    return p;
  };

  before(async () => {
    const [rtspPort, apiPort] = (await freePorts(2)) as [number, number];
    sim = new SyntheticCameraServer({ rtspPort, apiPort });
    await sim.start();
    await sim.addCamera({ name: 'cam', width: WIDTH, height: HEIGHT, fps: 15, gopSeconds: 2, audio: true });
    [sp, browser] = await Promise.all([
      startServer({ env: { CAMSTACK_STATUS_POLL_MS: '300', CAMSTACK_RECONCILE_MS: '1000' } }),
      launchChromium(),
    ]);
    await waitHealth(sp, (h) => h.status === 'ok', 'both engines running');
    await addCamera(sp, CAM, sim.url('cam'));
    await waitUntil(
      async () => {
        const res = await fetch(`http://127.0.0.1:${sp.enginePorts.go2rtcApi}/api/streams`).catch(() => null);
        return res?.ok === true && CAM in ((await res.json()) as Record<string, unknown>);
      },
      15_000,
      'the camera in go2rtc',
    );
  });

  after(async () => {
    for (const p of pages) await p.close().catch(() => {});
    await browser?.close().catch(() => {});
    await down?.cleanup();
    await sp?.cleanup();
    await sim?.stop();
    if (badDir) await rm(badDir, { recursive: true, force: true });
  });

  it('WebRTC through POST /api/cameras/:id/webrtc plays and counts as a viewer', async () => {
    const { page: p } = await page(sp.baseUrl);
    const r = await playWebrtc(p, { url: `/api/cameras/${CAM}/webrtc`, keepOpen: true, timeoutMs: 30_000 });
    try {
      assertPlays(r, 'WebRTC');
      await waitViewers(sp, CAM, (n) => n >= 1, 'the WebRTC viewer counted');
      // Still playing while counted.
      const session = r.session as string;
      const before = (await sessionFrames(p, session)).frames;
      await new Promise((res) => setTimeout(res, 1000));
      assert.ok((await sessionFrames(p, session)).frames > before, 'frames keep coming');
    } finally {
      await closeSession(p, r.session);
    }
    await waitViewers(sp, CAM, (n) => n === 0, 'the WebRTC viewer gone after close');
  });

  it('MSE over GET /api/cameras/:id/ws plays H.264 + Opus and counts as a viewer', async () => {
    const { page: p } = await page(sp.baseUrl);
    const r = await playMse(p, { url: `/api/cameras/${CAM}/ws`, keepOpen: true, timeoutMs: 30_000 });
    try {
      assertPlays(r, 'MSE');
      assert.ok(r.currentTimeAdvance > 0.2, `video.currentTime advances (${JSON.stringify(r)})`);
      assert.match(r.mime, /^video\/mp4; codecs="avc1\.[0-9A-Fa-f]{6},opus"$/);
      await waitViewers(sp, CAM, (n) => n >= 1, 'the MSE viewer counted');
    } finally {
      await closeSession(p, r.session);
    }
    await waitViewers(sp, CAM, (n) => n === 0, 'the MSE viewer gone after close');
  });

  it('WHEP: application/sdp → 201 with the answer and a Location, which DELETE ends', async () => {
    const { page: p } = await page(sp.baseUrl);
    const r = await playWebrtc(p, { url: `/api/cameras/${CAM}/whep`, form: 'whep', timeoutMs: 30_000 });
    assert.equal(r.status, 201);
    assertPlays(r, 'WHEP');
    assert.match(r.location ?? '', new RegExp(`^/api/cameras/${CAM}/whep/[0-9a-f-]{36}$`));
    const del = await fetch(`${sp.baseUrl}${r.location}`, { method: 'DELETE' });
    assert.equal(del.status, 204);
    // A WHEP request that is not SDP is refused.
    const wrong = await fetch(`${sp.baseUrl}/api/cameras/${CAM}/whep`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'offer', sdp: 'v=0 not really' }),
    });
    assert.ok(wrong.status === 415 || wrong.status === 400, `non-SDP WHEP answered ${wrong.status}`);
  });

  it('progressive MP4 (GET /api/cameras/:id/stream.mp4) plays in a plain <video>', async () => {
    const { page: p } = await page(sp.baseUrl);
    const r = await playProgressive(p, { url: `/api/cameras/${CAM}/stream.mp4`, timeoutMs: 30_000 });
    assertPlays(r, 'progressive MP4');
  });

  it('WebRTC unavailable in the browser: the player falls back to MSE, which plays', async () => {
    const { page: p } = await page(sp.baseUrl, DISABLE_WEBRTC);
    const r = await playAuto(p, {
      webrtc: { url: `/api/cameras/${CAM}/webrtc`, timeoutMs: 30_000 },
      mse: { url: `/api/cameras/${CAM}/ws`, timeoutMs: 30_000 },
    });
    assert.equal(r.mode, 'mse');
    assert.match(r.webrtcError ?? '', /WebRTC is disabled/);
    assertPlays(r.result, 'MSE after WebRTC was unavailable');
  });

  it('WebRTC signalling works but media cannot connect: the player falls back to MSE', async (t) => {
    const { page: p } = await page(sp.baseUrl);
    const r = await playAuto(p, {
      webrtc: { url: `/api/cameras/${CAM}/webrtc`, dropCandidates: true, connectTimeoutMs: 5000 },
      mse: { url: `/api/cameras/${CAM}/ws`, timeoutMs: 30_000 },
    });
    assert.equal(r.mode, 'mse');
    assert.match(r.webrtcError ?? '', /peer connection/);
    assertPlays(r.result, 'MSE after WebRTC could not connect');
    // go2rtc keeps the abandoned WebRTC consumer (and so a viewer) until its ICE gives up.
    const t0 = Date.now();
    await waitViewers(sp, CAM, (n) => n === 0, 'the abandoned WebRTC attempt released', 90_000);
    t.diagnostic(`abandoned WebRTC consumer counted as a viewer for ${Date.now() - t0} ms after the fallback`);
  });

  it('MJPEG in an <img> loads, keeps changing, and counts as a viewer', async () => {
    await waitViewers(sp, CAM, (n) => n === 0, 'no viewer before', 90_000);
    const { page: p } = await page(sp.baseUrl);
    const r = await watchMjpeg(p, { url: `/api/cameras/${CAM}/mjpeg`, keepOpen: true, timeoutMs: 30_000 });
    try {
      assert.equal(r.naturalWidth, WIDTH);
      assert.equal(r.naturalHeight, HEIGHT);
      assert.ok(r.distinct >= 2, `the picture changes (${JSON.stringify(r)})`);
      await waitViewers(sp, CAM, (n) => n >= 1, 'the MJPEG viewer counted');
    } finally {
      await closeSession(p, r.session);
    }
    await waitViewers(sp, CAM, (n) => n === 0, 'the MJPEG viewer gone after close');
  });

  it('go2rtc held down: health degraded with the reason, MJPEG keeps playing, WebRTC/MSE say 503 → MJPEG', async () => {
    badDir = await mkdtemp(join(tmpdir(), 'camstack-e2e-badgo2rtc-'));
    const bad = join(badDir, 'go2rtc');
    await writeFile(bad, '#!/bin/sh\necho "fatal: simulated go2rtc crash" >&2\nexit 3\n');
    await chmod(bad, 0o755);
    down = await startServer({
      env: { CAMSTACK_GO2RTC_BIN: bad, CAMSTACK_BACKOFF_BASE_MS: '100', CAMSTACK_STATUS_POLL_MS: '300' },
    });
    const h = await waitHealth(
      down,
      (x) => x.engines.go2rtc.state === 'failed' && x.engines.mediamtx.state === 'running',
      'go2rtc failed',
    );
    assert.equal(h.status, 'degraded');
    const reasons = h.reasons.join('\n');
    assert.match(reasons, /go2rtc failed/);
    assert.match(h.engines.go2rtc.lastError ?? '', /simulated go2rtc crash/);
    assert.match(reasons, /MJPEG/);
    await addCamera(down, CAM, sim.url('cam'));

    // WebRTC signalling refuses with a message that points at MJPEG.
    const res = await fetch(`${down.baseUrl}/api/cameras/${CAM}/webrtc`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'offer', sdp: 'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\n' }),
    });
    assert.equal(res.status, 503);
    const body = (await res.json()) as { code: string; message: string };
    assert.equal(body.code, 'live_unavailable');
    assert.match(body.message, /mjpeg/i);

    const { page: p } = await page(down.baseUrl);
    // The same from a real browser: WebRTC gets the 503, MSE an error on the socket.
    const w = await tryWebrtc(p, { url: `/api/cameras/${CAM}/webrtc` });
    assert.ok('error' in w && w.status === 503, JSON.stringify(w));
    const m = await tryMse(p, { url: `/api/cameras/${CAM}/ws`, timeoutMs: 10_000 });
    assert.ok('error' in m, JSON.stringify(m));
    assert.match(m.error, /go2rtc is not running/);

    // MJPEG needs neither: it loads, and keeps changing while go2rtc stays down.
    const r = await watchMjpeg(p, { url: `/api/cameras/${CAM}/mjpeg`, keepOpen: true, timeoutMs: 30_000 });
    try {
      assert.equal(r.naturalWidth, WIDTH);
      assert.ok(r.distinct >= 2, `the picture changes (${JSON.stringify(r)})`);
      await waitViewers(down, CAM, (n) => n >= 1, 'the MJPEG viewer counted while go2rtc is down');
      const later = await sampleMjpeg(p, r.session as string, { samples: 6, intervalMs: 400 });
      assert.ok(later >= 2, `still changing later (${later} distinct pictures)`);
      const still = await down.json<HealthReport>('/api/health');
      assert.equal(still.engines.go2rtc.state, 'failed', 'go2rtc stayed down throughout');
    } finally {
      await closeSession(p, r.session);
    }
  });

  it('MJPEG keeps playing across a kill -9 of go2rtc, and WebRTC plays again once it is back', async () => {
    const { page: p } = await page(sp.baseUrl);
    const r = await watchMjpeg(p, { url: `/api/cameras/${CAM}/mjpeg`, keepOpen: true, timeoutMs: 30_000 });
    try {
      const h = await waitHealth(sp, (x) => x.engines.go2rtc.state === 'running', 'go2rtc running');
      const pid = h.engines.go2rtc.pid as number;
      process.kill(pid, 'SIGKILL');
      const distinct = await sampleMjpeg(p, r.session as string, { samples: 8, intervalMs: 300 });
      assert.ok(distinct >= 2, `the picture kept changing through the kill (${distinct} distinct pictures)`);
      await waitHealth(
        sp,
        (x) => x.status === 'ok' && x.engines.go2rtc.state === 'running' && x.engines.go2rtc.pid !== pid,
        'go2rtc running again',
      );
      assert.ok((await sampleMjpeg(p, r.session as string, { samples: 4, intervalMs: 300 })) >= 2);
    } finally {
      await closeSession(p, r.session);
    }
    // The reconciler pushes the stream back into the new go2rtc; then WebRTC plays again.
    await waitUntil(
      async () => {
        const res = await fetch(`http://127.0.0.1:${sp.enginePorts.go2rtcApi}/api/streams`).catch(() => null);
        return res?.ok === true && CAM in ((await res.json()) as Record<string, unknown>);
      },
      15_000,
      'the camera back in go2rtc',
    );
    const w = await playWebrtc(p, { url: `/api/cameras/${CAM}/webrtc`, timeoutMs: 30_000 });
    assertPlays(w, 'WebRTC after the go2rtc restart');
  });
});
