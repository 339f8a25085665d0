/**
 * The panel's live view end to end: the built panel served by the real server (static plugin),
 * reached through an ingress-like reverse proxy under `/api/hassio_ingress/<token>/` (so any URL
 * that is not relative fails), real Chromium, real engines and two synthetic cameras.
 *
 * - static serving: cache headers, `<base href>` from X-Ingress-Path, client-route fallback;
 * - the wall plays every camera (frames advancing), with state and viewer count;
 * - WebRTC taken away in the browser → MSE, with the reason shown;
 * - off-screen tiles and hidden tabs release their streams (server viewer counts drop to 0);
 * - 50 open/close cycles of <camstack-player> leave no peer connection, socket or viewer behind.
 * The fallbacks to MJPEG are in panel-fallbacks.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fileEntry, IMMUTABLE, pickEncoding, REVALIDATE, withBase } from '../../server/src/http/static.js';
import { DISABLE_WEBRTC } from '../helpers/browser.js';
import {
  cspViolations,
  eventually,
  type PanelRig,
  panelCounts,
  playerStates,
  startPanelRig,
  viewers,
} from './panel-support.js';

const CAMS = [
  { id: 'front_door', name: 'Front door', sim: 'cam1', audio: true },
  { id: 'garden', name: 'Garden', sim: 'cam2', audio: false },
];

describe('static serving: pure parts', () => {
  it('puts one <base href> into the head, replacing any', () => {
    const html = '<!doctype html><html><head><meta charset="utf-8"><base href="/old/"></head><body></body></html>';
    const out = withBase(html, '/api/hassio_ingress/abc/');
    assert.equal(out.match(/<base /g)?.length, 1);
    assert.ok(out.includes('<head>\n    <base href="/api/hassio_ingress/abc/">'), out);
    assert.ok(withBase('<p>x</p>', '/').startsWith('<base href="/">'));
    assert.ok(!withBase('<head></head>', '/"><script>').includes('"><script>'), 'quotes and tags are dropped');
  });

  it('negotiates br, then gzip, honouring q=0', () => {
    assert.equal(pickEncoding('gzip, deflate, br'), 'br');
    assert.equal(pickEncoding('gzip;q=1.0, br;q=0'), 'gzip');
    assert.equal(pickEncoding('*'), 'gzip');
    assert.equal(pickEncoding('identity'), null);
    assert.equal(pickEncoding(undefined), null);
  });

  it('caches hashed assets for a year and revalidates everything else', () => {
    assert.equal(fileEntry('assets/index-abc123.js', Buffer.alloc(2000, 'a')).cacheControl, IMMUTABLE);
    assert.equal(fileEntry('favicon.svg', Buffer.from('<svg/>')).cacheControl, REVALIDATE);
    const small = fileEntry('assets/x.css', Buffer.from('a{}'));
    assert.equal(small.gzip, null, 'tiny files are not compressed');
    const big = fileEntry('assets/x.js', Buffer.alloc(4000, 'x'));
    assert.ok(big.gzip && big.br && big.br.length < 4000);
  });
});

describe('panel: live view through ingress', { timeout: 600_000 }, () => {
  let rig: PanelRig;

  before(async () => {
    rig = await startPanelRig({ cameras: CAMS });
  });

  after(async () => {
    await rig?.close();
  });

  it('serves the built panel: base href from X-Ingress-Path, no-cache index, immutable assets, route fallback', async () => {
    const index = await fetch(rig.proxy.url);
    assert.equal(index.status, 200);
    assert.match(index.headers.get('content-type') ?? '', /^text\/html/);
    assert.equal(index.headers.get('cache-control'), 'no-cache');
    assert.ok(index.headers.get('etag'));
    assert.match(index.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    const html = await index.text();
    assert.ok(html.includes(`<base href="${rig.proxy.prefix}/">`), html);
    const asset = /src="\.\/(assets\/index-[\w-]+\.js)"/.exec(html)?.[1];
    assert.ok(asset, `the index names its hashed script with a relative URL:\n${html}`);

    const js = await fetch(`${rig.proxy.url}${asset}`, { headers: { 'accept-encoding': 'gzip' } });
    assert.equal(js.status, 200);
    assert.equal(js.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.match(js.headers.get('content-type') ?? '', /^text\/javascript/);
    assert.equal(js.headers.get('content-encoding'), 'gzip');
    const again = await fetch(`${rig.proxy.url}${asset}`, {
      headers: { 'if-none-match': js.headers.get('etag') ?? '' },
    });
    assert.equal(again.status, 304);

    // A client route answers index.html; the direct port gets base "/".
    const route = await fetch(`${rig.proxy.url}recordings?camera=garden`);
    assert.equal(route.status, 200);
    assert.ok((await route.text()).includes(`<base href="${rig.proxy.prefix}/">`));
    const direct = await (await fetch(`${rig.sp.baseUrl}/camera/garden`)).text();
    assert.ok(direct.includes('<base href="/">'), direct);
    // The API keeps its own JSON 404; a missing asset is a 404, not index.html.
    const api404 = await fetch(`${rig.sp.baseUrl}/api/nope`);
    assert.equal(api404.status, 404);
    assert.match(api404.headers.get('content-type') ?? '', /json/);
    assert.equal((await fetch(`${rig.sp.baseUrl}/assets/missing-123.js`)).status, 404);
    assert.equal((await fetch(`${rig.sp.baseUrl}/.env`)).status, 404);
  });

  it('the wall plays every camera (frames advancing), with its state and viewer count, all under the prefix', async () => {
    const { page, errors } = await rig.open('');
    await eventually('every tile playing', 45_000, async () => {
      const states = await playerStates(page);
      assert.equal(states.length, CAMS.length, JSON.stringify(states));
      for (const s of states) assert.equal(s.phase, 'playing', JSON.stringify(states));
    });
    const before = await playerStates(page);
    await page.waitForTimeout(1500);
    const later = await playerStates(page);
    for (const s of later) {
      const b = before.find((x) => x.camera === s.camera);
      assert.equal(s.mode, 'webrtc', JSON.stringify(s));
      assert.equal(s.reason, '');
      assert.ok(s.frames > (b?.frames ?? 0) + 5, `frames advance on ${s.camera}: ${b?.frames} → ${s.frames}`);
    }
    for (const c of CAMS) {
      const tile = page.locator(`article.tile[data-camera="${c.id}"]`);
      await eventually(`${c.id} streaming with 1 viewer`, 20_000, async () => {
        assert.equal(await tile.locator('.chip.state').getAttribute('data-state'), 'streaming');
        assert.equal(await tile.locator('.chip.viewers .count').textContent(), '1');
      });
      assert.equal(await tile.locator('header a').textContent(), c.name);
      assert.equal(await viewers(rig.sp.baseUrl, c.id), 1);
    }
    // The mode is shown on the picture.
    assert.equal(await page.locator('camstack-player .badge').first().textContent(), 'WebRTC');
    assert.deepEqual(rig.proxy.outside, [], 'every request stayed under the ingress prefix');
    assert.ok(rig.proxy.requests.some((r) => r.startsWith('POST /api/cameras/front_door/webrtc')));
    assert.deepEqual(await cspViolations(page), []);
    assert.deepEqual(errors, []);
  });

  it('WebRTC unavailable in the browser: MSE over the WebSocket takes over and says why', async () => {
    const { page } = await rig.open('', { initScript: DISABLE_WEBRTC });
    await eventually('every tile playing MSE', 45_000, async () => {
      const states = await playerStates(page);
      assert.equal(states.length, CAMS.length);
      for (const s of states) {
        assert.equal(s.phase, 'playing', JSON.stringify(states));
        assert.equal(s.mode, 'mse', JSON.stringify(states));
        assert.equal(s.reason, 'WebRTC unavailable in this browser: using MSE');
      }
    });
    const before = await playerStates(page);
    await page.waitForTimeout(1500);
    for (const s of await playerStates(page)) {
      const b = before.find((x) => x.camera === s.camera);
      assert.ok(s.frames > (b?.frames ?? 0) + 5, `MSE frames advance on ${s.camera}`);
    }
    const text = await page.locator('camstack-player .reason').first().textContent();
    assert.match(text ?? '', /using MSE/);
    assert.equal(await page.locator('camstack-player .badge').first().textContent(), 'MSE');
    assert.ok(
      rig.proxy.requests.some((r) => r === 'UPGRADE /api/cameras/garden/ws'),
      'the socket went through the proxy',
    );
    const counts = await panelCounts(page);
    assert.equal(counts.pcCreated, 0);
    assert.equal(counts.wsOpen, CAMS.length);
  });

  it('off-screen tiles and hidden tabs release their streams, and resume when seen again', async () => {
    // Close every other page first: the viewer counts must be this page's alone.
    await rig.closePages();
    for (const c of CAMS)
      await eventually(`${c.id}: no viewer`, 60_000, async () => assert.equal(await viewers(rig.sp.baseUrl, c.id), 0));
    // A phone: one column, the second tile below the fold.
    const { page } = await rig.open('', { viewport: { width: 390, height: 320 } });
    await eventually('the first tile playing, the second never started', 30_000, async () => {
      const [first, second] = await playerStates(page);
      assert.equal(first?.phase, 'playing');
      assert.equal(second?.phase, 'idle');
    });
    assert.equal(await viewers(rig.sp.baseUrl, 'garden'), 0);
    // Room below the wall, then the second tile scrolled to the top: the first is entirely above.
    await page.evaluate(
      `(() => { const s = document.createElement('div'); s.style.height = '2000px'; document.body.append(s); })()`,
    );
    await page
      .locator('article.tile[data-camera="garden"]')
      .evaluate((el) => (el as unknown as { scrollIntoView: (o: unknown) => void }).scrollIntoView({ block: 'start' }));
    await eventually('the second tile playing once scrolled to', 30_000, async () => {
      assert.equal((await playerStates(page))[1]?.phase, 'playing');
    });
    // The first tile is now off screen: released after its delay (3 s).
    await eventually('the first tile paused and released', 20_000, async () => {
      const [first] = await playerStates(page);
      assert.equal(first?.phase, 'paused');
      assert.match(first?.reason ?? '', /off screen/);
      assert.equal(await viewers(rig.sp.baseUrl, 'front_door'), 0);
    });
    assert.equal((await panelCounts(page)).pcOpen, 1);
    // The tab goes hidden: everything is released.
    await page.evaluate(
      `Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
       Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
       document.dispatchEvent(new Event('visibilitychange'));`,
    );
    await eventually('every stream released while hidden', 20_000, async () => {
      const states = await playerStates(page);
      assert.ok(
        states.every((s) => s.phase === 'paused'),
        JSON.stringify(states),
      );
      assert.equal((await panelCounts(page)).pcOpen, 0);
      assert.equal(await viewers(rig.sp.baseUrl, 'garden'), 0);
    });
    assert.match((await playerStates(page))[1]?.reason ?? '', /tab is hidden/);
    await page.evaluate(
      `delete document.hidden; delete document.visibilityState; document.dispatchEvent(new Event('visibilitychange'));`,
    );
    await eventually('the visible tile playing again', 30_000, async () => {
      assert.equal((await playerStates(page))[1]?.phase, 'playing');
    });
  });

  it('50 open/close cycles of <camstack-player> leave no peer connection, socket or viewer behind', async () => {
    await rig.closePages();
    // Settings shows no player: the page only loads the element definitions.
    const { page } = await rig.open('settings');
    await page.waitForSelector('camstack-settings');
    const t0 = Date.now();
    const result = (await page.evaluate(`(async () => {
      const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
      const played = { webrtc: 0, mse: 0 };
      for (let i = 0; i < 50; i++) {
        const el = document.createElement('camstack-player');
        el.setAttribute('camera', i % 2 ? 'garden' : 'front_door');
        // Cycles 0-29: the default order (WebRTC); 30-49: MSE only (WebSockets).
        if (i >= 30) el.setAttribute('modes', 'mse,mjpeg');
        el.style.width = '320px';
        document.body.append(el);
        if (i % 5 === 4) {
          // Every fifth cycle plays before it goes; the others leave at some point of connecting.
          const until = Date.now() + 20000;
          while (el.phase !== 'playing' && Date.now() < until) await sleep(50);
          if (el.phase === 'playing') played[el.mode]++;
        } else {
          await sleep((i * 37) % 400);
        }
        el.remove();
      }
      return played;
    })()`)) as { webrtc: number; mse: number };
    assert.ok(result.webrtc >= 5 && result.mse >= 3, `players played before leaving: ${JSON.stringify(result)}`);
    const counts = await eventually('nothing left open in the page', 15_000, async () => {
      const c = await panelCounts(page);
      assert.equal(c.pcOpen, 0, JSON.stringify(c));
      assert.equal(c.wsOpen, 0, JSON.stringify(c));
      return c;
    });
    assert.ok(counts.pcCreated >= 20, `peer connections were made: ${JSON.stringify(counts)}`);
    assert.ok(counts.wsCreated >= 15, `sockets were made: ${JSON.stringify(counts)}`);
    for (const c of CAMS) {
      await eventually(`${c.id}: viewers back to 0 on the server`, 90_000, async () =>
        assert.equal(await viewers(rig.sp.baseUrl, c.id), 0),
      );
    }
    assert.equal(await page.locator('camstack-player').count(), 0);
    process.stdout.write(`# 50 cycles in ${Date.now() - t0} ms; ${JSON.stringify(counts)}\n`);
  });
});
