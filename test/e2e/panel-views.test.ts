/**
 * The panel's camera view and settings end to end, under the ingress-like prefix, in real
 * Chromium against the real server: the single-camera view (facts, snapshot download, continuous
 * switch, a clip with pre-roll) and the settings (a rejected camera with its errors next to the
 * fields, adding, live updates on another page, removing after a confirmation).
 */
import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cspViolations, eventually, type PanelRig, playerStates, SHOTS, startPanelRig } from './panel-support.js';

const pad = (n: number) => String(n).padStart(2, '0');
const dayOf = (d: Date) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;

describe('panel: camera view and settings', { timeout: 600_000 }, () => {
  let rig: PanelRig;
  const clips = async () =>
    (
      await rig.api<{ items: { id: string; inProgress: boolean }[] }>('/api/recordings?camera=front_door&type=clip')
    ).items.filter((r) => !r.inProgress);

  before(async () => {
    await mkdir(SHOTS, { recursive: true });
    rig = await startPanelRig({
      cameras: [
        {
          id: 'front_door',
          name: 'Front door',
          sim: 'cam1',
          recording: { continuous: true, preRollSeconds: 5, clipSeconds: 3 },
        },
        { id: 'garden', name: 'Garden', sim: 'cam2', audio: false },
      ],
      env: { CAMSTACK_SEGMENT_SECONDS: '10', CAMSTACK_RECORDING_SCAN_MS: '1000' },
    });
  });

  after(async () => {
    await rig?.close();
  });

  it('single camera view: live player, stream facts, snapshot download, continuous switch, save clip', async () => {
    const { page, errors } = await rig.open('camera/garden');
    await eventually('the player playing', 45_000, async () =>
      assert.equal((await playerStates(page))[0]?.phase, 'playing'),
    );
    await eventually('stream facts from the live status', 20_000, async () => {
      assert.equal(await page.locator('dd[data-fact="resolution"]').textContent(), '640x360');
      assert.match((await page.locator('dd[data-fact="codec"]').textContent()) ?? '', /264/i);
      assert.match((await page.locator('dd[data-fact="fps"]').textContent()) ?? '', /fps/);
      assert.match((await page.locator('dd[data-fact="uptime"]').textContent()) ?? '', /s$/);
    });
    // Snapshot: a real JPEG download, named after the camera.
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('a.snapshot').click()]);
    assert.match(download.suggestedFilename(), /^garden_.*\.jpg$/);
    const jpeg = await readFile((await download.path()) as string);
    assert.equal(jpeg[0], 0xff);
    assert.equal(jpeg[1], 0xd8);
    // Continuous recording on, then off again, through PUT api/cameras/:id.
    await page.locator('#continuous').click();
    await eventually('continuous on', 15_000, async () =>
      assert.equal(
        (await rig.api<{ recording: { continuous: boolean } }>('/api/cameras/garden')).recording.continuous,
        true,
      ),
    );
    await page.locator('.toast').waitFor();
    assert.match((await page.locator('.toast').textContent()) ?? '', /Continuous recording is on/);
    await page.locator('#continuous').click();
    await eventually('continuous off', 15_000, async () =>
      assert.equal(
        (await rig.api<{ recording: { continuous: boolean } }>('/api/cameras/garden')).recording.continuous,
        false,
      ),
    );

    // Save clip on the recorded camera: pre-roll from the 24/7 recording.
    await page.goto(`${rig.proxy.url}camera/front_door`);
    await eventually('some recording first', 60_000, async () => {
      const tl = await rig.api<{ recordedSeconds: number }>(
        `/api/cameras/front_door/timeline?day=${dayOf(new Date())}`,
      );
      assert.ok(tl.recordedSeconds >= 15, `recorded ${tl.recordedSeconds} s`);
    });
    await page.locator('button.save-clip').click();
    await page.locator('.toast').waitFor();
    assert.match(
      (await page.locator('.toast').textContent()) ?? '',
      /Recording clip clip_\d+: 5 s before now, 3 s after/,
    );
    await eventually('the clip saved', 60_000, async () => assert.ok((await clips()).length >= 1));
    assert.deepEqual(await cspViolations(page), []);
    assert.deepEqual(errors, []);
  });

  it('settings: an invalid camera is refused with the errors next to its fields; a valid one is added, shown live elsewhere, then removed', async () => {
    const wall = await rig.open('');
    const { page } = await rig.open('settings');
    await page.locator('button.add').click();
    await page.locator('#f-id').fill('Bad Id!');
    await page.locator('#f-name').fill('Porch');
    await page.locator('#f-source').fill(rig.sim.url('cam2'));
    await page.locator('#f-retainDays').fill('0');
    await page.locator('form button[type="submit"]').click();
    await page.locator('[data-field="id"] .field-error').waitFor();
    assert.match((await page.locator('[data-field="id"] .field-error').textContent()) ?? '', /\S/);
    assert.match((await page.locator('[data-field="retainDays"] .field-error').textContent()) ?? '', /\S/);
    assert.equal(await page.locator('#f-id').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.locator('[data-field="name"] .field-error').count(), 0);
    await page.screenshot({ path: join(SHOTS, 'panel-settings-errors-desktop-light.png'), fullPage: true });
    // A source the API refuses: its message appears under the URL field.
    await page.locator('#f-id').fill('porch');
    await page.locator('#f-retainDays').fill('3');
    await page.locator('#f-source').fill('ftp://192.0.2.1/stream');
    await page.locator('form button[type="submit"]').click();
    await page.locator('[data-field="source"] .field-error').waitFor();
    assert.equal(await page.locator('[data-field="id"] .field-error').count(), 0);
    assert.equal((await fetch(`${rig.sp.baseUrl}/api/cameras/porch`)).status, 404, 'nothing was added');
    // Valid: added, checked (its row follows the live state), and on the other page's wall at once.
    await page.locator('#f-source').fill(rig.sim.url('cam2'));
    await page.locator('form button[type="submit"]').click();
    await page.locator('.notice').waitFor();
    assert.match((await page.locator('.notice').textContent()) ?? '', /Added "Porch"/);
    await eventually('the new camera streaming in its row', 45_000, async () =>
      assert.equal(await page.locator('li[data-camera="porch"] .chip.state').getAttribute('data-state'), 'streaming'),
    );
    const porch = await rig.api<{ recording: { retainDays: number } }>('/api/cameras/porch');
    assert.equal(porch.recording.retainDays, 3);
    await eventually('the wall on another page shows it without a reload (SSE)', 20_000, async () =>
      assert.equal(await wall.page.locator('article.tile[data-camera="porch"]').count(), 1),
    );
    // Remove: cancel first, then confirm.
    await page.locator('li[data-camera="porch"] button.remove').click();
    await page.locator('camstack-confirm dialog[open]').waitFor();
    await page.locator('camstack-confirm button.cancel').click();
    assert.equal((await fetch(`${rig.sp.baseUrl}/api/cameras/porch`)).status, 200);
    await page.locator('li[data-camera="porch"] button.remove').click();
    await page.locator('camstack-confirm button.danger-ok').click();
    await eventually('removed', 15_000, async () => {
      assert.equal((await fetch(`${rig.sp.baseUrl}/api/cameras/porch`)).status, 404);
      assert.equal(await page.locator('li[data-camera="porch"]').count(), 0);
      assert.equal(await wall.page.locator('article.tile[data-camera="porch"]').count(), 0);
    });
    // Engines and storage are shown.
    assert.equal(await page.locator('.engine[data-engine="go2rtc"] .chip').getAttribute('data-state'), 'running');
    await page.locator('.bar-row[data-camera="front_door"]').waitFor();
  });
});
