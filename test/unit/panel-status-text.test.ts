/** Pure parts of the panel's camera status lines: recording paused, next connection check. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fmtTime } from '../../panel/src/format.js';
import { recordingPausedText, retryText } from '../../panel/src/status-text.js';

const now = Date.parse('2024-05-01T12:00:00.000Z');
const inSeconds = (s: number) => new Date(now + s * 1000).toISOString();

describe('panel status lines', () => {
  it('recording paused: the reason, or nothing when recording writes', () => {
    assert.equal(
      recordingPausedText({ recordingError: 'the media disk is full' }),
      'Recording paused: the media disk is full',
    );
    assert.equal(recordingPausedText({ recordingError: null }), null);
    assert.equal(recordingPausedText({ recordingError: '   ' }), null);
    assert.equal(recordingPausedText(undefined), null);
  });

  it('next check: a countdown while near, rounded up, "now" once due', () => {
    assert.equal(retryText({ state: 'offline', nextRetryAt: inSeconds(12) }, now), 'retrying in 12 s');
    assert.equal(retryText({ state: 'offline', nextRetryAt: inSeconds(4.2) }, now), 'retrying in 5 s');
    assert.equal(retryText({ state: 'error', nextRetryAt: inSeconds(120) }, now), 'retrying in 120 s');
    assert.equal(retryText({ state: 'offline', nextRetryAt: inSeconds(0) }, now), 'retrying now');
    assert.equal(retryText({ state: 'offline', nextRetryAt: inSeconds(-3) }, now), 'retrying now');
  });

  it('next check: the clock time when far off, or when the view does not count down', () => {
    const far = inSeconds(300);
    const clock = `next check at ${fmtTime(new Date(far))}`;
    assert.equal(retryText({ state: 'offline', nextRetryAt: far }, now), clock);
    assert.match(clock, /^next check at \S/);
    assert.equal(
      retryText({ state: 'offline', nextRetryAt: inSeconds(10) }, now, 0),
      `next check at ${fmtTime(new Date(now + 10_000))}`,
    );
  });

  it('nothing for a healthy camera, no planned check or a bad time', () => {
    assert.equal(retryText({ state: 'streaming', nextRetryAt: inSeconds(10) }, now), null);
    assert.equal(retryText({ state: 'connecting', nextRetryAt: inSeconds(10) }, now), null);
    assert.equal(retryText({ state: 'offline', nextRetryAt: null }, now), null);
    assert.equal(retryText({ state: 'offline', nextRetryAt: 'soon' }, now), null);
    assert.equal(retryText(undefined, now), null);
  });
});
