import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { CameraStatus } from '../../server/src/cameras/status.js';
import { toEventSettings } from '../../server/src/config/events-config.js';
import { integrationConfig } from '../../server/src/config/integration-options.js';
import type { Camera } from '../../server/src/config/load.js';
import { DEFAULT_MOTION_CONFIG } from '../../server/src/config/motion.js';
import { buildMediamtxConfig } from '../../server/src/engines/mediamtx-config.js';
import {
  clipSavedEvent,
  connectivityEvent,
  continuousChangedEvent,
  expiringNotification,
  mediaSourceId,
} from '../../server/src/hass/events.js';
import { liveCameraId, liveEntityId, liveTitle } from '../../server/src/hass/live-cameras.js';
import { RTSP_PASSWORD_FILE, rtspReaderCredentials, rtspUrl } from '../../server/src/hass/rtsp-credentials.js';
import { hassTarget } from '../../server/src/hass/websocket.js';
import { SupervisorClient } from '../../server/src/supervisor-api/client.js';

const camera: Camera = {
  id: 'front_door',
  name: 'Front door',
  source: 'rtsp://cam/stream',
  substream: null,
  username: null,
  password: null,
  enabled: true,
  sourceType: 'rtsp',
  origin: 'file',
  recording: { continuous: false, retainDays: 7, clipRetainDays: 30, preRollSeconds: 0, clipSeconds: 20 },
  events: toEventSettings(undefined),
  onvif: null,
  motion: DEFAULT_MOTION_CONFIG,
};
const status = (state: CameraStatus['state'], lastError: string | null = null): CameraStatus => ({
  id: 'front_door',
  state,
  viewers: 0,
  uptimeSeconds: 0,
  lastFrameAt: null,
  bitrateKbps: null,
  fps: null,
  codec: null,
  resolution: null,
  transcoding: false,
  recording: false,
  lastError,
  retries: 0,
  nextRetryAt: null,
  recordingError: null,
});

describe('Home Assistant events', () => {
  it('camstack_clip_saved carries the media path, HA media-source id and API URL', () => {
    const ev = clipSavedEvent(
      {
        id: 'clip_7',
        camera: 'front_door',
        path: 'front_door/clips/front_door_2026-01-01_10-00-00-000_mqtt.mp4',
        url: '/api/recordings/clip_7/video',
        start: '2026-01-01T10:00:00.000Z',
        end: '2026-01-01T10:00:20.000Z',
        durationSeconds: 20,
        size: 1000,
        trigger: 'mqtt',
        protected: false,
      },
      camera,
      '/media/camstack',
    );
    assert.equal(ev.type, 'camstack_clip_saved');
    assert.equal(ev.data.media_path, '/media/camstack/front_door/clips/front_door_2026-01-01_10-00-00-000_mqtt.mp4');
    assert.equal(
      ev.data.media_content_id,
      'media-source://media_source/local/camstack/front_door/clips/front_door_2026-01-01_10-00-00-000_mqtt.mp4',
    );
    assert.equal(ev.data.url, '/api/recordings/clip_7/video');
    assert.equal(ev.data.camera_name, 'Front door');
    assert.equal(mediaSourceId('/srv/media', 'x.mp4'), null, 'outside /media HA cannot browse it');
  });

  it('online/offline only on real transitions', () => {
    assert.equal(connectivityEvent(camera, status('offline'), null), null, 'the first status says nothing');
    assert.equal(connectivityEvent(camera, status('streaming'), status('idle')), null);
    const off = connectivityEvent(camera, status('offline', 'connection refused'), status('streaming'));
    assert.equal(off?.type, 'camstack_camera_offline');
    assert.equal(off?.data.reason, 'connection refused');
    assert.equal(connectivityEvent(camera, status('streaming'), status('offline'))?.type, 'camstack_camera_online');
  });

  it('recording started/stopped when continuous recording is switched', () => {
    const on = { ...camera, recording: { ...camera.recording, continuous: true } };
    assert.equal(continuousChangedEvent(on, camera)?.type, 'camstack_recording_started');
    assert.equal(continuousChangedEvent(camera, on)?.type, 'camstack_recording_stopped');
    assert.equal(continuousChangedEvent(camera, { ...camera, name: 'x' }), null);
  });

  it('the expiring-clips notification lists them soonest first, or is absent', () => {
    assert.equal(expiringNotification([]), null);
    const n = expiringNotification(
      [
        {
          id: 'clip_2',
          camera: 'garden',
          cameraName: 'Garden',
          start: '2026-01-01T08:00:00Z',
          expiresAt: '2026-01-02T09:00:00Z',
        },
        {
          id: 'clip_1',
          camera: 'front_door',
          cameraName: 'Front door',
          start: '2026-01-01T07:00:00Z',
          expiresAt: '2026-01-02T08:00:00Z',
        },
      ],
      'UTC',
    );
    assert.equal(n?.notification_id, 'camstack_clips_expiring');
    assert.equal(n?.title, 'Camstack: 2 clips expire within a day');
    assert.ok((n?.message.indexOf('Front door') ?? -1) < (n?.message.indexOf('Garden') ?? -1));
  });
});

