/**
 * An H.265 camera on the real engines: MediaMTX records what the camera sends (H.265, checked with
 * ffprobe on the file), an export can be re-encoded to a playable H.264 MP4, and the live H.264
 * transcode in go2rtc runs only while someone watches it (its FFmpeg is counted in the process
 * table and its viewers in go2rtc's stream list).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { SyntheticCameraServer } from '../../scripts/synthetic-cameras.js';
import { resolveBinaries } from '../../server/src/engines/binaries.js';
import type { RecordingView } from '../../server/src/recordings/service.js';
import { freePorts } from '../helpers/ports.js';
import { processTable, waitUntil } from '../helpers/processes.js';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.js';

const bins = resolveBinaries();
const CAM = 'yard';

function videoCodec(file: string): string {
  const out = execFileSync(bins.ffprobe, [
    '-v',
    'error',
    '-select_streams',
    'v:0',
    '-show_entries',
    'stream=codec_name',
    '-of',
    'csv=p=0',
    file,
  ]);
  return String(out).trim();
}

/** Decodes every frame; returns how many (FFmpeg errors make it throw). */
function decodedFrames(file: string): number {
  const out = execFileSync(bins.ffprobe, [
    '-v',
    'error',
    '-count_frames',
    '-select_streams',
    'v:0',
    '-show_entries',
    'stream=nb_read_frames',
    '-of',
    'csv=p=0',
    file,
  ]);
  return Number(String(out).trim());
}

