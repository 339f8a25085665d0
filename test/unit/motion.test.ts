import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Ajv } from 'ajv';
import {
  analysisHeight,
  DEFAULT_MOTION_CONFIG,
  MotionConfigError,
  parseMotionConfig,
  thresholdsFor,
  watchedFraction,
} from '../../server/src/config/motion.js';
import { type MotionZone, polygonArea, rasterizeMask } from '../../server/src/config/motion-mask.js';
import { MotionConfigSchema } from '../../server/src/config/motion-schema.js';
import { motionArgs } from '../../server/src/motion/args.js';
import { FrameClock } from '../../server/src/motion/clock.js';
import { FrameComparer, RawFrameReader } from '../../server/src/motion/frames.js';
import { isMoving, MotionStateMachine, type MotionTransition, timingFor } from '../../server/src/motion/state.js';

function problemsOf(raw: unknown): string[] {
  try {
    parseMotionConfig(raw);
  } catch (err) {
    assert.ok(err instanceof MotionConfigError, String(err));
    return err.problems.map((p) => `${p.path} ${p.message}`);
  }
  assert.fail('expected a MotionConfigError');
}

const square = (x0: number, y0: number, x1: number, y1: number, mode: MotionZone['mode']): MotionZone => ({
  mode,
  points: [
    [x0, y0],
    [x1, y0],
    [x1, y1],
    [x0, y1],
  ],
});

const count = (mask: Uint8Array): number => mask.reduce((n, v) => n + v, 0);

describe('motion settings', () => {
  it('are off by default, and `enabled: true` alone gives the documented defaults', () => {
    assert.deepEqual(parseMotionConfig(undefined), DEFAULT_MOTION_CONFIG);
    assert.deepEqual(parseMotionConfig(null), DEFAULT_MOTION_CONFIG);
    assert.equal(DEFAULT_MOTION_CONFIG.enabled, false);
    assert.deepEqual(parseMotionConfig({ enabled: true }), {
      enabled: true,
      fps: 3,
      width: 320,
      sensitivity: 50,
      minDurationSeconds: 1,
      endAfterSeconds: 8,
      stream: 'substream',
      zones: [],
    });
  });

  it('takes every setting in the file form (snake_case)', () => {
    const zone = {
      mode: 'exclude',
      name: ' tree ',
      points: [
        [0.5, 0],
        [1, 0],
        [1, 0.5],
      ],
    };
    const c = parseMotionConfig({
      enabled: true,
      fps: 5,
      width: 160,
      sensitivity: 80,
      min_duration_seconds: 0,
      end_after_seconds: 30,
      stream: 'main',
      zones: [zone],
    });
    assert.equal(c.fps, 5);
    assert.equal(c.width, 160);
    assert.equal(c.minDurationSeconds, 0);
    assert.equal(c.endAfterSeconds, 30);
    assert.equal(c.stream, 'main');
    assert.deepEqual(c.zones, [
      {
        mode: 'exclude',
        name: 'tree',
        points: [
          [0.5, 0],
          [1, 0],
          [1, 0.5],
        ],
      },
    ]);
  });

  it('lists every problem with its path and what is expected', () => {
    assert.deepEqual(
      problemsOf({
        enabled: 'yes',
        fps: 0,
        width: 321,
        sensitivity: 101,
        end_after_seconds: 0.5,
        stream: 'sub',
        colour: 'red',
      }),
      [
        '/colour is not a motion setting (known: enabled, fps, width, sensitivity, min_duration_seconds, end_after_seconds, stream, zones)',
        '/enabled must be true or false',
        '/fps must be between 1 and 10 (got 0)',
        '/width must be even (got 321)',
        '/sensitivity must be between 0 and 100 (got 101)',
        '/end_after_seconds must be between 1 and 300 (got 0.5)',
        '/stream must be "substream" or "main"',
      ],
    );
    assert.deepEqual(problemsOf('on'), [' must be an object']);
    assert.deepEqual(problemsOf({ width: 200.5 }), ['/width must be a whole number']);
  });

  it('checks zones: mode, 3+ points inside 0..1, an area, no unknown keys', () => {
    assert.deepEqual(
      problemsOf({
        zones: [
          {
            mode: 'ignore',
            points: [
              [0, 0],
              [1, 0],
              [1, 1],
            ],
          },
          {
            mode: 'include',
            points: [
              [0, 0],
              [1, 1],
            ],
          },
          {
            mode: 'exclude',
            points: [
              [0, 0],
              [1.5, 0],
              [1, 1],
            ],
          },
          {
            mode: 'exclude',
            points: [
              [0, 0],
              [0.5, 0.5],
              [1, 1],
            ],
          },
          {
            mode: 'exclude',
            points: [
              [0, 0],
              [1, 0],
              [1, 1],
            ],
            colour: 1,
          },
          {
            mode: 'exclude',
            name: '',
            points: [
              [0, 0],
              [1, 0],
              [1, 1],
            ],
          },
          'x',
        ],
      }),
      [
        '/zones/0/mode must be "include" or "exclude"',
        '/zones/1/points must have 3–64 points (got 2)',
        '/zones/2/points/1 must be [x, y] with x and y between 0 and 1 (fractions of the picture width and height)',
        '/zones/3/points enclose no area (the points are on one line)',
        '/zones/4/colour is not a zone setting (known: mode, points, name)',
        '/zones/5/name must be text of 1–64 characters without control characters',
        '/zones/6 must be an object with mode and points',
      ],
    );
  });

  it('refuses zones that leave nothing to watch', () => {
    assert.deepEqual(problemsOf({ zones: [square(0, 0, 1, 1, 'exclude')] }), [
      '/zones leave no part of the picture to watch',
    ]);
    assert.deepEqual(problemsOf({ zones: [square(0, 0, 0.5, 1, 'include'), square(0, 0, 0.5, 1, 'exclude')] }), [
      '/zones leave no part of the picture to watch',
    ]);
  });

  it('maps sensitivity 0..100 to thresholds that grow stricter as it falls', () => {
    assert.deepEqual(thresholdsFor(50), { pixelDelta: 28, areaPercent: 0.538, lightingPercent: 80 });
    assert.deepEqual(thresholdsFor(100), { pixelDelta: 15, areaPercent: 0.05, lightingPercent: 80 });
    assert.deepEqual(thresholdsFor(0), { pixelDelta: 40, areaPercent: 2, lightingPercent: 80 });
    for (let s = 1; s <= 100; s++) {
      const a = thresholdsFor(s - 1);
      const b = thresholdsFor(s);
      assert.ok(b.pixelDelta <= a.pixelDelta && b.areaPercent <= a.areaPercent, `monotonic at ${s}`);
    }
  });

  it('analyses a 16:9 picture of even height', () => {
    assert.equal(analysisHeight(320), 180);
    assert.equal(analysisHeight(160), 90);
    assert.equal(analysisHeight(640), 360);
    assert.equal(analysisHeight(250), 140);
  });
});

