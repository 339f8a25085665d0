/**
 * Camera events end to end against the real engines: an event reported through the API is
 * stored, streamed (`camera.event` on /api/events), recorded as one clip with its pre-roll
 * (a second event during the first one's post-roll extends the same clip), and given the picture
 * of the moment it started, decoded from the recording. Bad reports change nothing.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readTimecode, SyntheticCameraServer } from '../../scripts/synthetic-cameras.js';
import type { CameraEventList, CameraEventView, RecordingView } from '../../server/src/contract/index.js';
import { resolveBinaries } from '../../server/src/engines/binaries.js';
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

/** Collects `camera.event` frames of the SSE stream. */
async function follow(sp: ServerProcess, seen: CameraEventView[], signal: AbortSignal): Promise<void> {
  const res = await fetch(`${sp.baseUrl}/api/events?types=camera.event`, { signal });
  assert.equal(res.status, 200);
  const reader = res.body?.getReader();
  if (!reader) return;
  const decoder = new TextDecoder();
  let buf = '';
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buf += decoder.decode(value, { stream: true });
        let i = buf.indexOf('\n\n');
        while (i !== -1) {
          const frame = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const data = /^data: (.*)$/m.exec(frame)?.[1];
          if (/^event: camera\.event$/m.test(frame) && data) seen.push(JSON.parse(data) as CameraEventView);
          i = buf.indexOf('\n\n');
        }
      }
    } catch {
      // aborted at the end of the test
    }
  })();
}

/** A JPEG as 8-bit grey pixels at its size (FFmpeg decodes it). */
function grayOf(jpeg: Buffer, width: number, height: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const ff = spawn(resolveBinaries().ffmpeg, [
      '-v',
      'error',
      '-i',
      'pipe:0',
      '-f',
      'rawvideo',
      '-pix_fmt',
      'gray',
      'pipe:1',
    ]);
    const out: Buffer[] = [];
    ff.stdout.on('data', (d: Buffer) => out.push(d));
    ff.on('error', reject);
    ff.on('close', (code) => {
      const all = Buffer.concat(out);
      if (code === 0 && all.length === width * height) resolve(new Uint8Array(all));
      else reject(new Error(`ffmpeg exited ${code} with ${all.length} bytes`));
    });
    ff.stdin.end(jpeg);
  });
}

