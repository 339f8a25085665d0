/** When the MSE relay lets a viewer share a go2rtc consumer (the relay's sharing rule). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { answerFamilies, canShare, FULL_OFFER, offerFamilies, offerKey } from '../../server/src/live/mse-codecs.js';

const CHROMIUM = 'avc1.640029,avc1.64002A,avc1.640033,mp4a.40.2,mp4a.40.5,flac,opus';

describe('MSE codec offers and answers', () => {
  it('reads an offer as go2rtc does: only the names it knows', () => {
    assert.deepEqual([...offerFamilies(CHROMIUM)].sort(), ['aac', 'h264', 'opus', 'pcm']);
    assert.deepEqual([...offerFamilies('avc1.42E01E,mp4a.40.5')], [], 'names go2rtc ignores');
    assert.equal(offerKey('opus,avc1.640029'), offerKey('avc1.640029,avc1.64002A,opus'));
  });

  it('reads the families of an answer, and refuses to guess an unknown codec', () => {
    assert.deepEqual([...(answerFamilies('video/mp4; codecs="avc1.64001F,mp4a.40.2"') ?? [])], ['h264', 'aac']);
    assert.deepEqual([...(answerFamilies('video/mp4; codecs="hvc1.1.6.L153.B0"') ?? [])], ['h265']);
    assert.equal(answerFamilies('video/mp4; codecs="av01.0.05M.08"'), null);
    assert.equal(answerFamilies('video/mp4'), null);
  });
});

describe('sharing an upstream', () => {
  const h264Opus = 'video/mp4; codecs="avc1.640016,opus"';

  it('a browser that decodes all the answer joins the full-offer upstream', () => {
    assert.equal(canShare(FULL_OFFER, h264Opus, CHROMIUM), true);
    assert.equal(canShare(FULL_OFFER, h264Opus, 'avc1.640029,avc1.42E01E,opus'), true);
  });

  it('a viewer that cannot decode part of the answer gets its own', () => {
    assert.equal(canShare(FULL_OFFER, h264Opus, 'avc1.640029'), false, 'no Opus: go2rtc would send video only');
    assert.equal(canShare(FULL_OFFER, 'video/mp4; codecs="hvc1.1.6.L153.B0"', CHROMIUM), false, 'no H.265');
  });

  it('a viewer asking for more than the upstream offered gets its own (it might get more)', () => {
    // video-only upstream: a viewer with audio would have been answered with its audio too
    assert.equal(canShare('avc1.640029', 'video/mp4; codecs="avc1.640016"', CHROMIUM), false);
    assert.equal(canShare('avc1.640029', 'video/mp4; codecs="avc1.640016"', 'avc1.640029'), true);
  });

  it('an offer go2rtc reads as empty never shares', () => {
    assert.equal(canShare(FULL_OFFER, h264Opus, 'avc1.42E01E'), false);
  });
});
