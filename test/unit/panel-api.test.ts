/** Pure parts of the API the panel's settings and recording browser use. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scrubSecrets, testResult } from '../../server/src/cameras/connection-test.js';
import { engineView } from '../../server/src/engines/routes.js';
import { eventCamera, STREAMED_EVENTS } from '../../server/src/events/routes.js';
import { storageReport } from '../../server/src/recordings/storage.js';
import { thumbnailArgs, thumbnailFileName } from '../../server/src/recordings/thumbnails.js';

describe('connection test results', () => {
  it('splits the resolution and keeps the facts', () => {
    const r = testResult(
      { ok: true, codec: 'h264', resolution: '1280x720', fps: 15, audioCodec: 'aac' },
      ['pw123'],
      812.4,
    );
    assert.deepEqual(r, {
      ok: true,
      codec: 'h264',
      width: 1280,
      height: 720,
      fps: 15,
      audioCodec: 'aac',
      durationMs: 812,
    });
    const unknown = testResult({ ok: true, codec: null, resolution: null, fps: null, audioCodec: null }, [], 0);
    assert.equal(unknown.width, null);
  });

  it('never echoes the credentials in a reason', () => {
    const r = testResult(
      { ok: false, reason: 'rtsp://admin:hunter22@cam/live: hunter%2122 refused for admin' },
      ['hunter22', 'admin'],
      5,
    );
    assert.equal(r.ok, false);
    assert.ok(!String(r.reason).includes('hunter22'));
    assert.ok(!String(r.reason).includes('admin'));
    assert.equal(scrubSecrets('a p@ss! b', ['p@ss!']), 'a *** b');
    assert.equal(scrubSecrets('x%40y', ['x@y']), '***');
    // Secrets shorter than 3 characters would mangle any text: left alone.
    assert.equal(scrubSecrets('ab', ['a', null]), 'ab');
  });
});

describe('storage report', () => {
  const usage = [
    { camera: 'gone', bytes: 50, protectedBytes: 0, clipBytes: 50, recordings: 1, clips: 1 },
    { camera: 'porch', bytes: 700, protectedBytes: 200, clipBytes: 100, recordings: 7, clips: 2 },
  ];
  const cameras = [
    { id: 'porch', name: 'Porch' },
    { id: 'yard', name: 'Yard' },
  ];

  it('configured cameras first (zero when nothing recorded), then removed ones; totals', () => {
    const r = storageReport(
      usage,
      cameras,
      { totalBytes: 10_000, freeBytes: 4000 },
      { maxBytes: 0, minFreePercent: 5 },
    );
    assert.deepEqual(
      r.cameras.map((c) => [c.camera, c.name, c.configured, c.bytes, c.protectedBytes]),
      [
        ['porch', 'Porch', true, 700, 200],
        ['yard', 'Yard', true, 0, 0],
        ['gone', 'gone', false, 50, 0],
      ],
    );
    assert.equal(r.totalBytes, 750);
    assert.equal(r.protectedBytes, 200);
    assert.equal(r.recordings, 8);
    assert.deepEqual(r.limits, { maxBytes: null, minFreePercent: 5, minFreeBytes: 500, usableBytes: 750 + 4000 - 500 });
  });

  it('the usable size is the cap or what the disk allows, whichever is less; unknown disk', () => {
    const capped = storageReport(
      usage,
      cameras,
      { totalBytes: 10_000, freeBytes: 4000 },
      { maxBytes: 1000, minFreePercent: 5 },
    );
    assert.equal(capped.limits.usableBytes, 1000);
    const noDisk = storageReport(usage, cameras, null, { maxBytes: 0, minFreePercent: 5 });
    assert.equal(noDisk.disk, null);
    assert.equal(noDisk.limits.minFreeBytes, null);
    assert.equal(noDisk.limits.usableBytes, null);
  });
});

describe('thumbnails', () => {
  it('FFmpeg reads the first keyframe only and writes one scaled JPEG (an argument array)', () => {
    const args = thumbnailArgs('/media/a b.mp4', '/data/thumbnails/clip_1-x.jpg', 320);
    assert.ok(args.indexOf('-skip_frame') < args.indexOf('-i'));
    assert.equal(args[args.indexOf('-i') + 1], '/media/a b.mp4');
    assert.equal(args[args.indexOf('-frames:v') + 1], '1');
    assert.equal(args[args.indexOf('-vf') + 1], "scale='min(320,iw)':-2");
    assert.equal(args.at(-1), '/data/thumbnails/clip_1-x.jpg');
  });

  it('cache names follow the id and the file, and only ids are accepted', () => {
    const a = thumbnailFileName('clip_7', 'cam/clips/x.mp4', '2026-01-01T00:00:00.000Z');
    assert.match(a, /^clip_7-[0-9a-f]{16}\.jpg$/);
    assert.notEqual(a, thumbnailFileName('clip_7', 'cam/clips/y.mp4', '2026-01-01T00:00:00.000Z'));
    assert.throws(() => thumbnailFileName('../../etc/passwd', null, ''));
  });
});

describe('recording events on /api/events', () => {
  it('are streamed, and filtered by their camera', () => {
    for (const name of [
      'recording.segment',
      'clip.started',
      'clip.saved',
      'clip.failed',
      'recording.deleted',
      'recording.expiring',
    ] as const) {
      assert.ok((STREAMED_EVENTS as readonly string[]).includes(name), name);
    }
    const saved = {
      id: 'clip_1',
      camera: 'porch',
      path: 'p',
      url: '/api/recordings/clip_1/video',
      start: '',
      end: '',
      durationSeconds: 1,
      size: 1,
      trigger: 'api',
      protected: false,
    };
    assert.equal(eventCamera('clip.saved', saved), 'porch');
  });
});

describe('engines', () => {
  it('the view names the engine and its start time', () => {
    const v = engineView('go2rtc', {
      state: 'running',
      startedAt: new Date('2026-01-01T00:00:00Z'),
      snapshot: () => ({ state: 'running', pid: 42, restarts: 1, lastError: null }),
      restart: async () => {},
      waitForState: async () => undefined,
    });
    assert.deepEqual(v, {
      name: 'go2rtc',
      state: 'running',
      pid: 42,
      restarts: 1,
      lastError: null,
      startedAt: '2026-01-01T00:00:00.000Z',
    });
  });
});
