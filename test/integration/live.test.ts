import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { SyntheticCameraServer } from '../../scripts/synthetic-cameras.js';
import type { CameraStatus } from '../../server/src/cameras/status.js';
import { JpegSplitter } from '../../server/src/live/mjpeg.js';
import { freePorts } from '../helpers/ports.js';
import { waitUntil } from '../helpers/processes.js';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.js';

async function post(sp: ServerProcess, path: string, body: unknown): Promise<Response> {
  return fetch(`${sp.baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

/** Reads multipart MJPEG from our endpoint until `count` JPEGs arrived. */
async function mjpegFrames(sp: ServerProcess, id: string, count: number, timeoutMs = 20_000): Promise<Buffer[]> {
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), timeoutMs);
  const res = await fetch(`${sp.baseUrl}/api/cameras/${id}/mjpeg`, { signal: ctrl.signal });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^multipart\/x-mixed-replace; boundary=/);
  const splitter = new JpegSplitter();
  const frames: Buffer[] = [];
  const reader = res.body?.getReader();
  try {
    while (reader && frames.length < count) {
      const { done, value } = await reader.read();
      if (done) break;
      frames.push(...splitter.push(Buffer.from(value)));
    }
  } finally {
    clearTimeout(timer);
    ctrl.abort();
  }
  return frames;
}

async function status(sp: ServerProcess, id: string): Promise<CameraStatus> {
  return sp.json<CameraStatus>(`/api/cameras/${id}/status`);
}

describe('live view through our server', () => {
  let sim: SyntheticCameraServer;
  let sp: ServerProcess;

  before(async () => {
    const [rtspPort, apiPort] = (await freePorts(2)) as [number, number];
    sim = new SyntheticCameraServer({ rtspPort, apiPort });
    await sim.start();
    await sim.addCamera({ name: 'cam', width: 320, height: 240, fps: 10 });
    sp = await startServerProcess({ env: { CAMSTACK_STATUS_POLL_MS: '300' } });
    await waitUntil(
      async () => (await sp.json<{ status: string }>('/api/health')).status === 'ok',
      30_000,
      'both engines running',
    );
    assert.equal((await post(sp, '/api/cameras', { id: 'cam', name: 'Cam', source: sim.url('cam') })).status, 201);
    assert.equal(
      (await post(sp, '/api/cameras', { id: 'off', name: 'Off', source: sim.url('cam'), enabled: false })).status,
      201,
    );
  });

  after(async () => {
    await sp?.cleanup();
    await sim?.stop();
  });

  it('MSE over the WebSocket: go2rtc answers with a MIME type, then fMP4 fragments', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${sp.port}/api/cameras/cam/ws`);
    const got: { mime: string | null; binary: Buffer[] } = { mime: null, binary: [] };
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no media within 20 s')), 20_000);
      ws.on('open', () => ws.send(JSON.stringify({ type: 'mse', value: 'avc1.640029,avc1.42E01E,opus' })));
      ws.on('message', (data, binary) => {
        if (!binary) {
          const msg = JSON.parse(String(data)) as { type: string; value: string };
          if (msg.type === 'mse') got.mime = msg.value;
          if (msg.type === 'error') reject(new Error(msg.value));
        } else got.binary.push(Buffer.from(data as Buffer));
        if (got.mime && got.binary.length >= 3) {
          clearTimeout(timer);
          resolve();
        }
      });
      ws.on('error', reject);
    });
    assert.match(got.mime ?? '', /^video\/mp4; codecs="avc1/);
    assert.equal(got.binary[0]?.subarray(4, 8).toString(), 'ftyp', 'init segment first');
    await waitUntil(async () => (await status(sp, 'cam')).viewers >= 1, 5000, 'the WebSocket viewer is counted');
    ws.close();
    await waitUntil(async () => (await status(sp, 'cam')).viewers === 0, 5000, 'viewer gone after close');
  });

  it('MJPEG delivers JPEG frames, counts the viewer and reports the transcode', async () => {
    const reading = mjpegFrames(sp, 'cam', 8);
    await waitUntil(async () => (await status(sp, 'cam')).viewers >= 1, 10_000, 'MJPEG viewer counted');
    const s = await status(sp, 'cam');
    assert.equal(s.transcoding, true, 'MJPEG needs a transcode and says so');
    const frames = await reading;
    assert.ok(frames.length >= 8);
    for (const f of frames) assert.equal(f.readUInt16BE(0), 0xffd8);
    await waitUntil(async () => (await status(sp, 'cam')).viewers === 0, 5000, 'MJPEG viewer gone');
  });

  it("MJPEG's FFmpeg reports its progress in the metrics (frames, fps) while it runs", async () => {
    const reading = mjpegFrames(sp, 'cam', 40, 30_000);
    type Snap = { processes: { name: string; progress: { frame: number | null; fps: number | null } | null }[] };
    let frame = 0;
    await waitUntil(
      async () => {
        const snap = await sp.json<Snap>('/api/metrics.json');
        frame = snap.processes.find((p) => p.name === 'ffmpeg:cam:mjpeg')?.progress?.frame ?? 0;
        return frame > 0;
      },
      20_000,
      'a progress block of the MJPEG job in /api/metrics.json',
    );
    const text = await (await fetch(`${sp.baseUrl}/api/metrics`)).text();
    assert.match(text, /camstack_ffmpeg_fps\{job="ffmpeg:cam:mjpeg"\} [\d.]+/);
    // The progress pipe is apart from stdout: the JPEG stream is whole.
    const frames = await reading;
    for (const f of frames) assert.equal(f.readUInt16BE(0), 0xffd8);
    await waitUntil(async () => (await status(sp, 'cam')).viewers === 0, 5000, 'MJPEG viewer gone');
  });

  it('progressive MP4 starts with an ftyp box (copy, no transcode)', async () => {
    const ctrl = new AbortController();
    const res = await fetch(`${sp.baseUrl}/api/cameras/cam/stream.mp4`, { signal: ctrl.signal });
    assert.equal(res.status, 200);
    const { value } = (await res.body?.getReader().read()) ?? {};
    ctrl.abort();
    assert.equal(
      Buffer.from(value ?? [])
        .subarray(4, 8)
        .toString(),
      'ftyp',
    );
  });

  it('refuses unknown and disabled cameras and malformed offers', async () => {
    const unknown = await post(sp, '/api/cameras/nope/webrtc', { type: 'offer', sdp: 'v=0\r\n'.repeat(3) });
    assert.equal(unknown.status, 404);
    const disabled = await fetch(`${sp.baseUrl}/api/cameras/off/mjpeg`);
    assert.equal(disabled.status, 409);
    const bad = await post(sp, '/api/cameras/cam/webrtc', { type: 'answer', sdp: 'x' });
    assert.equal(bad.status, 400);
    const whepWrongType = await post(sp, '/api/cameras/cam/whep', { sdp: 'v=0' });
    assert.ok([400, 415].includes(whepWrongType.status));
    const traversal = await fetch(`${sp.baseUrl}/api/cameras/..%2F..%2Fetc/mjpeg`);
    assert.ok(traversal.status >= 400 && traversal.status < 500);
  });

  it('MJPEG keeps delivering while go2rtc is killed (it reads MediaMTX, not go2rtc)', async () => {
    const reading = mjpegFrames(sp, 'cam', 30, 30_000);
    await waitUntil(async () => (await status(sp, 'cam')).viewers >= 1, 10_000, 'MJPEG viewer counted');
    const pid = (await sp.json<{ engines: { go2rtc: { pid: number } } }>('/api/health')).engines.go2rtc.pid;
    process.kill(pid, 'SIGKILL');
    const frames = await reading;
    assert.equal(frames.length, 30, 'frames kept coming across the go2rtc restart');
  });
});
