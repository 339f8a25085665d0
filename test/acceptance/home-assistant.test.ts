/**
 * Acceptance on real Home Assistant Core, once per version of the matrix (scripts/ha-versions.json:
 * the oldest supported, 2026.2.3 and the newest; CAMSTACK_HA_VERSIONS=a,b picks some), each in
 * its Debian chroot (test/helpers/home-assistant.ts): onboarded and given MQTT through its own
 * HTTP API, pointed at a real Mosquitto, with the real Camstack server (own process, real
 * engines) and a synthetic RTSP camera. Everything on 127.0.0.1.
 *
 * The broker starts out holding the per-entity configs an older Camstack left (test/fixtures/
 * discovery/legacy), so every run also proves the migration to device-based discovery.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Connection } from 'home-assistant-js-websocket';
import { connectAsync } from 'mqtt';
import { SyntheticCameraServer } from '../../scripts/synthetic-cameras.js';
import { DEFAULT_ENGINE_PORTS, type EnginePorts, HA_CORE_GO2RTC_PORTS } from '../../server/src/engines/ports.js';
import {
  CAMERA_ENTITY_KEYS,
  type CameraEntityKey,
  cameraEntityIds,
  HUB_ENTITY_KEYS,
  hubEntityIds,
} from '../../server/src/mqtt/discovery.js';
import { launchChromium, openLivePage, playWebrtc } from '../helpers/browser.js';
import {
  configureMqtt,
  type HaState,
  type HaVersion,
  type HomeAssistant,
  haVersions,
  onboard,
  startHomeAssistant,
  states,
} from '../helpers/home-assistant.js';
import { type Mosquitto, startMosquitto } from '../helpers/mosquitto.js';
import { type OnvifMock, startOnvifMock } from '../helpers/onvif-mock.js';
import { freeEnginePorts, freePort, freePorts } from '../helpers/ports.js';
import { processesMatching, waitUntil } from '../helpers/processes.js';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.js';

/** The documented entity ids (addon/DOCS.md; test/unit/mqtt-discovery.test.ts checks the list). */
const HUB_ENTITIES = hubEntityIds({ topicPrefix: 'camstack', discoveryPrefix: 'homeassistant' });

const legacyFixtures = fileURLToPath(new URL('../fixtures/discovery/legacy/', import.meta.url));
/** Retained per-entity configs as Camstack before 0.2 published them (front_door and the hub). */
function legacyConfigs(): Record<string, unknown> {
  return {
    ...(JSON.parse(readFileSync(join(legacyFixtures, 'hub.json'), 'utf8')) as Record<string, unknown>),
    ...(JSON.parse(readFileSync(join(legacyFixtures, 'front_door.json'), 'utf8')) as Record<string, unknown>),
  };
}

/**
 * Lines of HA's log at WARNING or above about our entities, MQTT discovery or the live camera
 * (deprecations included). Loggers of the integrations we drive, and anything naming our ids.
 */
function haComplaints(log: string): string[] {
  return log
    .split('\n')
    .filter((l) => /\b(WARNING|ERROR|CRITICAL)\b/.test(l))
    .filter((l) =>
      /homeassistant\.components\.(mqtt|generic|camera|stream|go2rtc)\b|camstack|front_door|garden|deprecat/i.test(l),
    );
}

