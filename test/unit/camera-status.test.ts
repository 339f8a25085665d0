import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { countViewers, type DeriveInputs, deriveStatus, type Tracking } from '../../server/src/cameras/runtime.js';
import { toEventSettings } from '../../server/src/config/events-config.js';
import type { Camera } from '../../server/src/config/load.js';
import { DEFAULT_MOTION_CONFIG } from '../../server/src/config/motion.js';
import type { Go2rtcStreamInfo, MediamtxPath } from '../../server/src/engines/clients.js';

const camera: Camera = {
  id: 'cam',
  name: 'Cam',
  source: 'rtsp://h/x',
  substream: null,
  username: null,
  password: null,
  enabled: true,
  sourceType: 'rtsp',
  origin: 'file',
  recording: { continuous: false, retainDays: 7, clipRetainDays: 30, preRollSeconds: 5, clipSeconds: 20 },
  events: toEventSettings(undefined),
  onvif: null,
  motion: DEFAULT_MOTION_CONFIG,
};
const tracking = (over: Partial<Tracking> = {}): Tracking => ({
  verification: { state: 'ok', facts: { codec: 'h264', resolution: '640x360', fps: 25, audioCodec: null }, at: 0 },
  demandSince: null,
  lastInboundBytes: null,
  lastSampleAt: null,
  lastFrameAt: null,
  bitrateKbps: null,
  ...over,
});
const readyPath: MediamtxPath = {
  name: 'cam',
  source: { type: 'rtspSource', id: '' },
  ready: true,
  readyTime: new Date(1_000_000).toISOString(),
  tracks2: [{ codec: 'H264', codecProps: { width: 1920, height: 1080 } }],
  readers: [{ type: 'rtspSession', id: 'go2rtc' }],
};
const pulling: Go2rtcStreamInfo = {
  producers: [{ url: 'rtsp://127.0.0.1:8554/cam', remote_addr: '127.0.0.1:8554' }],
  consumers: [{ user_agent: 'Chrome' }, { user_agent: 'Firefox' }, { user_agent: 'camstack/snapshot' }],
};
const base = (over: Partial<DeriveInputs> = {}): DeriveInputs => ({
  camera,
  path: undefined,
  stream: undefined,
  mediamtxUp: true,
  internalReaders: 0,
  tracking: tracking(),
  now: 1_010_000,
  offlineAfterMs: 15_000,
  ...over,
});

