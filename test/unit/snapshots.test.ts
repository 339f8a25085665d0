import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventCamera, STREAMED_EVENTS } from '../../server/src/events/routes.js';
import { isJpeg, jpegSize } from '../../server/src/snapshots/jpeg.js';
import {
  cacheControl,
  DEFAULT_MAX_AGE_MS,
  defaultMaxAgeMs,
  etagMatches,
  etagOf,
  ffmpegKeyframeSnapshotArgs,
  ffmpegSnapshotArgs,
  freshForMs,
  isFresh,
  snapshotRelativePath,
  snapshotTimestamp,
} from '../../server/src/snapshots/policy.js';

/** A marker segment: FF <marker> <length incl. itself> <payload>. */
function segment(marker: number, payload: number[]): number[] {
  const length = payload.length + 2;
  return [0xff, marker, length >> 8, length & 0xff, ...payload];
}

/** A JPEG header up to the scan: SOI, APP0 (JFIF), DQT, the given SOF, DHT, SOS and a few data bytes. */
function jpegHeader(width: number, height: number, sofMarker = 0xc0, extra: number[] = []): Buffer {
  const sof = [8, height >> 8, height & 0xff, width >> 8, width & 0xff, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1];
  return Buffer.from([
    0xff,
    0xd8,
    ...segment(0xe0, [0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]),
    ...extra,
    ...segment(0xdb, new Array(65).fill(1)),
    ...segment(sofMarker, sof),
    ...segment(0xc4, new Array(20).fill(0)),
    ...segment(0xda, [1, 1, 0, 0, 0x3f, 0]),
    0x12,
    0x34,
    0xff,
    0xd9,
  ]);
}

describe('JPEG reader', () => {
  it('reads width and height from a baseline SOF', () => {
    assert.deepEqual(jpegSize(jpegHeader(320, 180)), { width: 320, height: 180 });
    assert.deepEqual(jpegSize(jpegHeader(3840, 2160)), { width: 3840, height: 2160 });
  });

  it('reads progressive and other SOF markers, skipping DHT/DAC look-alikes and fill bytes', () => {
    assert.deepEqual(jpegSize(jpegHeader(641, 361, 0xc2)), { width: 641, height: 361 });
    // A DHT (C4) before the SOF must not be taken for one; 0xFF fill bytes may precede a marker.
    const withDht = jpegHeader(100, 50, 0xc1, [...segment(0xc4, [0, 1, 2, 3]), 0xff, 0xff]);
    assert.deepEqual(jpegSize(withDht), { width: 100, height: 50 });
  });

  it('returns null for what is not a JPEG or ends before the frame header', () => {
    assert.equal(jpegSize(Buffer.alloc(0)), null);
    assert.equal(jpegSize(Buffer.from('<html>502 Bad Gateway</html>')), null);
    assert.equal(jpegSize(Buffer.from([0xff, 0xd8, 0xff, 0xd9])), null, 'SOI then EOI');
    assert.equal(jpegSize(jpegHeader(320, 180).subarray(0, 30)), null, 'truncated');
    const scanFirst = Buffer.from([0xff, 0xd8, ...segment(0xda, [1, 1, 0, 0, 0x3f, 0]), 0, 0]);
    assert.equal(jpegSize(scanFirst), null, 'SOS before SOF');
    assert.equal(jpegSize(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x01])), null, 'impossible length');
  });

  it('isJpeg looks at the SOI marker only', () => {
    assert.equal(isJpeg(jpegHeader(16, 16)), true);
    assert.equal(isJpeg(Buffer.from([0xff, 0xd8])), false);
    assert.equal(isJpeg(Buffer.from('stream not found')), false);
  });
});

describe('snapshot freshness', () => {
  it('is fresh while younger than maxAge; maxAge 0 always asks for a new one', () => {
    assert.equal(isFresh(1000, 1000, 0), false);
    assert.equal(isFresh(1000, 2999, 2000), true);
    assert.equal(isFresh(1000, 3000, 2000), false);
    assert.equal(isFresh(1000, 900, 2000), true, 'a clock step backwards counts as age 0');
    assert.equal(freshForMs(1000, 1500, 2000), 1500);
    assert.equal(freshForMs(1000, 9000, 2000), 0);
  });

  it('defaults to 2 s while streaming and 10 s otherwise', () => {
    assert.equal(defaultMaxAgeMs('streaming'), 2000);
    for (const state of ['idle', 'connecting', undefined] as const) assert.equal(defaultMaxAgeMs(state), 10_000);
    assert.equal(defaultMaxAgeMs('idle', { streaming: 1, other: 5 }), 5);
    assert.deepEqual(DEFAULT_MAX_AGE_MS, { streaming: 2000, other: 10_000 });
  });

  it('Cache-Control counts down whole seconds of freshness, then no-cache', () => {
    assert.equal(cacheControl(10_000), 'private, max-age=10');
    assert.equal(cacheControl(1999), 'private, max-age=1');
    assert.equal(cacheControl(999), 'private, no-cache');
    assert.equal(cacheControl(0), 'private, no-cache');
  });
});

