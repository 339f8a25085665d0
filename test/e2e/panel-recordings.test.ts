/**
 * The panel's recording browser end to end, under the ingress-like prefix, in real Chromium
 * against the real server recording a synthetic camera 24/7 (10 s segments): the timeline shows
 * the recorded span; playing from a typed time or a click shows that time's picture (the camera's
 * drawn clock read back, ±2 s); filters; protect / unprotect; delete after a confirmation;
 * "expiring soon" (retention of one day).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Frame, Page } from 'playwright-core';
import {
  cspViolations,
  eventually,
  ffmpegPath,
  openPanel,
  type PanelRig,
  readClock,
  startPanelRig,
} from './panel-support.js';

interface RecordingRow {
  id: string;
  type: string;
  protected: boolean;
  inProgress: boolean;
  start: string;
  end: string;
}

/** The frame the recording player shows now, as gray pixels, with its position. */
const GRAB_FRAME = `(() => {
  const rec = document.querySelector('camstack-app').shadowRoot.querySelector('camstack-recordings');
  const v = rec.shadowRoot.querySelector('.videos video.active');
  const c = document.createElement('canvas');
  c.width = v.videoWidth;
  c.height = v.videoHeight;
  const ctx = c.getContext('2d', { willReadFrequently: true });
  ctx.drawImage(v, 0, 0);
  const px = ctx.getImageData(0, 0, c.width, c.height).data;
  const gray = new Uint8Array(c.width * c.height);
  for (let i = 0; i < gray.length; i++) gray[i] = (px[i * 4] * 299 + px[i * 4 + 1] * 587 + px[i * 4 + 2] * 114) / 1000;
  let s = '';
  for (let i = 0; i < gray.length; i += 8192) s += String.fromCharCode.apply(null, gray.subarray(i, i + 8192));
  return { width: c.width, height: c.height, position: rec.position, currentTime: v.currentTime, data: btoa(s) };
})()`;

