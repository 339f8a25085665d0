import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RecordingRow } from '../../server/src/recordings/index-db.js';
import {
  bytesToFree,
  DAY_MS,
  expiresAt,
  gapsIn,
  mergeSpans,
  planAgeDeletions,
  planExpiring,
  planStorageDeletions,
  type RetentionContext,
} from '../../server/src/recordings/retention.js';

const NOW = Date.UTC(2026, 4, 20, 12);
let nextId = 1;

function row(over: Partial<RecordingRow>): RecordingRow {
  const id = nextId++;
  return {
    id,
    type: 'segment',
    camera: 'cam',
    path: `cam/${id}.mp4`,
    startMs: NOW - DAY_MS,
    endMs: NOW - DAY_MS + 600_000,
    size: 100,
    protected: false,
    trigger: null,
    kind: 'continuous',
    state: 'complete',
    requestedMs: null,
    expiringNotified: false,
    createdMs: 0,
    ...over,
  };
}

function ctx(over: Partial<RetentionContext> = {}): RetentionContext {
  return {
    now: NOW,
    settings: () => ({ retainDays: 7, clipRetainDays: 30 }),
    bufferMs: 600_000,
    pinned: () => [],
    busy: new Set(),
    ...over,
  };
}

describe('retention', () => {
  it('deletes segments after retainDays and clips after clipRetainDays, per camera', () => {
    const oldSeg = row({ endMs: NOW - 8 * DAY_MS });
    const youngSeg = row({ endMs: NOW - 6 * DAY_MS });
    const oldClip = row({ type: 'clip', kind: null, endMs: NOW - 31 * DAY_MS });
    const youngClip = row({ type: 'clip', kind: null, endMs: NOW - 8 * DAY_MS });
    const otherCam = row({ camera: 'long', endMs: NOW - 8 * DAY_MS });
    const c = ctx({
      settings: (cam) =>
        cam === 'long' ? { retainDays: 30, clipRetainDays: 30 } : { retainDays: 7, clipRetainDays: 30 },
    });
    const planned = planAgeDeletions([oldSeg, youngSeg, oldClip, youngClip, otherCam], c).map((d) => d.row.id);
    assert.deepEqual(planned, [oldSeg.id, oldClip.id]);
  });

  it('never deletes a protected recording, an open one, or a file being written', () => {
    const old = NOW - 100 * DAY_MS;
    const prot = row({ type: 'clip', kind: null, endMs: old, protected: true });
    const open = row({ endMs: old, state: 'open' });
    const busy = row({ endMs: old });
    const pending = row({ type: 'clip', kind: null, endMs: old, path: null });
    const c = ctx({ busy: new Set([busy.path ?? '']) });
    assert.deepEqual(planAgeDeletions([prot, open, busy, pending], c), []);
    assert.equal(expiresAt(prot, { retainDays: 1, clipRetainDays: 1 }, 0), null);
    // …nor for the storage limits, however tight.
    assert.deepEqual(planStorageDeletions([prot, open, busy, pending], 1e12, c), []);
  });

  it('buffer segments go after the buffer time unless a pending clip covers them', () => {
    const a = row({ kind: 'buffer', startMs: NOW - 1_300_000, endMs: NOW - 700_000 });
    const b = row({ kind: 'buffer', startMs: NOW - 700_000, endMs: NOW - 650_000 });
    const young = row({ kind: 'buffer', startMs: NOW - 120_000, endMs: NOW - 60_000 });
    const c = ctx({ pinned: () => [{ startMs: NOW - 680_000, endMs: NOW + 10_000 }] });
    assert.deepEqual(
      planAgeDeletions([a, b, young], c).map((d) => [d.row.id, d.reason]),
      [[a.id, 'buffer']],
    );
  });

  it('the storage cap removes the oldest first across cameras until enough is freed', () => {
    const rows = [
      row({ camera: 'a', startMs: 1, size: 50 }),
      row({ camera: 'b', startMs: 2, size: 50, protected: true }),
      row({ camera: 'b', startMs: 3, size: 50 }),
      row({ camera: 'a', startMs: 4, size: 50 }),
    ];
    const need = bytesToFree({ usedBytes: 200, maxBytes: 120, disk: null, minFreePercent: 0 });
    assert.equal(need, 80);
    const planned = planStorageDeletions(rows, need, ctx());
    assert.deepEqual(
      planned.map((d) => d.row.startMs),
      [1, 3],
    );
    assert.ok(planned.every((d) => d.reason === 'storage'));
  });

  it('the free-space floor counts too, and no cap means none', () => {
    assert.equal(
      bytesToFree({ usedBytes: 10, maxBytes: 0, disk: { totalBytes: 1000, freeBytes: 30 }, minFreePercent: 5 }),
      20,
    );
    assert.equal(
      bytesToFree({ usedBytes: 10, maxBytes: 0, disk: { totalBytes: 1000, freeBytes: 300 }, minFreePercent: 5 }),
      0,
    );
    assert.equal(bytesToFree({ usedBytes: 10_000, maxBytes: 0, disk: null, minFreePercent: 5 }), 0);
  });

  it('lists what expires within a window, soonest first, without buffer segments or protected ones', () => {
    const soon = row({ endMs: NOW - 7 * DAY_MS + 3600_000 });
    const later = row({ type: 'clip', kind: null, endMs: NOW - 30 * DAY_MS + 20 * 3600_000 });
    const far = row({ endMs: NOW - 2 * DAY_MS });
    const buffer = row({ kind: 'buffer', endMs: NOW });
    const prot = row({ endMs: NOW - 7 * DAY_MS + 60_000, protected: true });
    const planned = planExpiring([later, far, buffer, prot, soon], DAY_MS, ctx());
    assert.deepEqual(
      planned.map((d) => d.row.id),
      [soon.id, later.id],
    );
    assert.equal(planned[0]?.at, soon.endMs + 7 * DAY_MS);
  });
});

describe('timeline spans', () => {
  it('merges touching segments and finds the gaps', () => {
    const merged = mergeSpans(
      [
        { startMs: 10, endMs: 20 },
        { startMs: 0, endMs: 10 },
        { startMs: 21, endMs: 30 },
        { startMs: 50, endMs: 60 },
      ],
      2,
    );
    assert.deepEqual(merged, [
      { startMs: 0, endMs: 30 },
      { startMs: 50, endMs: 60 },
    ]);
    assert.deepEqual(gapsIn(merged, -5, 100), [
      { startMs: -5, endMs: 0 },
      { startMs: 30, endMs: 50 },
      { startMs: 60, endMs: 100 },
    ]);
    assert.deepEqual(gapsIn([], 0, 10), [{ startMs: 0, endMs: 10 }]);
  });
});