describe('motion mask', () => {
  it('watches everything without zones', () => {
    assert.equal(count(rasterizeMask([], 32, 18)), 32 * 18);
  });

  it('excludes the pixels whose centre is inside an exclude zone', () => {
    const mask = rasterizeMask([square(0.5, 0, 1, 1, 'exclude')], 32, 18);
    assert.equal(count(mask), 16 * 18);
    assert.equal(mask[15], 1);
    assert.equal(mask[16], 0);
  });

  it('watches only include zones when there are some, minus the excludes', () => {
    const mask = rasterizeMask([square(0, 0, 0.5, 0.5, 'include'), square(0.25, 0, 0.5, 0.5, 'exclude')], 32, 18);
    assert.equal(count(mask), 8 * 9);
    assert.equal(mask[0], 1);
    assert.equal(mask[8], 0);
    assert.equal(mask[9 * 32], 0);
  });

  it('fills a triangle and a concave polygon by area, within a pixel row of the exact figure', () => {
    const w = 320;
    const h = 180;
    const triangle: MotionZone = {
      mode: 'include',
      points: [
        [0, 0],
        [1, 0],
        [0, 1],
      ],
    };
    const t = count(rasterizeMask([triangle], w, h)) / (w * h);
    assert.ok(Math.abs(t - 0.5) < 0.01, `triangle covers ${t}`);
    // A "U": the square minus its middle-top notch.
    const u: MotionZone = {
      mode: 'include',
      points: [
        [0, 0],
        [0.3, 0],
        [0.3, 0.6],
        [0.7, 0.6],
        [0.7, 0],
        [1, 0],
        [1, 1],
        [0, 1],
      ],
    };
    const area = polygonArea(u.points);
    assert.ok(Math.abs(area - (1 - 0.4 * 0.6)) < 1e-9);
    const f = count(rasterizeMask([u], w, h)) / (w * h);
    assert.ok(Math.abs(f - area) < 0.01, `U covers ${f}, area ${area}`);
    const mask = rasterizeMask([u], w, h);
    assert.equal(mask[10 * w + w / 2], 0, 'the notch is not watched');
    assert.equal(mask[170 * w + w / 2], 1, 'below the notch is watched');
    assert.ok(Math.abs(watchedFraction({ width: w, zones: [u] }) - f) < 1e-9);
  });
});

