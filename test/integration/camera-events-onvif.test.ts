/**
 * A camera's own ONVIF events end to end: the ONVIF device mock (crates.io oxvif, our runner)
 * paired with a synthetic RTSP camera recorded 24/7. A digital-input pulse on the "camera" becomes
 * a camera event (source onvif) with a clip that holds its pre-roll and the picture of its
 * moment; the camera unplugged makes the subscription retry with a growing pause (no busy loop),
 * and it subscribes again when the camera is back.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SyntheticCameraServer } from '../../scripts/synthetic-cameras.js';
import type { CameraEventList, CameraEventView, RecordingView } from '../../server/src/contract/index.js';
import { type OnvifMock, startOnvifMock } from '../helpers/onvif-mock.js';
import { freePorts } from '../helpers/ports.js';
import { waitUntil } from '../helpers/processes.js';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.js';

interface Sources {
  types: string[];
  onvif: { state: string; failures: number; error?: string } | null;
}

describe('ONVIF camera events', () => {
  let sim: SyntheticCameraServer;
  let mock: OnvifMock;
  let dir: string;
  let sp: ServerProcess;

  before(async () => {
    const [rtspPort, apiPort] = (await freePorts(2)) as [number, number];
    sim = new SyntheticCameraServer({ rtspPort, apiPort });
    await sim.start();
    await sim.addCamera({ name: 'door', width: 320, height: 240, fps: 10, gopSeconds: 2, audio: false });
    mock = await startOnvifMock({ auth: { user: 'onvif', password: 's3cret-onvif' } });
    dir = await mkdtemp(join(tmpdir(), 'camstack-onvif-'));
    await writeFile(join(dir, 'cameras.yaml'), 'cameras: []\n');
    sp = await startServerProcess({
      options: { data_dir: join(dir, 'data'), media_dir: join(dir, 'media'), cameras_file: join(dir, 'cameras.yaml') },
      env: { CAMSTACK_RECORDING_SCAN_MS: '500' },
    });
    const port = Number(new URL(mock.baseUrl).port);
    const add = await fetch(`${sp.baseUrl}/api/cameras`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        id: 'door',
        name: 'Door',
        source: sim.url('door'),
        recording: { continuous: true, preRollSeconds: 4 },
        // The mock also reports motion and objects all the time: only the input records.
        events: { record: ['digital_input'] },
        onvif: { host: '127.0.0.1', port, username: 'onvif', password: 's3cret-onvif' },
      }),
    });
    assert.equal(add.status, 201, await add.text());
  });

  after(async () => {
    await sp?.cleanup();
    await mock?.stop();
    await sim?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const sources = async () => (await (await fetch(`${sp.baseUrl}/api/cameras/door/events`)).json()) as Sources;

  it('subscribes with the camera’s ONVIF account, which never shows in the API or the log', async () => {
    await waitUntil(async () => (await sources()).onvif?.state === 'subscribed', 30_000, 'subscribed');
    const view = (await (await fetch(`${sp.baseUrl}/api/cameras/door`)).json()) as { onvif: unknown };
    assert.deepEqual(view.onvif, {
      host: '127.0.0.1',
      port: Number(new URL(mock.baseUrl).port),
      hasCredentials: true,
      events: true,
    });
    assert.ok(!JSON.stringify(view).includes('s3cret-onvif'));
    assert.ok(!sp.output().includes('s3cret-onvif'), 'the password is not in the log');
  });

  it('a digital-input pulse on the camera: an event with its picture, recorded with pre-roll', async () => {
    // Seven seconds recorded first, so the pre-roll is there.
    await waitUntil(
      async () => {
        const res = await fetch(`${sp.baseUrl}/api/recordings?camera=door&type=segment`);
        const list = (await res.json()) as { items: RecordingView[] };
        return list.items.some((r) => Date.now() - Date.parse(r.start) > 7000);
      },
      60_000,
      'seven seconds recorded',
    );
    const t0 = Date.now();
    await mock.control('/mock/digital-input/DigitalInput_1/pulse');
    let input: CameraEventView | undefined;
    await waitUntil(
      async () => {
        const list = (await (
          await fetch(`${sp.baseUrl}/api/camera-events?camera=door&type=digital_input`)
        ).json()) as CameraEventList;
        input = list.items.find((e) => Date.parse(e.start) >= t0 - 2000);
        return input !== undefined && !input.active && input.pictureUrl !== null && input.clipId !== null;
      },
      30_000,
      'the input event ended, with its picture and clip',
    );
    assert.ok(input);
    assert.equal(input.source, 'onvif');
    assert.equal(input.detail, 'Device/Trigger/DigitalInput');
    assert.ok(Date.parse(input.start) - t0 < 3000, 'its time is the moment of the pulse');
    const pic = await fetch(`${sp.baseUrl}${input.pictureUrl}`);
    assert.equal(pic.headers.get('content-type'), 'image/jpeg');
    let clip: RecordingView | undefined;
    await waitUntil(
      async () => {
        clip = (await (await fetch(`${sp.baseUrl}/api/recordings/${input?.clipId}`)).json()) as RecordingView;
        return clip.inProgress === false && clip.path !== null;
      },
      60_000,
      'the clip saved',
    );
    assert.ok(clip?.path);
    assert.equal(clip.trigger, 'event-digital-input');
    assert.ok((Date.parse(input.start) - Date.parse(clip.start)) / 1000 >= 2.5, 'the clip holds the pre-roll');
    assert.ok((await stat(join(dir, 'media', clip.path))).size > 10_000, 'on disk');
    const types = (await sources()).types;
    assert.ok(types.includes('digital_input') && types.includes('motion'), `reported types: ${types}`);
  });

  it('adding a camera from ONVIF: its streams for the form, without credentials; discovery; bad input refused', async () => {
    const port = Number(new URL(mock.baseUrl).port);
    const post = (path: string, body: unknown) =>
      fetch(`${sp.baseUrl}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const res = await post('/api/onvif/streams', {
      host: '127.0.0.1',
      port,
      username: 'onvif',
      password: 's3cret-onvif',
    });
    const text = await res.text();
    assert.equal(res.status, 200, text);
    const streams = JSON.parse(text) as { source: { uri: string; codec: string } | null };
    assert.match(streams.source?.uri ?? '', /^rtsp:\/\/127\.0\.0\.1:554\//);
    assert.ok(!text.includes('s3cret-onvif'), 'no credential in the answer');
    const wrong = await post('/api/onvif/streams', {
      host: '127.0.0.1',
      port,
      username: 'onvif',
      password: 'wrong-one',
    });
    assert.equal(wrong.status, 502);
    assert.ok(!(await wrong.text()).includes('wrong-one'));
    assert.equal((await post('/api/onvif/streams', { host: 'a b' })).status, 400);
    const found = await post('/api/onvif/discover', { address: '127.0.0.1', seconds: 1 });
    assert.equal(found.status, 200);
    assert.ok(Array.isArray(((await found.json()) as { cameras: unknown[] }).cameras));
    assert.equal((await post('/api/onvif/discover', { address: 'camera.local' })).status, 400);
  });

  it('the camera unplugged: retrying with a growing pause, no busy loop; back: subscribed again', async () => {
    await mock.kill();
    const killedAt = mock.requests.length;
    await waitUntil(async () => (await sources()).onvif?.state === 'retrying', 30_000, 'retrying');
    await new Promise((r) => setTimeout(r, 6000));
    const s = await sources();
    assert.ok((s.onvif?.failures ?? 0) >= 1);
    assert.ok(!JSON.stringify(s).includes('s3cret-onvif'), 'no credential in the error');
    // Connections are refused at once while the camera is away: only the backoff spaces them.
    const attempts = mock.requests.length - killedAt;
    assert.ok(attempts <= 8, `${attempts} requests in the camera's absence`);
    await mock.restart();
    await waitUntil(async () => (await sources()).onvif?.state === 'subscribed', 90_000, 'subscribed again');
  });
});