describe('camera events', () => {
  let sim: SyntheticCameraServer;
  let dir: string;
  let sp: ServerProcess;
  const abort = new AbortController();
  const seen: CameraEventView[] = [];

  before(async () => {
    const [rtspPort, apiPort] = (await freePorts(2)) as [number, number];
    sim = new SyntheticCameraServer({ rtspPort, apiPort });
    await sim.start();
    await sim.addCamera({
      name: 'door',
      width: 320,
      height: 240,
      fps: 10,
      gopSeconds: 4,
      audio: false,
      timecode: true,
    });
    dir = await mkdtemp(join(tmpdir(), 'camstack-events-'));
    await writeFile(join(dir, 'cameras.yaml'), 'cameras: []\n');
    sp = await startServerProcess({
      options: { data_dir: join(dir, 'data'), media_dir: join(dir, 'media'), cameras_file: join(dir, 'cameras.yaml') },
      env: { CAMSTACK_RECORDING_SCAN_MS: '500' },
    });
    const add = await post(sp, '/api/cameras', {
      id: 'door',
      name: 'Door',
      source: sim.url('door'),
      recording: { continuous: true, preRollSeconds: 5 },
    });
    assert.equal(add.status, 201);
    await waitUntil(
      async () => {
        const res = await fetch(`${sp.baseUrl}/api/recordings?camera=door&type=segment`);
        const list = (await res.json()) as { items: RecordingView[] };
        return list.items.some((r) => Date.now() - Date.parse(r.start) > 7000);
      },
      60_000,
      'seven seconds recorded',
    );
    await follow(sp, seen, abort.signal);
  });

  after(async () => {
    abort.abort();
    await sp?.cleanup();
    await sim?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a bad report and changes nothing', async () => {
    for (const body of [
      { type: 'smoke', state: 'start' },
      { type: 'person', state: 'begin' },
      { type: 'person', state: 'pulse', seconds: 0 },
      { type: 'person', state: 'start', detail: 'a\nb' },
      { type: 'person', state: 'start', extra: 1 },
    ]) {
      const res = await post(sp, '/api/cameras/door/events', body);
      assert.equal(res.status, 400, JSON.stringify(body));
    }
    assert.equal((await post(sp, '/api/cameras/nope/events', { type: 'person', state: 'start' })).status, 404);
    const end = (await (await post(sp, '/api/cameras/door/events', { type: 'person', state: 'end' })).json()) as {
      event: unknown;
    };
    assert.equal(end.event, null, 'an end without a start is nothing');
    const list = (await (await fetch(`${sp.baseUrl}/api/camera-events`)).json()) as CameraEventList;
    assert.equal(list.total, 0);
  });

  it('stores, streams and records an event with pre-roll; a second one in its post-roll extends the same clip', async () => {
    const started = (await (await post(sp, '/api/cameras/door/events', { type: 'person', state: 'start' })).json()) as {
      event: CameraEventView;
    };
    const person = started.event;
    assert.equal(person.active, true);
    assert.equal(person.source, 'api');
    const again = (await (await post(sp, '/api/cameras/door/events', { type: 'person', state: 'start' })).json()) as {
      event: unknown;
    };
    assert.equal(again.event, null, 'a repeated start is the same event');
    await new Promise((r) => setTimeout(r, 2000));
    const ended = (await (await post(sp, '/api/cameras/door/events', { type: 'person', state: 'end' })).json()) as {
      event: CameraEventView;
    };
    assert.equal(ended.event.active, false);
    // Within the post-roll (10 s): another event, the same clip.
    const motion = (await (
      await post(sp, '/api/cameras/door/events', { type: 'motion', state: 'pulse', seconds: 1 })
    ).json()) as {
      event: CameraEventView;
    };

    let events: CameraEventView[] = [];
    await waitUntil(
      async () => {
        events = ((await (await fetch(`${sp.baseUrl}/api/camera-events?camera=door`)).json()) as CameraEventList).items;
        return events.length === 2 && events.every((e) => !e.active && e.clipId !== null && e.pictureUrl !== null);
      },
      30_000,
      'both events ended, with their clip and picture',
    );
    const [second, first] = events as [CameraEventView, CameraEventView];
    assert.equal(first.id, person.id);
    assert.equal(second.id, motion.event.id);
    assert.equal(first.clipId, second.clipId, 'one clip for both');

    // Streamed: the start, its clip and picture, the end.
    const mine = seen.filter((e) => e.id === person.id);
    assert.ok(
      mine.some((e) => e.active),
      'the start was streamed',
    );
    assert.ok(
      mine.some((e) => !e.active),
      'the end was streamed',
    );
    assert.ok(
      mine.some((e) => e.pictureUrl !== null),
      'the picture was streamed',
    );

    const pic = await fetch(`${sp.baseUrl}${first.pictureUrl}`);
    assert.equal(pic.status, 200);
    assert.equal(pic.headers.get('content-type'), 'image/jpeg');
    const jpeg = Buffer.from(await pic.arrayBuffer());
    assert.equal(jpeg[0], 0xff);
    assert.equal(jpeg[1], 0xd8);

    let clip: RecordingView | undefined;
    await waitUntil(
      async () => {
        clip = (await (await fetch(`${sp.baseUrl}/api/recordings/${first.clipId}`)).json()) as RecordingView;
        return clip.inProgress === false;
      },
      60_000,
      'the clip saved',
    );
    assert.ok(clip);
    assert.equal(clip.trigger, 'event-person');
    const preRoll = (Date.parse(first.start) - Date.parse(clip.start)) / 1000;
    assert.ok(preRoll >= 3, `pre-roll in the clip: ${preRoll} s`);
    const postRoll = (Date.parse(clip.end) - Date.parse(second.end ?? second.start)) / 1000;
    assert.ok(postRoll >= 7, `post-roll after the last event: ${postRoll} s`);
  });

  it('the picture of the moment shows the moment (±0.5 s), not the next keyframe (the camera sends one every 4 s)', async (t) => {
    // Three events 1.7 s apart: the next keyframe after each is at a different distance.
    const started: CameraEventView[] = [];
    for (const type of ['vehicle', 'animal', 'intrusion']) {
      const res = (await (await post(sp, '/api/cameras/door/events', { type, state: 'pulse', seconds: 1 })).json()) as {
        event: CameraEventView;
      };
      started.push(res.event);
      await new Promise((r) => setTimeout(r, 1700));
    }
    for (const e of started) {
      let pictureUrl: string | null = null;
      await waitUntil(
        async () => {
          pictureUrl = ((await (await fetch(`${sp.baseUrl}/api/camera-events/${e.id}`)).json()) as CameraEventView)
            .pictureUrl;
          return pictureUrl !== null;
        },
        30_000,
        `the picture of ${e.id}`,
      );
      const jpeg = Buffer.from(await (await fetch(`${sp.baseUrl}${pictureUrl}`)).arrayBuffer());
      const gray = await grayOf(jpeg, 320, 240);
      const shownMs = readTimecode(gray, 320, Date.parse(e.start));
      const offset = (shownMs - Date.parse(e.start)) / 1000;
      t.diagnostic(
        `${e.type}: event at ${e.start}, picture shows ${new Date(shownMs).toISOString()} (${offset.toFixed(2)} s)`,
      );
      assert.ok(Math.abs(offset) <= 0.5, `${e.type}: the picture is ${offset.toFixed(2)} s from the event`);
    }
  });

  it('filters the list by type and refuses an unknown event id', async () => {
    const persons = (await (await fetch(`${sp.baseUrl}/api/camera-events?type=person`)).json()) as CameraEventList;
    assert.equal(persons.total, 1);
    assert.equal((await fetch(`${sp.baseUrl}/api/camera-events/evt_999`)).status, 404);
    assert.equal((await fetch(`${sp.baseUrl}/api/camera-events/x`)).status, 400);
    assert.equal((await fetch(`${sp.baseUrl}/api/camera-events?type=smoke`)).status, 400);
  });
});