describe('frames', () => {
  it('cuts a byte stream into frames, whatever the chunk sizes', () => {
    const reader = new RawFrameReader(6);
    const frames: number[][] = [];
    const bytes = Uint8Array.from({ length: 20 }, (_, i) => i);
    for (const [a, b] of [
      [0, 4],
      [4, 5],
      [5, 13],
      [13, 20],
    ] as const) {
      reader.push(bytes.subarray(a, b), (f) => frames.push([...f]));
    }
    assert.deepEqual(frames, [
      [0, 1, 2, 3, 4, 5],
      [6, 7, 8, 9, 10, 11],
      [12, 13, 14, 15, 16, 17],
    ]);
    reader.reset();
    reader.push(Uint8Array.from([1, 1, 1, 1, 1, 1]), (f) => frames.push([...f]));
    assert.deepEqual(frames.at(-1), [1, 1, 1, 1, 1, 1], 'the partial frame was dropped');
  });

  it('scores the percentage of watched pixels that moved by the pixel threshold', () => {
    const mask = Uint8Array.from([1, 1, 1, 1, 1, 1, 1, 1, 0, 0]);
    const c = new FrameComparer(mask, 20);
    assert.equal(c.compare(new Uint8Array(10).fill(100)), null, 'the first frame has nothing to compare with');
    assert.equal(c.compare(new Uint8Array(10).fill(100)), 0);
    // Two watched pixels change by ±20 (counted), one by 19 (not), two unwatched by 200 (not).
    assert.equal(c.compare(Uint8Array.from([120, 80, 119, 100, 100, 100, 100, 100, 255, 0])), 25);
    // Compared with the previous frame, not the first one.
    assert.equal(c.compare(Uint8Array.from([120, 80, 119, 100, 100, 100, 100, 100, 0, 255])), 0);
    c.reset();
    assert.equal(c.compare(new Uint8Array(10)), null);
  });
});

describe('motion state machine', () => {
  const timing = { minDurationMs: 1000, endAfterMs: 8000, maxGapMs: 833 };
  /** Feeds one frame every 1000/fps ms from `fromMs`; `moving(t)` says which move. */
  function run(
    m: MotionStateMachine,
    fromMs: number,
    toMs: number,
    fps: number,
    moving: (t: number) => boolean,
  ): (MotionTransition & { t: number })[] {
    const out: (MotionTransition & { t: number })[] = [];
    for (let t = fromMs; t < toMs; t += 1000 / fps) {
      const tr = m.sample(moving(t), moving(t) ? 5 : 0, t);
      if (tr) out.push({ ...tr, t });
    }
    return out;
  }

  it('starts after 1 s of motion (dated at its first frame) and ends 8 s after the last moving frame', () => {
    const m = new MotionStateMachine(timing);
    const out = run(m, 0, 30_000, 3, (t) => t >= 5000 && t < 9000);
    assert.equal(out.length, 2);
    const [start, end] = out as [MotionTransition & { t: number }, MotionTransition & { t: number }];
    assert.equal(start.state, 'start');
    assert.ok(Math.abs(start.atMs - 5000) < 334, `start dated ${start.atMs}`);
    assert.ok(start.t - start.atMs >= 1000 && start.t - start.atMs < 1400, 'emitted after 1 s of motion');
    assert.equal(end.state, 'end');
    assert.ok(end.atMs >= 8600 && end.atMs < 9000, `end dated at the last moving frame: ${end.atMs}`);
    assert.ok(end.t - end.atMs >= 8000 && end.t - end.atMs < 8400, 'emitted 8 s later');
    assert.equal(m.active, false);
  });

  it('does not start on a flicker (one or two changed frames), nor on isolated changes', () => {
    const m = new MotionStateMachine(timing);
    assert.deepEqual(
      run(m, 0, 20_000, 3, (t) => t === 4000 || t === 4333.333333333333),
      [],
    );
    assert.deepEqual(
      run(m, 20_000, 40_000, 3, (t) => Math.round(t) % 2000 === 0),
      [],
      'one frame every 2 s',
    );
  });

  it('keeps a pending start through one missed frame, and one event through short pauses', () => {
    const m = new MotionStateMachine(timing);
    let i = 0;
    const out = run(m, 0, 40_000, 3, (t) => {
      i++;
      if (t < 3000 || t >= 15_000) return false;
      if (i % 3 === 0) return false; // every third frame quiet
      return !(t > 8000 && t < 12_000); // a 4 s pause, within the 8 s hold
    });
    assert.deepEqual(
      out.map((o) => o.state),
      ['start', 'end'],
    );
  });

  it('with no minimum duration, two consecutive moving frames start an event', () => {
    const m = new MotionStateMachine(timingFor(3, 0, 1));
    assert.equal(m.sample(true, 3, 0), null);
    assert.equal(m.sample(true, 4, 333)?.state, 'start');
  });

  it('ends by the clock when frames stop coming, and finish() ends at once', () => {
    const m = new MotionStateMachine(timing);
    run(m, 0, 2000, 3, () => true);
    assert.equal(m.active, true);
    assert.equal(m.tick(5000), null);
    const end = m.tick(10_100);
    assert.equal(end?.state, 'end');
    assert.equal(m.finish(), null);
    run(m, 20_000, 22_000, 3, () => true);
    assert.equal(m.finish()?.state, 'end');
    assert.equal(m.active, false);
  });

  it('counts a frame as motion between the area and lighting thresholds only', () => {
    const th = thresholdsFor(50);
    assert.equal(isMoving(null, th), false);
    assert.equal(isMoving(0.5, th), false);
    assert.equal(isMoving(0.6, th), true);
    assert.equal(isMoving(79, th), true);
    assert.equal(isMoving(95, th), false, 'the whole picture changed: light, not motion');
  });

  it('timing: a pending start survives one lost frame at any fps', () => {
    assert.deepEqual(timingFor(3, 1, 8), { minDurationMs: 1000, endAfterMs: 8000, maxGapMs: 833 });
    assert.equal(timingFor(10, 1, 8).maxGapMs, 500);
    assert.equal(timingFor(1, 1, 8).maxGapMs, 2500);
  });
});

