import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseCommand } from '../../server/src/mqtt/commands.js';
import {
  allDiscovery,
  CAMERA_ENTITY_KEYS,
  cameraDiscovery,
  cameraDiscoveryTopic,
  cameraEntityIds,
  type DiscoveryCamera,
  type DiscoveryContext,
  type DiscoveryMessage,
  HUB_ENTITY_KEYS,
  hubDiscovery,
  hubEntityIds,
  isOwnDeviceConfig,
  legacyCameraTopics,
  legacyHubTopics,
} from '../../server/src/mqtt/discovery.js';
import { cameraState, hubState, isOnline } from '../../server/src/mqtt/state.js';
import {
  commandSubscriptions,
  deviceDiscoverySubscription,
  legacyDiscoverySubscription,
  nodeId,
} from '../../server/src/mqtt/topics.js';

const fixtures = fileURLToPath(new URL('../fixtures/discovery/', import.meta.url));

/** The version the fixtures were written with (the integration test substitutes the real one). */
const FIXTURE_VERSION = '0.0.0-fixture';
const FIXTURE_CAMERAS: DiscoveryCamera[] = [
  { id: 'front_door', name: 'Front door', sourceType: 'rtsp' },
  { id: 'garden', name: 'Garden', sourceType: 'http-mjpeg' },
];
const ctx: DiscoveryContext = { topicPrefix: 'camstack', discoveryPrefix: 'homeassistant', version: FIXTURE_VERSION };

function asRecord(messages: readonly DiscoveryMessage[]): Record<string, unknown> {
  return Object.fromEntries(messages.map((m) => [m.topic, m.payload]));
}

type Component = Record<string, unknown> & { platform: string; unique_id: string; default_entity_id: string };
const components = (m: DiscoveryMessage) => m.payload.components as Record<string, Component>;

/** Compare with test/fixtures/discovery/<name>.json; UPDATE_FIXTURES=1 rewrites the file. */
function matchesFixture(name: string, actual: Record<string, unknown>): void {
  const file = join(fixtures, `${name}.json`);
  if (process.env.UPDATE_FIXTURES === '1') {
    mkdirSync(fixtures, { recursive: true });
    writeFileSync(file, `${JSON.stringify(actual, null, 2)}\n`);
  }
  const expected = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  assert.deepEqual(actual, expected, `differs from ${file} (UPDATE_FIXTURES=1 rewrites it after review)`);
}

