/**
 * The relay's fMP4 reading: box walking, init tracks, keyframe detection from every place the
 * sample flags can live (trun first-sample, trun per-sample, tfhd default, trex default), cutting
 * a stream whose boxes straddle messages, and the GOP cache rules. Built boxes for the cases, and
 * a stream made by the real FFmpeg (one fragment per frame, a keyframe every 5 frames).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { resolveBinaries } from '../../server/src/engines/binaries.js';
import {
  type Box,
  boxes,
  concatBytes,
  type Fmp4Piece,
  Fmp4Splitter,
  GopCache,
  parseInit,
  parseMoof,
} from '../../server/src/live/fmp4.js';

const SYNC = 0x0200_0000; // depends on no other sample
const NON_SYNC = 0x0101_0000; // depends on others, sample_is_non_sync_sample

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}
function box(type: string, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  return Buffer.concat([u32(8 + body.length), Buffer.from(type, 'latin1'), body]);
}
function full(type: string, version: number, flags: number, ...parts: Buffer[]): Buffer {
  return box(type, u32(((version & 0xff) << 24) | (flags & 0xff_ffff)), ...parts);
}

function trak(id: number, handler: 'vide' | 'soun', timescale: number): Buffer {
  const tkhd = full('tkhd', 0, 3, u32(0), u32(0), u32(id), u32(0), u32(0), Buffer.alloc(60));
  const mdhd = full('mdhd', 0, 0, u32(0), u32(0), u32(timescale), u32(0), u32(0));
  const hdlr = full('hdlr', 0, 0, u32(0), Buffer.from(handler, 'latin1'), Buffer.alloc(13));
  return box('trak', tkhd, box('mdia', mdhd, hdlr));
}
function trex(id: number, flags: number): Buffer {
  return full('trex', 0, 0, u32(id), u32(1), u32(0), u32(0), u32(flags));
}
/** ftyp + moov: video track 1 (90 kHz), audio track 2 (48 kHz); trex defaults as given. */
function init(trex1 = NON_SYNC, trex2 = SYNC): Buffer {
  return Buffer.concat([
    box('ftyp', Buffer.from('iso5', 'latin1'), u32(512)),
    box(
      'moov',
      full('mvhd', 0, 0, Buffer.alloc(96)),
      trak(1, 'vide', 90_000),
      trak(2, 'soun', 48_000),
      box('mvex', trex(1, trex1), trex(2, trex2)),
    ),
  ]);
}

type FlagsAt = 'tfhd' | 'first' | 'per-sample' | 'trex';
/** moof + mdat of one track, the first sample's flags put where `at` says. */
function fragment(track: number, decodeTicks: number, flags: number, at: FlagsAt = 'tfhd', samples = 1): Buffer {
  const tfhd =
    at === 'tfhd'
      ? full('tfhd', 0, 0x02_0000 | 0x08 | 0x10 | 0x20, u32(track), u32(3000), u32(4), u32(flags))
      : full('tfhd', 0, 0x02_0000, u32(track));
  const tfdt = full('tfdt', 1, 0, u32(0), u32(decodeTicks));
  let trun: Buffer;
  if (at === 'first') trun = full('trun', 0, 0x01 | 0x04, u32(samples), u32(0), u32(flags));
  else if (at === 'per-sample') {
    const rows: Buffer[] = [];
    for (let i = 0; i < samples; i++) rows.push(u32(3000), u32(4), u32(i === 0 ? flags : NON_SYNC));
    trun = full('trun', 0, 0x01 | 0x100 | 0x200 | 0x400, u32(samples), u32(0), ...rows);
  } else trun = full('trun', 0, 0x01, u32(samples), u32(0));
  return Buffer.concat([
    box('moof', full('mfhd', 0, 0, u32(1)), box('traf', tfhd, tfdt, trun)),
    box('mdat', Buffer.alloc(4 * samples, 7)),
  ]);
}

function moofOf(buf: Buffer) {
  const moof = boxes(buf).find((b) => b.type === 'moof');
  assert.ok(moof);
  return moof;
}

describe('fMP4 boxes and tracks', () => {
  it('walks top-level boxes and stops at one that does not fit', () => {
    const two = Buffer.concat([box('ftyp', u32(1)), box('free', u32(2), u32(3))]);
    assert.deepEqual(
      boxes(two).map((b) => [b.type, b.start, b.end]),
      [
        ['ftyp', 0, 12],
        ['free', 12, 28],
      ],
    );
    assert.deepEqual(
      boxes(two.subarray(0, 20)).map((b) => b.type),
      ['ftyp'],
    );
    // a 64-bit size
    const large = Buffer.concat([u32(1), Buffer.from('mdat', 'latin1'), u32(0), u32(20), u32(9)]);
    assert.deepEqual(
      boxes(large).map((b) => [b.type, b.body, b.end]),
      [['mdat', 16, 20]],
    );
    // size 0 runs to the end in a file, and is not accepted as complete in a stream
    const open = Buffer.concat([u32(0), Buffer.from('mdat', 'latin1'), u32(5)]);
    assert.equal(boxes(open)[0]?.end, 12);
    assert.equal(boxes(open, 0, open.length, false).length, 0);
  });

  it('reads the video track, timescales and trex defaults of an init segment', () => {
    const info = parseInit(init());
    assert.ok(info);
    assert.deepEqual([...info.videoTracks], [1]);
    assert.equal(info.timescales.get(1), 90_000);
    assert.equal(info.timescales.get(2), 48_000);
    assert.equal(info.trexFlags.get(1), NON_SYNC);
    assert.equal(parseInit(box('ftyp', u32(0))), null, 'no moov, no init');
  });
});

