/**
 * Faults: a stop always finishes (every wait in it bounded) and leaves no process behind —
 * right after cameras are deleted, while cameras are added and deleted in a loop, with event
 * streams, WebSockets and MJPEG responses open, after go2rtc was killed and restarted, and when a
 * part fails to start. Each test names the symptom that was seen before the fix.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { SyntheticCameraServer } from '../../scripts/synthetic-cameras.js';
import { freePorts } from '../helpers/ports.js';
import { processesMatching, waitUntil } from '../helpers/processes.js';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.js';
import { fixtureClip } from './support.js';

const STOP_WITHIN_MS = 20_000;

async function api(sp: ServerProcess, method: string, path: string, body?: unknown): Promise<number> {
  const res = await fetch(`${sp.baseUrl}${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(10_000),
  });
  await res.arrayBuffer();
  return res.status;
}

/** Sends `signal` and returns how long the server took to exit; fails past STOP_WITHIN_MS. */
async function stopTimed(sp: ServerProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<number> {
  const t0 = Date.now();
  sp.proc.kill(signal);
  const timer = setTimeout(() => sp.proc.kill('SIGKILL'), STOP_WITHIN_MS + 10_000);
  const { code, signal: sig } = await sp.exited;
  clearTimeout(timer);
  const ms = Date.now() - t0;
  assert.ok(ms < STOP_WITHIN_MS, `the server exited ${ms} ms after ${signal} (limit ${STOP_WITHIN_MS}):\n${tail(sp)}`);
  assert.equal(code, 0, `exit code 0 (got ${code}, signal ${sig}):\n${tail(sp)}`);
  assert.match(sp.output(), /every child process has exited/);
  await waitUntil(async () => processesMatching(sp.dir).length === 0, 5000, 'no process left naming the test dir');
  return ms;
}

function tail(sp: ServerProcess): string {
  return sp.output().split('\n').slice(-30).join('\n');
}

describe('shutdown is bounded', () => {
  let sim: SyntheticCameraServer;
  let clip: string;

  before(async () => {
    const [rtspPort, apiPort] = await freePorts(2);
    sim = new SyntheticCameraServer({ rtspPort: rtspPort as number, apiPort: apiPort as number });
    await sim.start();
    clip = fixtureClip();
    await sim.addCamera({ name: 'garden', loopFile: clip, audio: false });
  });

  after(async () => {
    await sim?.stop();
  });

  it('SIGINT right after DELETE of an RTSP and an HTTP camera exits in time, and the delete reconciles without a 400', async () => {
    const sp = await startServerProcess();
    try {
      assert.equal(
        await api(sp, 'POST', '/api/cameras', { id: 'plain', name: 'Plain', source: sim.url('garden') }),
        201,
      );
      assert.equal(
        await api(sp, 'POST', '/api/cameras', { id: 'web', name: 'Web', source: 'http://127.0.0.1:9/snapshot.jpg' }),
        201,
      );
      await new Promise((r) => setTimeout(r, 8000));
      assert.equal(await api(sp, 'DELETE', '/api/cameras/plain'), 204);
      assert.equal(await api(sp, 'DELETE', '/api/cameras/web'), 204);
      // Give the reconciler its pass over both engines before the stop (it runs at once on a change).
      await waitUntil(
        async () => {
          const res = await fetch(`http://127.0.0.1:${sp.enginePorts.go2rtcApi}/api/streams`);
          const streams = (await res.json()) as Record<string, unknown>;
          return !Object.keys(streams).some((n) => n.startsWith('plain') || n.startsWith('web'));
        },
        5000,
        'both cameras (and web-ingest) gone from go2rtc',
      );
      await stopTimed(sp, 'SIGINT');
      assert.doesNotMatch(sp.output(), /path not exist/, 'go2rtc deletes are not reported as failures');
      assert.doesNotMatch(sp.output(), /engine reconciliation failed/);
    } finally {
      await sp.cleanup();
    }
  });

  it('cameras added and deleted in a loop while the server stops: every stop finishes in time (5 runs)', async () => {
    for (let run = 0; run < 5; run++) {
      const sp = await startServerProcess();
      let churning = true;
      const churn = (async () => {
        for (let i = 0; churning; i++) {
          const id = `churn_${i % 3}`;
          const source = i % 2 === 0 ? sim.url('garden') : `http://127.0.0.1:9/${i}.jpg`;
          await api(sp, 'POST', '/api/cameras', { id, name: `Churn ${i}`, source }).catch(() => 0);
          await new Promise((r) => setTimeout(r, 50 + run * 40));
          await api(sp, 'DELETE', `/api/cameras/${id}`).catch(() => 0);
        }
      })();
      try {
        await new Promise((r) => setTimeout(r, 1500 + run * 700));
        await stopTimed(sp, run % 2 === 0 ? 'SIGTERM' : 'SIGINT');
      } finally {
        churning = false;
        await churn;
        await sp.cleanup();
      }
    }
  });

  it('open event streams, a WebSocket and an MJPEG response are ended by the stop, not waited for', async () => {
    const sp = await startServerProcess();
    const ctrl = new AbortController();
    try {
      assert.equal(await api(sp, 'POST', '/api/cameras', { id: 'cam', name: 'Cam', source: sim.url('garden') }), 201);
      await waitUntil(
        async () => (await sp.json<{ state: string }>('/api/cameras/cam/status')).state !== 'connecting',
        20_000,
        'the camera verified',
      );
      const sse = await fetch(`${sp.baseUrl}/api/events`, { signal: ctrl.signal });
      assert.equal(sse.status, 200);
      const sse2 = await fetch(`${sp.baseUrl}/api/events?types=camera.status`, { signal: ctrl.signal });
      assert.equal(sse2.status, 200);
      const mjpeg = await fetch(`${sp.baseUrl}/api/cameras/cam/mjpeg`, { signal: ctrl.signal });
      assert.equal(mjpeg.status, 200);
      const ws = new WebSocket(`ws://127.0.0.1:${sp.port}/api/cameras/cam/ws`);
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      });
      const wsClosed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
      // Keep reading so no stream is stalled by back-pressure.
      for (const res of [sse, sse2, mjpeg]) void res.body?.pipeTo(new WritableStream()).catch(() => undefined);
      await stopTimed(sp, 'SIGTERM');
      await wsClosed;
    } finally {
      ctrl.abort();
      await sp.cleanup();
    }
  });

  it('after go2rtc is killed -9 and restarted, SIGINT still ends every process in time', async () => {
    const sp = await startServerProcess();
    try {
      assert.equal(await api(sp, 'POST', '/api/cameras', { id: 'cam', name: 'Cam', source: sim.url('garden') }), 201);
      const before = (await sp.json<{ engines: { go2rtc: { pid: number } } }>('/api/health')).engines.go2rtc.pid;
      process.kill(before, 'SIGKILL');
      await waitUntil(
        async () => {
          const h = await sp.json<{ engines: { go2rtc: { pid: number | null; state: string } } }>('/api/health');
          return h.engines.go2rtc.state === 'running' && h.engines.go2rtc.pid !== before;
        },
        20_000,
        'go2rtc restarted',
      );
      await stopTimed(sp, 'SIGINT');
    } finally {
      await sp.cleanup();
    }
  });

  it('a part that fails to start (recordings: media dir not writable) exits 1 and leaves no engine running', async () => {
    // A read-only file system as the media dir: the engines start (they only read it until they
    // record), the recordings part cannot create its work folder there. (Root ignores file modes.)
    const media = await mkdtemp(join(tmpdir(), 'camstack-ro-media-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', media]);
    const sp = await startServerProcess({ options: { media_dir: media }, waitHealthy: false });
    try {
      const { code } = await sp.exited;
      assert.equal(code, 1, tail(sp));
      assert.match(sp.output(), /recordings could not start/);
      assert.match(sp.output(), /go2rtc (running|starting)|mediamtx (running|starting)/, 'the engines had started');
      assert.deepEqual(
        processesMatching(sp.dir).map((p) => p.argv.join(' ')),
        [],
        'no engine process left naming the data dir',
      );
    } finally {
      await sp.cleanup();
      execFileSync('umount', [media]);
      await rm(media, { recursive: true, force: true });
    }
  });
});
