/**
 * Fault: a camera's source disappears (its publisher stops: connection refused on its path) for
 * 5 s and, on a second camera at the same time, for 60 s, then comes back. Nobody touches
 * Camstack: live view (a fresh frame through go2rtc) and 24/7 recording must come back on their
 * own within 10 s of the camera's return, the recording's hole must be no longer than the outage
 * plus 10 s (measured from the segments' own times), and the camera's state must go `offline`
 * then `streaming`, also on /api/events.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SyntheticCameraServer } from '../../scripts/synthetic-cameras.js';
import { freePorts } from '../helpers/ports.js';
import { waitUntil } from '../helpers/processes.js';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.js';
import { fixtureClip, longestGap, SseReader, segments, status } from './support.js';

/** A fresh JPEG taken now by go2rtc (the WebRTC/MSE engine) through our API, or null. */
async function liveFrame(sp: ServerProcess, id: string): Promise<boolean> {
  try {
    const res = await fetch(`${sp.baseUrl}/api/cameras/${id}/snapshot.jpg?maxAge=0`, {
      signal: AbortSignal.timeout(15_000),
    });
    const body = Buffer.from(await res.arrayBuffer());
    return res.status === 200 && body[0] === 0xff && body[1] === 0xd8;
  } catch {
    return false;
  }
}

interface Recovery {
  outageSeconds: number;
  streamingAfterSeconds: number;
  liveAfterSeconds: number;
  recordingAfterSeconds: number;
  gapSeconds: number;
}

// The two outages run at the same time on two cameras of one server (concurrent tests).
describe('camera source outage', { concurrency: 2 }, () => {
  let sim: SyntheticCameraServer;
  let sp: ServerProcess;
  let sse: SseReader;
  const figures: Record<string, Recovery> = {};

  before(async () => {
    const clip = fixtureClip();
    const [rtspPort, apiPort] = (await freePorts(2)) as [number, number];
    sim = new SyntheticCameraServer({ rtspPort, apiPort });
    await sim.start();
    await sim.addCamera({ name: 'short', loopFile: clip });
    await sim.addCamera({ name: 'long', loopFile: clip });
    sp = await startServerProcess({
      options: {
        cameras: ['short', 'long'].map((id) => ({
          id,
          name: id,
          source: sim.url(id),
          recording: { continuous: true },
        })),
      },
      // Short segments and scans so the test sees files quickly; status poll and reconnects as shipped.
      env: {
        CAMSTACK_SEGMENT_SECONDS: '4',
        CAMSTACK_RECORDING_SCAN_MS: '500',
        CAMSTACK_RECORDING_FULL_SCAN_MS: '2000',
      },
    });
    sse = new SseReader(`${sp.baseUrl}/api/events?types=camera.status`);
    await waitUntil(
      async () => {
        const ok = await Promise.all(
          ['short', 'long'].map(async (id) => {
            const s = await status(sp, id);
            const segs = await segments(sp, id);
            return s.state === 'streaming' && segs.some((r) => !r.inProgress);
          }),
        );
        return ok.every(Boolean);
      },
      60_000,
      'both cameras streaming with a complete segment',
    );
  });

  after(async () => {
    sse?.close();
    if (process.env.CAMSTACK_TEST_DUMP) {
      const { writeFile } = await import('node:fs/promises');
      await writeFile(process.env.CAMSTACK_TEST_DUMP, sp?.output() ?? '');
    }
    await sp?.cleanup();
    await sim?.stop();
    if (Object.keys(figures).length) console.log(`outage recovery: ${JSON.stringify(figures)}`);
  });

  /** Takes the camera away for `seconds`, then measures how everything comes back. */
  async function outage(id: string, seconds: number): Promise<Recovery> {
    const lostAt = Date.now();
    await sim.pause(id);
    // While away: offline (with a reason) — reported well within the outage.
    await waitUntil(async () => (await status(sp, id)).state === 'offline', 60_000, `${id} reported offline`);
    const away = await status(sp, id);
    assert.ok(away.lastError, 'offline says why');
    const remaining = lostAt + seconds * 1000 - Date.now();
    if (remaining > 0) await new Promise((r) => setTimeout(r, remaining));
    await sim.resume(id); // resolves once the camera publishes again
    const backAt = Date.now();
    const outageSeconds = (backAt - lostAt) / 1000;

    let streamingAt = 0;
    let liveAt = 0;
    let recordingAt = 0;
    await waitUntil(
      async () => {
        // Each moment is when the answering request was sent, so the test's own slowness on a
        // loaded machine (the time a request takes to be answered) is not counted as recovery time.
        const askedStatus = Date.now();
        if (!streamingAt && (await status(sp, id)).state === 'streaming') streamingAt = askedStatus;
        // A live frame is asked for once the camera streams again (asking earlier only fails).
        const askedFrame = Date.now();
        if (!liveAt && streamingAt && (await liveFrame(sp, id))) liveAt = askedFrame;
        if (!recordingAt) {
          const resumed = (await segments(sp, id)).find((s) => s.startMs >= lostAt);
          if (resumed) recordingAt = resumed.startMs;
        }
        return streamingAt > 0 && liveAt > 0 && recordingAt > 0;
      },
      120_000,
      `${id} streaming, live and recording again`,
    );
    // The segment written when the camera went away is closed; the new one starts after the return.
    await waitUntil(
      async () => (await segments(sp, id)).some((s) => s.startMs >= lostAt && !s.inProgress),
      60_000,
      `${id}: a complete segment after the outage`,
    );
    const segs = await segments(sp, id);
    const gapSeconds = longestGap(segs, lostAt - 10_000, Date.now());
    const r: Recovery = {
      outageSeconds: Math.round(outageSeconds * 10) / 10,
      streamingAfterSeconds: Math.max(0, (streamingAt - backAt) / 1000),
      liveAfterSeconds: Math.max(0, (liveAt - backAt) / 1000),
      recordingAfterSeconds: Math.max(0, (recordingAt - backAt) / 1000),
      gapSeconds: Math.round(gapSeconds * 10) / 10,
    };
    figures[id] = r;

    // The status stream told the same story: offline, then streaming again.
    const states = sse.states(id, lostAt).map((s) => s.state);
    const off = states.indexOf('offline');
    assert.ok(off >= 0, `SSE reported offline: ${states.join(' → ')}`);
    assert.ok(states.indexOf('streaming', off) > off, `SSE reported streaming after offline: ${states.join(' → ')}`);
    return r;
  }

  const check = (r: Recovery) => {
    assert.ok(r.streamingAfterSeconds <= 10, `streaming again ${r.streamingAfterSeconds} s after the return`);
    assert.ok(r.liveAfterSeconds <= 10, `live frame ${r.liveAfterSeconds} s after the return`);
    assert.ok(r.recordingAfterSeconds <= 10, `recording resumed ${r.recordingAfterSeconds} s after the return`);
    assert.ok(
      r.gapSeconds <= r.outageSeconds + 10,
      `recording gap ${r.gapSeconds} s for an outage of ${r.outageSeconds} s`,
    );
  };

  it('camera gone for 5 s: live, recording and state (offline → streaming, also over SSE) recover on their own', async () => {
    check(await outage('short', 5));
  });

  it('camera gone for 60 s: live, recording and state (offline → streaming, also over SSE) recover on their own', async () => {
    check(await outage('long', 60));
  });
});