interface RegistryEntity {
  entity_id: string;
  unique_id?: string;
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

for (const v of haVersions()) haSuite(v);

function haSuite(v: HaVersion): void {
  describe(`Camstack in Home Assistant ${v.version} (${v.role})`, { timeout: 900_000 }, () => {
    let broker: Mosquitto;
    let onvif: OnvifMock;
    /** States HA gave the digital-input sensor, in order. */
    const inputStates: string[] = [];
    let sim: SyntheticCameraServer;
    let ha: HomeAssistant;
    let conn: Connection;
    let camDir: string;
    let sp: ServerProcess | null = null;
    /** unique_id → entity_id of the entities HA made from the legacy per-entity configs. */
    let legacyIds = new Map<string, string>();
    /** Where HA's log stood when Camstack started (the legacy configs' own warnings come before). */
    let logFrom = 0;
    let CAMERA_ENTITIES: string[] = [];
    const entity = (key: CameraEntityKey) => CAMERA_ENTITIES[CAMERA_ENTITY_KEYS.indexOf(key)] ?? key;
    const events: { event_type: string; data: Record<string, unknown> }[] = [];

    // The same ports on every start, as in the add-on (HA's live cameras store the URLs).
    let ports: { port: number; enginePorts: EnginePorts } | null = null;
    /** Output of the Camstack processes before the current one (for CAMSTACK_TEST_DUMP). */
    const earlier: string[] = [];
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
          notify_services: ['notify.persistent_notification'],
        },
        env: {
          CAMSTACK_MQTT_BIRTH_DELAY_MS: '500',
          CAMSTACK_MQTT_RECONNECT_MS: '500',
          CAMSTACK_HA_RETRY_MS: '500',
          CAMSTACK_STATUS_POLL_MS: '500',
          CAMSTACK_RETENTION_MS: '2000',
          CAMSTACK_MQTT_DISCOVERY_COLLECT_MS: '500',
          CAMSTACK_MQTT_MIGRATION_STEP_MS: '1000',
        },
      });
      if (sp) earlier.push(sp.output());
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

    let suiteStart = 0;
    before(async () => {
      const t0 = Date.now();
      suiteStart = t0;
      broker = await startMosquitto();
      onvif = await startOnvifMock();
      const [rtspPort, apiPort] = (await freePorts(2)) as [number, number];
      sim = new SyntheticCameraServer({ rtspPort, apiPort });
      await sim.start();
      await sim.addCamera({ name: 'front_door', width: 320, height: 240, fps: 10, audio: false });
      await sim.addCamera({ name: 'garden', width: 320, height: 240, fps: 10, audio: false });
      camDir = await mkdtemp(join(tmpdir(), 'camstack-acc-'));
      await writeFile(
        join(camDir, 'cameras.yaml'),
        `cameras:\n  - id: front_door\n    name: Front door\n    source: ${sim.url('front_door')}\n` +
          // Clips kept one day: a new clip is "expiring within a day" at once (event + notification).
          '    recording:\n      clip_seconds: 4\n      clip_retain_days: 1\n' +
          // A person and the camera's digital input notify (through notify.persistent_notification,
          // the notify_services option); only the input records (the ONVIF mock reports motion
          // and objects all the time).
          '    events:\n      record: [digital_input]\n      notify: [person, digital_input]\n' +
          '      notify_cooldown_seconds: 0\n' +
          // The camera's own ONVIF events, from the ONVIF device mock.
          `    onvif:\n      host: 127.0.0.1\n      port: ${new URL(onvif.baseUrl).port}\n`,
      );
      ha = await startHomeAssistant(v);
      const tStarted = Date.now();
      await onboard(ha);
      await configureMqtt(ha, broker.port);
      conn = await ha.connect();
      // What an older Camstack left on the broker: HA makes its entities from it first.
      const seed = await connectAsync(broker.url);
      const legacy = legacyConfigs();
      for (const [topic, payload] of Object.entries(legacy)) {
        await seed.publishAsync(topic, JSON.stringify(payload), { qos: 1, retain: true });
      }
      await seed.endAsync();
      const legacyUniqueIds = Object.values(legacy).map((p) => (p as { unique_id: string }).unique_id);
      await waitUntil(
        async () => {
          const entities = await conn.sendMessagePromise<RegistryEntity[]>({ type: 'config/entity_registry/list' });
          legacyIds = new Map(
            entities
              .filter((e) => legacyUniqueIds.includes(e.unique_id ?? ''))
              .map((e) => [e.unique_id ?? '', e.entity_id]),
          );
          return legacyIds.size === legacyUniqueIds.length;
        },
        60_000,
        'HA to make the legacy per-entity entities',
      );
      // On HA that still honours `object_id` these are the documented ids; on HA ≥ 2026.4 (which
      // ignores it) they come from the names. The migration must keep them either way.
      CAMERA_ENTITIES = CAMERA_ENTITY_KEYS.map((k) => legacyIds.get(`camstack_front_door_${k}`) ?? '');
      logFrom = ha.output().length;
      for (const type of [
        'camstack_clip_saved',
        'camstack_recording_started',
        'camstack_recording_stopped',
        'camstack_camera_offline',
        'camstack_camera_online',
        'camstack_clip_expiring',
        'camstack_camera_event',
        'call_service',
      ]) {
        await conn.subscribeEvents<{ event_type: string; data: Record<string, unknown> }>((e) => events.push(e), type);
      }
      await conn.subscribeEvents<{ data: { entity_id: string; new_state: { state: string } | null } }>((e) => {
        if (e.data.entity_id === 'binary_sensor.front_door_digital_input' && e.data.new_state) {
          inputStates.push(e.data.new_state.state);
        }
      }, 'state_changed');
      await startCamstack();
      process.stdout.write(
        `# Home Assistant ${v.version} up in ${((tStarted - t0) / 1000).toFixed(1)} s, ready with MQTT and Camstack in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`,
      );
    });

