/**
 * Acceptance on a real Home Assistant Core (PyPI homeassistant 2024.3.3 from .cache/ha-venv):
 * onboarded and given MQTT through its own HTTP API, pointed at a real Mosquitto, with the real
 * Camstack server (own process, real engines) and a synthetic RTSP camera. Everything on
 * 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Connection } from 'home-assistant-js-websocket';
import { SyntheticCameraServer } from '../../scripts/synthetic-cameras.js';
import type { EnginePorts } from '../../server/src/engines/ports.js';
import {
  configureMqtt,
  type HaState,
  type HomeAssistant,
  onboard,
  startHomeAssistant,
  states,
} from '../helpers/home-assistant.js';
import { type Mosquitto, startMosquitto } from '../helpers/mosquitto.js';
import { freeEnginePorts, freePort, freePorts } from '../helpers/ports.js';
import { processesMatching, waitUntil } from '../helpers/processes.js';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.js';

const CAMERA_ENTITIES = [
  'camera.front_door',
  'switch.front_door_recording',
  'button.front_door_save_clip',
  'button.front_door_snapshot',
  'sensor.front_door_status',
  'sensor.front_door_viewers',
  'sensor.front_door_bitrate',
  'sensor.front_door_fps',
  'sensor.front_door_storage',
  'sensor.front_door_last_clip',
  'binary_sensor.front_door_online',
];
const HUB_ENTITIES = [
  'sensor.camstack_engines',
  'sensor.camstack_storage_used',
  'sensor.camstack_storage_free',
  'sensor.camstack_recordings',
  'sensor.camstack_version',
];

interface RegistryEntity {
  entity_id: string;
  device_id: string | null;
  config_entry_id: string | null;
  platform: string;
}
interface Device {
  id: string;
  name: string;
  via_device_id: string | null;
  identifiers: [string, string][];
}
interface ConfigEntry {
  entry_id: string;
  domain: string;
  title: string;
}

async function files(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((f) => !f.startsWith('.'));
  } catch {
    return [];
  }
}

describe('Camstack in a real Home Assistant', { timeout: 900_000 }, () => {
  let broker: Mosquitto;
  let sim: SyntheticCameraServer;
  let ha: HomeAssistant;
  let conn: Connection;
  let camDir: string;
  let sp: ServerProcess | null = null;
  const events: { event_type: string; data: Record<string, unknown> }[] = [];

  // The same ports on every start, as in the add-on (HA's live cameras store the URLs).
  let ports: { port: number; enginePorts: EnginePorts } | null = null;
  const startCamstack = async () => {
    ports ??= { port: await freePort(), enginePorts: await freeEnginePorts() };
    const started = await startServerProcess({
      ...ports,
      waitHealthy: false,
      options: {
        data_dir: join(camDir, 'data'),
        media_dir: join(camDir, 'media'),
        cameras_file: join(camDir, 'cameras.yaml'),
        mqtt_host: '127.0.0.1',
        mqtt_port: broker.port,
        mqtt_snapshot_interval_seconds: 2,
        ha_url: ha.url,
        ha_token: ha.token,
        ha_live_cameras: true,
        ha_camstack_host: '127.0.0.1',
        triggers: [{ entity_id: 'input_boolean.motion', to: 'on', camera: 'front_door', duration: 3 }],
      },
      env: {
        CAMSTACK_MQTT_BIRTH_DELAY_MS: '500',
        CAMSTACK_MQTT_RECONNECT_MS: '500',
        CAMSTACK_HA_RETRY_MS: '500',
        CAMSTACK_STATUS_POLL_MS: '500',
        CAMSTACK_RETENTION_MS: '2000',
      },
    });
    sp = started;
    await waitUntil(
      async () => {
        if (started.proc.exitCode !== null) throw new Error(`Camstack exited:\n${started.output().slice(-3000)}`);
        return fetch(`${started.baseUrl}/api/health`).then(
          (r) => r.ok,
          () => false,
        );
      },
      120_000, // generous: a loaded machine (parallel suites) slows the first tsx start a lot
      'Camstack to answer /api/health',
    ).catch((err: unknown) => {
      throw new Error(`${String(err)}\n--- Camstack output ---\n${started.output().slice(-4000)}`);
    });
    return sp;
  };
  const camstack = (): ServerProcess => {
    if (!sp) throw new Error('Camstack is not running');
    return sp;
  };
  const api = async <T>(method: string, path: string, body?: unknown) => {
    const res = await fetch(`${camstack().baseUrl}${path}`, {
      method,
      ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
    });
    return (await res.json()) as T;
  };
  const generic = async () =>
    (await ha.rest<ConfigEntry[]>('GET', '/api/config/config_entries/entry')).body.filter(
      (e) => e.domain === 'generic',
    );

  before(async () => {
    const t0 = Date.now();
    broker = await startMosquitto();
    const [rtspPort, apiPort] = (await freePorts(2)) as [number, number];
    sim = new SyntheticCameraServer({ rtspPort, apiPort });
    await sim.start();
    await sim.addCamera({ name: 'front_door', width: 320, height: 240, fps: 10, audio: false });
    camDir = await mkdtemp(join(tmpdir(), 'camstack-acc-'));
    await writeFile(
      join(camDir, 'cameras.yaml'),
      `cameras:\n  - id: front_door\n    name: Front door\n    source: ${sim.url('front_door')}\n` +
        // Clips kept one day: a new clip is "expiring within a day" at once (event + notification).
        '    recording:\n      clip_seconds: 4\n      clip_retain_days: 1\n',
    );
    ha = await startHomeAssistant();
    const tStarted = Date.now();
    await onboard(ha);
    await configureMqtt(ha, broker.port);
    conn = await ha.connect();
    for (const type of [
      'camstack_clip_saved',
      'camstack_recording_started',
      'camstack_recording_stopped',
      'camstack_camera_offline',
      'camstack_camera_online',
      'camstack_clip_expiring',
    ]) {
      await conn.subscribeEvents<{ event_type: string; data: Record<string, unknown> }>((e) => events.push(e), type);
    }
    await startCamstack();
    process.stdout.write(
      `# Home Assistant up in ${((tStarted - t0) / 1000).toFixed(1)} s, ready with MQTT and Camstack in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`,
    );
  });

  after(async () => {
    if (process.env.CAMSTACK_TEST_DUMP) {
      await writeFile(`${process.env.CAMSTACK_TEST_DUMP}.camstack`, sp?.output() ?? '');
      await writeFile(`${process.env.CAMSTACK_TEST_DUMP}.ha`, ha?.output() ?? '');
    }
    conn?.close();
    const dir = sp?.dir;
    await sp?.cleanup();
    for (const p of dir ? processesMatching(dir) : []) process.kill(p.pid, 'SIGKILL');
    await ha?.cleanup();
    await sim?.stop();
    await broker?.cleanup();
    if (camDir) await rm(camDir, { recursive: true, force: true });
  });

  it('every entity appears, available, on the right device', async () => {
    let now = new Map<string, HaState>();
    await waitUntil(
      async () => {
        now = await states(ha);
        const all = [...CAMERA_ENTITIES, ...HUB_ENTITIES].every((id) => {
          const s = now.get(id);
          return s !== undefined && s.state !== 'unavailable';
        });
        return all && now.get('sensor.camstack_engines')?.state === 'ok';
      },
      60_000,
      'every Camstack entity, available',
    ).catch(() => undefined);
    for (const id of [...CAMERA_ENTITIES, ...HUB_ENTITIES]) {
      assert.ok(
        now.has(id),
        `${id} exists (have: ${[...now.keys()].filter((k) => /front|camstack/.test(k)).join(', ')})`,
      );
      assert.notEqual(now.get(id)?.state, 'unavailable', `${id} is available`);
    }
    assert.equal(now.get('button.front_door_save_clip')?.attributes.friendly_name, 'Front door Save clip');
    assert.equal(now.get('switch.front_door_recording')?.state, 'off');
    assert.equal(now.get('sensor.camstack_engines')?.state, 'ok');

    const devices = await conn.sendMessagePromise<Device[]>({ type: 'config/device_registry/list' });
    const entities = await conn.sendMessagePromise<RegistryEntity[]>({ type: 'config/entity_registry/list' });
    const camera = devices.find((d) =>
      d.identifiers.some(([dom, id]) => dom === 'mqtt' && id === 'camstack_front_door'),
    );
    const hub = devices.find((d) => d.identifiers.some(([dom, id]) => dom === 'mqtt' && id === 'camstack'));
    assert.ok(camera && hub, 'a device per camera and the hub');
    assert.equal(camera.name, 'Front door');
    assert.equal(camera.via_device_id, hub.id, 'the camera hangs off the hub');
    for (const id of CAMERA_ENTITIES) {
      assert.equal(entities.find((e) => e.entity_id === id)?.device_id, camera.id, `${id} on the camera device`);
    }
    for (const id of HUB_ENTITIES) {
      assert.equal(entities.find((e) => e.entity_id === id)?.device_id, hub.id, `${id} on the hub device`);
    }
  });

  it('camera.front_door serves a JPEG through HA’s camera proxy', async () => {
    let res: Response | null = null;
    await waitUntil(
      async () => {
        res = (await ha.rest('GET', '/api/camera_proxy/camera.front_door')).raw;
        return res.status === 200;
      },
      60_000,
      'the camera proxy to answer 200',
    );
    const r = res as unknown as Response;
    assert.equal(r.headers.get('content-type'), 'image/jpeg');
    const body = Buffer.from(await r.arrayBuffer());
    assert.equal(body[0], 0xff);
    assert.equal(body[1], 0xd8);
  });

  it('switch.turn_on/off through HA changes continuous recording; events reach HA', async () => {
    const t0 = events.length;
    await ha.rest('POST', '/api/services/switch/turn_on', { entity_id: 'switch.front_door_recording' });
    await waitUntil(
      async () =>
        (await api<{ recording: { continuous: boolean } }>('GET', '/api/cameras/front_door')).recording.continuous,
      15_000,
      'continuous recording on in Camstack',
    );
    await waitUntil(
      async () => (await states(ha)).get('switch.front_door_recording')?.state === 'on',
      10_000,
      'the switch on in HA',
    );
    await waitUntil(
      () => events.slice(t0).some((e) => e.event_type === 'camstack_recording_started' && e.data.kind === 'continuous'),
      10_000,
      'camstack_recording_started in HA',
    );
    // Segments are written under the media folder.
    await waitUntil(
      async () => (await files(join(camDir, 'media', 'front_door'))).some((f) => /^\d{4}-.*\.mp4$/.test(f)),
      30_000,
      'a continuous recording segment on disk',
    );
    await ha.rest('POST', '/api/services/switch/turn_off', { entity_id: 'switch.front_door_recording' });
    await waitUntil(
      async () =>
        !(await api<{ recording: { continuous: boolean } }>('GET', '/api/cameras/front_door')).recording.continuous,
      15_000,
      'continuous recording off in Camstack',
    );
    await waitUntil(
      () => events.slice(t0).some((e) => e.event_type === 'camstack_recording_stopped' && e.data.kind === 'continuous'),
      10_000,
      'camstack_recording_stopped in HA',
    );
  });

  it('button.press saves a snapshot and a clip through the services; clip events reach HA', async (t) => {
    const t0 = events.length;
    await ha.rest('POST', '/api/services/button/press', { entity_id: 'button.front_door_snapshot' });
    await waitUntil(
      async () => (await files(join(camDir, 'media', 'front_door', 'snapshots'))).some((f) => f.endsWith('.jpg')),
      20_000,
      'a snapshot on disk',
    );
    await ha.rest('POST', '/api/services/button/press', { entity_id: 'button.front_door_save_clip' });
    await waitUntil(
      () => events.slice(t0).some((e) => e.event_type === 'camstack_recording_started' && e.data.kind === 'clip'),
      15_000,
      'the clip started (camstack_recording_started, kind clip) in HA',
    );
    const end = await waitUntil(
      () =>
        events
          .slice(t0)
          .some(
            (e) =>
              e.event_type === 'camstack_clip_saved' ||
              (e.event_type === 'camstack_recording_stopped' && e.data.kind === 'clip'),
          ),
      40_000,
      'the clip ended (saved or failed) in HA',
    ).then(() => events.slice(t0).find((e) => e.event_type === 'camstack_clip_saved'));
    if (end) {
      assert.equal(end.data.camera, 'front_door');
      assert.match(String(end.data.path), /^front_door\/clips\/front_door_.*_mqtt\.mp4$/);
      assert.match(String(end.data.url), /^\/api\/recordings\/clip_\d+\/video$/);
      assert.ok((await files(join(camDir, 'media', 'front_door', 'clips'))).some((f) => f.endsWith('_mqtt.mp4')));
      // Retention deletes it within a day: an event, and a persistent notification listing it.
      await waitUntil(
        () => events.some((e) => e.event_type === 'camstack_clip_expiring' && e.data.clip_id === end.data.clip_id),
        30_000,
        'camstack_clip_expiring in HA',
      );
      let notifications: { notification_id: string; title: string; message: string }[] = [];
      await waitUntil(
        async () => {
          notifications = await conn.sendMessagePromise({ type: 'persistent_notification/get' });
          return notifications.some((n) => n.notification_id === 'camstack_clips_expiring');
        },
        15_000,
        'the expiring-clips notification',
      );
      const n = notifications.find((x) => x.notification_id === 'camstack_clips_expiring');
      assert.match(n?.title ?? '', /1 clip expires within a day/);
      assert.match(n?.message ?? '', /Front door/);
    } else {
      const failed = events.slice(t0).find((e) => e.event_type === 'camstack_recording_stopped');
      t.diagnostic(`clip not saved by the recordings service: ${String(failed?.data.reason)}`);
    }
  });

  it('triggers: an HA entity turning on saves a clip', async () => {
    const t0 = events.length;
    await ha.rest('POST', '/api/services/input_boolean/turn_on', { entity_id: 'input_boolean.motion' });
    await waitUntil(
      () =>
        events
          .slice(t0)
          .some(
            (e) => e.event_type === 'camstack_recording_started' && e.data.kind === 'clip' && e.data.trigger === 'ha',
          ),
      15_000,
      'a clip started by the trigger',
    );
    assert.match(camstack().output(), /input_boolean\.motion changed to \\"on\\": saving a clip/);
    await ha.rest('POST', '/api/services/input_boolean/turn_off', { entity_id: 'input_boolean.motion' });
  });

  it('ha_live_cameras: one Generic Camera per camera whose stream answers with video', async () => {
    await waitUntil(async () => (await generic()).length === 1, 120_000, 'the generic camera entry');
    const [entry] = await generic();
    assert.equal(entry?.title, 'Front door live [camstack:front_door]');
    let live: HaState | undefined;
    await waitUntil(
      async () => {
        live = (await states(ha)).get('camera.front_door_live');
        return live !== undefined && live.state !== 'unavailable';
      },
      30_000,
      'camera.front_door_live',
    );
    assert.equal(live?.attributes.friendly_name, 'Front door live');
    // HA's stream component opens the RTSP restream and serves HLS from it.
    const stream = await conn.sendMessagePromise<{ url: string }>({
      type: 'camera/stream',
      entity_id: 'camera.front_door_live',
      format: 'hls',
    });
    let playlist = '';
    await waitUntil(
      async () => {
        const r = await fetch(`${ha.url}${stream.url}`);
        playlist = r.ok ? await r.text() : '';
        return playlist.includes('#EXTM3U');
      },
      30_000,
      'the HLS master playlist',
    );
    const variant = playlist.split('\n').find((l) => l && !l.startsWith('#'));
    assert.ok(variant, playlist);
    const base = new URL(stream.url, ha.url);
    let media = '';
    await waitUntil(
      async () => {
        const r = await fetch(new URL(variant, base));
        media = r.ok ? await r.text() : '';
        return /#EXTINF|#EXT-X-PART/.test(media);
      },
      30_000,
      'media in the HLS playlist',
    );
    const init = /#EXT-X-MAP:URI="([^"]+)"/.exec(media)?.[1];
    assert.ok(init, media);
    const initRes = await fetch(new URL(init, new URL(variant, base)));
    const initBytes = Buffer.from(await initRes.arrayBuffer());
    assert.ok(initBytes.includes(Buffer.from('avc1')), 'H.264 video in the init segment');
  });

  it('stopping Camstack makes its entities unavailable; after a restart nothing is duplicated', async () => {
    const before = (await generic()).map((e) => e.entry_id);
    await camstack().cleanup();
    sp = null;
    await waitUntil(
      async () => {
        const now = await states(ha);
        return [...CAMERA_ENTITIES, ...HUB_ENTITIES].every((id) => now.get(id)?.state === 'unavailable');
      },
      20_000,
      'every Camstack entity unavailable',
    );
    await startCamstack();
    await waitUntil(
      async () => (await states(ha)).get('switch.front_door_recording')?.state === 'off',
      60_000,
      'entities available again',
    );
    await waitUntil(
      () => /HA live cameras in sync/.test(camstack().output()),
      60_000,
      'the live-camera sync after the restart',
    );
    const entries = await generic();
    assert.deepEqual(
      entries.map((e) => e.entry_id),
      before,
      'still the same single Generic Camera entry',
    );
    assert.match(camstack().output(), /HA live cameras in sync/);
    const ids = [...(await states(ha)).keys()].filter((k) => k.startsWith('camera.front_door'));
    assert.deepEqual(ids.sort(), ['camera.front_door', 'camera.front_door_live']);
  });

  it('turning ha_live_cameras off removes the Generic Camera', async () => {
    await camstack().cleanup();
    sp = await startServerProcess({
      ...ports,
      options: {
        data_dir: join(camDir, 'data'),
        media_dir: join(camDir, 'media'),
        cameras_file: join(camDir, 'cameras.yaml'),
        mqtt_host: '127.0.0.1',
        mqtt_port: broker.port,
        ha_url: ha.url,
        ha_token: ha.token,
        ha_live_cameras: false,
      },
      env: { CAMSTACK_HA_RETRY_MS: '500' },
    });
    await waitUntil(async () => (await generic()).length === 0, 30_000, 'the generic entry removed');
  });
});
