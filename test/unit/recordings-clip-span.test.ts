/**
 * Where a clip starts and ends when the camera is not delivering video at the moment it is asked
 * for (an on-demand camera being opened, a recorded camera reconnecting): pure rules, no engines.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  firstRecordedAt,
  noVideoReason,
  playbackClipEnd,
  type RecorderProgress,
  recorderDecision,
  refineAnchor,
  videoHeldMs,
} from '../../server/src/recordings/clip-span.js';

const T = 1_800_000_000_000;

function progress(p: Partial<RecorderProgress>): RecorderProgress {
  return {
    nowMs: T,
    requestedMs: T,
    wantedMs: 2000,
    video: null,
    videoGrewAtMs: null,
    recorderAlive: true,
    firstVideoTimeoutMs: 20_000,
    stallTimeoutMs: 10_000,
    ...p,
  };
}

describe('clip recorder: when an FFmpeg clip ends', () => {
  it('waits for the first video however long the camera takes, up to the timeout, then fails saying so', () => {
    assert.deepEqual(recorderDecision(progress({ nowMs: T + 5000 })), { action: 'wait' });
    assert.deepEqual(recorderDecision(progress({ nowMs: T + 19_999 })), { action: 'wait' });
    assert.deepEqual(recorderDecision(progress({ nowMs: T + 20_000 })), {
      action: 'fail',
      reason: 'camera did not deliver video within 20 s',
    });
    assert.equal(noVideoReason(7500), 'camera did not deliver video within 8 s');
  });

  it('a 2 s clip ends once its file holds 2 s of video, counted from the first video, not the request', () => {
    // The camera took 6 s to deliver its first keyframe: the clip is not over at request + 2 s.
    const video = { startMs: 300, endMs: 1300, firstSampleEndMs: 400 };
    assert.deepEqual(recorderDecision(progress({ nowMs: T + 7000, video, videoGrewAtMs: T + 7000 })), {
      action: 'wait',
    });
    const more = { startMs: 300, endMs: 2400, firstSampleEndMs: 400 };
    assert.deepEqual(recorderDecision(progress({ nowMs: T + 8100, video: more, videoGrewAtMs: T + 8100 })), {
      action: 'stop',
    });
  });

  it('the first frame does not count: a keyframe held until the next frame (a stream joined mid-way)', () => {
    // Keyframe at 0 held 0.9 s, then frames every 100 ms up to 2.1 s: 1.2 s of moving video.
    const video = { startMs: 0, endMs: 2100, firstSampleEndMs: 900 };
    assert.equal(videoHeldMs(video), 1200);
    assert.deepEqual(recorderDecision(progress({ nowMs: T + 3000, video, videoGrewAtMs: T + 3000 })), {
      action: 'wait',
    });
    assert.equal(videoHeldMs({ startMs: 0, endMs: 2900, firstSampleEndMs: 900 }), 2000);
    assert.equal(videoHeldMs(null), 0);
  });

  it('a camera lost mid-clip: stop and keep what came (recorder gone, or no new video for a while)', () => {
    const video = { startMs: 0, endMs: 1000, firstSampleEndMs: 100 };
    assert.deepEqual(
      recorderDecision(progress({ nowMs: T + 3000, video, videoGrewAtMs: T + 2900, recorderAlive: false })),
      { action: 'stop' },
    );
    assert.deepEqual(recorderDecision(progress({ nowMs: T + 12_000, video, videoGrewAtMs: T + 2001 })), {
      action: 'wait',
    });
    assert.deepEqual(recorderDecision(progress({ nowMs: T + 12_000, video, videoGrewAtMs: T + 2000 })), {
      action: 'stop',
    });
  });

  it('an extended clip waits for the longer video', () => {
    const video = { startMs: 0, endMs: 2500, firstSampleEndMs: 100 };
    assert.deepEqual(recorderDecision(progress({ nowMs: T + 3000, video, videoGrewAtMs: T + 3000, wantedMs: 5000 })), {
      action: 'wait',
    });
  });
});

describe('clip times from the media', () => {
  it('the wall clock of media time 0 is the tightest bound of all looks at the growing file', () => {
    // Media up to 1.0 s seen at T+2000 (written late): time 0 was at T+1000 at the latest.
    let anchor = refineAnchor(null, T + 2000, 1000);
    assert.equal(anchor, T + 1000);
    // Media up to 1.5 s seen at T+2300: time 0 was at T+800 at the latest — a better bound.
    anchor = refineAnchor(anchor, T + 2300, 1500);
    assert.equal(anchor, T + 800);
    // A slow look (the machine was busy) does not make it worse.
    assert.equal(refineAnchor(anchor, T + 9000, 2000), T + 800);
  });
});

describe('clips cut from the recording', () => {
  const run = (startMs: number, durationMs: number) => ({ startMs, durationMs });

  it('recorded at the request: the planned end', () => {
    assert.equal(playbackClipEnd([run(T - 10_000, 15_000)], T, T + 2000), T + 2000);
    assert.equal(firstRecordedAt([run(T - 10_000, 15_000)], T), T);
  });

  it('not recorded at the request (reconnecting): the end moves so the clip still holds its duration', () => {
    // Recording resumes (on a keyframe) 3 s after the request.
    const runs = [run(T - 10_000, 5000), run(T + 3000, 4000)];
    assert.equal(firstRecordedAt(runs, T), T + 3000);
    assert.equal(playbackClipEnd(runs, T, T + 2000), T + 5000);
    // A sliver shorter than 200 ms is not video to start from.
    assert.equal(firstRecordedAt([run(T - 5000, 5100), run(T + 1000, 3000)], T), T + 1000);
  });

  it('nothing recorded after the request yet: the planned end (the wait decides)', () => {
    assert.equal(playbackClipEnd([run(T - 10_000, 5000)], T, T + 2000), T + 2000);
    assert.equal(playbackClipEnd([], T, T + 2000), T + 2000);
  });
});
