/**
 * An H.265 camera in the panel, in real Chromium (Debian's, headless, no GPU: it decodes no H.265
 * in MSE, <video> or WebRTC), under the ingress-like prefix, against the real server recording it:
 * - live: WebRTC (then, without WebRTC, MSE) fails on the codec, the player asks for the camera's
 *   on-demand H.264 transcode, frames advance, and the badge says "H.264 (transcoded from H.265)";
 *   the transcode in go2rtc ends after the page closes;
 * - recordings: the browser says it cannot play H.265, and plays it transcoded by the server when
 *   asked; the span download is offered as H.264.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { DISABLE_WEBRTC } from '../helpers/browser.js';
import { processTable } from '../helpers/processes.js';
import { eventually, type PanelRig, type PlayerState, playerStates, startPanelRig } from './panel-support.js';

const CAM = 'yard';
const pad = (n: number) => String(n).padStart(2, '0');
const hms = (d: Date) => `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
const dayOf = (d: Date) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;

/** The active recording <video>: size, position, and whether its picture has detail (not blank). */
const RECORDING_VIDEO = `(() => {
  const rec = document.querySelector('camstack-app').shadowRoot.querySelector('camstack-recordings');
  const v = rec.shadowRoot.querySelector('.videos video.active');
  if (!v || !v.videoWidth) {
    const why = rec.shadowRoot.querySelector('.videos .empty')?.textContent ?? '';
    return { width: 0, currentTime: v ? v.currentTime : 0, src: v ? v.src : '', distinct: 0, why, error: rec.playError };
  }
  const c = document.createElement('canvas');
  c.width = 64;
  c.height = 36;
  const ctx = c.getContext('2d', { willReadFrequently: true });
  ctx.drawImage(v, 0, 0, 64, 36);
  const px = ctx.getImageData(0, 0, 64, 36).data;
  const levels = new Set();
  for (let i = 0; i < px.length; i += 4) levels.add(px[i] >> 4);
  return { width: v.videoWidth, currentTime: v.currentTime, src: v.src, distinct: levels.size };
})()`;

async function playing(page: Page, what: string): Promise<PlayerState & { transcoded: boolean }> {
  return eventually(what, 90_000, async () => {
    const [st] = await playerStates(page);
    assert.equal(st?.phase, 'playing', JSON.stringify(st));
    const transcoded = await page.locator('camstack-player').evaluate((el) => el.hasAttribute('transcoded'));
    return { ...(st as PlayerState), transcoded };
  });
}

