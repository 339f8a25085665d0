/** Pure parts of the panel's settings: the storage picture, the connection test line, the test request. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CameraView, StorageReport } from '../../panel/src/api-types.js';
import { formToTestInput } from '../../panel/src/camera-form.js';
import { cameraBars, describeTest, diskPicture } from '../../panel/src/storage.js';

const report = (over: Partial<StorageReport> = {}): StorageReport => ({
  cameras: [
    {
      camera: 'porch',
      name: 'Porch',
      configured: true,
      bytes: 800,
      protectedBytes: 200,
      clipBytes: 100,
      recordings: 8,
      clips: 2,
    },
    {
      camera: 'yard',
      name: 'Yard',
      configured: true,
      bytes: 200,
      protectedBytes: 0,
      clipBytes: 0,
      recordings: 2,
      clips: 0,
    },
  ],
  totalBytes: 1000,
  protectedBytes: 200,
  recordings: 10,
  disk: { totalBytes: 10_000, freeBytes: 6000 },
  limits: { maxBytes: 2500, minFreePercent: 5, minFreeBytes: 500, usableBytes: 2500 },
  ...over,
});

describe('panel storage picture', () => {
  it('the disk bar: recordings, protected, other files, free; the cap and the minimum free space marked', () => {
    const d = diskPicture(report());
    assert.equal(d.scaleBytes, 10_000);
    assert.equal(d.recordings, 8);
    assert.equal(d.protected, 2);
    assert.equal(d.other, 30); // 4000 used on the disk, 1000 of it recordings
    assert.equal(d.free, 60);
    assert.equal(d.capAt, 25);
    assert.equal(d.minFreeAt, 95);
  });

  it('no disk facts: scaled to the cap; no cap: no line', () => {
    const d = diskPicture(
      report({ disk: null, limits: { maxBytes: 4000, minFreePercent: 5, minFreeBytes: null, usableBytes: 4000 } }),
    );
    assert.equal(d.scaleBytes, 4000);
    assert.equal(d.capAt, 100);
    assert.equal(d.minFreeAt, null);
    const none = diskPicture(
      report({ limits: { maxBytes: null, minFreePercent: 0, minFreeBytes: 0, usableBytes: 7000 } }),
    );
    assert.equal(none.capAt, null);
  });

  it('a bar per camera scaled to the largest, in tiers: 24/7 video, clips, protected', () => {
    const bars = cameraBars(report());
    assert.deepEqual(
      bars.map((b) => [b.camera, b.plain, b.clips, b.protected]),
      [
        ['porch', 62.5, 12.5, 25],
        ['yard', 25, 0, 0],
      ],
    );
    assert.deepEqual(cameraBars(report({ cameras: [] })), []);
  });
});

describe('panel connection test', () => {
  it('one line: the facts, or the reason', () => {
    assert.equal(
      describeTest({ ok: true, codec: 'h264', width: 640, height: 360, fps: 15, audioCodec: null, durationMs: 1 }),
      'Connected: H264 · 640×360 · 15 fps',
    );
    assert.equal(describeTest({ ok: true, durationMs: 0 }), 'Connected');
    assert.equal(describeTest({ ok: false, reason: 'connection refused', durationMs: 3 }), 'connection refused');
  });

  it('adding tests without an id; editing names the camera so its stored password is used', () => {
    const values = {
      id: 'porch',
      name: 'Porch',
      source: 'rtsp://cam/live',
      substream: '',
      username: '',
      password: '',
      enabled: true,
      continuous: false,
      retainDays: '7',
      clipRetainDays: '30',
      preRollSeconds: '0',
      clipSeconds: '20',
    };
    assert.equal(formToTestInput(values, null).id, undefined);
    const editing = { id: 'porch', substream: null } as CameraView;
    const input = formToTestInput(values, editing);
    assert.equal(input.id, 'porch');
    assert.equal(input.password, undefined, 'unchanged: not sent');
  });
});
