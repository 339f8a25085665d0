import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type FfmpegProgress, isProgressLine, ProgressParser } from '../../server/src/metrics/progress.js';

/** Feeds text line by line (split like ManagedProcess does) and collects the completed blocks. */
function feed(parser: ProgressParser, text: string): FfmpegProgress[] {
  const out: FfmpegProgress[] = [];
  for (const line of text.split(/\r\n|\n|\r/)) {
    const block = parser.push(line);
    if (block !== null) out.push(block);
  }
  return out;
}

// Captured from ffmpeg 5.1.9: `ffmpeg -hide_banner -nostdin -f lavfi -i testsrc=size=320x240:rate=25 -t 1 -f null -
// -progress pipe:1 -nostats` (first block, fps 0 during the first second, null muxer: bitrate and size N/A).
const NULL_MUXER = `frame=1
fps=0.00
stream_0_0_q=-0.0
bitrate=N/A
total_size=N/A
out_time_us=40000
out_time_ms=40000
out_time=00:00:00.040000
dup_frames=0
drop_frames=0
speed=4e+04x
progress=continue
frame=25
fps=0.00
stream_0_0_q=-0.0
bitrate=N/A
total_size=N/A
out_time_us=1000000
out_time_ms=1000000
out_time=00:00:01.000000
dup_frames=0
drop_frames=0
speed= 201x
progress=end
`;

// An encoding job writing a file (libx264 to mp4), mid-run.
const ENCODING = `frame=147
fps=24.95
stream_0_0_q=28.0
bitrate= 812.3kbits/s
total_size=524336
out_time_us=5163000
out_time_ms=5163000
out_time=00:00:05.163000
dup_frames=2
drop_frames=1
speed=1.01x
progress=continue
`;

describe('ProgressParser', () => {
  it('parses real null-muxer blocks, N/A values, exponent and padded speeds, and the end block', () => {
    const blocks = feed(new ProgressParser(), NULL_MUXER);
    assert.equal(blocks.length, 2);
    assert.deepEqual(blocks[0], {
      frame: 1,
      fps: 0,
      bitrateKbps: null,
      totalSizeBytes: null,
      outTimeUs: 40_000,
      speed: 40_000,
      dropFrames: 0,
      dupFrames: 0,
      ended: false,
    });
    assert.equal(blocks[1]?.frame, 25);
    assert.equal(blocks[1]?.outTimeUs, 1_000_000);
    assert.equal(blocks[1]?.speed, 201);
    assert.equal(blocks[1]?.ended, true);
  });

  it('parses bitrate, size, speed and dropped/duplicated frames of an encoding job', () => {
    const [block] = feed(new ProgressParser(), ENCODING);
    assert.deepEqual(block, {
      frame: 147,
      fps: 24.95,
      bitrateKbps: 812.3,
      totalSizeBytes: 524_336,
      outTimeUs: 5_163_000,
      speed: 1.01,
      dropFrames: 1,
      dupFrames: 2,
      ended: false,
    });
  });

  it('handles CRLF line endings', () => {
    const parser = new ProgressParser();
    const lines = ENCODING.replaceAll('\n', '\r\n').split('\n');
    const blocks = lines.map((l) => parser.push(l)).filter((b) => b !== null);
    assert.equal(blocks.length, 1);
    assert.equal(blocks[0]?.bitrateKbps, 812.3);
    assert.equal(blocks[0]?.speed, 1.01);
  });

  it('ignores garbage and the human -stats line, and survives missing keys', () => {
    const parser = new ProgressParser();
    const blocks = feed(
      parser,
      [
        "Input #0, lavfi, from 'testsrc=size=320x240:rate=25':",
        '  Duration: N/A, start: 0.000000, bitrate: N/A',
        'frame=   25 fps=0.0 q=-0.0 Lsize=N/A time=00:00:01.00 bitrate=N/A speed= 201x',
        '[rtsp @ 0x55d] method DESCRIBE failed: 404 Not Found',
        '=',
        'frame=abc',
        'unknown_key=7',
        'frame=12',
        'progress=continue',
      ].join('\n'),
    );
    assert.equal(blocks.length, 1);
    assert.deepEqual(blocks[0], {
      frame: 12,
      fps: null,
      bitrateKbps: null,
      totalSizeBytes: null,
      outTimeUs: null,
      speed: null,
      dropFrames: null,
      dupFrames: null,
      ended: false,
    });
  });

  it('starts every block afresh, so keys missing from the next block are null', () => {
    const parser = new ProgressParser();
    const blocks = feed(parser, 'frame=10\nfps=25.0\nprogress=continue\nframe=20\nprogress=continue\n');
    assert.equal(blocks[0]?.fps, 25);
    assert.equal(blocks[1]?.frame, 20);
    assert.equal(blocks[1]?.fps, null);
  });

  it('treats N/A, unknown and negative timestamps as null and falls back to out_time_ms / out_time', () => {
    const parser = new ProgressParser();
    const [na, negative, msOnly, clockOnly, naSpeed] = feed(
      parser,
      [
        'out_time_us=N/A',
        'out_time_ms=N/A',
        'out_time=N/A',
        'progress=continue',
        'out_time_us=-9223372036854775807',
        'out_time=-2562047788:00:54.775807',
        'progress=continue',
        'out_time_ms=2500000',
        'progress=continue',
        'out_time=01:02:03.500000',
        'progress=continue',
        'speed=N/A',
        'bitrate=N/A',
        'progress=end',
      ].join('\n'),
    );
    assert.equal(na?.outTimeUs, null);
    assert.equal(negative?.outTimeUs, null);
    assert.equal(msOnly?.outTimeUs, 2_500_000);
    assert.equal(clockOnly?.outTimeUs, 3_723_500_000);
    assert.equal(naSpeed?.speed, null);
    assert.equal(naSpeed?.bitrateKbps, null);
    assert.equal(naSpeed?.ended, true);
  });

  it('reset() drops a partial block', () => {
    const parser = new ProgressParser();
    parser.push('frame=99');
    parser.reset();
    assert.equal(parser.push('progress=continue')?.frame, null);
  });
});

describe('isProgressLine', () => {
  it('recognises progress lines only', () => {
    for (const line of ['frame=1', 'fps=0.00', 'stream_0_0_q=-0.0', 'bitrate= 812.3kbits/s', 'speed= 201x']) {
      assert.equal(isProgressLine(line), true, line);
    }
    assert.equal(isProgressLine('progress=end\r'), true);
    assert.equal(isProgressLine('stream_1_0_psnr_y=38.12'), true);
    for (const line of [
      'frame=   25 fps=0.0 q=-0.0 Lsize=N/A time=00:00:01.00 bitrate=N/A speed= 201x',
      'Stream mapping:',
      'video:1kB audio:0kB subtitle:0kB other streams:0kB',
      'user=admin',
      '',
    ]) {
      assert.equal(isProgressLine(line), false, line);
    }
  });
});
