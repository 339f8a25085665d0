import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  buildEnginePlan,
  diffMaps,
  h264StreamName,
  h264TranscodeSource,
  ingestStreamName,
  isRecorded,
  mediamtxPathFor,
  normaliseDuration,
  sameGo2rtcSource,
  samePathConf,
} from '../../server/src/cameras/engine-plan.js';
import { toEventSettings } from '../../server/src/config/events-config.js';
import type { Camera } from '../../server/src/config/load.js';
import { DEFAULT_MOTION_CONFIG } from '../../server/src/config/motion.js';
import { assertDistinctPorts, DEFAULT_ENGINE_PORTS, HA_CORE_GO2RTC_PORTS } from '../../server/src/engines/ports.js';

const ports = { mediamtxRtsp: 8554, go2rtcRtsp: 18554 };
const opts = { ports, graceSeconds: 30 };

function cam(over: Partial<Camera> = {}): Camera {
  return {
    id: 'front_door',
    name: 'Front door',
    source: 'rtsp://192.168.1.10:554/stream1',
    substream: null,
    username: 'admin',
    password: 'p@ss:w/rd',
    enabled: true,
    sourceType: 'rtsp',
    origin: 'file',
    recording: { continuous: false, retainDays: 7, clipRetainDays: 30, preRollSeconds: 0, clipSeconds: 20 },
    events: toEventSettings(undefined),
    onvif: null,
    motion: DEFAULT_MOTION_CONFIG,
    ...over,
  };
}

