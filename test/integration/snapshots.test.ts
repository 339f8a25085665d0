import assert from 'node:assert/strict';
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SyntheticCameraServer } from '../../scripts/synthetic-cameras.js';
import type { CameraStatus } from '../../server/src/cameras/status.js';
import { isJpeg, jpegSize } from '../../server/src/snapshots/jpeg.js';
import { freePorts } from '../helpers/ports.js';
import { waitUntil } from '../helpers/processes.js';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.js';

interface Shot {
  status: number;
  headers: Headers;
  body: Buffer;
  json: <T>() => T;
}

async function get(sp: ServerProcess, path: string, headers: Record<string, string> = {}): Promise<Shot> {
  const res = await fetch(`${sp.baseUrl}${path}`, { headers, signal: AbortSignal.timeout(30_000) });
  const body = Buffer.from(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, body, json: <T>() => JSON.parse(body.toString()) as T };
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
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
}

async function status(sp: ServerProcess, id: string): Promise<CameraStatus> {
  return (await api<CameraStatus>(sp, 'GET', `/api/cameras/${id}/status`)).body;
}

interface ErrorBody {
  code: string;
  message: string;
  problems: { field: string; message: string }[];
}

/** Subscribes to the server's SSE stream; `next(event)` resolves with the data of the next such event. */
async function subscribe(sp: ServerProcess, query: string) {
  const ctrl = new AbortController();
  const res = await fetch(`${sp.baseUrl}/api/events?${query}`, { signal: ctrl.signal });
  assert.equal(res.status, 200);
  const reader = res.body?.getReader();
  assert.ok(reader);
  const decoder = new TextDecoder();
  let buffer = '';
  const frames: { event: string; data: unknown }[] = [];
  const waiting: (() => void)[] = [];
  let ready!: () => void;
  const opened = new Promise<void>((r) => {
    ready = r;
  });
  void (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (block.startsWith('retry:')) ready();
          const event = /^event: (.+)$/m.exec(block)?.[1];
          const data = /^data: (.+)$/m.exec(block)?.[1];
          if (event && data) frames.push({ event, data: JSON.parse(data) });
          for (const w of waiting.splice(0)) w();
          end = buffer.indexOf('\n\n');
        }
      }
    } catch {
      /* closed */
    }
  })();
  await opened;
  return {
    next: async <T>(event: string, timeoutMs: number): Promise<T> => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const i = frames.findIndex((f) => f.event === event);
        if (i >= 0) return frames.splice(i, 1)[0]?.data as T;
        if (Date.now() > deadline) throw new Error(`no ${event} event within ${timeoutMs} ms`);
        await new Promise<void>((r) => {
          waiting.push(r);
          setTimeout(r, 100);
        });
      }
    },
    close: () => ctrl.abort(),
  };
}

const SNAPSHOT_NAME = /^front\/snapshots\/front_\d{8}-\d{6}-\d{3}\.jpg$/;