async function get(sp: ServerProcess, path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${sp.baseUrl}${path}`, { signal: AbortSignal.timeout(120_000), ...init });
}

describe('an H.265 camera on the real engines', () => {
  let sim: SyntheticCameraServer;
  let sp: ServerProcess;

  /** go2rtc's FFmpeg transcoding this camera's stream (its input is go2rtc's own RTSP stream of it). */
  const transcoders = () =>
    processTable().filter(
      (p) =>
        p.argv.includes('libx264') &&
        p.argv.some((a) => a.startsWith(`rtsp://127.0.0.1:${sp.enginePorts.go2rtcRtsp}/${CAM}?`)),
    );
  const consumers = async (stream: string): Promise<number> => {
    const res = await fetch(`http://127.0.0.1:${sp.enginePorts.go2rtcApi}/api/streams`);
    const all = (await res.json()) as Record<string, { consumers: unknown[] | null }>;
    assert.ok(stream in all, `go2rtc has a stream ${stream}`);
    return all[stream]?.consumers?.length ?? 0;
  };

  before(async () => {
    const [rtspPort, apiPort] = (await freePorts(2)) as [number, number];
    sim = new SyntheticCameraServer({ rtspPort, apiPort });
    await sim.start();
    await sim.addCamera({ name: 'hevc', codec: 'h265', width: 320, height: 240, fps: 10, audio: true, timecode: true });
    sp = await startServerProcess({
      options: {
        cameras: [{ id: CAM, name: 'Yard', source: sim.url('hevc'), recording: { continuous: true, retain_days: 1 } }],
      },
      env: {
        CAMSTACK_SEGMENT_SECONDS: '4',
        CAMSTACK_RECORDING_SCAN_MS: '500',
        CAMSTACK_RECORDING_FULL_SCAN_MS: '1000',
        CAMSTACK_RECONCILE_MS: '1000',
        CAMSTACK_STATUS_POLL_MS: '500',
      },
    });
  });

  after(async () => {
    await sp?.cleanup();
    await sim?.stop();
  });

  it('MediaMTX records the camera as it is: H.265 segments, no transcode in between', async () => {
    let segs: RecordingView[] = [];
    await waitUntil(
      async () => {
        const res = await get(sp, `/api/recordings?camera=${CAM}&type=segment&order=asc`);
        segs = ((await res.json()) as { items: RecordingView[] }).items.filter((s) => !s.inProgress);
        return segs.length >= 2;
      },
      60_000,
      'two complete segments',
    );
    const file = join(sp.dir, 'segment.mp4');
    const res = await get(sp, segs[1]?.url as string);
    assert.equal(res.status, 200);
    writeFileSync(file, Buffer.from(await res.arrayBuffer()));
    assert.equal(videoCodec(file), 'hevc');
    // The recorded path pulls the camera itself (never the go2rtc transcode).
    const conf = (await (
      await fetch(`http://127.0.0.1:${sp.enginePorts.mediamtxApi}/v3/config/paths/get/${CAM}`)
    ).json()) as { source: string; record: boolean };
    assert.equal(conf.source, sim.url('hevc'));
    assert.equal(conf.record, true);
    const status = (await (await get(sp, `/api/cameras/${CAM}/status`)).json()) as { codec: string | null };
    assert.equal(status.codec, 'h265');
  });

  it('an export is H.265 as recorded, or H.264 with transcode=h264, which decodes completely', async () => {
    const res = await get(sp, `/api/recordings?camera=${CAM}&type=segment&order=asc`);
    const segs = ((await res.json()) as { items: RecordingView[] }).items.filter((s) => !s.inProgress);
    const first = segs[0] as RecordingView;
    const last = segs.at(-1) as RecordingView;
    const span = `from=${encodeURIComponent(first.start)}&to=${encodeURIComponent(last.end)}`;
    const spanSeconds = (Date.parse(last.end) - Date.parse(first.start)) / 1000;

    const plain = join(sp.dir, 'export.mp4');
    const copy = await get(sp, `/api/cameras/${CAM}/export.mp4?${span}`);
    assert.equal(copy.status, 200);
    writeFileSync(plain, Buffer.from(await copy.arrayBuffer()));
    assert.equal(videoCodec(plain), 'hevc');

    const h264 = join(sp.dir, 'export-h264.mp4');
    const tr = await get(sp, `/api/cameras/${CAM}/export.mp4?${span}&transcode=h264`);
    assert.equal(tr.status, 200);
    assert.equal(tr.headers.get('content-type'), 'video/mp4');
    assert.match(tr.headers.get('content-disposition') ?? '', /_h264\.mp4"/);
    writeFileSync(h264, Buffer.from(await tr.arrayBuffer()));
    assert.equal(videoCodec(h264), 'h264');
    const frames = decodedFrames(h264);
    // 10 fps: every recorded second is there (within a second at either end).
    assert.ok(frames >= (spanSeconds - 2) * 10, `${frames} frames decoded for ${spanSeconds} s`);

    for (const bad of ['transcode=h265', 'transcode=', 'transcode=h264&transcode=vp9', 'codec=h264']) {
      const r = await get(sp, `/api/cameras/${CAM}/export.mp4?${span}&${bad}`);
      assert.equal(r.status, 400, bad);
      await r.body?.cancel();
    }
  });

  it('the live H.264 transcode runs only while a viewer reads it, then stops', async () => {
    await waitUntil(async () => (await consumers(`${CAM}-h264`)) === 0, 10_000, 'no viewer yet');
    assert.equal(transcoders().length, 0, 'no transcode before anyone watches');

    // A viewer of the progressive MP4, transcoded: H.264 arrives, and go2rtc's FFmpeg runs.
    const ctrl = new AbortController();
    const res = await fetch(`${sp.baseUrl}/api/cameras/${CAM}/stream.mp4?transcode=h264`, { signal: ctrl.signal });
    assert.equal(res.status, 200);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    while (size < 60_000) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
    const file = join(sp.dir, 'live-h264.mp4');
    writeFileSync(file, Buffer.concat(chunks));
    assert.equal(videoCodec(file), 'h264');
    assert.equal(transcoders().length, 1, 'one FFmpeg transcodes for the viewer');
    const viewers = await consumers(`${CAM}-h264`);
    if (viewers < 1) {
      const all = await (await fetch(`http://127.0.0.1:${sp.enginePorts.go2rtcApi}/api/streams`)).text();
      assert.fail(`no consumer of ${CAM}-h264 in go2rtc: ${all.slice(0, 3000)}`);
    }

    // A second viewer (MSE over our WebSocket, offering H.264 only) shares the same FFmpeg.
    const ws = new WebSocket(`ws://127.0.0.1:${sp.port}/api/cameras/${CAM}/ws?transcode=h264`);
    const mime = await new Promise<string>((resolve, reject) => {
      ws.on('open', () => ws.send(JSON.stringify({ type: 'mse', value: 'avc1.640029,avc1.64002A,opus' })));
      ws.on('message', (data, binary) => {
        if (binary) return;
        const msg = JSON.parse(String(data)) as { type: string; value: string };
        if (msg.type === 'mse') resolve(msg.value);
        else if (msg.type === 'error') reject(new Error(msg.value));
      });
      ws.on('error', reject);
    });
    assert.match(mime, /avc1/);
    assert.equal(transcoders().length, 1, 'still one FFmpeg for two viewers');
    // The camera's status counts both viewers (not the one FFmpeg) and says it is transcoding.
    await waitUntil(
      async () => {
        const st = (await (await get(sp, `/api/cameras/${CAM}/status`)).json()) as {
          viewers: number;
          transcoding: boolean;
        };
        return st.viewers === 2 && st.transcoding;
      },
      10_000,
      'two viewers, transcoding, in the camera status',
    );

    ctrl.abort();
    await reader.cancel().catch(() => {});
    ws.close();
    await waitUntil(
      async () => transcoders().length === 0 && (await consumers(`${CAM}-h264`)) === 0,
      20_000,
      'the transcode stopped after the last viewer left',
    );
  });

  it('without the transcode an H.264-only browser gets no video over MSE (go2rtc sends the audio alone)', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${sp.port}/api/cameras/${CAM}/ws`);
    const answer = await new Promise<{ type: string; value: string }>((resolve, reject) => {
      ws.on('open', () => ws.send(JSON.stringify({ type: 'mse', value: 'avc1.640029,opus' })));
      ws.on('message', (data, binary) => {
        if (!binary) resolve(JSON.parse(String(data)) as { type: string; value: string });
      });
      ws.on('error', reject);
    });
    ws.close();
    // go2rtc matches what it can: the Opus track only (the player takes this for a codec failure).
    assert.equal(answer.type, 'mse');
    assert.doesNotMatch(answer.value, /avc1|hvc1|hev1/);
    assert.match(answer.value, /opus/);
  });

  it('the live routes take transcode=h264 only (a 400 for anything else, never a stream name)', async () => {
    const offer = { type: 'offer', sdp: 'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\n' };
    for (const q of ['transcode=h265', 'transcode=copy', 'src=yard', 'transcode=h264&stream=x']) {
      const mp4 = await get(sp, `/api/cameras/${CAM}/stream.mp4?${q}`);
      assert.equal(mp4.status, 400, `stream.mp4?${q}`);
      await mp4.body?.cancel();
      const rtc = await get(sp, `/api/cameras/${CAM}/webrtc?${q}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(offer),
      });
      assert.equal(rtc.status, 400, `webrtc?${q}`);
      const code = await new Promise<number>((resolve) => {
        const ws = new WebSocket(`ws://127.0.0.1:${sp.port}/api/cameras/${CAM}/ws?${q}`);
        ws.on('unexpected-response', (_req, r) => resolve(r.statusCode ?? 0));
        ws.on('open', () => {
          ws.close();
          resolve(101);
        });
        ws.on('error', () => {});
      });
      assert.equal(code, 400, `ws?${q}`);
    }
    assert.equal(transcoders().length, 0);
  });
});
