/**
 * The panel player's fallback to MJPEG, end to end under the ingress-like prefix: go2rtc killed
 * and held down (WebRTC and MSE refused by the server: MJPEG, and the "go2rtc not running"
 * banner). An H.265 camera no longer falls back to MJPEG: WebRTC and MSE retry with the server's
 * H.264 transcode (test/e2e/panel-h265.test.ts, which also checks MJPEG of H.265).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { resolveBinaries } from '../../server/src/engines/binaries.js';
import type { HealthReport } from '../../server/src/http/health.js';
import { eventually, type PanelRig, playerStates, startPanelRig } from './panel-support.js';

describe('panel: fallbacks to MJPEG', { timeout: 600_000 }, () => {
  let rig: PanelRig;
  let dir: string;
  let holdDownFlag: string;

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
    await rig?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
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