describe('Home Assistant live cameras and the RTSP reader', () => {
  it('titles carry a marker that maps back to the camera', () => {
    assert.equal(liveTitle(camera), 'Front door live [camstack:front_door]');
    assert.equal(liveCameraId(liveTitle(camera)), 'front_door');
    assert.equal(liveCameraId('Front door'), null);
    assert.equal(liveEntityId('front_door'), 'camera.front_door_live');
  });

  it('the RTSP password is generated once and kept; options win', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'camstack-rtsp-'));
    try {
      const first = await rtspReaderCredentials({ username: 'camstack', password: null }, dir);
      assert.equal(first.origin, 'generated');
      assert.match(first.pass, /^[A-Za-z0-9_-]{24}$/);
      assert.equal((await stat(join(dir, RTSP_PASSWORD_FILE))).mode & 0o777, 0o600);
      const again = await rtspReaderCredentials({ username: 'camstack', password: null }, dir);
      assert.deepEqual([again.pass, again.origin], [first.pass, 'stored']);
      assert.equal((await readFile(join(dir, RTSP_PASSWORD_FILE), 'utf8')).trim(), first.pass);
      const given = await rtspReaderCredentials({ username: 'ha', password: 'p@ss word' }, dir);
      assert.deepEqual(given, { user: 'ha', pass: 'p@ss word', origin: 'options' });
      assert.equal(
        rtspUrl('127.0.0.1', 8554, 'front_door', given),
        'rtsp://ha:p%40ss%20word@127.0.0.1:8554/front_door',
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('MediaMTX: this box reads without credentials, anyone else only reads, and only with them (hashed)', () => {
    const ports = {
      go2rtcApi: 1,
      go2rtcRtsp: 2,
      webrtc: 3,
      mediamtxApi: 4,
      mediamtxRtsp: 5,
      mediamtxPlayback: 6,
      mediamtxHls: 7,
    };
    const c = buildMediamtxConfig({
      ports,
      recordDir: '/m',
      rtspBind: '',
      logLevel: 'info',
      rtspReader: { user: 'camstack', pass: 'secret-pass' },
    });
    const users = c.authInternalUsers as {
      user: string;
      pass: string;
      ips: string[];
      permissions: { action: string }[];
    }[];
    assert.equal(users.length, 2);
    assert.deepEqual(users[0]?.ips, ['127.0.0.1', '::1']);
    assert.equal(users[1]?.user, 'camstack');
    assert.match(users[1]?.pass ?? '', /^sha256:[A-Za-z0-9+/=]+$/);
    assert.ok(!JSON.stringify(c).includes('secret-pass'), 'the password is not in the config');
    assert.deepEqual(users[1]?.ips, []);
    assert.deepEqual(users[1]?.permissions, [{ action: 'read' }]);
    const none = buildMediamtxConfig({ ports, recordDir: '/m', rtspBind: '127.0.0.1', logLevel: 'info' });
    assert.equal((none.authInternalUsers as unknown[]).length, 1);
  });

  it('the websocket goes through the Supervisor in the add-on, else ha_url/ha_token, else nowhere', () => {
    const sup = new SupervisorClient({ baseUrl: 'http://supervisor', token: 'sup' });
    assert.deepEqual(hassTarget(integrationConfig({}).hass, sup), {
      wsUrl: 'ws://supervisor/core/websocket',
      restUrl: 'http://supervisor/core/api',
      token: 'sup',
      via: 'supervisor',
    });
    assert.deepEqual(hassTarget(integrationConfig({ ha_url: 'http://ha.local:8123/', ha_token: 't' }).hass, null), {
      wsUrl: 'ws://ha.local:8123/api/websocket',
      restUrl: 'http://ha.local:8123/api',
      token: 't',
      via: 'options',
    });
    assert.equal(hassTarget(integrationConfig({ ha_url: 'http://ha.local:8123' }).hass, null), null);
  });
});
