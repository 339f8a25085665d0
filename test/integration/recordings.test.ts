/**
 * Recording on the real engines (MediaMTX records, its playback server cuts clips, FFmpeg and
 * ffprobe check the files) with synthetic cameras that burn a machine-readable wall clock into
 * the picture, and 4-second segments so the test sees many of them.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  readTimecode,
  SyntheticCameraServer,
  TIMECODE_HEIGHT,
  TIMECODE_WIDTH,
} from '../../scripts/synthetic-cameras.js';
import { resolveBinaries } from '../../server/src/engines/binaries.js';
import { clipFileName, localStamp } from '../../server/src/recordings/naming.js';
import type { RecordingView } from '../../server/src/recordings/service.js';
import { SseReader } from '../faults/support.js';
import { freePorts } from '../helpers/ports.js';
import { waitUntil } from '../helpers/processes.js';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.js';

const bins = resolveBinaries();

async function api<T>(
  sp: ServerProcess,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${sp.baseUrl}${path}`, {
    method,
    ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
}

async function recordings(sp: ServerProcess, query: string): Promise<RecordingView[]> {
  const res = await api<{ items: RecordingView[] }>(sp, 'GET', `/api/recordings?limit=1000&order=asc&${query}`);
  assert.equal(res.status, 200);
  return res.body.items;
}

async function download(sp: ServerProcess, path: string, file: string): Promise<void> {
  const res = await fetch(`${sp.baseUrl}${path}`, { signal: AbortSignal.timeout(60_000) });
  assert.equal(res.status, 200, `${path} → ${res.status}`);
  writeFileSync(file, Buffer.from(await res.arrayBuffer()));
}

/**
 * ffprobe a file (it must read without error). Duration: the format's for plain MP4 (clips); for
 * fragmented segments the longest stream's, since ffprobe adds the video's start offset to the
 * format duration of a segment whose audio starts before the first keyframe.
 */
function probe(file: string): { duration: number; video: boolean } {
  const out = execFileSync(bins.ffprobe, [
    '-v',
    'error',
    '-show_entries',
    'format=duration:stream=codec_type,duration',
    '-of',
    'json',
    file,
  ]);
  const j = JSON.parse(String(out)) as {
    format: { duration: string };
    streams: { codec_type: string; duration: string }[];
  };
  const fragmented = /\/\d{4}-\d{2}-\d{2}_[\d-]+\.mp4$/.test(file);
  const duration = fragmented ? Math.max(...j.streams.map((s) => Number(s.duration))) : Number(j.format.duration);
  return { duration, video: j.streams.some((s) => s.codec_type === 'video') };
}

/** The wall clock burned into the first frame FFmpeg shows (edit lists honoured). */
function firstFrameClock(file: string, near: number): number {
  const raw = execFileSync(bins.ffmpeg, [
    '-v',
    'error',
    '-i',
    file,
    '-vf',
    `crop=${TIMECODE_WIDTH}:${TIMECODE_HEIGHT}:0:0`,
    '-frames:v',
    '1',
    '-f',
    'rawvideo',
    '-pix_fmt',
    'gray',
    'pipe:1',
  ]);
  return readTimecode(raw, TIMECODE_WIDTH, near);
}

/**
 * How far MediaMTX's recording clock is ahead of the picture's clock. MediaMTX does not stamp
 * each frame with its arrival time: it anchors the stream's timestamps to the arrival of the
 * first packet and keeps them unless they run ahead of the clock or fall more than 5 s behind it
 * (internal/ntpestimator), so a recording's times may lag the camera by up to 5 s. Measured on a
 * complete segment of the same camera: its start (the first sample's time) against the clock in
 * its first frame.
 */
