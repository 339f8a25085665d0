/**
 * Instant first picture in Chromium: `<camstack-player>` shows the camera's cached snapshot as a
 * still (marked "still · … ago") while MSE connects, drops it when the first live frame shows,
 * and — on an 8 s-GOP camera held by the relay — starts at the cached keyframe (the first frame
 * shown is the start of the buffer, behind the edge) and then catches up with the live edge.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { addCamera, eventually, type PanelRig, startPanelRig } from './panel-support.js';

describe('player: poster, then live from the cached keyframe', { timeout: 300_000 }, () => {
  let rig: PanelRig;

  before(async () => {
    rig = await startPanelRig({ cameras: [] });
    await rig.sim.addCamera({ name: 'longgop', width: 320, height: 240, fps: 10, gopSeconds: 8 });
    await addCamera(rig.sp.baseUrl, {
      id: 'longgop',
      name: 'Long GOP',
      source: rig.sim.url('longgop'),
      recording: { continuous: true },
    });
    // A snapshot in the server's cache, as any dashboard thumbnail leaves one.
    await eventually('a snapshot taken', 60_000, async () => {
      const res = await fetch(`${rig.sp.baseUrl}/api/cameras/longgop/snapshot.jpg?width=640`);
      assert.equal(res.status, 200);
    });
  });

  after(async () => {
    await rig?.close();
  });

  it('the still poster shows first, goes when the video plays; playback reaches the live edge', async (t) => {
    const { page } = await rig.open('');
    // In the page: note when the still poster shows, when the player plays, when the poster goes.
    await page.evaluate(`(() => {
      const log = [];
      window.__log = log;
      const el = document.createElement('camstack-player');
      el.setAttribute('camera', 'longgop');
      el.setAttribute('modes', 'mse');
      el.setAttribute('keep-alive', '');
      el.style.cssText = 'position:fixed;top:0;left:0;width:320px;height:240px;z-index:99';
      document.body.append(el);
      const root = () => el.shadowRoot;
      const tick = () => {
        const poster = root()?.querySelector('.poster.shown');
        const still = root()?.querySelector('.badge.still');
        const video = root()?.querySelector('video');
        const playing = el.getAttribute('phase') === 'playing';
        if (poster && still && !log.some((e) => e.event === 'poster'))
          log.push({ at: performance.now(), event: 'poster' });
        if (playing && !log.some((e) => e.event === 'playing')) {
          const b = video?.buffered;
          const lag = b?.length ? b.end(b.length - 1) - (video?.currentTime ?? 0) : -1;
          log.push({ at: performance.now(), event: 'playing', lag });
          if (poster) log.push({ at: performance.now(), event: 'poster-still-shown' });
        }
        if (playing && !poster && !log.some((e) => e.event === 'poster-gone'))
          log.push({ at: performance.now(), event: 'poster-gone' });
        requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    })()`);
    type Entry = { at: number; event: string; lag?: number };
    const log = await eventually('the player plays and drops the poster', 60_000, async () => {
      const l = (await page.evaluate('window.__log')) as Entry[];
      assert.ok(
        l.some((e) => e.event === 'poster-gone'),
        JSON.stringify(l),
      );
      return l;
    });
    const events = log.map((e) => e.event);
    t.diagnostic(JSON.stringify(log));
    assert.ok(events.indexOf('poster') >= 0, 'the still poster was shown');
    assert.ok(events.indexOf('poster') < events.indexOf('playing'), 'before the live video');
    assert.ok(!events.includes('poster-still-shown'), 'gone once the first live frame shows');
    const stillText = await page
      .locator('camstack-player[modes="mse"]')
      .evaluate((el) => el.shadowRoot?.querySelector('.badge.still'));
    assert.equal(stillText, null, 'no "still" mark while live');
    // Caught up: the playhead reaches the buffered edge (within a second).
    await eventually('playback at the live edge', 30_000, async () => {
      const lag = await page.locator('camstack-player[modes="mse"]').evaluate((el) => {
        const v = el.shadowRoot?.querySelector('video');
        const b = v?.buffered;
        return b?.length ? b.end(b.length - 1) - (v?.currentTime ?? 0) : 99;
      });
      assert.ok(lag < 1, `lag ${lag}`);
    });
  });
});