describe('keyframe detection', () => {
  const info = parseInit(init(NON_SYNC)) ?? assert.fail('init');
  for (const at of ['tfhd', 'first', 'per-sample'] as const) {
    it(`reads the first sample's flags from ${at}`, () => {
      const key = fragment(1, 180_000, SYNC, at, 3);
      const delta = fragment(1, 183_000, NON_SYNC, at, 3);
      const k = parseMoof(key, moofOf(key), info);
      // 3 samples of 3000 ticks at 90 kHz; where no duration is given, trex's default (0 here)
      const duration = at === 'first' ? 0 : 0.1;
      assert.deepEqual(k, { keyframe: true, video: true, decodeTime: 2, trackId: 1, duration });
      assert.equal(parseMoof(delta, moofOf(delta), info).keyframe, false);
    });
  }

  it('falls back to the trex default when neither tfhd nor trun carries flags', () => {
    const frag = fragment(1, 0, 0, 'trex');
    assert.equal(parseMoof(frag, moofOf(frag), info).keyframe, false, 'trex says non-sync');
    const syncByDefault = parseInit(init(SYNC)) ?? assert.fail('init');
    assert.equal(parseMoof(frag, moofOf(frag), syncByDefault).keyframe, true, 'trex says sync');
  });

  it('an audio fragment is never a keyframe, whatever its flags', () => {
    const audio = fragment(2, 96_000, SYNC);
    assert.deepEqual(parseMoof(audio, moofOf(audio), info), {
      keyframe: false,
      video: false,
      decodeTime: 2,
      trackId: 2,
      duration: null,
    });
  });
});

describe('Fmp4Splitter', () => {
  const stream = Buffer.concat([
    init(),
    fragment(1, 0, SYNC),
    fragment(2, 0, SYNC),
    fragment(1, 3000, NON_SYNC),
    fragment(1, 6000, SYNC, 'first'),
  ]);
  const expect = ['init', 'key', 'audio', 'delta', 'key'];
  const label = (p: Fmp4Piece) =>
    p.kind === 'init' ? 'init' : p.info.keyframe ? 'key' : p.info.video ? 'delta' : 'audio';

  it('cuts one message holding everything into init and fragments', () => {
    const pieces = new Fmp4Splitter().push(stream);
    assert.deepEqual(pieces.map(label), expect);
    assert.equal(concatBytes(pieces.map((p) => p.bytes)).length, stream.length, 'no byte lost or added');
  });

  it('gives the same pieces whatever the message boundaries', () => {
    for (const step of [1, 7, 13, 64, 333]) {
      const s = new Fmp4Splitter();
      const pieces: Fmp4Piece[] = [];
      for (let off = 0; off < stream.length; off += step) pieces.push(...s.push(stream.subarray(off, off + step)));
      assert.deepEqual(pieces.map(label), expect, `messages of ${step} bytes`);
      assert.ok(Buffer.from(concatBytes(pieces.map((p) => p.bytes))).equals(stream), `bytes intact at ${step}`);
      assert.equal(s.buffered, 0);
    }
  });

  it('a new ftyp + moov starts a new init segment', () => {
    const s = new Fmp4Splitter();
    s.push(stream);
    const again = s.push(Buffer.concat([init(SYNC), fragment(1, 0, 0, 'trex')]));
    assert.deepEqual(again.map(label), ['init', 'key']);
  });
});