async function recordingClockBias(sp: ServerProcess, camera: string, near: number): Promise<number> {
  const segs = (await recordings(sp, `camera=${camera}&type=segment`)).filter((s) => !s.inProgress);
  // Not the first segment of a run (its audio may start before the first keyframe).
  const seg = segs
    .slice(1)
    .sort((a, b) => Math.abs(Date.parse(a.start) - near) - Math.abs(Date.parse(b.start) - near))[0];
  assert.ok(seg, 'a complete segment to measure the clock on');
  const file = join(sp.dir, `bias-${seg.id}.mp4`);
  await download(sp, seg.url as string, file);
  return Date.parse(seg.start) - firstFrameClock(file, Date.parse(seg.start));
}

async function waitSaved(sp: ServerProcess, rid: string, timeoutMs = 40_000): Promise<RecordingView> {
  let view: RecordingView | null = null;
  await waitUntil(
    async () => {
      const res = await api<RecordingView>(sp, 'GET', `/api/recordings/${rid}`);
      if (res.status !== 200) {
        const why = sp
          .output()
          .split('\n')
          .filter((l) => l.includes('clip failed') || l.includes('clip recorder'))
          .join('\n');
        throw new Error(`${rid} → ${res.status} ${JSON.stringify(res.body)}\n${why}`);
      }
      view = res.body;
      return !view.inProgress;
    },
    timeoutMs,
    `${rid} saved`,
  );
  return view as unknown as RecordingView;
}

interface ClipStart {
  clip: RecordingView;
  extended: boolean;
  preRollSeconds: number;
}

