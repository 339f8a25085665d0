import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EngineHealth } from '../../server/src/engines/engines.js';
import { healthReport } from '../../server/src/http/health.js';

const up: EngineHealth = { state: 'running', pid: 10, restarts: 0, lastError: null };

describe('healthReport', () => {
  it('is ok when both engines run', () => {
    const r = healthReport({ go2rtc: up, mediamtx: { ...up, pid: 11 } }, '1.0.0', 12.7);
    assert.equal(r.status, 'ok');
    assert.deepEqual(r.reasons, []);
    assert.equal(r.uptimeSeconds, 12);
  });

  it('is degraded while go2rtc restarts, and says what still works', () => {
    const r = healthReport(
      { go2rtc: { ...up, state: 'backoff', pid: null, lastError: 'exited with signal SIGKILL' }, mediamtx: up },
      '1',
      0,
    );
    assert.equal(r.status, 'degraded');
    assert.match(r.reasons[0] ?? '', /go2rtc not running \(backoff\): exited with signal SIGKILL/);
    assert.match(r.reasons[0] ?? '', /MJPEG and snapshots still served/);
  });

  it('reports a failed engine with the first line of its error', () => {
    const r = healthReport(
      { go2rtc: up, mediamtx: { ...up, state: 'failed', lastError: 'bind: address in use\nmore' } },
      '1',
      0,
    );
    assert.deepEqual(r.reasons, [
      'mediamtx failed: bind: address in use (more) — camera ingest and recording unavailable',
    ]);
  });
});