describe('GopCache', () => {
  const bytes = (n: number, fill = 1) => new Uint8Array(n).fill(fill);

  it("gives the init segment and the keyframe's fragment, with when the keyframe arrived", () => {
    const c = new GopCache(1000);
    c.setInit(bytes(3, 7));
    assert.equal(c.keyframe(), null, 'no group yet');
    c.push(bytes(2, 1), true, 1000);
    c.push(bytes(2, 2), false, 1100);
    const k = c.keyframe();
    assert.deepEqual(k && [...k.mp4], [7, 7, 7, 1, 1]);
    assert.equal(k?.atMs, 1000);
    c.push(bytes(1, 3), true, 2000);
    assert.equal(c.keyframe()?.atMs, 2000, 'the newest keyframe');
  });

  it('keeps the fragments since the last keyframe, nothing before the first', () => {
    const c = new GopCache(1000);
    c.setInit(bytes(10));
    c.push(bytes(5, 9), false);
    assert.equal(c.gop(), null, 'a delta frame alone is no start');
    c.push(bytes(50, 1), true);
    c.push(bytes(20, 2), false);
    assert.deepEqual(
      c.gop()?.map((f) => f[0]),
      [1, 2],
    );
    c.push(bytes(60, 3), true);
    c.push(bytes(20, 4), false);
    assert.deepEqual(
      c.gop()?.map((f) => f[0]),
      [3, 4],
      'a keyframe starts afresh',
    );
    assert.equal(c.bytes, 80);
  });

  it('drops a group that grows past the cap until the next keyframe', () => {
    const c = new GopCache(100);
    c.setInit(bytes(10));
    c.push(bytes(60), true);
    c.push(bytes(30), false);
    assert.equal(c.fragments, 2);
    c.push(bytes(30), false);
    assert.equal(c.gop(), null, 'too long a GOP: no cache');
    c.push(bytes(30), false);
    assert.equal(c.gop(), null, 'and no start from a delta frame');
    c.push(bytes(40), true);
    assert.equal(c.fragments, 1);
    c.push(bytes(200), true);
    assert.equal(c.gop(), null, 'a keyframe larger than the cap is not kept');
  });

  it('no init segment, no start; a new init segment empties the group', () => {
    const c = new GopCache(1000);
    c.push(bytes(10), true);
    assert.equal(c.gop(), null);
    c.setInit(bytes(10));
    assert.equal(c.gop(), null);
    c.push(bytes(10), true);
    assert.equal(c.fragments, 1);
    c.setInit(bytes(12));
    assert.equal(c.fragments, 0);
  });
});

describe('a real FFmpeg fragmented stream (one fragment per frame)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'camstack-fmp4-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('finds exactly the keyframes FFmpeg wrote (every 5th of 20 frames) and rising decode times', () => {
    const file = join(dir, 'frames.mp4');
    execFileSync(resolveBinaries().ffmpeg, [
      ...['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=10'],
      ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000'],
      ...['-frames:v', '20', '-t', '2', '-c:v', 'libx264', '-preset', 'ultrafast', '-bf', '0'],
      ...['-g', '5', '-keyint_min', '5', '-sc_threshold', '0', '-c:a', 'aac'],
      ...['-f', 'mp4', '-movflags', '+frag_every_frame+empty_moov+default_base_moof', '-y', file],
    ]);
    const data = readFileSync(file);
    const s = new Fmp4Splitter();
    const pieces: Fmp4Piece[] = [];
    for (let off = 0; off < data.length; off += 1000) pieces.push(...s.push(data.subarray(off, off + 1000)));
    assert.equal(pieces[0]?.kind, 'init');
    const video = pieces.filter((p) => p.kind === 'fragment' && p.info.video);
    assert.equal(video.length, 20, 'one video fragment per frame');
    const keys = video.map((p, i) => (p.kind === 'fragment' && p.info.keyframe ? i : -1)).filter((i) => i >= 0);
    assert.deepEqual(keys, [0, 5, 10, 15]);
    const times = video.map((p) => (p.kind === 'fragment' ? (p.info.decodeTime ?? -1) : -1));
    for (let i = 1; i < times.length; i++) assert.ok((times[i] ?? 0) >= (times[i - 1] ?? 0), 'decode times rise');
    // 10 fps: frame 10 decodes at about 1 s (FFmpeg shifts all but the first by its audio priming)
    assert.ok(Math.abs((times[10] ?? 0) - 1) < 0.05, `frame 10 decodes at 1 s (${times[10]})`);
  });
});

describe('parseMoof: decode time, duration and sync flag of the video run', () => {
  it('reads them from tfhd defaults, tfdt and per-sample flags', () => {
    // A hand-made moof: traf(tfhd id 1 default duration 100, tfdt 900, trun 2 samples with flags).
    const box = (type: string, ...payload: Buffer[]) => {
      const body = Buffer.concat(payload);
      const head = Buffer.alloc(8);
      head.writeUInt32BE(8 + body.length);
      head.write(type, 4, 'latin1');
      return Buffer.concat([head, body]);
    };
    const u32 = (...v: number[]) =>
      Buffer.concat(v.map((n) => Buffer.from([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255])));
    const tfhd = box('tfhd', u32(0x000008, 1, 100));
    const tfdt = box('tfdt', u32(0, 900));
    const trun = (firstFlags: number) => box('trun', u32(0x000400, 2, firstFlags, 0x10000));
    const moof = (firstFlags: number) => box('moof', box('traf', tfhd, tfdt, trun(firstFlags)));
    const init = {
      videoTracks: new Set([1]),
      timescales: new Map([[1, 1000]]),
      trexFlags: new Map<number, number>(),
      trexDurations: new Map<number, number>(),
    };
    const parse = (buf: Buffer, i = init) => parseMoof(buf, boxes(buf)[0] as Box, i);
    assert.deepEqual(parse(moof(0x02000000)), {
      keyframe: true,
      video: true,
      decodeTime: 0.9,
      trackId: 1,
      duration: 0.2,
    });
    assert.equal(parse(moof(0x01010000)).keyframe, false);
    const audioOnly = parse(moof(0), { ...init, videoTracks: new Set([2]) });
    assert.equal(audioOnly.video, false);
    assert.equal(audioOnly.duration, null);
  });
});
