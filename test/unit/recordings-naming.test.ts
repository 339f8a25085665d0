import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  absolutePath,
  classifyRelPath,
  clipFileName,
  formatRid,
  localStamp,
  markerRelPath,
  parseClipName,
  parseRid,
  parseSegmentName,
  partRelPath,
  sanitizeTrigger,
} from '../../server/src/recordings/naming.js';
import { parseRange, parseWithin } from '../../server/src/recordings/routes.js';

describe('recording names', () => {
  it('reads MediaMTX segment names as local time with microseconds', () => {
    const ms = parseSegmentName('2026-05-01_14-03-07-123456.mp4');
    assert.equal(ms, new Date(2026, 4, 1, 14, 3, 7, 123).getTime());
    assert.equal(parseSegmentName('2026-02-31_14-03-07-123456.mp4'), null, 'no such day');
    assert.equal(parseSegmentName('2026-05-01_14-03-07-123456.mp4.part'), null);
    assert.equal(parseSegmentName('../2026-05-01_14-03-07-123456.mp4'), null);
  });

  it('clip names carry camera, local time (ms) and trigger, and parse back', () => {
    const start = new Date(2026, 4, 1, 14, 3, 7, 250).getTime();
    const name = clipFileName('front_door', start, 'Node-RED flow #2');
    assert.equal(name, 'front_door_2026-05-01_14-03-07-250_node-red-flow-2.mp4');
    assert.deepEqual(parseClipName(name), { camera: 'front_door', startMs: start, trigger: 'node-red-flow-2' });
    assert.equal(localStamp(start), '2026-05-01_14-03-07-250');
  });

  it('triggers become safe file-name parts', () => {
    assert.equal(sanitizeTrigger('../../etc/passwd'), 'etc-passwd');
    assert.equal(sanitizeTrigger('   '), 'manual');
    assert.equal(sanitizeTrigger('x'.repeat(100)).length, 32);
  });

  it('recording ids: seg_<n> and clip_<n> only', () => {
    assert.equal(formatRid('segment', 12), 'seg_12');
    assert.equal(formatRid('clip', 7), 'clip_7');
    assert.deepEqual(parseRid('seg_12'), { type: 'segment', id: 12 });
    assert.deepEqual(parseRid('clip_7'), { type: 'clip', id: 7 });
    for (const bad of ['seg_0', 'seg_', 'seg_-1', 'clip_1.5', '../seg_1', 'seg_1/..', 'snap_1', 'seg_01', '']) {
      assert.equal(parseRid(bad), null, bad);
    }
  });

  it('only our own layout is accepted as a path; nothing escapes the media folder', () => {
    assert.deepEqual(classifyRelPath('cam/2026-05-01_14-03-07-123456.mp4')?.type, 'segment');
    assert.deepEqual(classifyRelPath('cam/clips/cam_2026-05-01_14-03-07-250_api.mp4')?.type, 'clip');
    for (const bad of [
      '../cam/2026-05-01_14-03-07-123456.mp4',
      'cam/../../etc/passwd',
      '/etc/passwd',
      'cam/./2026-05-01_14-03-07-123456.mp4',
      'Cam/2026-05-01_14-03-07-123456.mp4',
      'cam/snapshots/x.jpg',
    ]) {
      assert.equal(classifyRelPath(bad), null, bad);
      assert.throws(() => absolutePath('/media/camstack', bad), bad);
    }
    assert.equal(
      absolutePath('/media/camstack', 'cam/2026-05-01_14-03-07-123456.mp4'),
      '/media/camstack/cam/2026-05-01_14-03-07-123456.mp4',
    );
    assert.equal(
      markerRelPath('cam/clips/cam_2026-05-01_14-03-07-250_api.mp4'),
      'cam/clips/.protected/cam_2026-05-01_14-03-07-250_api.mp4',
    );
    assert.equal(
      partRelPath('cam/clips/cam_2026-05-01_14-03-07-250_api.mp4'),
      'cam/clips/.cam_2026-05-01_14-03-07-250_api.mp4.part',
    );
  });

  it('markers and parts never look like segments to MediaMTX (its pattern is unanchored)', () => {
    // MediaMTX matches `<media>/<camera>/` followed directly by the date digits.
    const re =
      /\/media\/camstack\/cam\/([0-9]{4})-([0-9]{2})-([0-9]{2})_([0-9]{2})-([0-9]{2})-([0-9]{2})-([0-9]{6})\.mp4/;
    for (const rel of [
      markerRelPath('cam/2026-05-01_14-03-07-123456.mp4'),
      'cam/clips/cam_2026-05-01_14-03-07-250_api.mp4',
      partRelPath('cam/clips/cam_2026-05-01_14-03-07-250_api.mp4'),
    ]) {
      assert.equal(re.test(`/media/camstack/${rel}`), false, rel);
    }
  });
});

describe('HTTP helpers', () => {
  it('parses byte ranges like browsers send them', () => {
    assert.equal(parseRange(undefined, 1000), null);
    assert.deepEqual(parseRange('bytes=0-99', 1000), { start: 0, end: 99 });
    assert.deepEqual(parseRange('bytes=900-', 1000), { start: 900, end: 999 });
    assert.deepEqual(parseRange('bytes=-100', 1000), { start: 900, end: 999 });
    assert.deepEqual(parseRange('bytes=0-5000', 1000), { start: 0, end: 999 });
    assert.equal(parseRange('bytes=1000-', 1000), 'unsatisfiable');
    assert.equal(parseRange('bytes=5-4', 1000), 'unsatisfiable');
    assert.equal(parseRange('bytes=0-1,5-6', 1000), null, 'multiple ranges: the whole file');
    assert.equal(parseRange('items=0-1', 1000), null);
  });

  it('parses look-ahead durations and refuses silly ones', () => {
    assert.equal(parseWithin('1d'), 86_400_000);
    assert.equal(parseWithin('12h'), 43_200_000);
    assert.equal(parseWithin('30m'), 1_800_000);
    assert.throws(() => parseWithin('400d'));
    assert.throws(() => parseWithin('0d'));
    assert.throws(() => parseWithin('1w'));
  });
});
