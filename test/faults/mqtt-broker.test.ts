/**
 * Faults on the Home Assistant side: the MQTT broker (a real Mosquitto, without persistence, so a
 * restart forgets every retained message) stops and starts again on the same port, and Home
 * Assistant restarts (its birth message `homeassistant/status` = `online`). With the shipped
 * reconnect and birth timings (no test overrides), the server must reconnect and publish discovery,
 * availability and states again, and answer the birth message by republishing every entity.
 * (test/integration/mqtt.test.ts covers the payloads themselves, with fast timings.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connectAsync } from 'mqtt';
import { SyntheticCameraServer } from '../../scripts/synthetic-cameras.js';
import { type Mosquitto, type Recorder, recorder, retained, startMosquitto } from '../helpers/mosquitto.js';
import { freePorts } from '../helpers/ports.js';
import { waitUntil } from '../helpers/processes.js';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.js';
import { api, fixtureClip } from './support.js';

/** Hub (5) and one camera (11) entities. */
/** Device-based discovery: the hub and the one camera. */
const CONFIGS = 2;

describe('MQTT broker and Home Assistant restarts', () => {
  let broker: Mosquitto;
  let sim: SyntheticCameraServer;
  let sp: ServerProcess;
  const figures: Record<string, number> = {};

  const configsNow = async () => (await retained(broker.url, 'homeassistant/device/+/config')).size;

  before(async () => {
    broker = await startMosquitto();
    const [rtspPort, apiPort] = (await freePorts(2)) as [number, number];
    sim = new SyntheticCameraServer({ rtspPort, apiPort });
    await sim.start();
    await sim.addCamera({ name: 'porch', loopFile: fixtureClip() });
    sp = await startServerProcess({
      options: {
        mqtt_host: '127.0.0.1',
        mqtt_port: broker.port,
        cameras: [{ id: 'porch', name: 'Porch', source: sim.url('porch') }],
      },
    });
    await waitUntil(async () => (await configsNow()) === CONFIGS, 60_000, 'discovery published');
  });

  after(async () => {
    await sp?.cleanup();
    await sim?.stop();
    await broker?.cleanup();
    console.log(`MQTT recovery: ${JSON.stringify(figures)}`);
  });

  it('broker restarted on the same port: reconnects and republishes discovery, availability and state', async () => {
    await broker.stop();
    await waitUntil(
      async () => (await api<{ mqtt?: { state: string } }>(sp, 'GET', '/api/health')).body.mqtt?.state !== 'connected',
      30_000,
      'MQTT reported down',
    );
    await new Promise((r) => setTimeout(r, 3000));
    await broker.restart(); // no persistence: nothing retained survives
    const upAt = Date.now();
    await waitUntil(
      async () => (await api<{ mqtt?: { state: string } }>(sp, 'GET', '/api/health')).body.mqtt?.state === 'connected',
      120_000,
      'MQTT connected again',
    );
    figures.reconnectSeconds = (Date.now() - upAt) / 1000;
    await waitUntil(async () => (await configsNow()) === CONFIGS, 30_000, 'every discovery config again');
    const now = await retained(broker.url, 'camstack/#');
    assert.equal(now.get('camstack/status')?.toString(), 'online', 'available (retained)');
    const state = JSON.parse(now.get('camstack/camera/porch/state')?.toString() ?? '{}') as { status?: string };
    assert.ok(state.status, `camera state retained again: ${JSON.stringify(state)}`);
    assert.ok(now.has('camstack/hub/state'), 'hub state retained again');
  });

  it('Home Assistant birth message (homeassistant/status = online): every entity and state republished', async () => {
    const rec: Recorder = await recorder(broker.url, ['homeassistant/#', 'camstack/#']);
    try {
      await new Promise((r) => setTimeout(r, 500)); // the retained replay to this subscriber passes
      const t0 = Date.now();
      const ha = await connectAsync(broker.url);
      await ha.publishAsync('homeassistant/status', 'online', { qos: 1 });
      await ha.endAsync();
      const fresh = () =>
        new Set(
          rec.messages
            .filter((m) => m.at > t0 && !m.retain && m.topic.endsWith('/config') && m.payload.length > 0)
            .map((m) => m.topic),
        );
      await waitUntil(() => fresh().size === CONFIGS, 30_000, 'every config republished');
      figures.birthRepublishSeconds = (Date.now() - t0) / 1000;
      await waitUntil(
        () => rec.messages.some((m) => m.at > t0 && !m.retain && m.topic === 'camstack/camera/porch/state'),
        30_000,
        'the camera state republished',
      );
    } finally {
      await rec.close();
    }
  });
});
