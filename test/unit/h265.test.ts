import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Ajv } from 'ajv';
import ajvFormats from 'ajv-formats';
import { publisherArgs } from '../../scripts/synthetic-cameras.js';
import { h264StreamName } from '../../server/src/cameras/engine-plan.js';
import { LiveQuerySchema, liveStream } from '../../server/src/live/routes.js';
import { ExportQuerySchema } from '../../server/src/recordings/schemas.js';
import { h264TranscodeArgs, MAX_TRANSCODES, Transcoder } from '../../server/src/recordings/transcode.js';

/** Query strings are validated like the server does (text coerced, unknown keys refused). */
const ajv = new Ajv({ allErrors: true, removeAdditional: false, coerceTypes: 'array', useDefaults: true });
ajvFormats.default(ajv);

describe('H.265 cameras: live transcode selection', () => {
  const valid = ajv.compile(LiveQuerySchema);

  it('accepts no parameter or transcode=h264, nothing else', () => {
    assert.equal(valid({}), true);
    assert.equal(valid({ transcode: 'h264' }), true);
    for (const bad of [
      { transcode: 'H264' },
      { transcode: 'vp9' },
      { transcode: '' },
      { transcode: 'h264#video=copy' },
      { src: 'cam-h264' },
      { stream: 'other_camera' },
    ]) {
      assert.equal(valid(bad), false, JSON.stringify(bad));
    }
  });

  it('maps the choice to a stream name on the server: the camera itself, or its transcode', () => {
    assert.equal(liveStream('yard', undefined), 'yard');
    assert.equal(liveStream('yard', 'h264'), h264StreamName('yard'));
    assert.equal(liveStream('yard', 'h264'), 'yard-h264');
  });
});

describe('H.265 recordings: transcoded export', () => {
  const valid = ajv.compile(ExportQuerySchema);
  const span = { from: '2026-01-01T10:00:00Z', to: '2026-01-01T10:05:00Z' };

  it('the export takes transcode=h264 only', () => {
    assert.equal(valid(span), true);
    assert.equal(valid({ ...span, transcode: 'h264' }), true);
    assert.equal(valid({ ...span, transcode: 'hevc' }), false);
    assert.equal(valid({ ...span, transcode: '1' }), false);
  });

  it('FFmpeg reads the given input and writes H.264 + AAC as fragmented MP4 on stdout', () => {
    const input = 'http://127.0.0.1:9996/get?path=yard&start=2026-01-01T10%3A00%3A00.000Z&duration=300.000&format=mp4';
    const args = h264TranscodeArgs(input);
    const after = (flag: string) => args[args.indexOf(flag) + 1];
    assert.equal(after('-i'), input, 'the input is one argument, never split or interpreted by a shell');
    assert.equal(args.filter((a) => a === '-i').length, 1);
    assert.equal(after('-c:v'), 'libx264');
    assert.equal(after('-pix_fmt'), 'yuv420p');
    assert.equal(after('-c:a'), 'aac');
    assert.deepEqual(
      args.filter((_, i) => args[i - 1] === '-map'),
      ['0:v:0', '0:a:0?'],
      'first video, first audio if there is one',
    );
    assert.match(after('-movflags') ?? '', /frag_keyframe/);
    assert.match(after('-movflags') ?? '', /empty_moov/);
    assert.equal(after('-f'), 'mp4');
    assert.equal(args.at(-1), 'pipe:1');
    // Keyframes every 2 s whatever the frame rate: fragments (and the first picture) come early.
    assert.equal(after('-force_key_frames'), 'expr:gte(t,n_forced*2)');
  });

  it('at most MAX_TRANSCODES run at once; a release frees a slot once', () => {
    const t = new Transcoder('/usr/bin/ffmpeg', 2);
    const a = t.reserve();
    const b = t.reserve();
    assert.throws(
      () => t.reserve(),
      (err: Error & { kind?: string }) => err.kind === 'busy',
    );
    a();
    a();
    assert.equal(t.running, 1);
    const c = t.reserve();
    b();
    c();
    assert.equal(t.running, 0);
    assert.ok(MAX_TRANSCODES >= 1);
  });
});

describe('synthetic H.265 camera', () => {
  const spec = {
    name: 'h',
    width: 640,
    height: 360,
    fps: 25,
    gopSeconds: 2,
    audio: true,
    label: 'h',
    timecode: true,
  } as const;

  it('encodes with libx265, the same GOP, headers repeated for late readers; the timecode still drawn', () => {
    const args = publisherArgs({ ...spec, codec: 'h265' }, 'rtsp://127.0.0.1:1/h', null);
    const after = (flag: string) => args[args.indexOf(flag) + 1];
    assert.equal(after('-c:v'), 'libx265');
    assert.equal(after('-preset'), 'ultrafast');
    assert.equal(after('-g'), '50');
    assert.match(after('-x265-params') ?? '', /keyint=50:min-keyint=50/);
    assert.match(after('-x265-params') ?? '', /repeat-headers=1/);
    assert.match(after('-i') ?? '', /setpts=RTCTIME/, 'timecode filters kept');
    assert.ok(!args.includes('libx264'));
  });

  it('H.264 stays the default', () => {
    const args = publisherArgs({ ...spec, codec: 'h264' }, 'rtsp://127.0.0.1:1/h', null);
    assert.equal(args[args.indexOf('-c:v') + 1], 'libx264');
  });
});