const pad = (n: number) => String(n).padStart(2, '0');
const hms = (d: Date) => `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
const dayOf = (d: Date) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;

describe('panel: recording browser', { timeout: 600_000 }, () => {
  let rig: PanelRig;
  const clips = async () =>
    (await rig.api<{ items: RecordingRow[] }>('/api/recordings?camera=front_door&type=clip')).items.filter(
      (r) => !r.inProgress,
    );

  before(async () => {
    rig = await startPanelRig({
      cameras: [
        {
          id: 'front_door',
          name: 'Front door',
          sim: 'cam1',
          recording: { continuous: true, retainDays: 1, clipRetainDays: 1, preRollSeconds: 2, clipSeconds: 2 },
        },
      ],
      env: { CAMSTACK_SEGMENT_SECONDS: '10', CAMSTACK_RECORDING_SCAN_MS: '1000' },
    });
    // A clip (2 s before the request, 2 s after) and half a minute of recording.
    await eventually('recording under way', 60_000, async () => {
      const tl = await rig.api<{ recordedSeconds: number }>(
        `/api/cameras/front_door/timeline?day=${dayOf(new Date())}`,
      );
      assert.ok(tl.recordedSeconds >= 8, `recorded ${tl.recordedSeconds} s`);
    });
    await rig.api('/api/cameras/front_door/clips', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({}),
    });
    await eventually('30 s recorded and the clip saved', 90_000, async () => {
      const tl = await rig.api<{ recordedSeconds: number }>(
        `/api/cameras/front_door/timeline?day=${dayOf(new Date())}`,
      );
      assert.ok(tl.recordedSeconds >= 30, `recorded ${tl.recordedSeconds} s`);
      assert.ok((await clips()).length >= 1, 'the clip saved');
    });
  });

  after(async () => {
    await rig?.close();
  });

  it('recording browser: the timeline shows the recorded span; playing from a chosen time shows that time (±2 s)', async (t) => {
    const { page } = await rig.open('recordings?camera=front_door');
    await eventually('a recorded range on the timeline', 30_000, async () => {
      const box = await page.locator('camstack-timeline .range').first().boundingBox();
      assert.ok(box && box.width > 2, `range box ${JSON.stringify(box)}`);
    });
    assert.match((await page.locator('.recorded').textContent()) ?? '', /recorded/);
    assert.equal(await page.locator('camstack-timeline .now').count(), 1, 'the now line');

    // Typed time: 20 s ago.
    const chosen = new Date(Math.floor(Date.now() / 1000) * 1000 - 20_000);
    await page.locator('input.goto').fill(hms(chosen));
    await page.locator('input.goto').dispatchEvent('change');
    const frame = await grabPlaying(page);
    const expected = chosen.getTime() + frame.currentTime * 1000;
    const clock = readClock(ffmpegPath(), 'cam1', frame, new Date(expected), 12);
    // The clock shows whole seconds: the middle of the shown second estimates the frame's time.
    const offset = (clock.at.getTime() + 500 - expected) / 1000;
    t.diagnostic(
      `typed ${hms(chosen)}: frame clock ${hms(clock.at)} at +${frame.currentTime.toFixed(2)} s, offset ${offset.toFixed(2)} s (match ${clock.score.toFixed(3)}, next best ${clock.runnerUp.toFixed(3)})`,
    );
    assert.ok(
      Math.abs(offset) <= 2,
      `the picture shows ${clock.at.toISOString()}, expected ${new Date(expected).toISOString()}`,
    );
    assert.ok(Math.abs((frame.position ?? 0) - expected) <= 1000, 'the panel shows the same position');
    assert.ok(clock.score < clock.runnerUp, 'the clock match is unambiguous');

    // Click on the timeline (zoomed in): playback from there, the picture and the panel agree.
    const range = (await page.locator('camstack-timeline .range').first().boundingBox()) as NonNullable<
      Awaited<ReturnType<ReturnType<Page['locator']>['boundingBox']>>
    >;
    await page.mouse.click(range.x + range.width * 0.3, range.y + range.height / 2);
    const clicked = await grabPlaying(page);
    const shown = readClock(ffmpegPath(), 'cam1', clicked, new Date(clicked.position ?? 0), 12);
    const diff = (shown.at.getTime() + 500 - (clicked.position ?? 0)) / 1000;
    t.diagnostic(`clicked: panel ${new Date(clicked.position ?? 0).toISOString()}, picture ${shown.at.toISOString()}`);
    assert.ok(
      Math.abs(diff) <= 2,
      `after a click the picture shows ${shown.at.toISOString()}, the panel ${new Date(clicked.position ?? 0).toISOString()}`,
    );
    assert.deepEqual(await cspViolations(page), []);
  });

  it('recording browser: a time typed while the day is still loading plays once it has loaded', async () => {
    // A slow add-on (a Pi under load): the day's timeline answers only after the time is typed.
    let release = () => {};
    const held = new Promise<void>((r) => {
      release = r;
    });
    const { page } = await rig.open('recordings?camera=front_door', {
      prepare: (context) =>
        context.route(/\/api\/cameras\/front_door\/timeline\?/, async (route) => {
          await held;
          await route.continue();
        }),
    });
    const chosen = new Date(Math.floor(Date.now() / 1000) * 1000 - 20_000);
    await page.locator('input.goto').fill(hms(chosen));
    await page.locator('input.goto').dispatchEvent('change');
    assert.equal(
      await page.locator('camstack-recordings video').count(),
      0,
      'nothing can play before the day is known',
    );
    release();
    const frame = await grabPlaying(page);
    assert.ok(
      Math.abs((frame.position ?? 0) - chosen.getTime() - frame.currentTime * 1000) <= 1000,
      'from the typed time',
    );
    await rig.closePages();
  });

  it('recording browser: filters, protect / unprotect, delete with confirmation, "expiring soon"', async () => {
    const saved = await clips();
    assert.ok(saved.length >= 1, 'a clip from the first test');
    const rid = (saved[0] as RecordingRow).id;
    const { page } = await rig.open('recordings?camera=front_door&clips=1');
    const row = page.locator(`li[data-rid="${rid}"]`);
    await row.waitFor();
    assert.ok(
      (await page.locator('ul.list li').evaluateAll((els) => els.map((e) => e.getAttribute('data-type')))).every(
        (x) => x === 'clip',
      ),
      'clips only',
    );
    // Retention of 1 day: everything here expires within a day.
    await page.locator('.badge-expiring').waitFor();
    assert.equal(await row.locator('.chip.expiring').count(), 1);
    // The thumbnail: the server's JPEG of the first keyframe, loaded lazily once the row is near.
    await row.scrollIntoViewIfNeeded();
    const thumb = row.locator('camstack-recording-thumb img');
    assert.equal(await thumb.getAttribute('loading'), 'lazy');
    assert.equal(await thumb.getAttribute('src'), `api/recordings/${rid}/thumbnail.jpg`, 'a relative URL');
    await eventually('a thumbnail picture', 30_000, async () => {
      const size = await thumb.evaluate((img) => {
        const i = img as unknown as { complete: boolean; naturalWidth: number; naturalHeight: number };
        return i.complete ? [i.naturalWidth, i.naturalHeight] : [0, 0];
      });
      assert.deepEqual(size, [320, 180]);
    });

    await row.locator('button.protect').click();
    await eventually('protected', 15_000, async () => {
      assert.equal(await row.locator('button.protect').getAttribute('aria-pressed'), 'true');
      assert.equal((await rig.api<RecordingRow>(`/api/recordings/${rid}`)).protected, true);
    });
    assert.ok(await row.locator('button.delete').isDisabled(), 'a protected clip cannot be deleted');
    await eventually('a protected clip does not expire', 10_000, async () =>
      assert.equal(await row.locator('.chip.expiring').count(), 0),
    );
    // The protected filter shows it.
    await page.locator('input.protected-only').check();
    await eventually('only protected rows', 15_000, async () => {
      const flags = await page
        .locator('ul.list li')
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-protected')));
      assert.ok(flags.length >= 1 && flags.every((f) => f === 'true'), JSON.stringify(flags));
    });
    assert.match(page.url(), /protected=1/);
    await page.locator('input.protected-only').uncheck();
    await row.locator('button.protect').click();
    await eventually('unprotected', 15_000, async () =>
      assert.equal((await rig.api<RecordingRow>(`/api/recordings/${rid}`)).protected, false),
    );
    // Delete: the dialog asks first.
    await row.locator('button.delete').click();
    await page.locator('camstack-confirm button.danger-ok').click();
    await eventually('deleted', 15_000, async () => {
      assert.equal(await row.count(), 0);
      assert.equal((await fetch(`${rig.sp.baseUrl}/api/recordings/${rid}`)).status, 404);
    });
  });

  it('recording browser: a camera event is on the timeline and in the strip with its picture; a click plays from just before it', async (t) => {
    const { page } = await rig.open('recordings?camera=front_door');
    await page.locator('camstack-timeline .range').first().waitFor();
    const reported = await rig.api<{ event: { id: string; start: string } }>('/api/cameras/front_door/events', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'person', state: 'pulse', seconds: 2 }),
    });
    const id = reported.event.id;
    // No reload: the camera.event stream brings it in.
    await eventually('the event on the timeline', 30_000, async () => {
      const box = await page.locator(`camstack-timeline .event[data-event="${id}"]`).boundingBox();
      assert.ok(box && box.width >= 1, `event box ${JSON.stringify(box)}`);
    });
    const card = page.locator(`camstack-event-strip button[data-event="${id}"]`);
    await eventually('its card with the picture of the moment', 30_000, async () => {
      const w = await card.locator('img').evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth);
      assert.ok(w > 0, `naturalWidth ${w}`);
    });
    assert.match((await card.textContent()) ?? '', /Person/);
    await card.click();
    const frame = await grabPlaying(page);
    const expected = Date.parse(reported.event.start) - 3000;
    assert.ok(
      Math.abs((frame.position ?? 0) - frame.currentTime * 1000 - expected) <= 1500,
      'playback starts 3 s before the event',
    );
    const clock = readClock(ffmpegPath(), 'cam1', frame, new Date(frame.position ?? expected), 12);
    const offset = (clock.at.getTime() + 500 - (frame.position ?? 0)) / 1000;
    t.diagnostic(
      `event ${reported.event.start}: playing ${new Date(frame.position ?? 0).toISOString()}, picture ${clock.at.toISOString()}`,
    );
    assert.ok(Math.abs(offset) <= 2, `the picture shows ${clock.at.toISOString()}`);
    assert.deepEqual(await cspViolations(page), []);
    // The event's clip ends 10 s after the event (its post-roll): a clip asked for before that
    // would extend it, so the next test waits for it.
    await eventually('the event clip saved', 90_000, async () => {
      const ev = await rig.api<{ clipId: string | null }>(`/api/camera-events/${id}`);
      assert.ok(ev.clipId, 'the event has a clip');
      const clip = await rig.api<{ inProgress: boolean }>(`/api/recordings/${ev.clipId}`);
      assert.equal(clip.inProgress, false);
    });
  });

  it("a notification's link (Home Assistant's ingress page with ?camstack_event=) opens the panel playing that event", async (t) => {
    const events = await rig.api<{ items: { id: string; start: string }[] }>(
      '/api/camera-events?camera=front_door&order=desc&limit=1',
    );
    const event = events.items[0];
    assert.ok(event, 'the event of the test before');
    // What a tap opens: Home Assistant's page for the add-on, which frames the panel at its root.
    const link = `${new URL(rig.proxy.url).origin}/hassio/ingress/local_camstack?camstack_event=${event.id}`;
    const { page, context } = await openPanel(rig.browser, link);
    try {
      const frame = await eventually('the panel in the ingress frame', 30_000, async () => {
        const f = page.frames().find((one) => one !== page.mainFrame() && one.url().startsWith(rig.proxy.url));
        assert.ok(f, 'the iframe');
        return f;
      });
      const played = await grabPlaying(frame);
      const expected = Date.parse(event.start) - 3000;
      const position = (played.position ?? 0) - played.currentTime * 1000;
      t.diagnostic(`event ${event.start}: playback from ${new Date(position).toISOString()}`);
      assert.ok(Math.abs(position - expected) <= 1500, 'playback starts 3 s before the event');
      assert.match(
        frame.url(),
        /recordings\?camera=front_door&day=\d{4}-\d\d-\d\d$/,
        'the link is not kept in the URL',
      );
    } finally {
      await context.close();
    }
  });

  it('recording browser: a clip made elsewhere appears without a reload (events), with its trigger and thumbnail', async () => {
    const { page } = await rig.open('recordings?camera=front_door&clips=1');
    await page.locator('camstack-timeline .range').first().waitFor();
    // Nothing but the events may bring the clip in: no reload, and the page stays the same document.
    await page.evaluate(() => {
      (globalThis as unknown as { __sameDocument: boolean }).__sameDocument = true;
    });
    const started = await rig.api<{ clip: { id: string } }>('/api/cameras/front_door/clips', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ duration: 2, trigger: 'doorbell' }),
    });
    const row = page.locator(`li[data-rid="${started.clip.id}"]`);
    await row.waitFor({ timeout: 30_000 });
    await eventually('the clip saved, shown with its trigger', 90_000, async () => {
      assert.equal(await row.locator('.chip.connecting').count(), 0, 'no longer recording');
      assert.match((await row.textContent()) ?? '', /Clip · doorbell/);
    });
    const thumb = row.locator('camstack-recording-thumb img');
    await row.scrollIntoViewIfNeeded();
    await eventually('its thumbnail', 30_000, async () => {
      const w = await thumb.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth);
      assert.ok(w > 0, `naturalWidth ${w}`);
    });
    assert.equal(
      await page.evaluate(() => (globalThis as unknown as { __sameDocument?: boolean }).__sameDocument),
      true,
      'not reloaded',
    );
    assert.deepEqual(await cspViolations(page), []);
  });
});
/** Waits until the recording player shows frames, then grabs one. */
async function grabPlaying(page: Page | Frame): Promise<{
  width: number;
  height: number;
  position: number | null;
  currentTime: number;
  data: Uint8Array;
}> {
  return eventually('recording playback', 30_000, async () => {
    const f = (await page.evaluate(GRAB_FRAME)) as {
      width: number;
      height: number;
      position: number | null;
      currentTime: number;
      data: string;
    };
    assert.ok(f.width > 0 && f.currentTime > 0.3, `playing (${f.width}x${f.height} at ${f.currentTime})`);
    return { ...f, data: new Uint8Array(Buffer.from(f.data, 'base64')) };
  });
}