    after(async () => {
      process.stdout.write(
        `# Home Assistant ${v.version}: suite took ${((Date.now() - suiteStart) / 1000).toFixed(0)} s\n`,
      );
      if (process.env.CAMSTACK_TEST_DUMP) {
        await writeFile(
          `${process.env.CAMSTACK_TEST_DUMP}-${v.version}.camstack`,
          [...earlier, sp?.output() ?? ''].join('\n'),
        );
        await writeFile(`${process.env.CAMSTACK_TEST_DUMP}-${v.version}.ha`, ha?.output() ?? '');
      }
      conn?.close();
      const dir = sp?.dir;
      await sp?.cleanup();
      for (const p of dir ? processesMatching(dir) : []) process.kill(p.pid, 'SIGKILL');
      await ha?.cleanup();
      await sim?.stop();
      await broker?.cleanup();
      await onvif?.stop();
      if (camDir) await rm(camDir, { recursive: true, force: true });
    });

    it('migrates an older Camstack’s per-entity configs: same entities and ids, no duplicates, no orphans', async () => {
      assert.deepEqual(
        HUB_ENTITY_KEYS.map((k) => legacyIds.get(`camstack_${k}`)),
        HUB_ENTITIES,
        'the hub’s legacy ids are the documented ones',
      );
      let entities: RegistryEntity[] = [];
      await waitUntil(
        async () => {
          entities = await conn.sendMessagePromise<RegistryEntity[]>({ type: 'config/entity_registry/list' });
          const now = await states(ha);
          return [...legacyIds.values()].every((id) => now.has(id) && now.get(id)?.state !== 'unavailable');
        },
        60_000,
        'the migrated entities, available',
      );
      // The live camera is made once the camera is ready, before the tests below touch it.
      await waitUntil(async () => (await generic()).length === 1, 120_000, 'the live camera entry');
      entities = await conn.sendMessagePromise<RegistryEntity[]>({ type: 'config/entity_registry/list' });
      // The camera's event sensors are new (the ONVIF mock reports motion and objects at once).
      const mqtt = entities.filter((e) => e.platform === 'mqtt' && !(e.unique_id ?? '').includes('_event_'));
      assert.equal(mqtt.length, legacyIds.size, `exactly the legacy entities: ${mqtt.map((e) => e.entity_id)}`);
      for (const [uniqueId, entityId] of legacyIds) {
        const same = mqtt.filter((e) => e.unique_id === uniqueId);
        assert.equal(same.length, 1, `one entity for ${uniqueId}`);
        assert.equal(same[0]?.entity_id, entityId, `${uniqueId} keeps its entity id`);
      }
      const devices = await conn.sendMessagePromise<Device[]>({ type: 'config/device_registry/list' });
      const ours = devices.filter((d) =>
        d.identifiers.some(([dom, id]) => dom === 'mqtt' && id.startsWith('camstack')),
      );
      assert.deepEqual(ours.map((d) => d.name).sort(), ['Camstack', 'Front door'], 'one device per camera and the hub');
      // The broker holds device configs only: the old per-entity topics are cleared.
      const seen = await retainedTopics(broker.url, 'homeassistant/#');
      assert.deepEqual(seen.sort(), [
        'homeassistant/device/camstack/config',
        'homeassistant/device/camstack_front_door/config',
      ]);
      assert.match(camstack().output(), /migrating 16 per-entity discovery configs to device-based discovery/);
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
      assert.equal(now.get(entity('save_clip'))?.attributes.friendly_name, 'Front door Save clip');
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
        () =>
          events.slice(t0).some((e) => e.event_type === 'camstack_recording_started' && e.data.kind === 'continuous'),
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
        () =>
          events.slice(t0).some((e) => e.event_type === 'camstack_recording_stopped' && e.data.kind === 'continuous'),
        10_000,
        'camstack_recording_stopped in HA',
      );
    });

    it('button.press saves a snapshot and a clip through the services; clip events reach HA', async (t) => {
      const t0 = events.length;
      const logFrom = sp?.output().length ?? 0;
      await ha.rest('POST', '/api/services/button/press', { entity_id: entity('snapshot') });
      await waitUntil(
        async () => (await files(join(camDir, 'media', 'front_door', 'snapshots'))).some((f) => f.endsWith('.jpg')),
        // The camera was just switched from 24/7 recording to on demand (its restream was replaced):
        // the snapshot opens it again, which on a loaded machine took over 20 s once.
        45_000,
        'a snapshot on disk',
      ).catch((err: unknown) => {
        // Say what Camstack did meanwhile: the command, the snapshot, the engines.
        const said = (sp?.output() ?? '')
          .slice(logFrom)
          .split('\n')
          .filter((l) => /snapshot|"level":"(warn|error)"|synced|command/i.test(l))
          .slice(-30);
        throw new Error(`${err instanceof Error ? err.message : String(err)}\nCamstack said:\n${said.join('\n')}`);
      });
      await ha.rest('POST', '/api/services/button/press', { entity_id: entity('save_clip') });
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

    it('a camera event: binary_sensor on, then off; camstack_camera_event with its picture; a notification', async () => {
      const t0 = events.length;
      const state = async (id: string) =>
        (await ha.rest<{ state: string }>('GET', `/api/states/${id}`)).body?.state ?? 'missing';
      const started = await api<{ event: { id: string } }>('POST', '/api/cameras/front_door/events', {
        type: 'person',
        state: 'start',
      });
      await waitUntil(
        async () => (await state('binary_sensor.front_door_person')) === 'on',
        30_000,
        'the person sensor on',
      );
      await waitUntil(
        () =>
          events
            .slice(t0)
            .some((e) => e.event_type === 'camstack_camera_event' && e.data.event_id === started.event.id),
        30_000,
        'camstack_camera_event in HA',
      );
      const fired = events
        .slice(t0)
        .find((e) => e.event_type === 'camstack_camera_event' && e.data.event_id === started.event.id);
      assert.equal(fired?.data.camera, 'front_door');
      assert.equal(fired?.data.type, 'person');
      assert.match(String(fired?.data.picture_path), /^front_door\/events\/front_door_.*\.jpg$/);
      const call = await waitUntil(
        () => events.slice(t0).some((e) => e.event_type === 'call_service' && e.data.domain === 'notify'),
        15_000,
        'the notify call',
      ).then(() => events.slice(t0).find((e) => e.event_type === 'call_service' && e.data.domain === 'notify'));
      assert.equal(call?.data.service, 'persistent_notification');
      const sent = call?.data.service_data as { title: string; message: string; data: Record<string, unknown> };
      assert.equal(sent.title, 'Front door: person');
      assert.match(sent.message, /^Person at \d\d:\d\d:\d\d$/);
      assert.equal(sent.data.camstack_event_id, started.event.id);
      assert.ok(!JSON.stringify(call?.data).includes('rtsp://'), 'no stream URL (nor its credentials)');
      await api('POST', '/api/cameras/front_door/events', { type: 'person', state: 'end' });
      await waitUntil(
        async () => (await state('binary_sensor.front_door_person')) === 'off',
        30_000,
        'the person sensor off',
      );
    });

    it('the camera’s ONVIF digital input: binary_sensor on then off in HA, a notification with the picture of that moment', async () => {
      const t0 = events.length;
      await waitUntil(
        async () =>
          (await api<{ onvif: { state: string } | null }>('GET', '/api/cameras/front_door/events')).onvif?.state ===
          'subscribed',
        30_000,
        'the ONVIF subscription',
      );
      const pulsedAt = Date.now();
      await onvif.control('/mock/digital-input/DigitalInput_1/pulse');
      await waitUntil(
        () => inputStates.lastIndexOf('off') > inputStates.indexOf('on') && inputStates.includes('on'),
        30_000,
        'binary_sensor.front_door_digital_input on, then off',
      );
      await waitUntil(
        () => events.slice(t0).some((e) => e.event_type === 'camstack_camera_event' && e.data.type === 'digital_input'),
        30_000,
        'camstack_camera_event for the input',
      );
      const fired = events
        .slice(t0)
        .find((e) => e.event_type === 'camstack_camera_event' && e.data.type === 'digital_input');
      assert.equal(fired?.data.source, 'onvif');
      assert.ok(
        Math.abs(Date.parse(String(fired?.data.start)) - pulsedAt) < 3000,
        'the event is the moment of the pulse',
      );
      const picture = String(fired?.data.picture_path);
      assert.match(picture, /^front_door\/events\/.*\.jpg$/);
      assert.ok((await readFile(join(camDir, 'media', picture))).length > 1000, 'the picture is on disk');
      await waitUntil(
        () =>
          events
            .slice(t0)
            .some(
              (e) =>
                e.event_type === 'call_service' &&
                e.data.domain === 'notify' &&
                (e.data.service_data as { data?: { camstack_event_id?: unknown } }).data?.camstack_event_id ===
                  fired?.data.event_id,
            ),
        15_000,
        'the notification of the input',
      );
    });

    it('the shipped blueprint notifies a vehicle through the notify service it is given', async () => {
      const dir = join(ha.hostConfigDir, 'blueprints', 'automation', 'camstack');
      await mkdir(dir, { recursive: true });
      await copyFile(
        fileURLToPath(new URL('../../blueprints/automation/camstack/camera_event_notify.yaml', import.meta.url)),
        join(dir, 'camera_event_notify.yaml'),
      );
      const made = await ha.rest('POST', '/api/config/automation/config/camstack_vehicle', {
        alias: 'Camstack vehicle',
        use_blueprint: {
          path: 'camstack/camera_event_notify.yaml',
          input: {
            camera: 'front_door',
            event_types: ['vehicle'],
            notify_service: 'notify.persistent_notification',
            cooldown: 0,
          },
        },
      });
      assert.equal(made.status, 200, JSON.stringify(made.body));
      await waitUntil(
        async () =>
          (await ha.rest<{ state: string }>('GET', '/api/states/automation.camstack_vehicle')).body?.state === 'on',
        20_000,
        'the blueprint automation on',
      );
      const t0 = events.length;
      // The camera's own rules notify a person only: a vehicle's notification is the blueprint's.
      await api('POST', '/api/cameras/front_door/events', { type: 'vehicle', state: 'pulse', seconds: 1 });
      await waitUntil(
        () => events.slice(t0).some((e) => e.event_type === 'call_service' && e.data.domain === 'notify'),
        30_000,
        'the blueprint’s notify call',
      );
      const call = events.slice(t0).find((e) => e.event_type === 'call_service' && e.data.domain === 'notify');
      const sent = call?.data.service_data as { title: string; message: string; data: Record<string, unknown> };
      assert.equal(call?.data.service, 'persistent_notification');
      assert.equal(sent.title, 'Front door: vehicle');
      assert.match(sent.message, /^Vehicle at \d\d:\d\d:\d\d$/);
      assert.equal(sent.data.tag, 'camstack_front_door_vehicle');
      assert.ok(
        !events.slice(t0).some((e) => e.event_type === 'call_service' && e.data.domain === 'notify' && e !== call),
        'one notification: the camera itself does not notify vehicles',
      );
    });

    it('ha_live_cameras: one Generic Camera per camera whose stream answers with video', async () => {
      await waitUntil(async () => (await generic()).length === 1, 120_000, 'the generic camera entry');
      const [entry] = await generic();
      assert.equal(entry?.title, 'Front door live [camstack:front_door]');
      const health = await api<{ homeAssistant?: { liveCameras?: { state: string; reason: string | null } } }>(
        'GET',
        '/api/health',
      );
      assert.deepEqual(health.homeAssistant?.liveCameras, { state: 'ok', reason: null });
      let live: HaState | undefined;
      await waitUntil(
        async () => {
          live = (await states(ha)).get('camera.front_door_live');
          return live !== undefined && live.state !== 'unavailable';
        },
        30_000,
        'camera.front_door_live',
      );
      // HA 2026.x puts the device's name ("Camstack") in front of it; older HA shows it alone.
      assert.match(String(live?.attributes.friendly_name), /^(Camstack )?Front door live$/);
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

    it('camera.front_door_live plays in Chromium through HA’s own go2rtc (WebRTC over HA’s websocket)', async (t) => {
      const browser = await launchChromium();
      try {
        const live = await openLivePage(browser, `${ha.url}/api/onboarding`);
        try {
          const res = await playWebrtc(live.page, {
            url: '',
            ha: {
              wsUrl: `ws://127.0.0.1:${ha.port}/api/websocket`,
              token: ha.token,
              entityId: 'camera.front_door_live',
            },
            audio: false,
            timeoutMs: 45_000,
            countMs: 3000,
            keepOpen: true,
          });
          t.diagnostic(
            `HA ${v.version}: first frame after ${Math.round(res.firstFrameMs)} ms, ${res.frames} frames in ${res.countMs} ms, ${res.width}x${res.height}`,
          );
          assert.ok(res.frames >= 10, `moving video: ${res.frames} frames in ${res.countMs} ms`);
          assert.ok(res.mediaAdvance > 1 || res.currentTimeAdvance > 1, 'media time advances');
          assert.equal(res.width, 320);
          // Camera → Camstack's MediaMTX → HA's go2rtc → Chromium: still one upstream connection.
          assert.equal(await sim.readers('front_door'), 1, 'the camera sees exactly one connection');
          // HA's own go2rtc really listens where Camstack's defaults keep clear of (ports.ts).
          const listening = await listeningPorts();
          for (const port of [HA_CORE_GO2RTC_PORTS.rtsp, HA_CORE_GO2RTC_PORTS.webrtc]) {
            assert.ok(listening.has(port), `HA's go2rtc listens on ${port}`);
          }
          for (const port of Object.values(DEFAULT_ENGINE_PORTS)) {
            assert.ok(
              !(Object.values(HA_CORE_GO2RTC_PORTS) as number[]).includes(port),
              `our default ${port} is not HA's`,
            );
          }
        } finally {
          await live.close();
        }
      } finally {
        await browser.close();
      }
    });

    it('a new camera gets exactly the documented entity ids; removing it removes its device completely', async () => {
      const garden = cameraEntityIds('garden');
      const created = await fetch(`${camstack().baseUrl}/api/cameras`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id: 'garden', name: 'Garden', source: sim.url('garden') }),
      });
      assert.equal(created.status, 201, await created.text());
      let now = new Map<string, HaState>();
      await waitUntil(
        async () => {
          now = await states(ha);
          return garden.every((id) => now.has(id) && now.get(id)?.state !== 'unavailable');
        },
        60_000,
        'the garden entities, available',
      ).catch(() => undefined);
      const have = [...now.keys()].filter((k) => k.includes('garden'));
      for (const id of garden) assert.ok(now.has(id), `${id} exists (have: ${have.join(', ')})`);
      const gardenDevice = async () =>
        (await conn.sendMessagePromise<Device[]>({ type: 'config/device_registry/list' })).find((d) =>
          d.identifiers.some(([dom, id]) => dom === 'mqtt' && id === 'camstack_garden'),
        );
      assert.ok(await gardenDevice(), 'the garden device');
      await waitUntil(async () => (await generic()).length === 2, 120_000, 'the garden live camera entry');

      const removed = await fetch(`${camstack().baseUrl}/api/cameras/garden`, { method: 'DELETE' });
      assert.equal(removed.status, 204);
      await waitUntil(
        async () => {
          const entities = await conn.sendMessagePromise<RegistryEntity[]>({ type: 'config/entity_registry/list' });
          return !entities.some((e) => e.entity_id.includes('garden')) && (await gardenDevice()) === undefined;
        },
        60_000,
        'the garden device and all its entities gone from HA',
      );
      await waitUntil(async () => (await generic()).length === 1, 60_000, 'the garden live camera entry removed');
      const seen = await retainedTopics(broker.url, 'homeassistant/#');
      assert.ok(!seen.some((tp) => tp.includes('garden')), `no garden config left on the broker: ${seen}`);
    });

    it('HA logs no warning, error or deprecation about our entities, discovery or live camera', () => {
      const complaints = haComplaints(ha.output().slice(logFrom));
      assert.deepEqual(complaints, [], `HA ${v.version} complained:\n${complaints.join('\n')}`);
      // npm run setup installed every requirement: HA (run with --skip-pip) misses none.
      const missing = ha.output().match(/.*No module named.*/g) ?? [];
      assert.deepEqual(missing, [], 'a requirement HA needs is not installed in its venv');
    });

    it('stopping Camstack makes its entities unavailable; after a restart nothing is duplicated', async () => {
      const before = (await generic()).map((e) => e.entry_id);
      await camstack().cleanup();
      earlier.push(camstack().output());
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
      earlier.push(camstack().output());
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
}

/** TCP ports something listens on (this network namespace, /proc/net/tcp and tcp6). */
async function listeningPorts(): Promise<Set<number>> {
  const ports = new Set<number>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(file, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] === '0A') ports.add(Number.parseInt(cols[1]?.split(':').at(-1) ?? '', 16));
    }
  }
  return ports;
}

/** The topics holding a retained message under `filter`, read by a fresh subscriber. */
async function retainedTopics(url: string, filter: string): Promise<string[]> {
  const client = await connectAsync(url);
  const topics = new Set<string>();
  client.on('message', (topic, payload, packet) => {
    if (packet.retain && payload.length > 0) topics.add(topic);
  });
  await client.subscribeAsync(filter, { qos: 1 });
  await new Promise((r) => setTimeout(r, 1000));
  await client.endAsync();
  return [...topics].filter((t) => t.endsWith('/config'));
}