describe('recording on the real engines', () => {
  let sim: SyntheticCameraServer;
  let sp: ServerProcess;

  before(async () => {
    const [rtspPort, apiPort] = (await freePorts(2)) as [number, number];
    sim = new SyntheticCameraServer({ rtspPort, apiPort });
    await sim.start();
    await Promise.all([
      sim.addCamera({ name: 'cam', width: 320, height: 240, fps: 10, audio: true, timecode: true }),
      sim.addCamera({ name: 'buf', width: 320, height: 240, fps: 10, audio: false, timecode: true }),
      sim.addCamera({ name: 'live', width: 320, height: 240, fps: 10, audio: true }),
    ]);
    sp = await startServerProcess({
      options: {
        cameras: [
          // 24/7, kept one day (old copies placed below expire at once).
          {
            id: 'cam',
            name: 'Cam',
            source: sim.url('cam'),
            recording: { continuous: true, retain_days: 1, clip_retain_days: 1 },
          },
          // Not 24/7, but a 3 s pre-roll: a rolling buffer.
          { id: 'buf', name: 'Buf', source: sim.url('buf'), recording: { continuous: false, pre_roll_seconds: 3 } },
          // Not recorded at all: clips come from an FFmpeg reader.
          { id: 'live', name: 'Live', source: sim.url('live'), recording: { continuous: false, pre_roll_seconds: 0 } },
        ],
      },
      env: {
        CAMSTACK_SEGMENT_SECONDS: '4',
        CAMSTACK_RECORDING_SCAN_MS: '500',
        CAMSTACK_RECORDING_FULL_SCAN_MS: '1000',
        CAMSTACK_RETENTION_MS: '1000',
        CAMSTACK_RECONCILE_MS: '1000',
        CAMSTACK_BUFFER_SECONDS: '20',
      },
    });
  });

  after(async () => {
    await sp?.cleanup();
    await sim?.stop();
  });

  it('continuous recording: segments appear, are indexed, and play', async () => {
    let segs: RecordingView[] = [];
    // Three complete segments, and the next one being written (listed as in progress; between
    // two segments MediaMTX needs a part, 1 s, before the new file exists).
    await waitUntil(
      async () => {
        segs = await recordings(sp, 'camera=cam&type=segment');
        return segs.filter((r) => !r.inProgress).length >= 3 && segs.some((s) => s.inProgress);
      },
      40_000,
      'three complete segments and one in progress',
    );
    for (const s of segs.filter((r) => !r.inProgress)) {
      assert.equal(s.kind, 'continuous');
      assert.match(s.path ?? '', /^cam\/\d{4}-\d{2}-\d{2}_\d{2}-\d{2}-\d{2}-\d{6}\.mp4$/);
      const p = probe(join(sp.dir, 'media', s.path as string));
      assert.ok(p.video);
      assert.ok(Math.abs(p.duration - s.durationSeconds) < 0.5, `${s.path}: ${p.duration} vs ${s.durationSeconds}`);
      assert.ok(s.durationSeconds >= 3 && s.durationSeconds <= 7, `segment of ${s.durationSeconds} s`);
    }
    // The panel's timeline of today shows the recording as one range.
    const d = new Date();
    const day = `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
    const t = await api<{ ranges: unknown[]; recordedSeconds: number }>(
      sp,
      'GET',
      `/api/cameras/cam/timeline?day=${day}`,
    );
    assert.equal(t.status, 200);
    assert.ok(t.body.recordedSeconds >= 10);
  });

  it('a clip with 5 s pre-roll and 5 s duration is one 10 s MP4 that starts 5 s before the request', async () => {
    const res = await api<ClipStart>(sp, 'POST', '/api/cameras/cam/clips', { preRoll: 5, duration: 5 });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.extended, false);
    assert.equal(res.body.preRollSeconds, 5);
    const requestedAt = Date.parse(res.body.clip.start) + 5000;
    const saved = await waitSaved(sp, res.body.clip.id);
    assert.equal(saved.type, 'clip');
    assert.equal(saved.trigger, 'api');
    assert.match(saved.path ?? '', /^cam\/clips\/cam_\d{4}-\d{2}-\d{2}_\d{2}-\d{2}-\d{2}-\d{3}_api\.mp4$/);
    const file = join(sp.dir, 'clip.mp4');
    await download(sp, saved.url as string, file);
    const p = probe(file);
    assert.ok(Math.abs(p.duration - 10) <= 1, `clip plays ${p.duration} s`);
    // Faststart: the index (moov) comes before the media (mdat), so browsers play it at once.
    const head = execFileSync('head', ['-c', '4096', file]).toString('latin1');
    assert.ok(
      head.includes('moov') && head.indexOf('moov') < (head.indexOf('mdat') === -1 ? Infinity : head.indexOf('mdat')),
    );
    // The picture's own clock: the first frame was taken ≥ 5 s before the request (one frame,
    // 100 ms, of slack)…
    const clock = firstFrameClock(file, requestedAt);
    assert.ok(clock <= requestedAt - 5000 + 100, `first frame shows ${requestedAt - clock} ms before the request`);
    // …and on the recording's clock the clip starts exactly 5 s before the request.
    const bias = await recordingClockBias(sp, 'cam', requestedAt);
    assert.ok(bias >= -300 && bias <= 5300, `recording clock ${bias} ms ahead of the picture`);
    const onRecordingClock = clock + bias - (requestedAt - 5000);
    assert.ok(Math.abs(onRecordingClock) <= 300, `clip starts ${onRecordingClock} ms from request − 5 s`);
  });

  it('overlapping clip requests extend the open clip; stop ends it early', async () => {
    const first = await api<ClipStart>(sp, 'POST', '/api/cameras/cam/clips', { preRoll: 0, duration: 3 });
    assert.equal(first.status, 201);
    await new Promise((r) => setTimeout(r, 1500));
    const second = await api<ClipStart>(sp, 'POST', '/api/cameras/cam/clips', { duration: 20 });
    assert.equal(second.status, 200);
    assert.equal(second.body.extended, true);
    assert.equal(second.body.clip.id, first.body.clip.id, 'the same clip, not a second one');
    await new Promise((r) => setTimeout(r, 3000));
    const stopped = await api<RecordingView>(sp, 'POST', '/api/cameras/cam/clips/stop');
    assert.equal(stopped.status, 200, JSON.stringify(stopped.body));
    assert.equal(stopped.body.id, first.body.clip.id);
    assert.equal(stopped.body.inProgress, false);
    assert.ok(
      stopped.body.durationSeconds >= 3.5 && stopped.body.durationSeconds <= 6.5,
      `${stopped.body.durationSeconds}`,
    );
    const clips = await recordings(sp, 'camera=cam&type=clip');
    assert.equal(clips.filter((c) => c.id === first.body.clip.id).length, 1);
    assert.equal((await api(sp, 'POST', '/api/cameras/cam/clips/stop')).status, 404, 'nothing open any more');
  });

  it('a camera with only a pre-roll buffer gets its pre-roll; one not recorded at all still gets a clip', async () => {
    const buf = await api<ClipStart>(sp, 'POST', '/api/cameras/buf/clips', { duration: 2 });
    assert.equal(buf.status, 201, JSON.stringify(buf.body));
    assert.equal(buf.body.preRollSeconds, 3, 'the camera default pre-roll');
    const live = await api<ClipStart>(sp, 'POST', '/api/cameras/live/clips', { preRoll: 5, duration: 4 });
    assert.equal(live.status, 201, JSON.stringify(live.body));
    assert.equal(live.body.preRollSeconds, 0, 'no buffer, so no pre-roll');
    const [bufSaved, liveSaved] = await Promise.all([
      waitSaved(sp, buf.body.clip.id),
      waitSaved(sp, live.body.clip.id),
    ]);
    const bufFile = join(sp.dir, 'buf.mp4');
    await download(sp, bufSaved.url as string, bufFile);
    assert.ok(Math.abs(probe(bufFile).duration - 5) <= 1, `buffer clip ${probe(bufFile).duration}`);
    const requestedAt = Date.parse(buf.body.clip.start) + 3000;
    assert.ok(firstFrameClock(bufFile, requestedAt) <= requestedAt - 3000 + 100);
    const liveFile = join(sp.dir, 'live.mp4');
    await download(sp, liveSaved.url as string, liveFile);
    const lp = probe(liveFile);
    // 4 s asked: 4 s of video from the first keyframe on (10 fps; one frame of slack), however long
    // the camera took to deliver it. The file may be longer by that first keyframe, which an
    // on-demand restream delivers without a time and which is held until the next frame.
    const lv = probeVideo(liveFile);
    assert.ok(lp.video && lv.frames >= 40 && lv.frames <= 48, `FFmpeg clip: ${lv.frames} frames`);
    assert.ok(lp.duration >= 3.9 && lp.duration <= 7, `FFmpeg clip ${lp.duration}`);
    // The buffer camera's segments are marked as buffer.
    const bufSegs = await recordings(sp, 'camera=buf&type=segment');
    assert.ok(bufSegs.length > 0 && bufSegs.every((s) => s.kind === 'buffer'));
  });

  it('exports any span across segments as one MP4', async () => {
    const segs = (await recordings(sp, 'camera=cam&type=segment')).filter((s) => !s.inProgress);
    // Not the very first segment: a recording starts with audio before the first keyframe.
    const from = Date.parse((segs[1] as RecordingView).start) + 1000;
    const to = from + 9000; // crosses at least two 4 s segments
    const file = join(sp.dir, 'export.mp4');
    await download(
      sp,
      `/api/cameras/cam/export.mp4?from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}`,
      file,
    );
    const p = probe(file);
    assert.ok(Math.abs(p.duration - 9) <= 1, `export ${p.duration}`);
    const offset = firstFrameClock(file, from) + (await recordingClockBias(sp, 'cam', from)) - from;
    assert.ok(Math.abs(offset) <= 300, `starts at \`from\` (first frame ${offset} ms from it)`);
  });

  it('retention deletes expired copies but never a protected one nor the file being written', async () => {
    const done = (await recordings(sp, 'camera=cam&type=segment')).filter((s) => !s.inProgress);
    const clips = await recordings(sp, 'camera=cam&type=clip');
    const clip = clips[0] as RecordingView;
    assert.ok(
      done.length > 0 && clip,
      `segments ${done.length}, clips ${clips.length}:\n${sp
        .output()
        .split('\n')
        .filter((l) => /recordings|clip/.test(l))
        .slice(-20)
        .join('\n')}`,
    );
    const media = join(sp.dir, 'media');
    const old = Date.now() - 3 * 86_400_000;
    const segName = (ms: number) => `${localStamp(ms).slice(0, 19)}-${String(ms % 1000).padStart(3, '0')}000.mp4`;
    const oldSeg = `cam/${segName(old)}`;
    const oldProtectedSeg = `cam/${segName(old + 60_000)}`;
    const oldClip = `cam/clips/${clipFileName('cam', old, 'api')}`;
    const oldProtectedClip = `cam/clips/${clipFileName('cam', old + 60_000, 'api')}`;
    // Protection lives next to the files: markers first, then the (old) recordings.
    mkdirSync(join(media, 'cam/.protected'), { recursive: true });
    mkdirSync(join(media, 'cam/clips/.protected'), { recursive: true });
    writeFileSync(join(media, 'cam/.protected', oldProtectedSeg.split('/')[1] as string), '');
    writeFileSync(join(media, 'cam/clips/.protected', oldProtectedClip.split('/')[2] as string), '');
    const src = join(media, (done[0] as RecordingView).path as string);
    const clipSrc = join(media, clip.path as string);
    for (const rel of [oldSeg, oldProtectedSeg]) copyFileSync(src, join(media, rel));
    for (const rel of [oldClip, oldProtectedClip]) copyFileSync(clipSrc, join(media, rel));
    let open: RecordingView | undefined;
    await waitUntil(
      async () => {
        open = (await recordings(sp, 'camera=cam&type=segment')).find((s) => s.inProgress);
        return open !== undefined;
      },
      5000,
      'the segment being written',
    );
    await waitUntil(
      () => !existsSync(join(media, oldSeg)) && !existsSync(join(media, oldClip)),
      15_000,
      'the expired copies deleted',
    );
    await new Promise((r) => setTimeout(r, 2500)); // more retention passes
    assert.ok(existsSync(join(media, oldProtectedSeg)), 'protected segment kept');
    assert.ok(existsSync(join(media, oldProtectedClip)), 'protected clip kept');
    const listed = await recordings(sp, 'camera=cam&protected=true');
    assert.deepEqual(listed.map((r) => r.path).sort(), [oldProtectedClip, oldProtectedSeg].sort());
    assert.ok(existsSync(join(media, open?.path as string)), 'the segment being written was not touched');
    // With a one-day retention, what exists now expires within a day (protected ones excepted).
    const expiring = await api<{ items: { recording: RecordingView }[] }>(
      sp,
      'GET',
      '/api/recordings/expiring?within=2d',
    );
    const paths = expiring.body.items.map((i) => i.recording.path);
    assert.ok(paths.includes((done[0] as RecordingView).path));
    assert.ok(!paths.includes(oldProtectedSeg) && !paths.includes(oldProtectedClip));
    // A protected clip cannot be deleted through the API either.
    const prot = listed.find((r) => r.type === 'clip') as RecordingView;
    const refused = await api<{ code: string }>(sp, 'DELETE', `/api/recordings/${prot.id}`);
    assert.equal(refused.status, 409);
    assert.equal(refused.body.code, 'protected');
  });
});

