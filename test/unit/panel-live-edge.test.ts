/** The MSE player's catch-up rules: start at the cached keyframe, then reach the live edge. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EDGE_HURRY_RATE, EDGE_HURRY_S, EDGE_TARGET_S, followEdge } from '../../panel/src/player/live-edge.js';

describe('following the live edge', () => {
  it('a cached group 3.5 s long: the first picture is its keyframe, not the edge', () => {
    assert.deepEqual(followEdge({ currentTime: 0, start: 100, end: 103.5, shown: false }), {
      seek: 100,
      playbackRate: 1,
    });
    assert.deepEqual(followEdge({ currentTime: 100, start: 100, end: 103.6, shown: false }), {
      seek: null,
      playbackRate: 1,
    });
  });

  it('once the keyframe shows, a large lag is closed by a seek to just behind the edge', () => {
    const a = followEdge({ currentTime: 100.04, start: 100, end: 103.7, shown: true });
    assert.equal(a.seek, 103.7 - EDGE_TARGET_S);
  });

  it('a small lag is closed by playing a little faster, then back to real time', () => {
    assert.deepEqual(followEdge({ currentTime: 103, start: 100, end: 104, shown: true }), {
      seek: null,
      playbackRate: EDGE_HURRY_RATE,
    });
    assert.deepEqual(followEdge({ currentTime: 103.8, start: 100, end: 104, shown: true }), {
      seek: null,
      playbackRate: 1,
    });
  });

  it('once hurrying, it keeps on until the player is back at the target, not just under the threshold', () => {
    const at = (lag: number, playbackRate: number) =>
      followEdge({ currentTime: 104 - lag, start: 100, end: 104, shown: true, playbackRate }).playbackRate;
    const under = (EDGE_TARGET_S + EDGE_HURRY_S) / 2;
    assert.equal(at(under, 1), 1, 'a lag under the threshold is left alone at real time');
    assert.equal(at(under, EDGE_HURRY_RATE), EDGE_HURRY_RATE, 'but not while catching up');
    assert.equal(at(EDGE_TARGET_S - 0.01, EDGE_HURRY_RATE), 1, 'back to real time at the target');
  });

  it('nothing buffered: nothing to do', () => {
    assert.deepEqual(followEdge({ currentTime: 0, start: 0, end: 0, shown: false }), { seek: null, playbackRate: 1 });
  });
});