describe('snapshots on the real engines', () => {
  let sim: SyntheticCameraServer;
  let sp: ServerProcess;

  before(async () => {
    const [rtspPort, apiPort, closedPort] = (await freePorts(3)) as [number, number, number];
    sim = new SyntheticCameraServer({ rtspPort, apiPort });
    await sim.start();
    await sim.addCamera({ name: 'cam_a', width: 640, height: 360, fps: 10, audio: false });
    sp = await startServerProcess({ env: { CAMSTACK_STATUS_POLL_MS: '300', CAMSTACK_RECONCILE_MS: '1000' } });
    const cameras = [
      { id: 'front', name: 'Front', source: sim.url('cam_a') },
      // Nothing listens there: the camera is offline. Its password must never appear in an answer.
      {
        id: 'dead',
        name: 'Dead',
        source: `rtsp://127.0.0.1:${closedPort}/x`,
        username: 'admin',
        password: 's3cr3t-pw',
      },
      { id: 'off', name: 'Off', source: sim.url('cam_a'), enabled: false },
    ];
    for (const camera of cameras) assert.equal((await api(sp, 'POST', '/api/cameras', camera)).status, 201);
    await waitUntil(async () => (await status(sp, 'front')).codec !== null, 30_000, 'front verified');
  });

  after(async () => {
    await sp?.cleanup();
    await sim?.stop();
  });

  it('takes a JPEG, then serves it from the cache within maxAge (same ETag), and honours If-None-Match', async () => {
    const first = await get(sp, '/api/cameras/front/snapshot.jpg?maxAge=0');
    assert.equal(first.status, 200, first.body.toString());
    assert.equal(first.headers.get('content-type'), 'image/jpeg');
    assert.ok(isJpeg(first.body));
    assert.deepEqual(jpegSize(first.body), { width: 640, height: 360 });
    assert.equal(first.headers.get('x-snapshot-source'), 'go2rtc');
    assert.match(first.headers.get('cache-control') ?? '', /^private, no-cache$/, 'maxAge=0: stale at once');
    const etag = first.headers.get('etag');
    assert.ok(etag);
    assert.ok(first.headers.get('last-modified'));

    const second = await get(sp, '/api/cameras/front/snapshot.jpg?maxAge=60000');
    assert.equal(second.status, 200);
    assert.equal(second.headers.get('x-snapshot-source'), 'cache');
    assert.equal(second.headers.get('etag'), etag);
    assert.equal(second.headers.get('x-snapshot-capture'), first.headers.get('x-snapshot-capture'));
    assert.equal(second.headers.get('last-modified'), first.headers.get('last-modified'));
    assert.ok(second.body.equals(first.body));
    const maxAge = Number(/max-age=(\d+)/.exec(second.headers.get('cache-control') ?? '')?.[1]);
    assert.ok(maxAge > 0 && maxAge <= 60, `Cache-Control ${second.headers.get('cache-control')}`);

    const notModified = await get(sp, '/api/cameras/front/snapshot.jpg?maxAge=60000', { 'if-none-match': etag });
    assert.equal(notModified.status, 304);
    assert.equal(notModified.body.length, 0);
    assert.equal(notModified.headers.get('etag'), etag);
    // Cache busters that dashboards append are ignored.
    const busted = await get(sp, `/api/cameras/front/snapshot.jpg?maxAge=60000&t=${Date.now()}`);
    assert.equal(busted.status, 200);
    assert.equal(busted.headers.get('etag'), etag);
  });

  it('takes a new one once the cached one is older than maxAge', async () => {
    const first = await get(sp, '/api/cameras/front/snapshot.jpg?maxAge=0');
    assert.equal(first.status, 200);
    await new Promise((r) => setTimeout(r, 1100));
    const again = await get(sp, '/api/cameras/front/snapshot.jpg?maxAge=1000');
    assert.equal(again.status, 200);
    assert.notEqual(again.headers.get('x-snapshot-source'), 'cache');
    assert.ok(
      Number(again.headers.get('x-snapshot-capture')) > Number(first.headers.get('x-snapshot-capture')),
      'a new capture',
    );
    assert.notEqual(again.headers.get('etag'), first.headers.get('etag'), 'the test pattern moved');
    assert.ok(
      Date.parse(again.headers.get('last-modified') ?? '') > Date.parse(first.headers.get('last-modified') ?? ''),
      `Last-Modified ${again.headers.get('last-modified')} after ${first.headers.get('last-modified')}`,
    );
  });

  it('10 concurrent requests share ONE capture', async () => {
    const before = await get(sp, '/api/cameras/front/snapshot.jpg?maxAge=600000');
    const shots = await Promise.all(
      Array.from({ length: 10 }, () => get(sp, '/api/cameras/front/snapshot.jpg?width=200&maxAge=0')),
    );
    for (const s of shots) assert.equal(s.status, 200);
    const captures = new Set(shots.map((s) => s.headers.get('x-snapshot-capture')));
    const etags = new Set(shots.map((s) => s.headers.get('etag')));
    assert.equal(captures.size, 1, `captures: ${[...captures].join(', ')}`);
    assert.equal(etags.size, 1);
    assert.ok(Number([...captures][0]) > Number(before.headers.get('x-snapshot-capture')), 'a fresh capture');
    for (const s of shots) assert.equal(s.headers.get('x-snapshot-source'), 'go2rtc');
  });

  it('scales to the width asked for, and rejects widths and maxAges out of bounds naming the field', async () => {
    const small = await get(sp, '/api/cameras/front/snapshot.jpg?width=320');
    assert.equal(small.status, 200);
    assert.deepEqual(jpegSize(small.body), { width: 320, height: 180 });
    for (const [query, field] of [
      ['width=0', 'width'],
      ['width=15', 'width'],
      ['width=3841', 'width'],
      ['width=abc', 'width'],
      ['maxAge=-1', 'maxAge'],
      ['maxAge=600001', 'maxAge'],
    ] as const) {
      const res = await get(sp, `/api/cameras/front/snapshot.jpg?${query}`);
      assert.equal(res.status, 400, query);
      const body = res.json<ErrorBody>();
      assert.equal(body.code, 'validation_failed');
      assert.deepEqual(
        body.problems.map((p) => p.field),
        [field],
        query,
      );
    }
  });

  it('a stream go2rtc does not know yet (a camera added a moment ago) is synced first, not left to FFmpeg', async () => {
    // go2rtc loses the stream, as it has not got a just-added camera until the reconciler's pass.
    const go2rtc = `http://127.0.0.1:${sp.enginePorts.go2rtcApi}`;
    // (go2rtc removes it, then answers 400 "path not exist" for its config file, which has none.)
    await fetch(`${go2rtc}/api/streams?src=front`, { method: 'DELETE' });
    const streams = (await (await fetch(`${go2rtc}/api/streams`)).json()) as Record<string, unknown>;
    assert.equal(streams.front, undefined, 'go2rtc no longer has the stream');
    const before = sp.output().length;
    const shot = await get(sp, '/api/cameras/front/snapshot.jpg?maxAge=0');
    assert.equal(shot.status, 200, shot.body.toString());
    assert.equal(shot.headers.get('x-snapshot-source'), 'go2rtc');
    assert.doesNotMatch(sp.output().slice(before), /could not take a snapshot/);
  });

  it('a snapshot is not counted as a viewer', async () => {
    let most = 0;
    let done = false;
    const watch = (async () => {
      while (!done) {
        most = Math.max(most, (await status(sp, 'front')).viewers);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const shot = await get(sp, '/api/cameras/front/snapshot.jpg?maxAge=0');
    await new Promise((r) => setTimeout(r, 700)); // two more status polls
    done = true;
    await watch;
    assert.equal(shot.status, 200);
    assert.equal(most, 0);
  });

  it('unknown camera → 404, disabled → 409, offline → 503 with the reason and no credentials', async () => {
    const unknown = await get(sp, '/api/cameras/nobody/snapshot.jpg');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json<ErrorBody>().code, 'not_found');
    const disabled = await get(sp, '/api/cameras/off/snapshot.jpg');
    assert.equal(disabled.status, 409);
    assert.equal(disabled.json<ErrorBody>().code, 'camera_disabled');

    await waitUntil(async () => (await status(sp, 'dead')).state === 'offline', 30_000, 'dead offline');
    const dead = await get(sp, '/api/cameras/dead/snapshot.jpg');
    assert.equal(dead.status, 503);
    const body = dead.json<ErrorBody>();
    assert.equal(body.code, 'camera_unavailable');
    assert.match(body.message, /offline: .*connection refused/);
    assert.doesNotMatch(dead.body.toString(), /s3cr3t-pw|admin/);
    const save = await api<ErrorBody>(sp, 'POST', '/api/cameras/dead/snapshot');
    assert.equal(save.status, 503);
    assert.doesNotMatch(sp.output(), /s3cr3t-pw/);
  });

  it('POST saves the file under the media dir and publishes snapshot.saved', async () => {
    const events = await subscribe(sp, 'types=snapshot.saved&camera=front');
    try {
      const res = await api<{ camera: string; path: string; takenAt: string; url: string | null }>(
        sp,
        'POST',
        '/api/cameras/front/snapshot',
        { trigger: 'node-red' },
      );
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.equal(res.body.camera, 'front');
      assert.match(res.body.path, SNAPSHOT_NAME);
      assert.ok(Number.isFinite(Date.parse(res.body.takenAt)));
      assert.equal(res.body.url, null);

      const mediaDir = join(sp.dir, 'media');
      const file = await readFile(join(mediaDir, res.body.path));
      assert.ok(isJpeg(file));
      assert.deepEqual(jpegSize(file), { width: 640, height: 360 });
      const left = await readdir(join(mediaDir, 'front', 'snapshots'));
      assert.deepEqual(
        left.filter((f) => f.endsWith('.tmp')),
        [],
        'no temporary file left behind',
      );

      const event = await events.next<{
        camera: string;
        path: string;
        relativePath: string;
        takenAt: string;
        trigger: string;
      }>('snapshot.saved', 5000);
      assert.deepEqual(event, {
        camera: 'front',
        path: join(mediaDir, res.body.path),
        relativePath: res.body.path,
        takenAt: res.body.takenAt,
        trigger: 'node-red',
      });

      // Without a body: trigger "api".
      const plain = await api<{ path: string }>(sp, 'POST', '/api/cameras/front/snapshot');
      assert.equal(plain.status, 201);
      assert.equal((await events.next<{ trigger: string }>('snapshot.saved', 5000)).trigger, 'api');
      const bad = await api<ErrorBody>(sp, 'POST', '/api/cameras/front/snapshot', { surprise: 1 });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.problems[0]?.field, 'surprise');
    } finally {
      events.close();
    }
  });
});

describe('snapshots while go2rtc is down', () => {
  let sim: SyntheticCameraServer;
  let sp: ServerProcess;
  let binDir: string;

  before(async () => {
    binDir = await mkdtemp(join(tmpdir(), 'camstack-nogo2rtc-'));
    const bad = join(binDir, 'go2rtc');
    await writeFile(bad, '#!/bin/sh\necho "go2rtc held down by the test" >&2\nexit 3\n');
    await chmod(bad, 0o755);
    const [rtspPort, apiPort] = (await freePorts(2)) as [number, number];
    sim = new SyntheticCameraServer({ rtspPort, apiPort });
    await sim.start();
    await sim.addCamera({ name: 'cam_b', width: 640, height: 360, fps: 10, audio: false });
    sp = await startServerProcess({
      env: {
        CAMSTACK_GO2RTC_BIN: bad,
        CAMSTACK_BACKOFF_BASE_MS: '100',
        CAMSTACK_STATUS_POLL_MS: '300',
        CAMSTACK_RECONCILE_MS: '1000',
      },
    });
    assert.equal(
      (await api(sp, 'POST', '/api/cameras', { id: 'front', name: 'Front', source: sim.url('cam_b') })).status,
      201,
    );
    await waitUntil(
      async () =>
        (await api<{ engines: { go2rtc: { state: string } } }>(sp, 'GET', '/api/health')).body.engines.go2rtc.state ===
        'failed',
      30_000,
      'go2rtc failed',
    );
    await waitUntil(async () => (await status(sp, 'front')).codec !== null, 30_000, 'front verified');
  });

  after(async () => {
    await sp?.cleanup();
    await sim?.stop();
    if (binDir) await rm(binDir, { recursive: true, force: true });
  });

  it('still answers with a JPEG, taken by FFmpeg from the MediaMTX restream', async () => {
    const full = await get(sp, '/api/cameras/front/snapshot.jpg?maxAge=0');
    assert.equal(full.status, 200, full.body.toString());
    assert.equal(full.headers.get('x-snapshot-source'), 'ffmpeg');
    assert.deepEqual(jpegSize(full.body), { width: 640, height: 360 });
    const small = await get(sp, '/api/cameras/front/snapshot.jpg?width=320&maxAge=0');
    assert.equal(small.status, 200);
    assert.equal(small.headers.get('x-snapshot-source'), 'ffmpeg');
    assert.deepEqual(jpegSize(small.body), { width: 320, height: 180 });
    const cached = await get(sp, '/api/cameras/front/snapshot.jpg?width=320&maxAge=60000');
    assert.equal(cached.headers.get('x-snapshot-source'), 'cache');
    assert.equal(cached.headers.get('etag'), small.headers.get('etag'));
    const saved = await api<{ path: string }>(sp, 'POST', '/api/cameras/front/snapshot', { maxAge: 0 });
    assert.equal(saved.status, 201);
    assert.ok(isJpeg(await readFile(join(sp.dir, 'media', saved.body.path))));
  });
});
