import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RestartPolicy } from '../../server/src/supervisor/restart-policy.js';

describe('RestartPolicy', () => {
  it('backs off exponentially and fails after maxRestarts within the window', () => {
    const p = new RestartPolicy({ baseDelayMs: 1000, maxDelayMs: 30_000, maxRestarts: 5, windowMs: 600_000 });
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      const d = p.next(1000 + i);
      assert.equal(d.action, 'restart');
      if (d.action === 'restart') delays.push(d.delayMs);
    }
    assert.deepEqual(delays, [1000, 2000, 4000, 8000, 16_000]);
    const fail = p.next(2000);
    assert.equal(fail.action, 'fail');
    if (fail.action === 'fail') assert.match(fail.reason, /6 times within 10 min/);
    assert.equal(p.restartsInWindow(2000), 5);
  });

  it('caps the delay at maxDelayMs', () => {
    const p = new RestartPolicy({ baseDelayMs: 1000, maxDelayMs: 5000, maxRestarts: 10 });
    const delays = Array.from({ length: 6 }, (_, i) => {
      const d = p.next(i);
      return d.action === 'restart' ? d.delayMs : -1;
    });
    assert.deepEqual(delays, [1000, 2000, 4000, 5000, 5000, 5000]);
  });

  it('forgets restarts that left the sliding window', () => {
    const p = new RestartPolicy({ baseDelayMs: 10, maxRestarts: 2, windowMs: 1000 });
    assert.deepEqual(p.next(0), { action: 'restart', delayMs: 10 });
    assert.deepEqual(p.next(500), { action: 'restart', delayMs: 20 });
    assert.equal(p.next(900).action, 'fail');
    assert.equal(p.restartsInWindow(999), 2);
    // the restart at t=0 expires at t=1000
    assert.equal(p.restartsInWindow(1000), 1);
    assert.deepEqual(p.next(1000), { action: 'restart', delayMs: 20 });
    assert.equal(p.restartsInWindow(3000), 0);
    assert.deepEqual(p.next(3000), { action: 'restart', delayMs: 10 });
  });

  it('a failed decision does not count as a restart', () => {
    const p = new RestartPolicy({ maxRestarts: 1, windowMs: 100 });
    assert.equal(p.next(0).action, 'restart');
    assert.equal(p.next(1).action, 'fail');
    assert.equal(p.next(2).action, 'fail');
    assert.equal(p.restartsInWindow(2), 1);
  });

  it('reset() starts over', () => {
    const p = new RestartPolicy({ baseDelayMs: 100, maxRestarts: 1 });
    p.next(0);
    assert.equal(p.next(1).action, 'fail');
    p.reset();
    assert.equal(p.restartsInWindow(1), 0);
    assert.deepEqual(p.next(2), { action: 'restart', delayMs: 100 });
  });

  it('maxRestarts 0 fails at once', () => {
    assert.equal(new RestartPolicy({ maxRestarts: 0 }).next(0).action, 'fail');
  });

  it('uses the documented defaults', () => {
    const p = new RestartPolicy();
    assert.equal(p.baseDelayMs, 1000);
    assert.equal(p.maxDelayMs, 30_000);
    assert.equal(p.maxRestarts, 5);
    assert.equal(p.windowMs, 600_000);
  });

  it('rejects nonsense options', () => {
    assert.throws(() => new RestartPolicy({ baseDelayMs: -1 }), RangeError);
    assert.throws(() => new RestartPolicy({ windowMs: Number.NaN }), RangeError);
  });
});