describe('motion FFmpeg arguments', () => {
  it('read the restream over TCP and write small raw grey frames at the given rate', () => {
    const args = motionArgs('rtsp://127.0.0.1:8554/front', { fps: 3, width: 320, height: 180 });
    const after = (flag: string) => args[args.indexOf(flag) + 1];
    assert.equal(after('-i'), 'rtsp://127.0.0.1:8554/front');
    assert.equal(after('-rtsp_transport'), 'tcp');
    assert.equal(after('-vf'), 'fps=3,scale=320:180:flags=area,format=gray');
    assert.equal(after('-f'), 'rawvideo');
    assert.equal(after('-pix_fmt'), 'gray');
    assert.equal(args.at(-1), 'pipe:1');
    assert.ok(args.includes('-nostdin') && args.includes('-an'));
    assert.ok(args.indexOf('-skip_loop_filter') < args.indexOf('-i'), 'decoder options come before the input');
    assert.ok(!args.includes('-progress'));
    const withProgress = motionArgs('rtsp://127.0.0.1:8554/front', { fps: 2, width: 160, height: 90, progressFd: 3 });
    assert.equal(withProgress[withProgress.indexOf('-progress') + 1], 'pipe:3');
  });
});

describe('motion settings schema (TypeBox, for the options file and the API)', () => {
  const ajv = new Ajv({ allErrors: true, strict: false });
  const validate = ajv.compile(MotionConfigSchema);
  const accepts = (raw: unknown): boolean => {
    try {
      parseMotionConfig(raw);
      return true;
    } catch (err) {
      if (err instanceof MotionConfigError) return false;
      throw err;
    }
  };
  const zone = {
    mode: 'exclude',
    points: [
      [0, 0],
      [0.5, 0],
      [0.5, 0.5],
    ],
  };
  const cases: unknown[] = [
    {},
    { enabled: true },
    { enabled: true, fps: 2.5, width: 640, sensitivity: 0, min_duration_seconds: 0, end_after_seconds: 300 },
    {
      stream: 'main',
      zones: [
        zone,
        {
          mode: 'include',
          name: 'drive',
          points: [
            [0, 0.5],
            [1, 0.5],
            [1, 1],
          ],
        },
      ],
    },
    { enabled: 1 },
    { fps: 11 },
    { fps: 0.5 },
    { width: 322.5 },
    { width: 321 },
    { width: 158 },
    { sensitivity: -1 },
    { end_after_seconds: 0 },
    { stream: 'sub' },
    { zones: {} },
    { zones: [{ ...zone, mode: 'mask' }] },
    {
      zones: [
        {
          ...zone,
          points: [
            [0, 0],
            [1, 1],
          ],
        },
      ],
    },
    {
      zones: [
        {
          ...zone,
          points: [
            [0, 0],
            [1, 1],
            [2, 0],
          ],
        },
      ],
    },
    { zones: [{ ...zone, points: [[0, 0], [1, 1], [1]] }] },
    { zones: [{ ...zone, name: '  ' }] },
    { zones: [{ ...zone, name: 'a\u0085b' }] },
    { zones: [{ ...zone, extra: true }] },
    { zones: Array.from({ length: 33 }, () => zone) },
    { other: 1 },
  ];
  it('accepts and rejects what the validator does (apart from the geometric checks only it can make)', () => {
    for (const raw of cases) assert.equal(validate(raw), accepts(raw), JSON.stringify(raw));
  });

  it('documents the same defaults', () => {
    const props = MotionConfigSchema.properties;
    const dflt = (key: keyof typeof props): unknown => (props[key] as { default?: unknown }).default;
    assert.equal(dflt('fps'), DEFAULT_MOTION_CONFIG.fps);
    assert.equal(dflt('width'), DEFAULT_MOTION_CONFIG.width);
    assert.equal(dflt('sensitivity'), DEFAULT_MOTION_CONFIG.sensitivity);
    assert.equal(dflt('min_duration_seconds'), DEFAULT_MOTION_CONFIG.minDurationSeconds);
    assert.equal(dflt('end_after_seconds'), DEFAULT_MOTION_CONFIG.endAfterSeconds);
    assert.equal(dflt('stream'), DEFAULT_MOTION_CONFIG.stream);
    assert.equal(dflt('enabled'), false);
  });
});

