/**
 * The settings view's tools end to end, under the ingress-like prefix, in real Chromium against
 * the real server and a synthetic camera that wants a password: "Test connection" (the stream
 * facts, or the camera's own reason without the credentials), restarting an engine (running again
 * with a new pid), and the storage picture (the disk with the cap, a bar per camera).
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cspViolations, eventually, type PanelRig, SHOTS, startPanelRig } from './panel-support.js';

const AUTH = { user: 'viewer', pass: 'Pan3l-secret' };
const WRONG = 'wrong-pass-77';

interface Engine {
  name: string;
  state: string;
  pid: number | null;
}

describe('panel: settings tools', { timeout: 600_000 }, () => {
  let rig: PanelRig;

  before(async () => {
    await mkdir(SHOTS, { recursive: true });
    rig = await startPanelRig({
      cameras: [{ id: 'front_door', name: 'Front door', sim: 'cam1', audio: false, recording: { continuous: true } }],
      auth: AUTH,
      env: { CAMSTACK_SEGMENT_SECONDS: '4', CAMSTACK_RECORDING_SCAN_MS: '1000' },
    });
    await rig.sim.addCamera({ name: 'cam2', width: 640, height: 360, fps: 15, gopSeconds: 1, audio: false });
  });

  after(async () => {
    await rig?.close();
  });

  it('test connection: stream facts for a good camera, the reason (no credentials) for a wrong password; nothing saved', async () => {
    const { page } = await rig.open('settings');
    await page.locator('button.add').click();
    await page.locator('#f-id').fill('porch');
    await page.locator('#f-name').fill('Porch');
    await page.locator('#f-source').fill(rig.sim.url('cam2'));
    await page.locator('#f-username').fill(AUTH.user);
    await page.locator('#f-password').fill(AUTH.pass);
    await page.locator('form button.test').click();
    const result = page.locator('#test-result');
    await eventually('the test result', 30_000, async () =>
      assert.equal(await result.getAttribute('data-state'), 'ok'),
    );
    assert.match((await result.textContent()) ?? '', /Connected: H264 · 640×360 · 15 fps/);

    await page.locator('#f-password').fill(WRONG);
    await page.locator('form button.test').click();
    await eventually('the failure', 30_000, async () =>
      assert.equal(await result.getAttribute('data-state'), 'failed'),
    );
    const reason = (await result.textContent()) ?? '';
    assert.match(reason, /401 Unauthorized/);
    assert.ok(!reason.includes(WRONG) && !reason.includes(AUTH.pass), reason);
    assert.ok(!(await page.content()).includes(AUTH.pass), 'the good password is not on the page either');
    await page.screenshot({ path: join(SHOTS, 'panel-settings-test-desktop-light.png'), fullPage: true });

    // An invalid form: the problems go next to their fields, as when saving.
    await page.locator('#f-source').fill('ftp://192.0.2.1/x');
    await page.locator('form button.test').click();
    await page.locator('[data-field="source"] .field-error').waitFor();
    await page.locator('form button.cancel').click();
    assert.equal((await fetch(`${rig.sp.baseUrl}/api/cameras/porch`)).status, 404, 'nothing was saved');

    // Editing: the stored password is used when the field is left "unchanged".
    await page.locator('li[data-camera="front_door"] button.edit').click();
    await page.locator('form button.test').click();
    await eventually('the stored camera tested', 30_000, async () =>
      assert.equal(await result.getAttribute('data-state'), 'ok'),
    );
    assert.deepEqual(await cspViolations(page), []);
  });

  it('camera events in the form: types that record and notify, ONVIF, the motion detector with a zone drawn on the picture', async () => {
    const { page } = await rig.open('settings');
    await page.locator('li[data-camera="front_door"] button.edit').click();
    const editor = page.locator('camstack-camera-events-editor');
    await editor.waitFor();
    await editor.locator('input[name="notify-person"]').check();
    await editor.locator('input[name="record-tamper"]').check();
    await editor.locator('input[name="motion"]').check();
    // A zone: three corners clicked on the camera's picture, closed, then "only here".
    const mask = editor.locator('.mask');
    await mask.scrollIntoViewIfNeeded();
    const box = (await mask.boundingBox()) as { x: number; y: number; width: number; height: number };
    for (const [fx, fy] of [
      [0.1, 0.1],
      [0.6, 0.1],
      [0.35, 0.7],
    ] as const) {
      await page.mouse.click(box.x + box.width * fx, box.y + box.height * fy);
    }
    await editor.locator('button.close-zone').click();
    await editor.locator('ol.zones li[data-zone="0"] select').selectOption('include');
    await page.locator('form button.primary').click();
    await page.locator('.notice').waitFor();
    const saved = await rig.api<{
      events: { notify: string[]; record: string[] };
      motion: { enabled: boolean; zones: { mode: string; points: [number, number][] }[] };
    }>('/api/cameras/front_door');
    assert.deepEqual(saved.events.notify, ['person']);
    assert.ok(saved.events.record.includes('tamper'));
    assert.equal(saved.motion.enabled, true);
    assert.equal(saved.motion.zones.length, 1);
    assert.equal(saved.motion.zones[0]?.mode, 'include');
    const [first] = saved.motion.zones[0]?.points ?? [];
    assert.ok(first && Math.abs(first[0] - 0.1) < 0.03 && Math.abs(first[1] - 0.1) < 0.03, `first corner ${first}`);
    await eventually('the detector running', 30_000, async () => {
      const s = await rig.api<{ motion: { running: boolean } | null }>('/api/cameras/front_door/events');
      assert.equal(s.motion?.running, true);
    });
    // Turned off again from the form.
    await page.locator('li[data-camera="front_door"] button.edit').click();
    await page.locator('camstack-camera-events-editor input[name="motion"]').uncheck();
    await page.locator('form button.primary').click();
    await eventually('motion off', 15_000, async () => {
      const c = await rig.api<{ motion: { enabled: boolean } }>('/api/cameras/front_door');
      assert.equal(c.motion.enabled, false);
    });
    assert.deepEqual(await cspViolations(page), []);
  });

  it('restart an engine: confirmed, then running again with a new pid', async () => {
    const before = (await rig.api<Engine[]>('/api/engines')).find((e) => e.name === 'mediamtx');
    assert.equal(before?.state, 'running');
    const { page } = await rig.open('settings');
    const card = page.locator('.engine[data-engine="mediamtx"]');
    await card
      .locator('.pid')
      .filter({ hasText: String(before?.pid) })
      .waitFor();
    // Cancel first: nothing happens.
    await card.locator('button.restart').click();
    await page.locator('camstack-confirm dialog[open]').waitFor();
    await page.locator('camstack-confirm button.cancel').click();
    assert.equal((await rig.api<Engine[]>('/api/engines')).find((e) => e.name === 'mediamtx')?.pid, before?.pid);
    await card.locator('button.restart').click();
    await page.locator('camstack-confirm button.danger-ok').click();
    await eventually('running with a new pid', 60_000, async () => {
      const now = (await rig.api<Engine[]>('/api/engines')).find((e) => e.name === 'mediamtx');
      assert.equal(now?.state, 'running');
      assert.notEqual(now?.pid, before?.pid);
      assert.equal(await card.locator('.chip').getAttribute('data-state'), 'running');
      assert.equal((await card.locator('.pid').textContent())?.trim(), String(now?.pid));
    });
    assert.match((await page.locator('.notice').textContent()) ?? '', /mediamtx restarted: running, pid \d+/);
    // The camera comes back through the new MediaMTX.
    await eventually('the camera streaming again', 60_000, async () =>
      assert.equal((await rig.api<{ state: string }>('/api/cameras/front_door/status')).state, 'streaming'),
    );
  });

  it('storage: the disk with the cap and free space, a bar per camera in tiers (24/7, clips, protected) with how long each is kept', async () => {
    await eventually('something recorded', 60_000, async () => {
      const s = await rig.api<{ totalBytes: number }>('/api/storage');
      assert.ok(s.totalBytes > 0);
    });
    const { page } = await rig.open('settings');
    const bar = page.locator('.bar-row[data-camera="front_door"]');
    await bar.waitFor();
    assert.match(
      (await bar.getAttribute('aria-label')) ?? '',
      /^Front door: [\d.]+ [KMG]?B: 24\/7 [\d.]+ [KMG]?B, clips [\d.]+ [KMG]?B, protected 0 B; \d+ recordings$/,
    );
    assert.match(
      (await bar.locator('.tiers').textContent()) ?? '',
      /^24\/7 [\d.]+ [KMG]?B \(7 d\) · clips [\d.]+ [KMG]?B \(30 d\) · protected 0 B \(kept\)$/,
    );
    const fill = await bar.locator('.bar-fill').first().boundingBox();
    assert.ok(fill && fill.width > 10, `a visible bar: ${JSON.stringify(fill)}`);
    const disk = page.locator('.disk-bar');
    assert.match((await disk.getAttribute('aria-label')) ?? '', /free of/);
    assert.match((await page.locator('.disk-free').textContent()) ?? '', /free of/);
    assert.equal(await page.locator('.disk-bar .mark.min-free').count(), 1, 'the minimum free space line');
    await page.screenshot({ path: join(SHOTS, 'panel-settings-storage-desktop-light.png'), fullPage: true });
  });
});
