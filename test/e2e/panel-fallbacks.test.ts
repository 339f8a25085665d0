/**
 * The panel player's fallbacks to MJPEG, end to end under the ingress-like prefix: an H.265
 * camera (this Chromium decodes no H.265: WebRTC and MSE give way, saying why), and go2rtc
 * killed and held down (WebRTC and MSE refused by the server: MJPEG, and the "go2rtc not
 * running" banner).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { resolveBinaries } from '../../server/src/engines/binaries.js';
import type { HealthReport } from '../../server/src/http/health.js';
import { addCamera, eventually, type PanelRig, playerStates, startPanelRig } from './panel-support.js';

describe('panel: fallbacks to MJPEG', { timeout: 600_000 }, () => {
  let rig: PanelRig;
  let dir: string;
  let holdDownFlag: string;
  let hevc: ChildProcess | null = null;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'camstack-panel-e2e-'));
    // go2rtc behind a wrapper, so a test can kill it and keep it down (as a crash loop would).
    holdDownFlag = join(dir, 'hold-go2rtc-down');
    const wrapper = join(dir, 'go2rtc');
    await writeFile(
      wrapper,
      `#!/bin/sh\nif [ -e '${holdDownFlag}' ]; then echo 'go2rtc held down by the panel test' >&2; exit 3; fi\nexec '${resolveBinaries().go2rtc}' "$@"\n`,
    );
    await chmod(wrapper, 0o755);
    rig = await startPanelRig({
      cameras: [{ id: 'front_door', name: 'Front door', sim: 'cam1' }],
      env: { CAMSTACK_GO2RTC_BIN: wrapper },
    });
  });

  after(async () => {
    hevc?.kill('SIGKILL');
    await rig?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('an H.265 camera this browser cannot decode: WebRTC and MSE give way to MJPEG, saying why', async (t) => {
    await rig.closePages();
    // An H.265 publisher on the simulated camera network (the synthetic cameras are H.264).
    hevc = spawn(
      resolveBinaries().ffmpeg,
      [
        ...[
          '-hide_banner',
          '-loglevel',
          'error',
          '-nostdin',
          '-re',
          '-f',
          'lavfi',
          '-i',
          'testsrc2=size=320x240:rate=10',
        ],
        ...['-c:v', 'libx265', '-preset', 'ultrafast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p'],
        ...['-x265-params', 'keyint=10:min-keyint=10:log-level=error'],
        ...['-f', 'rtsp', '-rtsp_transport', 'tcp', `${rig.sim.url('hevc')}`],
      ],
      { stdio: 'ignore' },
    );
    await eventually('the H.265 camera online', 20_000, async () =>
      assert.equal((await rig.sim.path('hevc'))?.online, true),
    );
    await addCamera(rig.sp.baseUrl, { id: 'hevc_cam', name: 'H.265', source: rig.sim.url('hevc') });
    const { page } = await rig.open('camera/hevc_cam');
    const s = await eventually('the H.265 camera on MJPEG', 90_000, async () => {
      const [st] = await playerStates(page);
      assert.equal(st?.phase, 'playing', JSON.stringify(st));
      assert.equal(st?.mode, 'mjpeg', JSON.stringify(st));
      return st as NonNullable<typeof st>;
    });
    t.diagnostic(`reason shown: ${s.reason}`);
    assert.match(s.reason, /^WebRTC: .+; MSE: this browser cannot decode .+: using MJPEG$/);
    await eventually('the codec in the stream facts', 20_000, async () =>
      assert.match((await page.locator('dd[data-fact="codec"]').textContent()) ?? '', /265|hevc/i),
    );
    await fetch(`${rig.sp.baseUrl}/api/cameras/hevc_cam`, { method: 'DELETE' });
    hevc.kill('SIGINT');
    hevc = null;
  });

  it('go2rtc killed and held down: the player moves to MJPEG and says why', async () => {
    await rig.closePages();
    const { page } = await rig.open('camera/front_door');
    await eventually('playing WebRTC', 45_000, async () => {
      const [s] = await playerStates(page);
      assert.equal(s?.phase, 'playing');
      assert.equal(s?.mode, 'webrtc');
    });
    const health = (await (await fetch(`${rig.sp.baseUrl}/api/health`)).json()) as HealthReport;
    await writeFile(holdDownFlag, '');
    process.kill(health.engines.go2rtc.pid as number, 'SIGKILL');
    const s = await eventually('the player on MJPEG', 60_000, async () => {
      const [st] = await playerStates(page);
      assert.equal(st?.phase, 'playing', JSON.stringify(st));
      assert.equal(st?.mode, 'mjpeg', JSON.stringify(st));
      return st as NonNullable<typeof st>;
    });
    assert.match(s.reason, /WebRTC: go2rtc not running; MSE: go2rtc not running: using MJPEG/);
    // The MJPEG picture changes (the camera clock ticks).
    const hashes = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const png = await page.locator('camstack-player .stage img').screenshot();
      hashes.add(createHash('sha1').update(png).digest('hex'));
      await page.waitForTimeout(400);
    }
    assert.ok(hashes.size >= 2, 'the MJPEG picture keeps changing');
    // The panel says go2rtc is not running, rather than hiding it.
    await eventually('the degraded banner', 20_000, async () => {
      const banner = await page.locator('.banner').textContent();
      assert.match(banner ?? '', /go2rtc not running/);
    });
    assert.equal(await page.locator('camstack-player .badge').textContent(), 'MJPEG');
  });
});