describe('the storage cap on the real engines', () => {
  let sim: SyntheticCameraServer;
  let sp: ServerProcess;

  before(async () => {
    const [rtspPort, apiPort] = (await freePorts(2)) as [number, number];
    sim = new SyntheticCameraServer({ rtspPort, apiPort });
    await sim.start();
    await sim.addCamera({ name: 'cam', width: 640, height: 360, fps: 25, audio: false, bitrateKbps: 800 });
    sp = await startServerProcess({
      // 800 kbit/s ≈ 100 kB/s; 2 s segments ≈ 200 kB; a cap of 0.8 MB holds about four.
      options: {
        storage_max_gb: 0.0008,
        cameras: [{ id: 'cam', name: 'Cam', source: sim.url('cam'), recording: { continuous: true } }],
      },
      env: {
        CAMSTACK_SEGMENT_SECONDS: '2',
        CAMSTACK_RECORDING_SCAN_MS: '300',
        CAMSTACK_RETENTION_MS: '1000',
        CAMSTACK_RECONCILE_MS: '1000',
      },
    });
  });

  after(async () => {
    await sp?.cleanup();
    await sim?.stop();
  });

  it('holds under a filling disk: oldest first, never the protected clip or the open segment', async () => {
    const cap = 800_000;
    await waitUntil(async () => (await recordings(sp, 'type=segment')).length >= 2, 20_000, 'recording');
    const clip = await api<ClipStart>(sp, 'POST', '/api/cameras/cam/clips', { preRoll: 1, duration: 1 });
    assert.equal(clip.status, 201);
    const saved = await waitSaved(sp, clip.body.clip.id);
    await api(sp, 'PUT', `/api/recordings/${saved.id}/protect`, { protected: true });
    const dir = join(sp.dir, 'media', 'cam');
    let maxSegment = 0;
    let samples = 0;
    let deletedSome = false;
    const seenFirst = (await recordings(sp, 'type=segment'))[0]?.path;
    const until = Date.now() + 25_000;
    while (Date.now() < until) {
      const items = await recordings(sp, '');
      const open = items.filter((r) => r.inProgress).map((r) => r.path);
      for (const p of open) assert.ok(p === null || existsSync(join(sp.dir, 'media', p)), 'open file kept');
      let onDisk = 0;
      for (const name of readdirSync(dir)) {
        if (!name.endsWith('.mp4') || open.includes(`cam/${name}`)) continue;
        let size: number;
        try {
          size = statSync(join(dir, name)).size;
        } catch {
          continue; // deleted by the cap between readdir and stat
        }
        maxSegment = Math.max(maxSegment, size);
        onDisk += size;
      }
      onDisk += statSync(join(sp.dir, 'media', saved.path as string)).size;
      // The cap is checked after every scan (300 ms): at most one segment over it, briefly.
      assert.ok(onDisk <= cap + maxSegment, `${onDisk} bytes on disk, cap ${cap}`);
      if (seenFirst && !existsSync(join(sp.dir, 'media', seenFirst))) deletedSome = true;
      samples++;
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.ok(samples > 10);
    assert.ok(deletedSome, 'the oldest segment was deleted');
    assert.ok(existsSync(join(sp.dir, 'media', saved.path as string)), 'the protected clip survived');
  });
});

/** ffprobe the video stream of a file: its duration and how many frames it holds. */
function probeVideo(file: string): { duration: number; frames: number } {
  const out = execFileSync(bins.ffprobe, [
    '-v',
    'error',
    '-select_streams',
    'v:0',
    '-count_packets',
    '-show_entries',
    'stream=duration,nb_read_packets',
    '-of',
    'json',
    file,
  ]);
  const j = JSON.parse(String(out)) as { streams: { duration?: string; nb_read_packets?: string }[] };
  const [v] = j.streams;
  return { duration: Number(v?.duration ?? 0), frames: Number(v?.nb_read_packets ?? 0) };
}

describe('clips of an idle on-demand camera', () => {
  let sim: SyntheticCameraServer;
  let sp: ServerProcess;
  let sse: SseReader;

  before(async () => {
    const [rtspPort, apiPort] = (await freePorts(2)) as [number, number];
    sim = new SyntheticCameraServer({ rtspPort, apiPort });
    await sim.start();
    // 2 s GOP: after the camera is opened, the first keyframe may be up to 2 s away.
    await sim.addCamera({ name: 'porch', width: 320, height: 240, fps: 10, gopSeconds: 2, audio: true });
    sp = await startServerProcess({
      options: {
        // Closed as soon as the clip's reader leaves: every clip starts on an idle camera.
        on_demand_grace_seconds: 0,
        cameras: [
          {
            id: 'porch',
            name: 'Porch',
            source: sim.url('porch'),
            recording: { continuous: false, pre_roll_seconds: 0 },
          },
        ],
      },
      env: { CAMSTACK_RECORDING_SCAN_MS: '500', CAMSTACK_RECONCILE_MS: '1000' },
    });
    sse = new SseReader(`${sp.baseUrl}/api/events?camera=porch&types=clip.started,clip.saved,clip.failed`);
  });

  after(async () => {
    sse?.close();
    await sp?.cleanup();
    await sim?.stop();
  });

  it('a 2 s clip asked on the idle camera holds 2 s of video, every time', async (t) => {
    // The camera is verified at start (which opens it): wait for that, then for it to close again.
    await waitUntil(
      async () => (await api<{ codec: string | null }>(sp, 'GET', '/api/cameras/porch/status')).body.codec !== null,
      60_000,
      'the camera verified',
    );
    for (let i = 0; i < 5; i++) {
      await waitUntil(async () => (await sim.readers('porch')) === 0, 60_000, 'the camera idle (no reader)');
      const res = await api<ClipStart>(sp, 'POST', '/api/cameras/porch/clips', { duration: 2, trigger: 'assist' });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.equal(res.body.preRollSeconds, 0);
      const requestedAt = Date.now();
      const saved = await waitSaved(sp, res.body.clip.id, 120_000);
      const file = join(sp.dir, `idle-${i}.mp4`);
      await download(sp, saved.url as string, file);
      const v = probeVideo(file);
      t.diagnostic(
        `clip ${i}: ${v.duration} s of video, ${v.frames} frames, starts ${Date.parse(saved.start) - Date.parse(res.body.clip.start)} ms after the request`,
      );
      // ≥ 2 s of video (one frame, 100 ms, of slack), with its frames (10 fps).
      assert.ok(v.duration >= 1.9, `clip ${i}: ${v.duration} s of video`);
      assert.ok(v.frames >= 19, `clip ${i}: ${v.frames} video frames`);
      // …and not much more: it is cut at 2 s of video (from the media, however late the recorder stopped).
      assert.ok(v.frames <= 25, `clip ${i}: ${v.frames} video frames`);
      // What the API reports is what the file holds.
      assert.ok(Math.abs(saved.durationSeconds - probe(file).duration) <= 0.2, `clip ${i}: ${saved.durationSeconds}`);
      assert.equal(Date.parse(saved.end) - Date.parse(saved.start), Math.round(saved.durationSeconds * 1000));
      // The clip starts once the camera delivers video: after the request, and not long after it.
      assert.ok(Date.parse(saved.start) >= Date.parse(res.body.clip.start) - 1500, `clip ${i} starts before the ask`);
      assert.ok(Date.parse(saved.start) <= requestedAt + 60_000);
      // Events: started, then saved with the saved clip's facts; never failed.
      let events: { event: string; data: { id: string; start?: string; end?: string } }[] = [];
      await waitUntil(
        () => {
          events = sse.events.filter((e) => (e.data as { id: string }).id === saved.id) as typeof events;
          return events.some((e) => e.event === 'clip.saved');
        },
        10_000,
        `clip.saved of ${saved.id}`,
      );
      assert.deepEqual(
        events.map((e) => e.event),
        ['clip.started', 'clip.saved'],
      );
      const savedEvent = events[1]?.data;
      assert.equal(savedEvent?.start, saved.start);
      assert.equal(savedEvent?.end, saved.end);
    }
  });
});
