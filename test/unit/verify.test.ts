import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyFailure, framesRead, parseStreamFacts, verifyArgs } from '../../server/src/cameras/verify.js';

const OK = `Input #0, rtsp, from 'rtsp://127.0.0.1:38554/cam1':
  Stream #0:0: Video: h264 (Constrained Baseline), yuv420p(progressive), 640x360 [SAR 1:1 DAR 16:9], 25 fps, 25 tbr, 90k tbn
  Stream #0:1: Audio: opus, 48000 Hz, stereo, fltp
Output #0, null, to 'pipe:':
  Stream #0:0: Video: h264 (Constrained Baseline), yuv420p(progressive), 640x360, q=2-31, 25 fps
frame=    0 fps=0.0 q=-1.0 size=N/A time=00:00:00.00 bitrate=N/A speed=N/A    frame=   10 fps=0.0 q=-1.0 Lsize=N/A`;

describe('verification', () => {
  it('builds an argument array that copies video and never decodes, with socket timeouts', () => {
    const a = verifyArgs('rtsp://u:p@cam/x', { frames: 10, timeoutMs: 5000 });
    assert.deepEqual(a.slice(a.indexOf('-i'), a.indexOf('-i') + 2), ['-i', 'rtsp://u:p@cam/x']);
    assert.ok(a.includes('-rtsp_transport') && a.includes('5000000'));
    assert.deepEqual(a.slice(-9), ['-map', '0:v:0', '-frames:v', '10', '-c', 'copy', '-f', 'null', '-']);
    const h = verifyArgs('http://cam/video.mjpg', { frames: 3, timeoutMs: 2000 });
    assert.ok(h.includes('-rw_timeout') && !h.includes('-rtsp_transport'));
  });

  it('reads codec, resolution, fps and audio from the input description', () => {
    assert.deepEqual(parseStreamFacts(OK), { codec: 'h264', resolution: '640x360', fps: 25, audioCodec: 'opus' });
    assert.equal(framesRead(OK), 10);
  });

  const cases: [string, string][] = [
    [
      '[rtsp @ 0x1] method DESCRIBE failed: 401 Unauthorized',
      '401 Unauthorized from camera (check the username and password)',
    ],
    [
      'rtsp://127.0.0.1:38554/nope: Server returned 404 Not Found',
      '404 Not Found from camera (no stream at this path)',
    ],
    ['rtsp://127.0.0.1:1/nope: Connection refused', 'connection refused (check the address and port)'],
    ['Failed to resolve hostname nocam.lan: Name or service not known', 'unknown host name'],
    ["Stream map '0:v:0' matches no streams.", 'no video track in the stream'],
    ['http://x/y: Invalid data found when processing input', 'the camera sent data that is not a video stream'],
  ];
  for (const [stderr, reason] of cases) {
    it(`explains "${stderr.slice(0, 40)}…"`, () => assert.equal(classifyFailure(stderr, false), reason));
  }

  it('a timeout with nothing recognisable says so', () => {
    assert.equal(classifyFailure('', true), 'no frames from camera within the timeout');
  });

  it('never repeats credentials from an unrecognised error line', () => {
    const r = classifyFailure('rtsp://admin:hunter22@cam/x: Something odd', false);
    assert.doesNotMatch(r, /hunter22/);
  });
});
