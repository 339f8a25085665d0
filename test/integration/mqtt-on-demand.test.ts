/**
 * The MQTT camera picture never keeps an on-demand camera pulled. Seen before the fix: with MQTT
 * connected, the picture refresh read every `streaming` camera each interval, and each read
 * restarted MediaMTX's grace period, so an unwatched camera stayed pulled for ever. Readers are
 * counted at the (synthetic) camera itself, not taken from our own status.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SyntheticCameraServer } from '../../scripts/synthetic-cameras.js';
import { type Mosquitto, type Recorder, recorder, startMosquitto } from '../helpers/mosquitto.js';
import { freePorts } from '../helpers/ports.js';
import { waitUntil } from '../helpers/processes.js';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.js';

const GRACE_S = 3;
const INTERVAL_S = 2;

function pictureAt(rec: Recorder, id: string): string | null {
  const p = rec.latest(`camstack/camera/${id}/state`);
  if (!p || p.length === 0) return null;
  return (JSON.parse(p.toString('utf8')) as { picture_at: string | null }).picture_at;
}

describe('MQTT pictures and on-demand cameras', () => {
  let broker: Mosquitto;
  let sim: SyntheticCameraServer;
  let sp: ServerProcess;
  let rec: Recorder;

  before(async () => {
    broker = await startMosquitto();
    const [rtspPort, apiPort] = (await freePorts(2)) as [number, number];
    sim = new SyntheticCameraServer({ rtspPort, apiPort });
    await sim.start();
    await sim.addCamera({ name: 'porch', width: 320, height: 240, fps: 10, audio: false });
    sp = await startServerProcess({
      options: {
        mqtt_host: '127.0.0.1',
        mqtt_port: broker.port,
        mqtt_snapshot_interval_seconds: INTERVAL_S,
        on_demand_grace_seconds: GRACE_S,
      },
      env: { CAMSTACK_MQTT_BIRTH_DELAY_MS: '300', CAMSTACK_STATUS_POLL_MS: '300' },
    });
    rec = await recorder(broker.url, ['camstack/#']);
    const res = await fetch(`${sp.baseUrl}/api/cameras`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'porch', name: 'Porch', source: sim.url('porch') }),
    });
    assert.equal(res.status, 201);
  });

  after(async () => {
    await rec?.close();
    await sp?.cleanup();
    await sim?.stop();
    await broker?.cleanup();
  });

  it('an unwatched, unrecorded camera gets one picture, then is released at the camera within the grace period', async () => {
    await waitUntil(async () => rec.latest('camstack/camera/porch/image') !== undefined, 30_000, 'a first picture');
    // The state (with picture_at) follows the picture on its own topic.
    await waitUntil(() => pictureAt(rec, 'porch') !== null, 10_000, 'the state saying when the picture was taken');
    const first = pictureAt(rec, 'porch');
    // Released: grace + a few seconds after the last real consumer (the verification, the picture).
    const t0 = Date.now();
    await waitUntil(async () => (await sim.readers('porch')) === 0, (GRACE_S + 10) * 1000, 'no reader at the camera');
    const releasedAfterS = (Date.now() - t0) / 1000;
    // …and it stays released across several refresh intervals (the bug re-pulled it every interval):
    // sampled often, since a picture's read is short.
    const until = Date.now() + 4 * INTERVAL_S * 1000;
    while (Date.now() < until) {
      assert.equal(await sim.readers('porch'), 0, 'no reader while nobody watches');
      await new Promise((r) => setTimeout(r, 200));
    }
    const status = (await (await fetch(`${sp.baseUrl}/api/cameras/porch/status`)).json()) as { state: string };
    assert.equal(status.state, 'idle');
    assert.equal(pictureAt(rec, 'porch'), first, 'the last picture (and its time) stays what HA shows');
    assert.ok(releasedAfterS < GRACE_S + 10);
  });

  it('while someone watches, the picture is refreshed; when they leave the camera is released again', async () => {
    const before = pictureAt(rec, 'porch');
    const ctrl = new AbortController();
    const res = await fetch(`${sp.baseUrl}/api/cameras/porch/mjpeg`, { signal: ctrl.signal });
    assert.equal(res.status, 200);
    void res.body?.pipeTo(new WritableStream()).catch(() => undefined);
    try {
      await waitUntil(
        async () => pictureAt(rec, 'porch') !== before,
        (INTERVAL_S * 4 + 15) * 1000,
        'a newer picture while watched',
      );
      assert.equal(await sim.readers('porch'), 1, 'one connection to the camera while watched');
    } finally {
      ctrl.abort();
    }
    await waitUntil(
      async () => (await sim.readers('porch')) === 0,
      (GRACE_S + 12) * 1000,
      'released after the viewer left',
    );
  });
});
