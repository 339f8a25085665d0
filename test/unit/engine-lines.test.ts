import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { engineLineLevel, LineLevels, lineKind } from '../../server/src/log/engine-lines.js';

const mtxErr = (n: number) =>
  `2026/11/22 03:00:${String(n).padStart(2, '0')} ERR [path front] [RTSP source] dial tcp 10.0.0.${n}:554: connect: connection refused`;

describe('engine output levels', () => {
  it('MediaMTX: ERR and WAR are warnings, INF and DEB stay debug', () => {
    assert.equal(engineLineLevel(mtxErr(1)), 'warn');
    assert.equal(engineLineLevel('2026/11/22 03:00:00 WAR [path front] recording: no space left on device'), 'warn');
    assert.equal(engineLineLevel('2026/11/22 03:00:00 INF [RTSP] listener opened on 127.0.0.1:8554'), 'debug');
    assert.equal(engineLineLevel('2026/11/22 03:00:00 DEB [path front] reader added'), 'debug');
  });

  it('go2rtc JSON: warn, error and fatal are warnings; info and debug stay debug', () => {
    assert.equal(engineLineLevel('{"level":"error","time":"03:00:00","message":"[rtsp] dial"}'), 'warn');
    assert.equal(engineLineLevel('{"level":"warn","message":"x"}'), 'warn');
    assert.equal(engineLineLevel('{"level":"fatal","message":"x"}'), 'warn');
    assert.equal(engineLineLevel('{"level":"info","message":"[api] listen addr=127.0.0.1:1984"}'), 'debug');
  });

  it('anything else (FFmpeg, text that merely mentions ERR) stays debug', () => {
    assert.equal(engineLineLevel('[rtsp @ 0x55d] method DESCRIBE failed: 401 Unauthorized'), 'debug');
    assert.equal(engineLineLevel('ERR something'), 'debug');
    assert.equal(engineLineLevel('{"message":"no level"}'), 'debug');
    assert.equal(engineLineLevel(''), 'debug');
  });

  it('a repeat (same line, other time and numbers) is recognised as the same kind', () => {
    assert.equal(lineKind(mtxErr(1)), lineKind(mtxErr(7)));
    assert.notEqual(lineKind(mtxErr(1)), lineKind('2026/11/22 03:00:01 ERR [path back] other'));
    assert.ok(lineKind('x'.repeat(10_000)).length <= 300);
  });

  it('LineLevels: the first of a kind at its level, repeats quiet for quietMs, then again', () => {
    const levels = new LineLevels({ quietMs: 60_000 });
    assert.equal(levels.level(mtxErr(1), 0), 'warn');
    assert.equal(levels.level(mtxErr(2), 5_000), 'debug');
    assert.equal(levels.level(mtxErr(3), 59_999), 'debug');
    assert.equal(levels.level('2026/11/22 03:00:01 ERR [path back] other', 10_000), 'warn', 'another kind');
    assert.equal(levels.level(mtxErr(4), 60_001), 'warn', 'after the quiet period');
    assert.equal(levels.level('2026/11/22 03:00:00 INF hello', 0), 'debug');
  });

  it('LineLevels keeps a bounded memory of kinds', () => {
    const levels = new LineLevels({ quietMs: 60_000, maxKinds: 3 });
    for (const path of ['a', 'b', 'c', 'd']) {
      assert.equal(levels.level(`2026/11/22 03:00:00 ERR [path ${path}] x`, 0), 'warn');
    }
    // 'a' was forgotten (the oldest), so it is loud again; 'd' is still remembered.
    assert.equal(levels.level('2026/11/22 03:00:00 ERR [path a] x', 1), 'warn');
    assert.equal(levels.level('2026/11/22 03:00:00 ERR [path d] x', 1), 'debug');
  });
});