describe('camera status', () => {
  it('idle when nobody needs the stream (not pulled)', () => {
    assert.equal(deriveStatus(base()).state, 'idle');
  });

  it('streaming with codec, resolution, uptime and viewers from the engines', () => {
    const s = deriveStatus(base({ path: readyPath, stream: pulling }));
    assert.equal(s.state, 'streaming');
    assert.equal(s.codec, 'h264');
    assert.equal(s.resolution, '1920x1080');
    assert.equal(s.uptimeSeconds, 10);
    assert.equal(s.viewers, 2, "go2rtc's pull of MediaMTX and our own consumers are not viewers");
    assert.equal(s.fps, 25);
  });

  it('counts outside readers of the restream (e.g. Home Assistant) as viewers, but not our own jobs', () => {
    const path = {
      ...readyPath,
      readers: [...readyPath.readers, { type: 'rtspSession', id: 'ha' }, { type: 'rtspSession', id: 'clip' }],
    };
    assert.equal(countViewers(pulling, path, 1), 3);
  });

  it("does not count MediaMTX's HLS sessions: our API counts HLS clients itself (live/hls.ts)", () => {
    const path = {
      ...readyPath,
      readers: [...readyPath.readers, { type: 'hlsSession', id: 'a' }, { type: 'hlsSession', id: 'b' }],
    };
    assert.equal(countViewers(pulling, path, 0), countViewers(pulling, readyPath, 0));
  });

  it('viewers of the H.264 transcode count one each; its FFmpeg is no viewer; the status says transcoding', () => {
    const stream: Go2rtcStreamInfo = {
      ...pulling,
      consumers: [{ user_agent: 'Chrome' }, { user_agent: 'go2rtc/ffmpeg' }],
    };
    const transcode: Go2rtcStreamInfo = {
      producers: [{ url: 'rtsp://127.0.0.1:18554/cam?video&audio&source=ffmpeg:cam%23video%3Dh264%23audio%3Dcopy' }],
      consumers: [{ user_agent: 'Chrome' }, { user_agent: 'Chrome' }, { user_agent: 'camstack-mp4-client' }],
    };
    assert.equal(countViewers(stream, readyPath, 0, transcode), 4);
    const s = deriveStatus(base({ path: readyPath, stream, transcode }));
    assert.equal(s.viewers, 4);
    assert.equal(s.transcoding, true);
    const idle = deriveStatus(
      base({ path: readyPath, stream: pulling, transcode: { producers: [], consumers: null } }),
    );
    assert.equal(idle.transcoding, false);
  });

  it('connecting while verification runs, offline with the reason when it fails', () => {
    assert.equal(
      deriveStatus(base({ tracking: tracking({ verification: { state: 'pending' } }) })).state,
      'connecting',
    );
    const s = deriveStatus(
      base({ tracking: tracking({ verification: { state: 'failed', reason: 'connection refused', at: 0 } }) }),
    );
    assert.equal(s.state, 'offline');
    assert.equal(s.lastError, 'connection refused');
  });

  it('demand without a stream: connecting, then offline after the limit', () => {
    assert.equal(deriveStatus(base({ tracking: tracking({ demandSince: 1_000_000 }) })).state, 'connecting');
    const s = deriveStatus(base({ tracking: tracking({ demandSince: 990_000 }) }));
    assert.equal(s.state, 'offline');
    assert.match(s.lastError ?? '', /no stream/);
  });

  it('a stream lost while needed is offline at once, also while a check runs, then with its reason', () => {
    const lost = deriveStatus(
      base({ tracking: tracking({ wasReady: true, lostAt: 1_009_000, verification: { state: 'pending' } }) }),
    );
    assert.equal(lost.state, 'offline');
    assert.match(lost.lastError ?? '', /stopped sending/);
    const checked = deriveStatus(
      base({
        tracking: tracking({
          lostAt: 1_009_000,
          verification: { state: 'failed', reason: 'connection refused', at: 0 },
          retries: 2,
          nextRetryAt: 1_030_000,
        }),
      }),
    );
    assert.equal(checked.state, 'offline');
    assert.equal(checked.lastError, 'connection refused');
    assert.equal(checked.retries, 2);
    assert.equal(checked.nextRetryAt, new Date(1_030_000).toISOString());
    const back = deriveStatus(base({ path: readyPath, tracking: tracking({ lostAt: null, wasReady: true }) }));
    assert.equal(back.state, 'streaming');
  });

  it('recording is false with the reason while the recording service cannot write', () => {
    const recorded = { ...camera, recording: { ...camera.recording, continuous: true } };
    const ok = deriveStatus(base({ camera: recorded, path: readyPath }));
    assert.equal(ok.recording, true);
    assert.equal(ok.recordingError, null);
    const full = deriveStatus(base({ camera: recorded, path: readyPath, recordingError: 'media disk full' }));
    assert.equal(full.state, 'streaming');
    assert.equal(full.recording, false);
    assert.equal(full.recordingError, 'media disk full');
  });

  it('error when MediaMTX is down; idle and untouched when disabled', () => {
    assert.equal(deriveStatus(base({ mediamtxUp: false })).state, 'error');
    assert.equal(deriveStatus(base({ camera: { ...camera, enabled: false }, path: readyPath })).state, 'idle');
  });

  it('reports transcoding for sources an engine must re-encode', () => {
    const s = deriveStatus(base({ camera: { ...camera, sourceType: 'http-mjpeg' } }));
    assert.equal(s.transcoding, true);
  });
});
