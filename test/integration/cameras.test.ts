import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { SyntheticCameraServer } from '../../scripts/synthetic-cameras.js';
import type { CameraStatus } from '../../server/src/cameras/status.js';
import { freePorts } from '../helpers/ports.js';
import { waitUntil } from '../helpers/processes.js';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.js';

/** A live viewer: a progressive MP4 consumer on go2rtc, reading until closed. */
async function openViewer(sp: ServerProcess, id: string): Promise<{ close: () => void }> {
  const ctrl = new AbortController();
  const res = await fetch(`http://127.0.0.1:${sp.enginePorts.go2rtcApi}/api/stream.mp4?src=${id}`, {
    signal: ctrl.signal,
  });
  assert.equal(res.status, 200);
  const reader = res.body?.getReader();
  const first = await reader?.read();
  assert.ok(first && !first.done && first.value.length > 0, 'media arrives');
  // Keep draining so go2rtc does not stall on a full socket.
  void (async () => {
    try {
      while (reader && !(await reader.read()).done) {
        /* drain */
      }
    } catch {
      /* aborted */
    }
  })();
  return { close: () => ctrl.abort() };
}

async function api<T>(
  sp: ServerProcess,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${sp.baseUrl}${path}`, {
    method,
    ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
}

async function mtxPathConf(sp: ServerProcess, id: string): Promise<Record<string, unknown> | null> {
  const res = await fetch(`http://127.0.0.1:${sp.enginePorts.mediamtxApi}/v3/config/paths/get/${id}`);
  return res.ok ? ((await res.json()) as Record<string, unknown>) : null;
}

async function go2rtcStreams(sp: ServerProcess): Promise<Record<string, { producers: { url: string }[] }>> {
  const res = await fetch(`http://127.0.0.1:${sp.enginePorts.go2rtcApi}/api/streams`);
  return (await res.json()) as Record<string, { producers: { url: string }[] }>;
}

async function status(sp: ServerProcess, id: string): Promise<CameraStatus> {
  return (await api<CameraStatus>(sp, 'GET', `/api/cameras/${id}/status`)).body;
}