describe('frame clock', () => {
  it('times regular frames by the stream, never after their arrival', () => {
    const clock = new FrameClock(3);
    let prev: number | null = null;
    for (let n = 0; n < 300; n++) {
      const arrival = 1_000_000 + n * 333.333 + ((n * 37) % 50); // 0–50 ms of jitter
      const t = clock.frame(arrival);
      assert.ok(t <= arrival, `frame ${n} timed after its arrival`);
      if (prev !== null) assert.ok(Math.abs(t - prev - 333.333) < 60, `spacing ${t - prev}`);
      prev = t;
    }
  });

  it('keeps the spacing of a burst of late frames (a starved FFmpeg catching up)', () => {
    const clock = new FrameClock(3);
    const times: number[] = [];
    for (let n = 0; n < 6; n++) times.push(clock.frame((n * 1000) / 3));
    // Six seconds without frames, then the 18 frames of those seconds within 50 ms.
    const burstAt = 2000 + 6000;
    for (let k = 0; k < 18; k++) times.push(clock.frame(burstAt + k * 3));
    const span = (times.at(-1) as number) - (times[5] as number);
    assert.ok(
      span > 5500 && span < 6500,
      `18 frames span ${span} ms of stream time, not the 51 ms they took to arrive`,
    );
    // The clock's "now" lags the wall as much as the latest frame did.
    const lag = burstAt + 51 - (times.at(-1) as number);
    assert.ok(Math.abs(clock.now(burstAt + 51) - (burstAt + 51 - lag)) < 1);
  });

  it('keeps the spacing of a backlog a little longer than the stall limit (lag cut to the limit, not snapped)', () => {
    const clock = new FrameClock(3, 15_000);
    for (let n = 0; n < 9; n++) clock.frame((n * 1000) / 3);
    // Stopped for 15.6 s: the 47 frames of those seconds come in 1.5 s.
    const burstAt = (8 * 1000) / 3 + 15_600;
    const times: number[] = [];
    for (let k = 0; k < 47; k++) times.push(clock.frame(burstAt + k * 32));
    assert.ok(burstAt - (times[0] as number) <= 15_000, 'never more than the limit behind its arrival');
    for (let k = 1; k < times.length; k++) {
      const step = (times[k] as number) - (times[k - 1] as number);
      assert.ok(Math.abs(step - 333.333) < 20, `frame ${k}: ${step} ms after the one before, not its 32 ms of arrival`);
    }
  });

  it('does not drift away from a camera whose clock runs 0.5 % slow, and is never more than the limit behind', () => {
    const clock = new FrameClock(3);
    let last = 0;
    let arrival = 0;
    for (let n = 0; n < 20_000; n++) {
      arrival = n * (1000 / 3) * 1.005;
      last = arrival - clock.frame(arrival);
      assert.ok(last < 1000, `lag ${last} ms at frame ${n}`);
    }
    const late = arrival + 60_000;
    assert.equal(clock.frame(late), late - 15_000, 'a minute-long stall: timed the limit (15 s) before arrival');
    assert.equal(clock.now(late), late - 15_000);
    clock.reset();
    assert.equal(clock.frame(5), 5);
  });
});
