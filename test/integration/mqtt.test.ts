/**
 * MQTT discovery, state, pictures, commands and availability, end to end: the real server (its
 * own process, real engines, a synthetic RTSP camera) against a real Mosquitto.
 */
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { connectAsync } from 'mqtt';
import { SyntheticCameraServer } from '../../scripts/synthetic-cameras.js';
import { type Mosquitto, type Recorder, recorder, retained, startMosquitto } from '../helpers/mosquitto.js';
import { freePorts } from '../helpers/ports.js';
import { processesMatching, waitUntil } from '../helpers/processes.js';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.js';
import { type SupervisorStandin, startSupervisorStandin } from '../helpers/supervisor-standin.js';

const fixtures = fileURLToPath(new URL('../fixtures/discovery/', import.meta.url));
const serverVersion = (
  JSON.parse(await readFile(new URL('../../server/package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** The reviewed fixtures (test/unit/mqtt-discovery.test.ts), with the server's real version. */
async function fixture(name: string): Promise<Record<string, unknown>> {
  const text = await readFile(join(fixtures, `${name}.json`), 'utf8');
  return JSON.parse(text.replaceAll('0.0.0-fixture', serverVersion)) as Record<string, unknown>;
}

async function api<T>(sp: ServerProcess, method: string, path: string, body?: unknown) {
  const res = await fetch(`${sp.baseUrl}${path}`, {
    method,
    ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
}

interface Health {
  status: string;
  mqtt?: { state: string; reason: string | null; broker: string | null; source: string | null };
}

/** Every retained discovery config (device-based and per-entity), except another Camstack's. */
async function discoveryNow(broker: Mosquitto): Promise<Record<string, unknown>> {
  const configs = await retained(broker.url, 'homeassistant/#');
  return Object.fromEntries(
    [...configs]
      .filter(([t, p]) => t.endsWith('/config') && t !== OTHER_CAMSTACK && p.length > 0)
      .map(([t, p]) => [t, JSON.parse(p.toString('utf8')) as unknown]),
  );
}

/** Another Camstack's hub (topic prefix camstack_2) on the same broker: never ours to clear. */
const OTHER_CAMSTACK = 'homeassistant/device/camstack_2/config';
/** A per-entity config Camstack before 0.2 published for an entity we still have: migrated. */
const LEGACY_ENGINES = 'homeassistant/sensor/camstack/engines/config';

async function filesUnder(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((f) => !f.startsWith('.'));
  } catch {
    return [];
  }
}

function stateOf(rec: Recorder, id: string): Record<string, unknown> | null {
  const p = rec.latest(`camstack/camera/${id}/state`);
  return p && p.length > 0 ? (JSON.parse(p.toString('utf8')) as Record<string, unknown>) : null;
}

describe('MQTT on a real Mosquitto', () => {
  let broker: Mosquitto;
  let sim: SyntheticCameraServer;
  let sp: ServerProcess;
  let rec: Recorder;
  let expected: Record<string, unknown>;

  before(async () => {
    broker = await startMosquitto();
    // Configs left behind by a camera removed while Camstack was down (per entity, as before
    // 0.2, and per device): must be cleared. Another Camstack's device: must stay.
    const seed = await connectAsync(broker.url);
    const retain = { qos: 1 as const, retain: true };
    await seed.publishAsync('homeassistant/sensor/camstack/ghost_status/config', '{"name":"Ghost"}', retain);
    await seed.publishAsync(
      'homeassistant/device/camstack_ghost/config',
      JSON.stringify({ device: { identifiers: ['camstack_ghost'], via_device: 'camstack' }, components: {} }),
      retain,
    );
    await seed.publishAsync(
      OTHER_CAMSTACK,
      JSON.stringify({ device: { identifiers: ['camstack_2'] }, origin: { name: 'Camstack' }, components: {} }),
      retain,
    );
    // A per-entity config an older Camstack left for an entity we still have: migrated.
    await seed.publishAsync(LEGACY_ENGINES, JSON.stringify({ name: 'Engines', unique_id: 'camstack_engines' }), retain);
    // A command someone published retained: replayed on every subscribe, it must never act.
    await seed.publishAsync('camstack/camera/front_door/recording/set', 'ON', { qos: 1, retain: true });
    await seed.endAsync();

    const [rtspPort, apiPort] = (await freePorts(2)) as [number, number];
    sim = new SyntheticCameraServer({ rtspPort, apiPort });
    await sim.start();
    await sim.addCamera({ name: 'front_door', width: 320, height: 240, fps: 10, audio: false });

    sp = await startServerProcess({
      options: { mqtt_host: '127.0.0.1', mqtt_port: broker.port, mqtt_snapshot_interval_seconds: 2 },
      env: {
        CAMSTACK_MQTT_BIRTH_DELAY_MS: '300',
        CAMSTACK_MQTT_RECONNECT_MS: '200',
        CAMSTACK_STATUS_POLL_MS: '300',
        CAMSTACK_RECONCILE_MS: '1000',
        CAMSTACK_MQTT_DISCOVERY_COLLECT_MS: '300',
        CAMSTACK_MQTT_MIGRATION_STEP_MS: '200',
      },
    });
    rec = await recorder(broker.url, ['homeassistant/#', 'camstack/#']);
    const front = await api(sp, 'POST', '/api/cameras', {
      id: 'front_door',
      name: 'Front door',
      source: sim.url('front_door'),
      recording: { clipSeconds: 4 },
    });
    assert.equal(front.status, 201);
    const garden = await api(sp, 'POST', '/api/cameras', {
      id: 'garden',
      name: 'Garden',
      source: 'http://127.0.0.1:9/video.mjpg',
    });
    assert.equal(garden.status, 201);
    expected = { ...(await fixture('hub')), ...(await fixture('front_door')), ...(await fixture('garden')) };
  });

  after(async () => {
    if (process.env.CAMSTACK_TEST_DUMP) await writeFile(process.env.CAMSTACK_TEST_DUMP, sp?.output() ?? '');
    await rec?.close();
    await sp?.cleanup();
    for (const p of sp ? processesMatching(sp.dir) : []) process.kill(p.pid, 'SIGKILL');
    await sim?.stop();
    await broker?.cleanup();
  });

  it('publishes exactly the fixture discovery configs, retained, and clears stale ones', async () => {
    let now: Record<string, unknown> = {};
    await waitUntil(
      async () => {
        now = await discoveryNow(broker);
        return JSON.stringify(Object.keys(now).sort()) === JSON.stringify(Object.keys(expected).sort());
      },
      15_000,
      'the retained discovery configs to be exactly the fixtures',
    ).catch(() => undefined);
    assert.deepEqual(now, expected);
    assert.ok(!('homeassistant/sensor/camstack/ghost_status/config' in now), 'the stale config was cleared');
    assert.ok(!('homeassistant/device/camstack_ghost/config' in now), 'the stale device was cleared');
    const other = await retained(broker.url, OTHER_CAMSTACK);
    assert.ok((other.get(OTHER_CAMSTACK)?.length ?? 0) > 0, 'another Camstack’s device stays');
  });

  it('migrated the legacy per-entity config: migrate_discovery, then cleared, then the device config', async () => {
    const log = rec.messages.filter(
      (m) => m.topic === LEGACY_ENGINES || m.topic === 'homeassistant/device/camstack/config',
    );
    const migrate = log.findIndex(
      (m) => m.topic === LEGACY_ENGINES && m.payload.toString() === '{"migrate_discovery":true}',
    );
    const cleared = log.findIndex((m, i) => i > migrate && m.topic === LEGACY_ENGINES && m.payload.length === 0);
    const device = log.findIndex((m, i) => i > cleared && m.topic.includes('/device/') && m.payload.length > 0);
    assert.ok(
      migrate >= 0 && cleared > migrate && device > cleared,
      `the order: ${log.map((m) => `${m.topic}=${m.payload.toString().slice(0, 30)}`)}`,
    );
    assert.ok(
      !rec.messages.some(
        (m) =>
          m.topic === 'homeassistant/sensor/camstack/ghost_status/config' && m.payload.toString().includes('migrate'),
      ),
      'a stale entity is cleared, not migrated',
    );
  });

  it('is available: online (retained), health says connected, states and a JPEG picture published', async () => {
    assert.equal((await retained(broker.url, 'camstack/status')).get('camstack/status')?.toString(), 'online');
    const health = (await api<Health>(sp, 'GET', '/api/health')).body;
    assert.equal(health.status, 'ok');
    assert.deepEqual(health.mqtt, {
      state: 'connected',
      reason: null,
      broker: `127.0.0.1:${broker.port}`,
      source: 'options',
    });
    await rec.waitFor((m) => m.topic === 'camstack/hub/state', 10_000, 'the hub state');
    const hub = JSON.parse(rec.latest('camstack/hub/state')?.toString() ?? '{}') as Record<string, unknown>;
    assert.equal(hub.engines, 'ok');
    assert.equal(hub.version, serverVersion);
    await waitUntil(() => stateOf(rec, 'front_door') !== null, 10_000, 'front_door state');
    assert.equal(stateOf(rec, 'front_door')?.recording, 'OFF', 'the retained ON replayed on subscribe did nothing');
    assert.match(sp.output(), /ignoring a retained command/);
    const image = await rec.waitFor(
      (m) => m.topic === 'camstack/camera/front_door/image' && m.payload.length > 0,
      30_000,
      'a picture of front_door',
    );
    assert.equal(image.payload[0], 0xff);
    assert.equal(image.payload[1], 0xd8, 'a JPEG');
    await waitUntil(
      () => typeof stateOf(rec, 'front_door')?.storage_bytes === 'number',
      15_000,
      'storage in the state',
    );
    assert.equal(stateOf(rec, 'garden')?.recording, 'OFF');
  });

  it('buttons save a snapshot and start a clip through the services; the last-clip sensor follows', async () => {
    const media = join(sp.dir, 'media', 'front_door');
    const client = await connectAsync(broker.url);
    try {
      await client.publishAsync('camstack/camera/front_door/snapshot/save', 'PRESS', { qos: 1 });
      await waitUntil(
        async () => (await filesUnder(join(media, 'snapshots'))).some((f) => f.endsWith('.jpg')),
        20_000,
        'a saved snapshot',
      );
      // The snapshot woke the on-demand camera: the clip starts on a running stream.
      await client.publishAsync('camstack/camera/front_door/clip/save', 'PRESS', { qos: 1 });
    } finally {
      await client.endAsync();
    }
    // The button reached the recordings service (the same call as POST /api/cameras/:id/clips).
    await waitUntil(
      () => /"trigger":"mqtt","msg":"clip started"/.test(sp.output()),
      10_000,
      'the recordings service to start a clip for the mqtt trigger',
    );
    await waitUntil(
      () => /"clip":"clip_\d+"[^\n]*"msg":"clip (saved|failed)"/.test(sp.output()),
      40_000,
      'the clip to be saved (or to fail in the recordings service)',
    );
    const saved = (await filesUnder(join(media, 'clips'))).some((f) => /_mqtt\.mp4$/.test(f));
    // A short clip right after the camera woke up holds its video (it used to fail with "the clip
    // has no video" when the camera's first keyframe came after the clip's planned end).
    assert.ok(saved, `clip not saved: ${/"reason":"([^"]*)","msg":"clip failed"/.exec(sp.output())?.[1] ?? '?'}`);
    const clips = await api<{ items: { end: string; trigger: string }[] }>(
      sp,
      'GET',
      '/api/recordings?camera=front_door&type=clip&limit=10',
    );
    const clip = clips.body.items.find((c) => c.trigger === 'mqtt');
    assert.ok(clip, 'the clip in the API');
    // The last-clip sensor says when the saved clip ends (its time from the media).
    await waitUntil(
      () => stateOf(rec, 'front_door')?.last_clip_at === clip.end,
      10_000,
      `last_clip_at ${clip.end} in the state`,
    );
  });

  it('switch ON/OFF changes continuous recording through the store; garbage and retained commands change nothing', async () => {
    const client = await connectAsync(broker.url);
    try {
      await client.publishAsync('camstack/camera/front_door/recording/set', 'ON', { qos: 1 });
      await waitUntil(
        async () =>
          (await api<{ recording: { continuous: boolean } }>(sp, 'GET', '/api/cameras/front_door')).body.recording
            .continuous,
        5000,
        'continuous recording on',
      );
      await waitUntil(() => stateOf(rec, 'front_door')?.recording === 'ON', 5000, 'state ON');
      assert.match(await readFile(join(sp.dir, 'cameras.yaml'), 'utf8'), /continuous: true/);

      const garbage: [string, string | Buffer][] = [
        ['camstack/camera/front_door/recording/set', 'off'],
        ['camstack/camera/front_door/recording/set', ''],
        ['camstack/camera/front_door/recording/set', Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00])],
        ['camstack/camera/front_door/recording/set', 'OFF'.repeat(1000)],
        ['camstack/camera/front_door/recording/set', '{"state":"OFF"}'],
        ['camstack/camera/nope/recording/set', 'OFF'],
        ['camstack/camera/front_door/clip/save', 'NOPE'],
        ['camstack/camera/front_door/snapshot/save', 'press'],
        ['camstack/camera/Front_Door/recording/set', 'OFF'],
      ];
      for (const [topic, payload] of garbage) await client.publishAsync(topic, payload, { qos: 1 });
      await waitUntil(
        // + 1: the retained ON seeded before the start, ignored when it was replayed on subscribe
        () => (sp.output().match(/ignoring a (retained )?command/g) ?? []).length >= garbage.length + 1,
        5000,
        'every bad command to be logged',
      );
      const cam = await api<{ recording: { continuous: boolean } }>(sp, 'GET', '/api/cameras/front_door');
      assert.equal(cam.body.recording.continuous, true, 'still on');
      assert.equal(sp.proc.exitCode, null, 'the server is alive');
      assert.match(sp.output(), /expected ON or OFF/);
      assert.match(sp.output(), /unknown camera \\"nope\\"/);
      assert.match(sp.output(), /ignoring a retained command/);
      assert.equal((await api<Health>(sp, 'GET', '/api/health')).status, 200);

      await client.publishAsync('camstack/camera/front_door/recording/set', 'OFF', { qos: 1 });
      await waitUntil(() => stateOf(rec, 'front_door')?.recording === 'OFF', 5000, 'state OFF');
    } finally {
      await client.endAsync();
    }
  });

  it('answers Home Assistant’s birth message by publishing discovery and states again', async () => {
    const t0 = Date.now();
    const client = await connectAsync(broker.url);
    await client.publishAsync('homeassistant/status', 'online', { qos: 1 });
    await client.endAsync();
    await waitUntil(
      () => rec.messages.filter((m) => m.at >= t0 && m.topic.endsWith('/config') && m.payload.length > 0).length >= 3,
      10_000,
      'every config republished',
    );
    const configs = new Set(
      rec.messages.filter((m) => m.at >= t0 && m.topic.endsWith('/config') && m.payload.length > 0).map((m) => m.topic),
    );
    assert.deepEqual([...configs].sort(), Object.keys(expected).sort());
    await waitUntil(
      () => rec.messages.some((m) => m.at >= t0 && m.topic === 'camstack/camera/front_door/state'),
      5000,
      'states republished',
    );
  });

  it('a camera event: its type gets a binary sensor and a device trigger (config first), ON with the trigger, then OFF', async () => {
    const t0 = Date.now();
    const configTopic = 'homeassistant/device/camstack_front_door/config';
    const stateTopic = 'camstack/camera/front_door/event/person';
    assert.equal(
      (await api(sp, 'POST', '/api/cameras/front_door/events', { type: 'person', state: 'start' })).status,
      200,
    );
    const config = await rec.waitFor(
      (m) => m.at >= t0 && m.topic === configTopic && m.payload.toString().includes('"event_person"'),
      10_000,
      'the device config with the person sensor',
    );
    const components = (
      JSON.parse(config.payload.toString()) as { components: Record<string, Record<string, unknown>> }
    ).components;
    assert.deepEqual(
      {
        platform: components.event_person?.platform,
        default_entity_id: components.event_person?.default_entity_id,
        unique_id: components.event_person?.unique_id,
        device_class: components.event_person?.device_class,
        state_topic: components.event_person?.state_topic,
      },
      {
        platform: 'binary_sensor',
        default_entity_id: 'binary_sensor.front_door_person',
        unique_id: 'camstack_front_door_event_person',
        device_class: 'occupancy',
        state_topic: stateTopic,
      },
    );
    assert.deepEqual(
      [components.trigger_person?.platform, components.trigger_person?.type, components.trigger_person?.topic],
      ['device_automation', 'person', `${stateTopic}/trigger`],
    );
    assert.equal(components.event_motion, undefined, 'only the types the camera reported');
    const on = await rec.waitFor(
      (m) => m.at >= t0 && m.topic === stateTopic && m.payload.toString() === 'ON',
      5000,
      'ON',
    );
    assert.ok(on.at >= config.at, 'the config before the state');
    await rec.waitFor(
      (m) => m.at >= t0 && m.topic === `${stateTopic}/trigger` && m.payload.toString() === 'start' && !m.retain,
      5000,
      'the device trigger',
    );
    assert.equal(
      (await api(sp, 'POST', '/api/cameras/front_door/events', { type: 'person', state: 'end' })).status,
      200,
    );
    await rec.waitFor((m) => m.at >= t0 && m.topic === stateTopic && m.payload.toString() === 'OFF', 5000, 'OFF');
    const attributes = JSON.parse(rec.latest(`${stateTopic}/attributes`)?.toString() ?? '{}') as Record<
      string,
      unknown
    >;
    assert.match(String(attributes.event_id), /^evt_\d+$/);
    assert.equal(attributes.source, 'api');
    assert.ok(!JSON.stringify(attributes).includes('secret'), 'no credential');
  });

  it('renaming a camera keeps every id; removing one clears its configs, state and picture', async () => {
    assert.equal((await api(sp, 'PUT', '/api/cameras/front_door', { name: 'Porch' })).status, 200);
    await waitUntil(
      async () => {
        const c = (await discoveryNow(broker))['homeassistant/device/camstack_front_door/config'] as
          | { device: { name: string }; components: { recording: { unique_id: string; default_entity_id: string } } }
          | undefined;
        return (
          c?.device.name === 'Porch' &&
          c.components.recording.unique_id === 'camstack_front_door_recording' &&
          c.components.recording.default_entity_id === 'switch.front_door_recording'
        );
      },
      5000,
      'the device renamed, the ids kept',
    );

    assert.equal((await api(sp, 'DELETE', '/api/cameras/garden')).status, 204);
    await waitUntil(
      async () => !Object.keys(await discoveryNow(broker)).some((t) => t.includes('garden')),
      5000,
      'garden configs cleared',
    );
    const left = await retained(broker.url, 'camstack/camera/garden/#');
    assert.equal(left.size, 0, 'no retained garden state or picture');
    const now = await discoveryNow(broker);
    assert.deepEqual(
      Object.keys(now).sort(),
      ['homeassistant/device/camstack/config', 'homeassistant/device/camstack_front_door/config'],
      'the hub and front_door remain',
    );
  });

  it('survives the broker going away: health reports it, engines stay ok, and it all comes back', async () => {
    await broker.stop();
    await waitUntil(
      async () => (await api<Health>(sp, 'GET', '/api/health')).body.mqtt?.state !== 'connected',
      10_000,
      'MQTT reported down',
    );
    const down = (await api<Health>(sp, 'GET', '/api/health')).body;
    assert.equal(down.status, 'ok', 'MQTT does not degrade the engines');
    assert.ok(down.mqtt?.state === 'error' || down.mqtt?.state === 'connecting');
    assert.ok(down.mqtt?.reason, 'with a reason');
    await broker.restart(); // no persistence: every retained message is gone
    await waitUntil(
      async () => (await api<Health>(sp, 'GET', '/api/health')).body.mqtt?.state === 'connected',
      15_000,
      'MQTT reconnected',
    );
    await waitUntil(
      async () => Object.keys(await discoveryNow(broker)).length === 2,
      10_000,
      'discovery published again after the reconnect',
    );
    assert.equal((await retained(broker.url, 'camstack/status')).get('camstack/status')?.toString(), 'online');
  });

  it('kill -9: the broker publishes our last will, offline (retained)', async () => {
    const watcher = await recorder(broker.url, ['camstack/status']);
    try {
      await watcher.waitFor((m) => m.payload.toString() === 'online', 5000, 'online first');
      sp.proc.kill('SIGKILL');
      await sp.exited;
      await watcher.waitFor((m) => m.payload.toString() === 'offline', 10_000, 'the last will');
    } finally {
      await watcher.close();
    }
    assert.equal((await retained(broker.url, 'camstack/status')).get('camstack/status')?.toString(), 'offline');
  });
});

describe('MQTT broker from the Supervisor', () => {
  let broker: Mosquitto;
  let standin: SupervisorStandin;
  let sp: ServerProcess;

  before(async () => {
    broker = await startMosquitto({ users: [{ username: 'addons', password: 'generated-by-mosquitto' }] });
    standin = await startSupervisorStandin({ mqtt: null }); // no Mosquitto add-on yet
    sp = await startServerProcess({
      env: {
        SUPERVISOR_TOKEN: standin.token,
        SUPERVISOR_URL: standin.url,
        CAMSTACK_INGRESS_ALLOW: '127.0.0.1',
        CAMSTACK_MQTT_RECONNECT_MS: '200',
      },
      options: { ha_live_cameras: false },
    });
  });

  after(async () => {
    await sp?.cleanup();
    await standin?.close();
    await broker?.cleanup();
  });

  it('reports "Service not enabled" clearly, then connects with the credentials once the service appears', async () => {
    await waitUntil(
      async () => {
        const h = (await api<Health>(sp, 'GET', '/api/health')).body;
        return h.mqtt?.state === 'error' && h.status === 'ok';
      },
      15_000,
      'MQTT error reported while the engines run',
    );
    const health = (await api<Health>(sp, 'GET', '/api/health')).body;
    assert.equal(health.status, 'ok');
    assert.match(health.mqtt?.reason ?? '', /Service not enabled.*Mosquitto broker add-on/);
    assert.match(sp.output(), /Service not enabled/);

    // The Mosquitto add-on comes up; the port arrives as a string, as the docs show it.
    standin.options.mqtt = {
      host: '127.0.0.1',
      port: String(broker.port),
      username: 'addons',
      password: 'generated-by-mosquitto',
    };
    await waitUntil(
      async () => (await api<Health>(sp, 'GET', '/api/health')).body.mqtt?.state === 'connected',
      15_000,
      'connected with the Supervisor’s broker',
    );
    const ok = (await api<Health>(sp, 'GET', '/api/health')).body;
    assert.equal(ok.mqtt?.source, 'supervisor');
    assert.equal(ok.mqtt?.broker, `127.0.0.1:${broker.port}`);
    assert.ok(standin.requests.some((r) => r.path === '/services/mqtt' && r.authorized));
    assert.ok(!sp.output().includes('generated-by-mosquitto'), 'the broker password never reaches the log');
    const authed = await recorder(broker.url, ['camstack/status', 'homeassistant/#'], {
      username: 'addons',
      password: 'generated-by-mosquitto',
    });
    try {
      await authed.waitFor((m) => m.topic === 'camstack/status' && m.payload.toString() === 'online', 5000, 'online');
      await authed.waitFor((m) => m.topic === 'homeassistant/device/camstack/config', 5000, 'the hub discovery');
    } finally {
      await authed.close();
    }
  });
});