describe('cameras on the real engines', () => {
  let sim: SyntheticCameraServer;
  let sp: ServerProcess;
  const GRACE = 3;

  before(async () => {
    const [rtspPort, apiPort] = (await freePorts(2)) as [number, number];
    sim = new SyntheticCameraServer({ rtspPort, apiPort });
    await sim.start();
    await Promise.all([
      sim.addCamera({ name: 'cam_a', width: 320, height: 240, fps: 10, audio: false }),
      sim.addCamera({ name: 'cam_b', width: 320, height: 240, fps: 10, audio: false }),
    ]);
    sp = await startServerProcess({
      options: { on_demand_grace_seconds: GRACE },
      env: { CAMSTACK_STATUS_POLL_MS: '300', CAMSTACK_RECONCILE_MS: '1000' },
    });
  });

  after(async () => {
    await sp?.cleanup();
    await sim?.stop();
  });

  it('add, update and delete reach both engines within 2 s, and survive a restart of the file', async () => {
    const created = await api<{ id: string }>(sp, 'POST', '/api/cameras', {
      id: 'porch',
      name: 'Porch',
      source: sim.url('cam_a'),
    });
    assert.equal(created.status, 201);
    const t0 = Date.now();
    await waitUntil(
      async () => (await mtxPathConf(sp, 'porch')) !== null && 'porch' in (await go2rtcStreams(sp)),
      2000,
      'porch in both engines',
    );
    assert.ok(Date.now() - t0 <= 2000);
    assert.equal((await mtxPathConf(sp, 'porch'))?.source, sim.url('cam_a'));
    assert.equal(
      (await go2rtcStreams(sp)).porch?.producers[0]?.url,
      `rtsp://127.0.0.1:${sp.enginePorts.mediamtxRtsp}/porch`,
    );

    const updated = await api(sp, 'PUT', '/api/cameras/porch', { source: sim.url('cam_b') });
    assert.equal(updated.status, 200);
    await waitUntil(
      async () => (await mtxPathConf(sp, 'porch'))?.source === sim.url('cam_b'),
      2000,
      'source updated in MediaMTX',
    );

    const file = await readFile(`${sp.dir}/cameras.yaml`, 'utf8');
    assert.match(file, /porch/);

    const deleted = await api(sp, 'DELETE', '/api/cameras/porch');
    assert.equal(deleted.status, 204);
    await waitUntil(
      async () => (await mtxPathConf(sp, 'porch')) === null && !('porch' in (await go2rtcStreams(sp))),
      2000,
      'porch gone from both engines',
    );
  });

  it('a rejected request changes nothing: not the file, not the engines, not the API', async () => {
    await api(sp, 'POST', '/api/cameras', { id: 'keep', name: 'Keep', source: sim.url('cam_a') });
    await waitUntil(async () => (await mtxPathConf(sp, 'keep')) !== null, 2000, 'keep in MediaMTX');
    const snapshot = async () =>
      JSON.stringify([
        await readFile(`${sp.dir}/cameras.yaml`, 'utf8'),
        (await api(sp, 'GET', '/api/cameras')).body,
        await mtxPathConf(sp, 'keep'),
        Object.keys(await go2rtcStreams(sp)).sort(),
      ]);
    const before = await snapshot();
    const bad: [string, string, unknown][] = [
      ['POST', '/api/cameras', { id: 'evil', name: 'Evil', source: 'rtsp://h/x;reboot' }],
      ['POST', '/api/cameras', { id: 'keep', name: 'Dup', source: sim.url('cam_b') }],
      ['POST', '/api/cameras', { id: '../etc', name: 'Traversal', source: sim.url('cam_b') }],
      ['PUT', '/api/cameras/keep', { source: 'file:///etc/passwd' }],
      ['PUT', '/api/cameras/keep', { name: '' }],
      ['PUT', '/api/cameras/keep', { recording: { retainDays: -1 } }],
      ['PUT', '/api/cameras/keep', { surprise: true }],
    ];
    for (const [method, path, body] of bad) {
      const res = await api<{ problems: unknown[] }>(sp, method, path, body);
      assert.ok(res.status >= 400 && res.status < 500, `${method} ${path} ${JSON.stringify(body)} → ${res.status}`);
    }
    await new Promise((r) => setTimeout(r, 1500)); // a reconciliation pass has run meanwhile
    assert.equal(await snapshot(), before);
    await api(sp, 'DELETE', '/api/cameras/keep');
  });

  it('verifies a new camera and explains why one is offline', async () => {
    await api(sp, 'POST', '/api/cameras', { id: 'good', name: 'Good', source: sim.url('cam_a') });
    await api(sp, 'POST', '/api/cameras', { id: 'wrong_path', name: 'Wrong path', source: sim.url('no_such_path') });
    await api(sp, 'POST', '/api/cameras', { id: 'refused', name: 'Refused', source: 'rtsp://127.0.0.1:1/x' });
    await waitUntil(async () => (await status(sp, 'wrong_path')).state === 'offline', 45_000, 'wrong_path offline');
    assert.match((await status(sp, 'wrong_path')).lastError ?? '', /404 Not Found/);
    await waitUntil(async () => (await status(sp, 'refused')).state === 'offline', 45_000, 'refused offline');
    assert.match((await status(sp, 'refused')).lastError ?? '', /connection refused/);
    // A good on-demand camera is verified, then idle (not pulled) until someone watches.
    await waitUntil(async () => (await status(sp, 'good')).codec !== null, 20_000, 'good verified');
    const good = await status(sp, 'good');
    assert.equal(good.state, 'idle');
    assert.equal(good.lastError, null);
    await waitUntil(
      async () => (await sim.readers('cam_a')) === 0,
      (GRACE + 8) * 1000,
      'no pull of an unwatched camera',
    );
    for (const id of ['good', 'wrong_path', 'refused']) await api(sp, 'DELETE', `/api/cameras/${id}`);
  });

  it('5 live viewers while recording: the camera counts exactly one reader', async () => {
    await api(sp, 'POST', '/api/cameras', {
      id: 'yard',
      name: 'Yard',
      source: sim.url('cam_b'),
      recording: { continuous: true },
    });
    await waitUntil(async () => (await status(sp, 'yard')).state === 'streaming', 20_000, 'yard streaming');
    assert.equal((await status(sp, 'yard')).recording, true);
    const viewers = await Promise.all([1, 2, 3, 4, 5].map(() => openViewer(sp, 'yard')));
    try {
      await waitUntil(async () => (await status(sp, 'yard')).viewers === 5, 5000, 'five viewers counted');
      assert.equal(await sim.readers('cam_b'), 1, 'one upstream connection at the camera');
      const s = await status(sp, 'yard');
      assert.equal(s.codec, 'h264');
      assert.equal(s.resolution, '320x240');
      await waitUntil(async () => ((await status(sp, 'yard')).bitrateKbps ?? 0) > 0, 5000, 'bitrate measured');
      assert.ok((await status(sp, 'yard')).lastFrameAt, 'last frame time known');
    } finally {
      for (const v of viewers) v.close();
    }
    await waitUntil(async () => (await status(sp, 'yard')).viewers === 0, 5000, 'viewers gone');
    assert.equal(await sim.readers('cam_b'), 1, 'still pulled: it is recording');
    await api(sp, 'DELETE', '/api/cameras/yard');
  });

  it('on demand: first viewer starts the pull, a viewer returning within the grace period reuses it, then it stops', async () => {
    await api(sp, 'POST', '/api/cameras', { id: 'lazy', name: 'Lazy', source: sim.url('cam_a') });
    await waitUntil(async () => (await status(sp, 'lazy')).codec !== null, 20_000, 'lazy verified');
    // Verification read a few frames through MediaMTX; it lets go after the grace period.
    await waitUntil(async () => (await sim.readers('cam_a')) === 0, (GRACE + 8) * 1000, 'not pulled before a viewer');
    await waitUntil(async () => (await status(sp, 'lazy')).state === 'idle', 5000, 'idle before a viewer');

    const v1 = await openViewer(sp, 'lazy');
    await waitUntil(async () => (await status(sp, 'lazy')).state === 'streaming', 10_000, 'streaming with a viewer');
    assert.equal(await sim.readers('cam_a'), 1);
    const upstream = (await sim.path('cam_a'))?.readers[0];
    v1.close();
    await waitUntil(async () => (await status(sp, 'lazy')).viewers === 0, 5000, 'viewer left');
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(await sim.readers('cam_a'), 1, 'kept during the grace period');

    const v2 = await openViewer(sp, 'lazy');
    assert.deepEqual((await sim.path('cam_a'))?.readers[0], upstream, 'the same upstream connection is reused');
    v2.close();
    await waitUntil(
      async () => (await sim.readers('cam_a')) === 0,
      (GRACE + 5) * 1000,
      'pull stopped after the grace period',
    );
    await waitUntil(async () => (await status(sp, 'lazy')).state === 'idle', 5000, 'idle again');
    await api(sp, 'DELETE', '/api/cameras/lazy');
  });

  it('kill -9 of either engine: reconciliation restores its streams', async () => {
    await api(sp, 'POST', '/api/cameras', { id: 'sturdy', name: 'Sturdy', source: sim.url('cam_a') });
    await waitUntil(
      async () => (await mtxPathConf(sp, 'sturdy')) !== null && 'sturdy' in (await go2rtcStreams(sp)),
      2000,
      'sturdy in both engines',
    );
    for (const engine of ['go2rtc', 'mediamtx'] as const) {
      const before = (await sp.json<{ engines: Record<string, { pid: number }> }>('/api/health')).engines[engine]
        ?.pid as number;
      process.kill(before, 'SIGKILL');
      await waitUntil(
        async () => {
          const h = await sp
            .json<{ engines: Record<string, { pid: number; state: string }> }>('/api/health')
            .catch(() => null);
          const e = h?.engines[engine];
          return !!e && e.state === 'running' && e.pid !== before;
        },
        20_000,
        `${engine} restarted`,
      );
      await waitUntil(
        async () =>
          (await mtxPathConf(sp, 'sturdy').catch(() => null)) !== null &&
          'sturdy' in (await go2rtcStreams(sp).catch(() => ({}))),
        10_000,
        `streams restored after ${engine} restarted`,
      );
    }
    await api(sp, 'DELETE', '/api/cameras/sturdy');
  });

  it('streams camera status changes over Server-Sent Events', async () => {
    const ctrl = new AbortController();
    const res = await fetch(`${sp.baseUrl}/api/events?types=camera.added,camera.status&camera=sse_cam`, {
      signal: ctrl.signal,
    });
    assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    const reader = res.body?.getReader();
    let text = '';
    const reading = (async () => {
      const dec = new TextDecoder();
      while (reader) {
        const { done, value } = await reader.read();
        if (done) break;
        text += dec.decode(value);
      }
    })().catch(() => undefined);
    await api(sp, 'POST', '/api/cameras', {
      id: 'sse_cam',
      name: 'SSE',
      source: sim.url('cam_a'),
      password: 'sse-secret-pw',
      username: 'viewer',
    });
    await waitUntil(
      () => /event: camera.added/.test(text) && /event: camera.status/.test(text),
      10_000,
      'events arrive',
    );
    ctrl.abort();
    await reading;
    assert.doesNotMatch(text, /sse-secret-pw/, 'no credentials in events');
    assert.match(text, /"id":"sse_cam"/);
    await api(sp, 'DELETE', '/api/cameras/sse_cam');
    assert.doesNotMatch(sp.output(), /sse-secret-pw/, 'no credentials in the logs');
  });
});