/** The entity ids addon/DOCS.md promises (the public contract), for a camera `front_door`. */
const DOCUMENTED_CAMERA_IDS = [
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
const DOCUMENTED_HUB_IDS = [
  'sensor.camstack_engines',
  'sensor.camstack_storage_used',
  'sensor.camstack_storage_free',
  'sensor.camstack_recordings',
  'sensor.camstack_version',
];

describe('MQTT discovery payloads', () => {
  it('match the reviewed fixtures: hub and two cameras', () => {
    matchesFixture('hub', asRecord([hubDiscovery(ctx)]));
    for (const camera of FIXTURE_CAMERAS) matchesFixture(camera.id, asRecord([cameraDiscovery(ctx, camera)]));
  });

  it('use one device topic per camera and one for the hub, with unique ids throughout', () => {
    const all = allDiscovery(ctx, FIXTURE_CAMERAS);
    assert.deepEqual(
      all.map((m) => m.topic),
      [
        'homeassistant/device/camstack/config',
        'homeassistant/device/camstack_front_door/config',
        'homeassistant/device/camstack_garden/config',
      ],
    );
    const comps = all.flatMap((m) => Object.values(components(m)));
    assert.equal(comps.length, HUB_ENTITY_KEYS.length + FIXTURE_CAMERAS.length * CAMERA_ENTITY_KEYS.length);
    assert.equal(new Set(comps.map((c) => c.unique_id)).size, comps.length, 'unique_ids are unique');
    assert.equal(new Set(comps.map((c) => c.default_entity_id)).size, comps.length, 'entity ids are unique');
    for (const c of comps) {
      assert.equal(c.default_entity_id.split('.')[0], c.platform, 'the entity id is in the platform’s domain');
      // HA 2025.1–2025.9 know only object_id; newer HA prefer default_entity_id when both are there.
      assert.equal(`${c.platform}.${String(c.object_id)}`, c.default_entity_id, 'object_id says the same');
    }
  });

  it('give exactly the documented entity ids (the public contract)', () => {
    assert.deepEqual(cameraEntityIds('front_door'), DOCUMENTED_CAMERA_IDS);
    assert.deepEqual(hubEntityIds(ctx), DOCUMENTED_HUB_IDS);
    const front = cameraDiscovery(ctx, FIXTURE_CAMERAS[0] as DiscoveryCamera);
    assert.deepEqual(
      Object.values(components(front)).map((c) => c.default_entity_id),
      DOCUMENTED_CAMERA_IDS,
    );
    assert.deepEqual(
      Object.values(components(hubDiscovery(ctx))).map((c) => c.default_entity_id),
      DOCUMENTED_HUB_IDS,
    );
    const docs = readFileSync(fileURLToPath(new URL('../../addon/DOCS.md', import.meta.url)), 'utf8');
    for (const id of [...DOCUMENTED_CAMERA_IDS, ...DOCUMENTED_HUB_IDS]) {
      const pattern = id.replace('front_door', '<id>');
      assert.ok(docs.includes(`\`${pattern}\``), `addon/DOCS.md lists \`${pattern}\``);
    }
  });

  it('never send model_id or an unknown device key; always send origin and availability', () => {
    const allowed = new Set([
      'identifiers',
      'connections',
      'name',
      'manufacturer',
      'model',
      'serial_number',
      'hw_version',
      'sw_version',
      'suggested_area',
      'configuration_url',
      'via_device',
    ]);
    for (const m of allDiscovery(ctx, FIXTURE_CAMERAS)) {
      const device = m.payload.device as Record<string, unknown>;
      for (const key of Object.keys(device)) assert.ok(allowed.has(key), `${m.topic}: device.${key}`);
      assert.deepEqual(m.payload.origin, { name: 'Camstack', sw_version: FIXTURE_VERSION });
      assert.equal(m.payload.availability_topic, 'camstack/status');
    }
  });

  it('link every camera device to the hub device', () => {
    const hubId = (hubDiscovery(ctx).payload.device as { identifiers: string[] }).identifiers[0];
    assert.equal(hubId, 'camstack');
    const device = cameraDiscovery(ctx, FIXTURE_CAMERAS[0] as DiscoveryCamera).payload.device as {
      identifiers: string[];
      via_device: string;
      name: string;
    };
    assert.deepEqual(device.identifiers, ['camstack_front_door']);
    assert.equal(device.via_device, hubId);
    assert.equal(device.name, 'Front door');
  });

  it('names read well to Assist: the device name plus the entity name', () => {
    const c = components(cameraDiscovery(ctx, FIXTURE_CAMERAS[0] as DiscoveryCamera));
    assert.equal(c.camera?.name, null, 'the camera entity is the device itself: "Front door"');
    assert.equal(c.save_clip?.name, 'Save clip');
    assert.equal(c.recording?.name, 'Recording');
    assert.equal(c.snapshot?.name, 'Save snapshot');
  });

  it('keep every id and topic when a camera is renamed; only names change', () => {
    const ids = (m: DiscoveryMessage) => [
      m.topic,
      ...Object.values(components(m)).map((c) => [c.unique_id, c.default_entity_id]),
    ];
    const before = cameraDiscovery(ctx, { id: 'front_door', name: 'Front door', sourceType: 'rtsp' });
    const after = cameraDiscovery(ctx, { id: 'front_door', name: 'Porch', sourceType: 'rtsp' });
    assert.deepEqual(ids(after), ids(before));
    assert.equal((after.payload.device as { name: string }).name, 'Porch');
  });

  it('name the device topic to clear when a camera is removed', () => {
    assert.equal(
      cameraDiscoveryTopic(ctx, 'garden'),
      cameraDiscovery(ctx, FIXTURE_CAMERAS[1] as DiscoveryCamera).topic,
    );
  });

  it('know the per-entity topics of Camstack before 0.2, to migrate them', () => {
    assert.deepEqual(legacyHubTopics(ctx).slice(0, 2), [
      'homeassistant/sensor/camstack/engines/config',
      'homeassistant/sensor/camstack/storage_used/config',
    ]);
    const cam = legacyCameraTopics(ctx, 'front_door');
    assert.equal(cam.length, CAMERA_ENTITY_KEYS.length);
    assert.equal(cam[0], 'homeassistant/camera/camstack/front_door_camera/config');
    assert.equal(legacyDiscoverySubscription(ctx), 'homeassistant/+/camstack/+/config');
    assert.equal(deviceDiscoverySubscription(ctx), 'homeassistant/device/+/config');
  });

  it('tell our device configs from another Camstack’s by their payload', () => {
    const own = cameraDiscovery(ctx, FIXTURE_CAMERAS[0] as DiscoveryCamera).payload;
    assert.ok(isOwnDeviceConfig(ctx, own));
    assert.ok(isOwnDeviceConfig(ctx, hubDiscovery(ctx).payload));
    const other = cameraDiscovery({ ...ctx, topicPrefix: 'camstack_2' }, FIXTURE_CAMERAS[0] as DiscoveryCamera);
    assert.ok(!isOwnDeviceConfig(ctx, other.payload), 'camstack_2 is another Camstack');
    assert.ok(!isOwnDeviceConfig(ctx, hubDiscovery({ ...ctx, topicPrefix: 'camstack_2' }).payload));
    assert.ok(!isOwnDeviceConfig(ctx, { dev: { ids: 'zigbee_1' } }));
    assert.ok(!isOwnDeviceConfig(ctx, null));
    assert.ok(isOwnDeviceConfig(ctx, { dev: { ids: ['x'], via_device: 'camstack' } }), 'abbreviated keys');
  });

  it('derive the node id from the topic prefix, so two Camstacks do not collide', () => {
    assert.equal(nodeId('home/cams'), 'home_cams');
    const other = cameraDiscovery(
      { ...ctx, topicPrefix: 'home/cams' },
      { id: 'front_door', name: 'F', sourceType: 'rtsp' },
    );
    assert.equal(other.topic, 'homeassistant/device/home_cams_front_door/config');
    assert.ok(Object.values(components(other)).every((c) => c.unique_id.startsWith('home_cams_front_door_')));
  });
});

describe('MQTT commands', () => {
  const p = (s: string | Buffer) => (typeof s === 'string' ? Buffer.from(s) : s);

  it('accept exactly ON/OFF and PRESS on the advertised topics', () => {
    assert.deepEqual(parseCommand(ctx, 'camstack/camera/front_door/recording/set', p('ON')), {
      kind: 'recording',
      camera: 'front_door',
      continuous: true,
    });
    assert.deepEqual(parseCommand(ctx, 'camstack/camera/front_door/recording/set', p('OFF')), {
      kind: 'recording',
      camera: 'front_door',
      continuous: false,
    });
    assert.deepEqual(parseCommand(ctx, 'camstack/camera/garden/clip/save', p('PRESS')), {
      kind: 'save_clip',
      camera: 'garden',
    });
    assert.deepEqual(parseCommand(ctx, 'camstack/camera/garden/snapshot/save', p('PRESS')), {
      kind: 'snapshot',
      camera: 'garden',
    });
    for (const topic of commandSubscriptions(ctx)) assert.match(topic, /^camstack\/camera\/\+\//);
  });

  it('reject garbage with a reason, never guessing', () => {
    const cases: [string, string | Buffer, RegExp][] = [
      ['camstack/camera/front_door/recording/set', 'on', /expected ON or OFF/],
      ['camstack/camera/front_door/recording/set', '', /expected ON or OFF, got \(empty\)/],
      ['camstack/camera/front_door/recording/set', '{"state":"ON"}', /expected ON or OFF/],
      ['camstack/camera/front_door/recording/set', Buffer.from([0xff, 0x00, 0xfe]), /expected ON or OFF/],
      ['camstack/camera/front_door/recording/set', 'ON'.repeat(100), /too long/],
      ['camstack/camera/front_door/clip/save', 'press', /expected PRESS/],
      ['camstack/camera/front_door/clip/save', 'PRESS ', /expected PRESS/],
      ['camstack/camera/Front-Door/clip/save', 'PRESS', /invalid camera id/],
      ['camstack/camera/front_door/clip/delete', 'PRESS', /unknown command/],
      ['camstack/camera/front_door/clip', 'PRESS', /not a Camstack command topic/],
      ['other/camera/front_door/clip/save', 'PRESS', /not a Camstack command topic/],
    ];
    for (const [topic, payload, reason] of cases) {
      const r = parseCommand(ctx, topic, p(payload));
      assert.equal(r.kind, 'rejected', `${topic} ${String(payload)}`);
      assert.match((r as { reason: string }).reason, reason);
    }
  });
});

describe('MQTT state payloads', () => {
  const camera = { enabled: true, recording: { continuous: true } } as const;
  const status = {
    id: 'front_door',
    state: 'streaming' as const,
    viewers: 2,
    uptimeSeconds: 10,
    lastFrameAt: null,
    bitrateKbps: 812,
    fps: 10,
    codec: 'h264',
    resolution: '320x240',
    transcoding: false,
    recording: true,
    lastError: null,
    retries: 0,
    nextRetryAt: null,
    recordingError: null,
  };

  it('carry every sensor field, null when unknown', () => {
    assert.deepEqual(cameraState(camera, status, { bytes: 1234, lastClipAt: '2026-01-01T10:00:00.000Z' }), {
      status: 'streaming',
      online: 'ON',
      viewers: 2,
      bitrate_kbps: 812,
      fps: 10,
      recording: 'ON',
      storage_bytes: 1234,
      last_clip_at: '2026-01-01T10:00:00.000Z',
      last_error: null,
      recording_error: null,
      picture_at: null,
    });
    const pictured = cameraState(camera, status, undefined, '2026-01-01T09:59:58.000Z');
    assert.equal(pictured.picture_at, '2026-01-01T09:59:58.000Z', 'when the entity picture was taken');
    const full = cameraState(camera, { ...status, recording: false, recordingError: 'media disk full' }, undefined);
    assert.equal(full.recording_error, 'media disk full', 'the reason recording stopped');
    assert.equal(full.last_error, 'media disk full', 'also as the last error');
    assert.equal(full.recording, 'ON', 'the switch still says what was asked');
    const idle = cameraState({ enabled: true, recording: { continuous: false } }, undefined, undefined);
    assert.equal(idle.status, 'idle');
    assert.equal(idle.recording, 'OFF');
    assert.equal(idle.bitrate_kbps, null);
    assert.equal(idle.storage_bytes, null);
  });

  it('report disabled cameras and offline ones as not online', () => {
    assert.equal(
      cameraState({ enabled: false, recording: { continuous: false } }, status, undefined).status,
      'disabled',
    );
    assert.equal(isOnline({ enabled: true }, { ...status, state: 'offline' }), false);
    assert.equal(isOnline({ enabled: true }, { ...status, state: 'error' }), false);
    assert.equal(isOnline({ enabled: true }, { ...status, state: 'idle' }), true);
    assert.equal(isOnline({ enabled: false }, status), false);
  });

  it('summarise the hub', () => {
    const running = { state: 'running' as const, pid: 1, restarts: 0, lastError: null };
    const h = hubState({ go2rtc: running, mediamtx: { ...running, state: 'backoff' } }, null, 2, '1.0.0');
    assert.equal(h.engines, 'degraded');
    assert.deepEqual(h.engine_states, { go2rtc: 'running', mediamtx: 'backoff' });
    assert.equal(h.storage_used_bytes, null);
    assert.equal(
      hubState({ go2rtc: running, mediamtx: running }, { usedBytes: 5, freeBytes: 6, recordings: 7 }, 0, 'x').engines,
      'ok',
    );
  });
});