describe('engine plan', () => {
  it('MediaMTX pulls an RTSP camera on demand, with credentials, over TCP, keeping it for the grace period', () => {
    const p = mediamtxPathFor(cam(), opts);
    assert.equal(p.source, 'rtsp://admin:p%40ss%3Aw%2Frd@192.168.1.10:554/stream1');
    assert.equal(p.sourceOnDemand, true);
    assert.equal(p.sourceOnDemandCloseAfter, '30s');
    assert.equal(p.rtspTransport, 'tcp');
    assert.equal(p.record, false);
  });

  it('a continuously recorded camera is always pulled and recorded', () => {
    const p = mediamtxPathFor(cam({ recording: { ...cam().recording, continuous: true } }), opts);
    assert.equal(p.sourceOnDemand, false);
    assert.equal(p.record, true);
  });

  it('while recording is paused (disk full) a recorded camera is still pulled but not recorded', () => {
    const p = mediamtxPathFor(cam({ recording: { ...cam().recording, continuous: true } }), {
      ...opts,
      recordingPaused: true,
    });
    assert.equal(p.sourceOnDemand, false);
    assert.equal(p.record, false);
  });

  it('a camera with a pre-roll buffer is always pulled and recorded (rolling buffer), even if not continuous', () => {
    const p = mediamtxPathFor(cam({ recording: { ...cam().recording, preRollSeconds: 5 } }), opts);
    assert.equal(p.sourceOnDemand, false);
    assert.equal(p.record, true);
    assert.equal(isRecorded(cam({ recording: { ...cam().recording, preRollSeconds: 5 } })), true);
  });

  it('without continuous recording and without pre-roll the camera stays on demand and unrecorded', () => {
    const c = cam({ recording: { ...cam().recording, continuous: false, preRollSeconds: 0 } });
    assert.equal(isRecorded(c), false);
    assert.equal(mediamtxPathFor(c, opts).sourceOnDemand, true);
    assert.equal(mediamtxPathFor(c, opts).record, false);
  });

  it('a recorded camera keeps one MediaMTX path and its two go2rtc streams (recording adds no reader or stream)', () => {
    const plan = buildEnginePlan([cam({ recording: { ...cam().recording, continuous: true } })], opts);
    assert.equal(plan.mediamtx.size, 1);
    assert.deepEqual([...plan.go2rtc.keys()], ['front_door', 'front_door-h264']);
  });

  it('go2rtc reads the local MediaMTX restream, never the camera', () => {
    const plan = buildEnginePlan([cam()], opts);
    assert.deepEqual(
      [...plan.go2rtc],
      [
        ['front_door', 'rtsp://127.0.0.1:8554/front_door'],
        ['front_door-h264', 'ffmpeg:front_door#video=h264#audio=copy'],
      ],
    );
    assert.ok(![...plan.go2rtc.values()].some((v) => v.includes('192.168.1.10')));
  });

  it('a running transcode is the same go2rtc stream (go2rtc lists it under the RTSP URL it reads)', () => {
    const want = h264TranscodeSource('yard');
    const running = 'rtsp://127.0.0.1:18554/yard?video&audio&source=ffmpeg:yard%23video%3Dh264%23audio%3Dcopy';
    assert.equal(sameGo2rtcSource(want, want), true);
    assert.equal(sameGo2rtcSource(want, running), true);
    assert.equal(sameGo2rtcSource(h264TranscodeSource('gate'), running), false);
    assert.equal(sameGo2rtcSource('rtsp://127.0.0.1:8554/yard', running), false);
    assert.equal(
      sameGo2rtcSource(want, 'rtsp://10.0.0.1:554/x?source=ffmpeg:yard%23video%3Dh264%23audio%3Dcopy'),
      false,
    );
  });

  it('every camera has an on-demand H.264 transcode of its own go2rtc stream, live only (never recorded)', () => {
    // The configuration does not know the codec (an H.265 camera looks like any other), so every camera gets one.
    const h265 = cam({ id: 'yard', source: 'rtsp://10.0.0.7:554/h265main' });
    const plan = buildEnginePlan([h265, cam({ id: 'door_h264' })], opts);
    assert.equal(h264StreamName('yard'), 'yard-h264');
    assert.equal(plan.go2rtc.get('yard-h264'), h264TranscodeSource('yard'));
    assert.equal(h264TranscodeSource('yard'), 'ffmpeg:yard#video=h264#audio=copy');
    // It reads go2rtc's stream of the camera (by name): no credentials, no new connection upstream.
    assert.doesNotMatch(plan.go2rtc.get('yard-h264') ?? '', /10\.0\.0\.7|rtsp:/);
    // MediaMTX records the camera itself: the transcode is no path of its own.
    assert.deepEqual([...plan.mediamtx.keys()], ['yard', 'door_h264']);
    assert.equal(plan.mediamtx.get('yard')?.source, 'rtsp://admin:p%40ss%3Aw%2Frd@10.0.0.7:554/h265main');
    // A camera whose id ends in _h264 keeps its own stream ("-" is outside the id alphabet).
    assert.equal(plan.go2rtc.get('door_h264'), 'rtsp://127.0.0.1:8554/door_h264');
    assert.equal(plan.go2rtc.get('door_h264-h264'), h264TranscodeSource('door_h264'));
  });

  it('an MJPEG camera is converted by FFmpeg in go2rtc and pulled by MediaMTX from there (one camera connection)', () => {
    const mjpeg = cam({ id: 'garage', source: 'http://10.0.0.9/video.mjpg', sourceType: 'http-mjpeg' });
    const plan = buildEnginePlan([mjpeg], opts);
    assert.equal(
      plan.go2rtc.get(ingestStreamName('garage')),
      'ffmpeg:http://admin:p%40ss%3Aw%2Frd@10.0.0.9/video.mjpg#video=h264',
    );
    assert.equal(plan.mediamtx.get('garage')?.source, 'rtsp://127.0.0.1:18554/garage-ingest');
    assert.equal(plan.go2rtc.get('garage'), 'rtsp://127.0.0.1:8554/garage');
  });

  it("no camera id can take the name of another camera's derived go2rtc stream", () => {
    const garage = cam({ id: 'garage', source: 'http://10.0.0.9/video.mjpg', sourceType: 'http-mjpeg' });
    const other = cam({ id: 'garage_ingest', source: 'rtsp://10.0.0.8/s' });
    const plan = buildEnginePlan([garage, other], opts);
    // Two cameras, each with its restream and H.264 transcode, plus garage's converter: 5 streams.
    assert.equal(plan.go2rtc.size, 5);
    assert.equal(plan.go2rtc.get('garage_ingest'), 'rtsp://127.0.0.1:8554/garage_ingest');
    assert.equal(plan.mediamtx.get('garage')?.source, 'rtsp://127.0.0.1:18554/garage-ingest');
  });

  it('test patterns use go2rtc virtual sources encoded to H.264', () => {
    const t = cam({
      id: 't',
      source: 'ffmpeg:virtual?video&size=720',
      sourceType: 'ffmpeg-test',
      username: null,
      password: null,
    });
    assert.equal(buildEnginePlan([t], opts).go2rtc.get('t-ingest'), 'ffmpeg:virtual?video&size=720#video=h264');
  });

  it('disabled cameras are in neither engine', () => {
    const plan = buildEnginePlan([cam({ enabled: false })], opts);
    assert.equal(plan.mediamtx.size, 0);
    assert.equal(plan.go2rtc.size, 0);
  });

  it('diffMaps finds additions, replacements and removals', () => {
    const d = diffMaps(
      new Map([
        ['a', 1],
        ['b', 2],
      ]),
      new Map([
        ['b', 3],
        ['c', 4],
      ]),
      (x, y) => x === y,
    );
    assert.deepEqual(d, { add: [['a', 1]], replace: [['b', 2]], remove: ['c'] });
  });

  it('samePathConf ignores keys we do not manage and duration spelling', () => {
    const want = mediamtxPathFor(cam(), opts);
    const have = { ...want, sourceOnDemandCloseAfter: '0h0m30s', maxReaders: 0, recordPath: '/x' };
    assert.equal(samePathConf(want, have), true);
    assert.equal(samePathConf(want, { ...have, record: true }), false);
    assert.equal(normaliseDuration('1m30s'), 90);
    assert.equal(normaliseDuration('10s'), 10);
  });
});

describe('default engine ports', () => {
  it('never clash with the go2rtc Home Assistant Core runs itself (11984, 18554, 18555)', () => {
    assertDistinctPorts(DEFAULT_ENGINE_PORTS);
    const ours = new Set(Object.values(DEFAULT_ENGINE_PORTS));
    for (const port of Object.values(HA_CORE_GO2RTC_PORTS)) assert.ok(!ours.has(port), `port ${port} is HA's`);
  });
});