describe('metrics over Server-Sent Events', () => {
  it('pushes a metrics tick about once a second while someone listens', async () => {
    const sp = await startServerProcess();
    try {
      const ctrl = new AbortController();
      const res = await fetch(`${sp.baseUrl}/api/events?types=metrics.tick`, { signal: ctrl.signal });
      const reader = res.body?.getReader();
      const dec = new TextDecoder();
      let text = '';
      const t0 = Date.now();
      while (reader && (text.match(/event: metrics.tick/g) ?? []).length < 2 && Date.now() - t0 < 15_000) {
        const { done, value } = await reader.read();
        if (done) break;
        text += dec.decode(value);
      }
      ctrl.abort();
      assert.ok((text.match(/event: metrics.tick/g) ?? []).length >= 2, 'two ticks arrived');
      assert.match(text, /"name":"go2rtc"/);
      assert.match(text, /"rssBytes":\d+/);
    } finally {
      await sp.cleanup();
    }
  });
});

describe('a camera that needs credentials', () => {
  it('gets 401 explained with a wrong password and streams with the right one (never showing it)', async () => {
    const [rtspPort, apiPort] = (await freePorts(2)) as [number, number];
    const sim = new SyntheticCameraServer({ rtspPort, apiPort, auth: { user: 'viewer', pass: 'right-pass-123' } });
    await sim.start();
    await sim.addCamera({ name: 'locked', width: 320, height: 240, fps: 10, audio: false });
    const sp = await startServerProcess({ env: { CAMSTACK_STATUS_POLL_MS: '300' } });
    try {
      await api(sp, 'POST', '/api/cameras', {
        id: 'locked',
        name: 'Locked',
        source: sim.url('locked'),
        username: 'viewer',
        password: 'wrong-pass-456',
      });
      await waitUntil(async () => (await status(sp, 'locked')).state === 'offline', 45_000, 'offline');
      assert.match((await status(sp, 'locked')).lastError ?? '', /401 Unauthorized/);
      await api(sp, 'PUT', '/api/cameras/locked', { password: 'right-pass-123', recording: { continuous: true } });
      await waitUntil(async () => (await status(sp, 'locked')).state === 'streaming', 45_000, 'streaming');
      const listed = await api<unknown>(sp, 'GET', '/api/cameras');
      assert.doesNotMatch(JSON.stringify(listed.body), /right-pass-123|wrong-pass-456/);
      assert.doesNotMatch(sp.output(), /right-pass-123|wrong-pass-456/);
    } finally {
      await sp.cleanup();
      await sim.stop();
    }
  });
});
