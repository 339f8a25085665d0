/**
 * Pure parts of the camera events: the rules (clip, cooldown, notify), the `events` settings and
 * their file form, what Home Assistant is told (its bus event and the notify calls), the MQTT
 * entities of the types a camera reports, and the FFmpeg arguments of the picture of a moment.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clipOnEvent, keepAliveMs, notifyOnEvent } from '../../server/src/camera-events/rules.js';
import { eventsToFileForm, toEventSettings } from '../../server/src/config/events-config.js';
import type { CameraEventView } from '../../server/src/contract/index.js';
import { cameraEventFired, eventNotifyCalls, mediaUrlPath } from '../../server/src/hass/events.js';
import { cameraDiscovery } from '../../server/src/mqtt/discovery.js';
import { eventAttributes } from '../../server/src/mqtt/event-states.js';
import { frameAtArgs } from '../../server/src/recordings/frames.js';

const rules = toEventSettings({ post_roll_seconds: 10, cooldown_seconds: 30, notify: ['person'] });

const event: CameraEventView = {
  id: 'evt_7',
  camera: 'front_door',
  type: 'person',
  source: 'onvif',
  start: '2026-12-04T10:11:12.000Z',
  end: null,
  active: true,
  clipId: 'clip_3',
  pictureUrl: '/api/camera-events/evt_7/picture.jpg',
  detail: 'RuleEngine/MyRuleDetector/PeopleDetect',
};

describe('camera event rules', () => {
  it('records every type but tamper by default, with the camera pre-roll and 10 s of post-roll', () => {
    const d = toEventSettings(undefined);
    assert.deepEqual(d.record, [
      'motion',
      'person',
      'vehicle',
      'animal',
      'line_crossing',
      'intrusion',
      'digital_input',
    ]);
    assert.equal(d.preRollSeconds, null);
    assert.deepEqual(clipOnEvent(d, 'motion', { open: false, lastEndMs: null }, 0), {
      action: 'clip',
      preRollSeconds: null,
      durationSeconds: 10,
    });
    assert.deepEqual(clipOnEvent(d, 'tamper', { open: false, lastEndMs: null }, 0), {
      action: 'none',
      reason: 'not recorded',
    });
  });

  it('extends an open clip (no second pre-roll), and keeps the cooldown after one ended', () => {
    assert.deepEqual(clipOnEvent(rules, 'motion', { open: true, lastEndMs: 20_000 }, 15_000), {
      action: 'clip',
      preRollSeconds: 0,
      durationSeconds: 10,
    });
    assert.deepEqual(clipOnEvent(rules, 'motion', { open: false, lastEndMs: 20_000 }, 40_000), {
      action: 'none',
      reason: 'cooldown',
    });
    assert.equal(clipOnEvent(rules, 'motion', { open: false, lastEndMs: 20_000 }, 50_000).action, 'clip');
    assert.equal(keepAliveMs(rules), 5000, 'a lasting event renews its clip well inside the post-roll');
  });

  it('notifies the chosen types, at most once per cooldown of the camera', () => {
    assert.equal(notifyOnEvent(rules, 'person', null, 0), true);
    assert.equal(notifyOnEvent(rules, 'motion', null, 0), false);
    assert.equal(notifyOnEvent(rules, 'person', 0, 59_000), false);
    assert.equal(notifyOnEvent(rules, 'person', 0, 60_000), true);
  });

  it('the file form round-trips, every key spelled out', () => {
    const form = eventsToFileForm(rules);
    assert.deepEqual(form, {
      record: ['motion', 'person', 'vehicle', 'animal', 'line_crossing', 'intrusion', 'digital_input'],
      pre_roll_seconds: null,
      post_roll_seconds: 10,
      cooldown_seconds: 30,
      notify: ['person'],
      notify_cooldown_seconds: 60,
    });
    assert.deepEqual(toEventSettings(form), rules);
  });
});

describe('what Home Assistant is told', () => {
  const announcement = { event, cameraName: 'Front door', picturePath: 'front_door/events/x.jpg', notify: true };

  it('a bus event with the picture where HA serves the media folder', () => {
    const fired = cameraEventFired(announcement, '/media/camstack');
    assert.equal(fired.type, 'camstack_camera_event');
    assert.equal(fired.data.image, '/media/local/camstack/front_door/events/x.jpg');
    assert.equal(
      fired.data.picture_media_content_id,
      'media-source://media_source/local/camstack/front_door/events/x.jpg',
    );
    assert.equal(fired.data.event_id, 'evt_7');
    assert.equal(mediaUrlPath('/srv/media', 'a.jpg'), null, 'outside /media HA cannot serve it');
  });

  it('one notify call per service: title, time, picture, a tap that opens the panel at the event, one tag per camera and type', () => {
    const calls = eventNotifyCalls(
      announcement,
      ['notify.mobile_app_pixel', 'notify.persistent_notification'],
      '/media/camstack',
      '/hassio/ingress/local_camstack',
    );
    assert.deepEqual(
      calls.map((c) => `${c.domain}.${c.service}`),
      ['notify.mobile_app_pixel', 'notify.persistent_notification'],
    );
    const data = calls[0]?.service_data as { title: string; message: string; data: Record<string, unknown> };
    assert.equal(data.title, 'Front door: person');
    assert.match(data.message, /^Person at \d\d:\d\d:\d\d$/);
    assert.equal(data.data.image, '/media/local/camstack/front_door/events/x.jpg');
    assert.equal(data.data.clickAction, '/hassio/ingress/local_camstack?camstack_event=evt_7');
    assert.equal(data.data.url, '/hassio/ingress/local_camstack?camstack_event=evt_7');
    assert.equal(data.data.tag, 'camstack_front_door_person');
    const bare = eventNotifyCalls({ ...announcement, picturePath: null }, ['notify.x'], '/media/camstack', null);
    assert.deepEqual(Object.keys((bare[0]?.service_data.data as object) ?? {}).sort(), [
      'camstack_clip_id',
      'camstack_event_id',
      'group',
      'tag',
    ]);
  });
});

describe('camera events on MQTT', () => {
  const ctx = { topicPrefix: 'camstack', discoveryPrefix: 'homeassistant', version: '0.1.0' };

  it('a binary sensor and a device trigger per reported type, none for the others', () => {
    const m = cameraDiscovery(ctx, {
      id: 'porch',
      name: 'Porch',
      sourceType: 'rtsp',
      eventTypes: ['motion', 'tamper'],
    });
    const c = (m.payload as { components: Record<string, Record<string, unknown>> }).components;
    assert.deepEqual(
      Object.keys(c).filter((k) => k.startsWith('event_') || k.startsWith('trigger_')),
      ['event_motion', 'trigger_motion', 'event_tamper', 'trigger_tamper'],
    );
    assert.equal(c.event_motion?.default_entity_id, 'binary_sensor.porch_motion');
    assert.equal(c.event_motion?.device_class, 'motion');
    assert.equal(c.event_tamper?.device_class, 'tamper');
    assert.equal(c.event_motion?.json_attributes_topic, 'camstack/camera/porch/event/motion/attributes');
    assert.deepEqual(
      [c.trigger_motion?.automation_type, c.trigger_motion?.topic, c.trigger_motion?.payload],
      ['trigger', 'camstack/camera/porch/event/motion/trigger', 'start'],
    );
    const none = cameraDiscovery(ctx, { id: 'porch', name: 'Porch', sourceType: 'rtsp' });
    assert.equal(Object.keys((none.payload as { components: object }).components).length, 11);
  });

  it('the attributes carry the event, its picture and clip, nothing more', () => {
    assert.deepEqual(eventAttributes(event), {
      event_id: 'evt_7',
      source: 'onvif',
      start: '2026-12-04T10:11:12.000Z',
      end: null,
      picture_url: '/api/camera-events/evt_7/picture.jpg',
      clip_id: 'clip_3',
      detail: 'RuleEngine/MyRuleDetector/PeopleDetect',
    });
  });
});

describe('the picture of a moment', () => {
  it('seeks in the segment to the moment (decoding from the keyframe before it), one JPEG frame', () => {
    const args = frameAtArgs('/m/a.mp4', 12.3456, 640);
    assert.deepEqual(args.slice(args.indexOf('-ss'), args.indexOf('-ss') + 4), ['-ss', '12.346', '-i', '/m/a.mp4']);
    assert.ok(args.includes('scale=640:-2'));
    assert.equal(frameAtArgs('/m/a.mp4', -1)[frameAtArgs('/m/a.mp4', -1).indexOf('-ss') + 1], '0.000');
  });
});
