/**
 * Screenshots of the panel's four views (wall, camera, recordings, settings) at desktop
 * (1280×800) and phone (390×844) sizes, light and dark, written to the git-ignored
 * `screenshots/` folder: real Chromium, the real server, synthetic cameras (one recording 24/7,
 * with a protected clip), through the ingress-like prefix. Each page must also run without a
 * Content-Security-Policy violation.
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { cspViolations, eventually, type PanelRig, playerStates, root, SHOTS, startPanelRig } from './panel-support.js';

interface RecordingRow {
  id: string;
  inProgress: boolean;
}

const pad = (n: number) => String(n).padStart(2, '0');
const hms = (d: Date) => `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;

describe('panel: screenshots', { timeout: 600_000 }, () => {
  let rig: PanelRig;
  const clips = async () =>
    (await rig.api<{ items: RecordingRow[] }>('/api/recordings?camera=front_door&type=clip')).items.filter(
      (r) => !r.inProgress,
    );

  before(async () => {
    await mkdir(SHOTS, { recursive: true });
    rig = await startPanelRig({
      cameras: [
        {
          id: 'front_door',
          name: 'Front door',
          sim: 'cam1',
          recording: { continuous: true, retainDays: 1, clipRetainDays: 1, preRollSeconds: 3, clipSeconds: 2 },
        },
        { id: 'garden', name: 'Garden', sim: 'cam2', audio: false },
      ],
      env: { CAMSTACK_SEGMENT_SECONDS: '10', CAMSTACK_RECORDING_SCAN_MS: '1000' },
    });
  });

  after(async () => {
    await rig?.close();
  });

  it('screenshots: wall, camera, recordings, settings × desktop (1280×800) and phone (390×844) × light and dark', async () => {
    // A clip (protected) so the timeline and list show both marks.
    await rig.api('/api/cameras/front_door/clips', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ preRoll: 3, duration: 2 }),
    });
    await eventually('a second clip', 60_000, async () => assert.ok((await clips()).length >= 1));
    const first = (await clips())[0] as RecordingRow;
    await rig.api(`/api/recordings/${first.id}/protect`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ protected: true }),
    });
    const sizes = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } } as const;
    const written: string[] = [];
    for (const [size, viewport] of Object.entries(sizes)) {
      for (const scheme of ['light', 'dark'] as const) {
        const { page, context } = await rig.open('', { viewport, colorScheme: scheme });
        const shot = async (name: string) => {
          const file = join(SHOTS, `panel-${name}-${size}-${scheme}.png`);
          await page.evaluate('document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0)');
          await page.screenshot({ path: file, fullPage: true });
          written.push(file);
        };
        await eventually('wall playing', 45_000, async () => {
          const states = await playerStates(page);
          assert.ok(
            states.length >= 1 && states.every((s) => s.phase === 'playing' || s.phase === 'idle'),
            JSON.stringify(states),
          );
          assert.equal(states[0]?.phase, 'playing');
        });
        await page.waitForTimeout(800);
        await shot('wall');
        await page.locator('article.tile[data-camera="front_door"] header a').click();
        await eventually('camera view playing', 45_000, async () =>
          assert.equal((await playerStates(page))[0]?.phase, 'playing'),
        );
        await page.locator('dd[data-fact="resolution"]').waitFor();
        await page.waitForTimeout(800);
        await shot('camera');
        await page.locator('nav a[href="recordings"]').click();
        await page.locator('camstack-timeline .range').first().waitFor();
        await page.locator('input.goto').fill(hms(new Date(Date.now() - 15_000)));
        await page.locator('input.goto').dispatchEvent('change');
        await waitPlayback(page);
        await page.waitForTimeout(500);
        await shot('recordings');
        // At every zoom the timeline's time labels are readable: none runs into the next.
        const zooms = page.locator('.zoom[aria-label="Zoom"] button');
        for (let z = 0; z < (await zooms.count()); z++) {
          await zooms.nth(z).click();
          const labels = (
            await page
              .locator('camstack-timeline .ticks span')
              .evaluateAll((els) => els.map((e) => e.getBoundingClientRect()).map((r) => [r.left, r.right, r.width]))
          ).filter(([, , w]) => (w ?? 0) > 0) as [number, number, number][];
          assert.ok(labels.length >= 2, `${size}, zoom ${z}: ${labels.length} time labels`);
          for (let i = 1; i < labels.length; i++) {
            const [left] = labels[i] as [number, number, number];
            const [, right] = labels[i - 1] as [number, number, number];
            assert.ok(left >= right + 4, `${size}, zoom ${z}: time labels overlap: ${JSON.stringify(labels)}`);
          }
        }
        await page.locator('nav a[href="settings"]').click();
        await page.locator('.bar-row').first().waitFor();
        await shot('settings');
        assert.deepEqual(await cspViolations(page), []);
        await context.close();
      }
    }
    assert.equal(written.length, 16);
    process.stdout.write(`# screenshots: ${written.map((f) => f.slice(root.length)).join(', ')}\n`);
  });
});

/** Waits until the recording player shows frames. */
async function waitPlayback(page: Page): Promise<void> {
  await eventually('recording playback', 30_000, async () => {
    const t = (await page
      .locator('camstack-recordings .videos video.active')
      .evaluate((v) => (v as unknown as { currentTime: number }).currentTime)) as number;
    assert.ok(t > 0.3, `currentTime ${t}`);
  });
}