describe('panel: an H.265 camera', { timeout: 600_000 }, () => {
  let rig: PanelRig;
  /** go2rtc's FFmpeg transcoding this camera (its input is go2rtc's own RTSP stream of it). */
  const transcoders = () =>
    processTable().filter(
      (p) =>
        p.argv.includes('libx264') &&
        p.argv.some((a) => a.startsWith(`rtsp://127.0.0.1:${rig.sp.enginePorts.go2rtcRtsp}/${CAM}?`)),
    );

  before(async () => {
    rig = await startPanelRig({
      cameras: [{ id: CAM, name: 'Yard', sim: 'hevc', codec: 'h265', recording: { continuous: true, retainDays: 1 } }],
      env: { CAMSTACK_SEGMENT_SECONDS: '4', CAMSTACK_RECORDING_SCAN_MS: '1000' },
    });
    // The camera has been seen (its status names the codec the player explains failures with).
    await eventually('the codec in the camera status', 60_000, async () =>
      assert.equal((await rig.api<{ codec: string | null }>(`/api/cameras/${CAM}/status`)).codec, 'h265'),
    );
  });

  after(async () => {
    await rig?.close();
  });

  it('live: WebRTC fails on H.265, plays the H.264 transcode, and the badge says so', async (t) => {
    const { page } = await rig.open(`camera/${CAM}`);
    const st = await playing(page, 'the H.265 camera playing');
    t.diagnostic(`mode ${st.mode}, reason: ${st.reason}`);
    assert.equal(st.mode, 'webrtc');
    assert.equal(st.transcoded, true);
    assert.match(
      st.reason,
      /^WebRTC: this browser cannot receive H\.265: using WebRTC, H\.264 \(transcoded from H\.265\)$/,
    );
    const badge = page.locator('camstack-player .badge.mode');
    assert.match((await badge.textContent()) ?? '', /WebRTC · H\.264 \(transcoded\)/);
    assert.match((await badge.getAttribute('title')) ?? '', /H\.264 \(transcoded from H\.265\)/);
    // Frames advance.
    const before = (await playerStates(page))[0]?.frames ?? 0;
    await page.waitForTimeout(2000);
    const later = (await playerStates(page))[0]?.frames ?? 0;
    assert.ok(later - before >= 10, `${later - before} frames in 2 s`);
    assert.equal(transcoders().length, 1, 'one FFmpeg transcodes for the page');

    // The page goes away: go2rtc stops the transcode.
    await rig.closePages();
    await eventually('the transcode stopped', 30_000, async () => assert.equal(transcoders().length, 0));
  });

  it('live without WebRTC: MSE fails on H.265, then plays the H.264 transcode', async (t) => {
    const { page } = await rig.open(`camera/${CAM}`, { initScript: DISABLE_WEBRTC });
    const st = await playing(page, 'the H.265 camera playing over MSE');
    t.diagnostic(`mode ${st.mode}, reason: ${st.reason}`);
    assert.equal(st.mode, 'mse');
    assert.equal(st.transcoded, true);
    assert.match(st.reason, /MSE: this browser cannot decode H\.265: using MSE, H\.264 \(transcoded from H\.265\)$/);
    const before = (await playerStates(page))[0]?.frames ?? 0;
    await page.waitForTimeout(2000);
    const later = (await playerStates(page))[0]?.frames ?? 0;
    assert.ok(later - before >= 10, `${later - before} frames in 2 s`);
    await rig.closePages();
    await eventually('the transcode stopped', 30_000, async () => assert.equal(transcoders().length, 0));
  });

  it('live over MJPEG: FFmpeg decodes H.265 on the server, the picture changes, no H.264 transcode', async () => {
    const { page } = await rig.open(`camera/${CAM}`);
    await page.locator('camstack-player').evaluate((el) => {
      (el as unknown as { modes: string }).modes = 'mjpeg';
    });
    await eventually('MJPEG playing', 60_000, async () => {
      const [st] = await playerStates(page);
      assert.equal(st?.phase, 'playing', JSON.stringify(st));
      assert.equal(st?.mode, 'mjpeg', JSON.stringify(st));
    });
    assert.equal(await page.locator('camstack-player').evaluate((el) => el.hasAttribute('transcoded')), false);
    const hashes = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const png = await page.locator('camstack-player .stage img').screenshot();
      hashes.add(createHash('sha1').update(png).digest('hex'));
      await page.waitForTimeout(400);
    }
    assert.ok(hashes.size >= 2, 'the MJPEG picture keeps changing');
    assert.equal(transcoders().length, 0, 'MJPEG needs no go2rtc transcode');
    await rig.closePages();
  });

  it('recordings: says H.265 cannot play here, plays it transcoded on request, downloads H.264', async (t) => {
    await eventually('30 s recorded', 90_000, async () => {
      const tl = await rig.api<{ recordedSeconds: number }>(`/api/cameras/${CAM}/timeline?day=${dayOf(new Date())}`);
      assert.ok(tl.recordedSeconds >= 30, `recorded ${tl.recordedSeconds} s`);
    });
    const { page } = await rig.open(`recordings?camera=${CAM}`);
    const notice = page.locator('.codec-notice');
    await eventually('the H.265 notice', 30_000, async () =>
      assert.match((await notice.textContent()) ?? '', /records H\.265, which this browser cannot play/),
    );
    // The span download is offered as H.264.
    assert.equal(await page.locator('input.export-h264').isChecked(), true);
    assert.match((await page.locator('a.export').getAttribute('href')) ?? '', /transcode=h264/);

    await page.locator('button.transcode').click();
    assert.match((await notice.textContent()) ?? '', /Playing H\.264, transcoded from H\.265/);
    // Well inside the recording (MediaMTX's recording clock may lag the picture by a few seconds).
    const chosen = new Date(Math.floor(Date.now() / 1000) * 1000 - 20_000);
    await page.locator('input.goto').fill(hms(chosen));
    await page.locator('input.goto').dispatchEvent('change');
    const v = await eventually('the transcoded recording playing', 60_000, async () => {
      const r = (await page.evaluate(RECORDING_VIDEO)) as {
        width: number;
        currentTime: number;
        src: string;
        distinct: number;
      };
      assert.ok(r.width === 640 && r.currentTime > 1, JSON.stringify(r));
      return r;
    });
    t.diagnostic(`playing ${v.src.replace(/^.*export\.mp4/, 'export.mp4')} at ${v.currentTime.toFixed(1)} s`);
    assert.match(v.src, /transcode=h264/);
    assert.ok(v.distinct >= 4, 'a picture, not a blank frame');
    assert.equal(await page.locator('.error-text[role="alert"]').count(), 0);
  });
});
