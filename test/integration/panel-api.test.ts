/**
 * The API the panel's settings and recording browser use, on the real server with real engines
 * and a synthetic camera that wants a password: the dry-run connection test, the engines and
 * their manual restart, storage use, recording thumbnails, clip triggers and the recording events
 * on /api/events.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SyntheticCameraServer } from '../../scripts/synthetic-cameras.js';
import { jpegSize } from '../../server/src/snapshots/jpeg.js';
import { freePorts } from '../helpers/ports.js';
import { waitUntil } from '../helpers/processes.js';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.js';

const USER = 'viewer';
const PASS = 'S3cret-pass_9';

interface Problem {
  field: string;
  message: string;
}

async function api<T>(
  sp: ServerProcess,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T; headers: Headers; bytes: Buffer }> {
  const res = await fetch(`${sp.baseUrl}${path}`, {
    method,
    ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(60_000),
  });
  const bytes = Buffer.from(await res.arrayBuffer());
  const json = res.headers.get('content-type')?.includes('json') && bytes.length ? JSON.parse(bytes.toString()) : null;
  return { status: res.status, body: json as T, headers: res.headers, bytes };
}

describe('the panel API on the real server', () => {
  let sim: SyntheticCameraServer;
  let sp: ServerProcess;

  before(async () => {
    const [rtspPort, apiPort] = (await freePorts(2)) as [number, number];
    sim = new SyntheticCameraServer({ rtspPort, apiPort, auth: { user: USER, pass: PASS } });
    await sim.start();
    await sim.addCamera({ name: 'cam', width: 640, height: 360, fps: 10, gopSeconds: 1, audio: false });
    sp = await startServerProcess({
      options: {
        storage_max_gb: 2,
        storage_min_free_percent: 3,
        cameras: [
          {
            id: 'cam',
            name: 'Cam',
            source: sim.url('cam'),
            username: USER,
            password: PASS,
            recording: { continuous: true, clip_seconds: 2 },
          },
        ],
      },
      env: {
        CAMSTACK_SEGMENT_SECONDS: '4',
        CAMSTACK_RECORDING_SCAN_MS: '500',
        CAMSTACK_RECONCILE_MS: '1000',
        CAMSTACK_STATUS_POLL_MS: '300',
      },
    });
  });

  after(async () => {
    await sp?.cleanup();
    await sim?.stop();
  });

  describe('POST /api/cameras/test', () => {
    it('reads a good camera and reports its stream, saving nothing', async () => {
      const before = await readFile(join(sp.dir, 'cameras.yaml'), 'utf8');
      const url = new URL(sim.url('cam'));
      url.username = USER;
      url.password = PASS;
      const res = await api<Record<string, unknown>>(sp, 'POST', '/api/cameras/test', {
        id: 'cam',
        name: 'Another',
        source: url.toString(),
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.ok, true, JSON.stringify(res.body));
      assert.equal(res.body.codec, 'h264');
      assert.equal(res.body.width, 640);
      assert.equal(res.body.height, 360);
      assert.equal(typeof res.body.durationMs, 'number');
      assert.ok(!JSON.stringify(res.body).includes(PASS));
      // Nothing saved, nothing new in the engines.
      assert.equal(await readFile(join(sp.dir, 'cameras.yaml'), 'utf8'), before);
      const cameras = await api<{ id: string }[]>(sp, 'GET', '/api/cameras');
      assert.deepEqual(
        cameras.body.map((c) => c.id),
        ['cam'],
      );
      const paths = await fetch(`http://127.0.0.1:${sp.enginePorts.mediamtxApi}/v3/config/paths/list`);
      const names = ((await paths.json()) as { items: { name: string }[] }).items.map((p) => p.name);
      assert.deepEqual(
        names.filter((n) => n !== 'all_others'),
        ['cam'],
      );
    });

    it('tests a configured camera with its stored credentials when they are omitted', async () => {
      const res = await api<{ ok: boolean; reason?: string }>(sp, 'POST', '/api/cameras/test', { id: 'cam' });
      assert.equal(res.status, 200);
      assert.equal(res.body.ok, true, res.body.reason);
    });

    it('gives the camera own reason for a wrong password, without the credentials', async () => {
      const res = await api<{ ok: boolean; reason?: string }>(sp, 'POST', '/api/cameras/test', {
        name: 'Wrong',
        source: sim.url('cam'),
        username: USER,
        password: 'not-the-password-42',
      });
      assert.equal(res.status, 200);
      assert.equal(res.body.ok, false);
      assert.match(String(res.body.reason), /401 Unauthorized/);
      assert.ok(!JSON.stringify(res.body).includes('not-the-password-42'));
      assert.ok(!sp.output().includes('not-the-password-42'), 'the password is not logged');
    });

    it('does not send stored credentials to another host', async () => {
      const [port] = (await freePorts(1)) as [number];
      const res = await api<{ ok: boolean; reason?: string }>(sp, 'POST', '/api/cameras/test', {
        id: 'cam',
        source: `rtsp://127.0.0.1:${port}/cam`,
      });
      assert.equal(res.status, 200);
      assert.equal(res.body.ok, false);
      assert.match(String(res.body.reason), /connection refused/);
    });

    it('answers 400 with a problem per field for an invalid camera', async () => {
      const cases: [Record<string, unknown>, string][] = [
        [{ name: 'Bad', source: 'ftp://example.com/cam' }, 'source'],
        [{ name: 'Bad', source: sim.url('cam'), recording: { retainDays: -1 } }, 'recording.retainDays'],
        [{ name: 'No source' }, 'source'],
      ];
      for (const [body, field] of cases) {
        const res = await api<{ code: string; problems: Problem[] }>(sp, 'POST', '/api/cameras/test', body);
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.equal(res.body.code, 'validation_failed');
        assert.ok(
          res.body.problems.some((p) => p.field === field),
          `${JSON.stringify(body)}: ${JSON.stringify(res.body.problems)}`,
        );
      }
      const unknown = await api<{ problems: Problem[] }>(sp, 'POST', '/api/cameras/test', {
        source: sim.url('cam'),
        colour: 'red',
      });
      assert.equal(unknown.status, 400);
      assert.equal(unknown.body.problems[0]?.field, 'colour');
    });
  });

  describe('engines', () => {
    it('lists the engines and restarts one: running again with a new pid', async () => {
      const list = await api<{ name: string; state: string; pid: number }[]>(sp, 'GET', '/api/engines');
      assert.equal(list.status, 200);
      assert.deepEqual(
        list.body.map((e) => [e.name, e.state]),
        [
          ['go2rtc', 'running'],
          ['mediamtx', 'running'],
        ],
      );
      const before = list.body[0]?.pid;
      const res = await api<{ name: string; state: string; pid: number; restarts: number }>(
        sp,
        'POST',
        '/api/engines/go2rtc/restart',
      );
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.name, 'go2rtc');
      assert.equal(res.body.state, 'running');
      assert.notEqual(res.body.pid, before);
      assert.ok(res.body.restarts >= 1);
      const health = await sp.json<{ engines: { go2rtc: { pid: number; state: string } } }>('/api/health');
      assert.equal(health.engines.go2rtc.pid, res.body.pid);
    });

    it('404 for an unknown engine, 400 for a malformed name', async () => {
      const unknown = await api<{ code: string }>(sp, 'POST', '/api/engines/ffmpeg/restart');
      assert.equal(unknown.status, 404);
      assert.equal(unknown.body.code, 'not_found');
      const bad = await api<{ code: string }>(sp, 'POST', '/api/engines/..%2F..%2Fetc/restart');
      assert.equal(bad.status, 400);
    });
  });

  describe('recordings', () => {
    let clipId = '';

    it('a clip with a trigger, streamed as clip.saved on /api/events, and an invalid trigger refused', async () => {
      const bad = await api<{ problems: Problem[] }>(sp, 'POST', '/api/cameras/cam/clips', { trigger: '../x y' });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.problems[0]?.field, 'trigger');

      const events = await fetch(`${sp.baseUrl}/api/events?types=clip.saved,recording.segment&camera=cam`, {
        signal: AbortSignal.timeout(120_000),
      });
      assert.equal(events.status, 200);
      const reader = events.body?.getReader();
      assert.ok(reader);
      const started = await api<{ clip: { id: string; trigger: string } }>(sp, 'POST', '/api/cameras/cam/clips', {
        duration: 2,
        trigger: 'doorbell',
      });
      assert.equal(started.status, 201, JSON.stringify(started.body));
      assert.equal(started.body.clip.trigger, 'doorbell');
      clipId = started.body.clip.id;
      let text = '';
      const decoder = new TextDecoder();
      while (!text.includes(`"id":"${clipId}"`)) {
        const { done, value } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
      await reader.cancel();
      assert.match(text, /event: clip\.saved/);
      assert.match(text, new RegExp(`"id":"${clipId}"[^\\n]*"trigger":"doorbell"`));
    });

    it('storage: bytes per camera, the disk and the limits', async () => {
      const res = await api<{
        cameras: { camera: string; bytes: number; protectedBytes: number; recordings: number; configured: boolean }[];
        totalBytes: number;
        disk: { totalBytes: number; freeBytes: number } | null;
        limits: { maxBytes: number | null; minFreePercent: number; minFreeBytes: number | null };
      }>(sp, 'GET', '/api/storage');
      assert.equal(res.status, 200);
      const cam = res.body.cameras.find((c) => c.camera === 'cam');
      assert.ok(cam && cam.bytes > 0 && cam.recordings >= 1 && cam.configured, JSON.stringify(res.body));
      assert.equal(res.body.totalBytes, cam.bytes);
      assert.ok(res.body.disk && res.body.disk.totalBytes > 0 && res.body.disk.freeBytes > 0);
      assert.equal(res.body.limits.maxBytes, 2e9);
      assert.equal(res.body.limits.minFreePercent, 3);
      assert.ok(res.body.limits.minFreeBytes !== null && res.body.limits.minFreeBytes > 0);
    });

    it('a thumbnail of the clip: a small JPEG, cached outside the media folder', async () => {
      assert.ok(clipId, 'the clip test ran');
      const first = await api<unknown>(sp, 'GET', `/api/recordings/${clipId}/thumbnail.jpg`);
      assert.equal(first.status, 200, first.bytes.toString());
      assert.equal(first.headers.get('content-type'), 'image/jpeg');
      const size = jpegSize(first.bytes);
      assert.ok(size, 'a JPEG');
      assert.equal(size.width, 320);
      assert.equal(size.height, 180);
      // Concurrent requests share one FFmpeg; later ones come from the cache.
      const again = await Promise.all(
        [1, 2, 3].map(() => api<unknown>(sp, 'GET', `/api/recordings/${clipId}/thumbnail.jpg`)),
      );
      for (const r of again) assert.ok(r.bytes.equals(first.bytes));
      const cached = await readdir(join(sp.dir, 'data', 'thumbnails'));
      assert.equal(cached.filter((n) => n.startsWith(`${clipId}-`)).length, 1);
      const inMedia = await readdir(join(sp.dir, 'media'), { recursive: true });
      assert.ok(!inMedia.some((n) => String(n).endsWith('.jpg')), 'nothing written into the media folder');

      const unknown = await api<{ code: string }>(sp, 'GET', '/api/recordings/clip_999999/thumbnail.jpg');
      assert.equal(unknown.status, 404);
      const traversal = await api<{ code: string }>(sp, 'GET', '/api/recordings/..%2F..%2Fetc%2Fpasswd/thumbnail.jpg');
      assert.equal(traversal.status, 400);

      // Deleting the recording removes its thumbnail.
      assert.equal((await api<unknown>(sp, 'DELETE', `/api/recordings/${clipId}`)).status, 204);
      await waitUntil(
        async () => !(await readdir(join(sp.dir, 'data', 'thumbnails'))).some((n) => n.startsWith(`${clipId}-`)),
        10_000,
        'the thumbnail removed with its recording',
      );
    });
  });
});