describe('ETags', () => {
  it('are strong, quoted and derived from the bytes', () => {
    const a = etagOf(Buffer.from('one'));
    assert.match(a, /^"[A-Za-z0-9_-]{22}"$/);
    assert.equal(etagOf(Buffer.from('one')), a);
    assert.notEqual(etagOf(Buffer.from('two')), a);
  });

  it('If-None-Match matches a list, *, and weak forms', () => {
    const tag = '"abc"';
    assert.equal(etagMatches(undefined, tag), false);
    assert.equal(etagMatches('"abc"', tag), true);
    assert.equal(etagMatches('"x", W/"abc"', tag), true);
    assert.equal(etagMatches('*', tag), true);
    assert.equal(etagMatches('"abcd"', tag), false);
  });
});

describe('snapshot files', () => {
  it('are named <id>/snapshots/<id>_<YYYYMMDD-HHMMSS-mmm>.jpg in local time', () => {
    const at = new Date(2026, 0, 2, 3, 4, 5, 6);
    assert.equal(snapshotTimestamp(at), '20260102-030405-006');
    assert.equal(snapshotRelativePath('front_door', at), 'front_door/snapshots/front_door_20260102-030405-006.jpg');
    assert.equal(snapshotTimestamp(new Date(2026, 11, 31, 23, 59, 59, 999)), '20261231-235959-999');
  });

  it('refuse ids that could leave the media dir', () => {
    for (const id of ['../etc', 'a/b', '', 'A']) assert.throws(() => snapshotRelativePath(id, new Date()));
  });
});

describe('FFmpeg snapshot arguments', () => {
  it('read one frame of the restream over TCP into a JPEG on stdout, the URL as a single argument', () => {
    const url = 'rtsp://127.0.0.1:8554/front door';
    const args = ffmpegSnapshotArgs(url, { timeoutMs: 5000 });
    assert.equal(args.filter((a) => a === url).length, 1);
    assert.equal(args[args.indexOf('-i') + 1], url);
    assert.equal(args[args.indexOf('-rtsp_transport') + 1], 'tcp');
    assert.equal(args[args.indexOf('-timeout') + 1], '5000000');
    assert.equal(args[args.indexOf('-frames:v') + 1], '1');
    assert.equal(args[args.indexOf('-f') + 1], 'image2pipe');
    assert.equal(args[args.indexOf('-c:v') + 1], 'mjpeg');
    assert.equal(args.at(-1), 'pipe:1');
    assert.ok(!args.includes('-vf'));
  });

  it('scale to the width asked for, keeping the aspect ratio with an even height', () => {
    const args = ffmpegSnapshotArgs('rtsp://127.0.0.1:1/x', { width: 320, timeoutMs: 1000 });
    assert.equal(args[args.indexOf('-vf') + 1], 'scale=320:-2');
    assert.ok(args.indexOf('-vf') > args.indexOf('-i'), 'an output option');
  });

  it('decode a held keyframe: an MP4 on stdin, one JPEG on stdout', () => {
    const args = ffmpegKeyframeSnapshotArgs(480);
    assert.equal(args[args.indexOf('-f') + 1], 'mp4');
    assert.equal(args[args.indexOf('-i') + 1], 'pipe:0');
    assert.equal(args[args.indexOf('-frames:v') + 1], '1');
    assert.equal(args[args.indexOf('-vf') + 1], 'scale=480:-2');
    assert.equal(args.at(-1), 'pipe:1');
  });
});

describe('snapshot.saved on the event stream', () => {
  it('is streamed and filtered by its camera', () => {
    assert.ok((STREAMED_EVENTS as readonly string[]).includes('snapshot.saved'));
    const payload = {
      camera: 'front',
      path: '/media/camstack/front/snapshots/front_20260102-030405-006.jpg',
      relativePath: 'front/snapshots/front_20260102-030405-006.jpg',
      takenAt: '2026-01-02T03:04:05.006Z',
      trigger: 'api',
    };
    assert.equal(eventCamera('snapshot.saved', payload), 'front');
  });
});
