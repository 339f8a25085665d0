/**
 * The Camstack Node-RED nodes in Node-RED's runtime (node-red-node-test-helper) against the REAL
 * Camstack server: its own process with real engines, a synthetic camera added through the API,
 * reached on its token-protected direct port through a transparent proxy that records requests.
 * Every test ends by closing the flow and checking that no request is left open.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import type { ClipInfo } from '../../nodes/src/nodes/record/index.js';
import type { StreamInfo } from '../../nodes/src/nodes/stream/index.js';
import { freePort } from '../helpers/ports.js';
import { waitUntil } from '../helpers/processes.js';
import {
  CAMERA,
  type Camstack,
  caughtMessage,
  helper,
  jpegSize,
  loadNode,
  type Msg,
  startCamstack,
  TOKEN,
} from './harness.js';

interface CameraStatus {
  state: string;
  viewers: number;
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

describe('Camstack Node-RED nodes against the real Camstack server', () => {
  let cs: Camstack;
  let media: string;
  let baselineTimers = 0;
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

  before(async () => {
    helper.init(createRequire(import.meta.url).resolve('node-red'));
    cs = await startCamstack();
    media = join(cs.sp.dir, 'media');
    baselineTimers = timers();
  });

  after(async () => {
    await cs?.stop();
  });

  afterEach(async () => {
    await helper.unload();
    // Closing the flow ends every stream and subscription the nodes had open, and every timer.
    await waitUntil(() => cs.proxy.openRequests === 0, 5000, 'no request left open after close').catch(
      (err: unknown) => {
        throw new Error(
          `${err instanceof Error ? err.message : String(err)}; open: ${cs.proxy.openPaths.join(', ')}; last: ${cs.proxy.requests
            .slice(-12)
            .map((r) => `${r.method} ${r.path}`)
            .join(', ')}`,
        );
      },
    );
    await waitUntil(
      () => timers() <= baselineTimers,
      5000,
      `no timer left after close (${timers()} > ${baselineTimers})`,
    );
  });

  const status = async (): Promise<CameraStatus> =>
    (await cs.api<CameraStatus>('GET', `/api/cameras/${CAMERA}/status`)).body;

  describe('camstack-server', () => {
    it('lists cameras for the editor: deployed node, or URL and token of one not deployed yet', async () => {
      await loadNode({ type: 'camstack-snapshot', camera: CAMERA }, cs.proxy.url);
      const deployed = await helper.request().get('/camstack/s1/cameras');
      assert.equal(deployed.status, 200);
      assert.deepEqual(deployed.body, [{ id: CAMERA, name: 'Porch', enabled: true }]);
      assert.equal(cs.proxy.seen('/api/cameras').at(-1)?.authorization, `Bearer ${TOKEN}`);

      const fresh = await helper
        .request()
        .get('/camstack/n0t_deployed/cameras')
        .query({ url: cs.proxy.url })
        .set('X-Camstack-Token', TOKEN);
      assert.equal(fresh.status, 200);
      assert.deepEqual(fresh.body, [{ id: CAMERA, name: 'Porch', enabled: true }]);

      const noToken = await helper.request().get('/camstack/n0t_deployed/cameras').query({ url: cs.proxy.url });
      assert.equal(noToken.status, 409);
      assert.match(JSON.stringify(noToken.body), /not deployed yet: enter its token/);

      // The deployed token is never sent to another URL.
      const before = cs.proxy.requests.length;
      const moved = await helper.request().get('/camstack/s1/cameras').query({ url: 'http://127.0.0.1:9/' });
      assert.equal(moved.status, 409);
      assert.match(JSON.stringify(moved.body), /the URL changed/);
      assert.equal(cs.proxy.requests.length, before);

      const badToken = await helper
        .request()
        .get('/camstack/n0t_deployed/cameras')
        .query({ url: cs.proxy.url })
        .set('X-Camstack-Token', 'not-the-token-0000');
      assert.equal(badToken.status, 502);
      assert.match(JSON.stringify(badToken.body), /refused the token \(401\)/);

      const down = await helper
        .request()
        .get('/camstack/n0t_deployed/cameras')
        .query({ url: `http://127.0.0.1:${await freePort()}` })
        .set('X-Camstack-Token', TOKEN);
      assert.equal(down.status, 502);
      assert.match(JSON.stringify(down.body), /refused the connection/);

      const badUrl = await helper
        .request()
        .get('/camstack/n0t_deployed/cameras')
        .query({ url: 'ftp://camstack' })
        .set('X-Camstack-Token', TOKEN);
      assert.equal(badUrl.status, 400);
    });
  });

  describe('camstack-snapshot', () => {
    it('sends the JPEG as a Buffer with camera and takenAt, scaled to the width asked', async () => {
      const {
        n1,
        output,
        status: st,
      } = await loadNode({ type: 'camstack-snapshot', camera: CAMERA, width: '160' }, cs.proxy.url);
      const t0 = Date.now();
      n1.receive({ payload: Date.now(), topic: 'doorbell' });
      const msg = await output(45_000);
      assert.ok(Buffer.isBuffer(msg.payload), 'payload is a Buffer');
      assert.deepEqual(jpegSize(msg.payload as Buffer), { width: 160, height: 120 });
      assert.equal(msg.camera, CAMERA);
      assert.equal(msg.topic, 'doorbell', 'the incoming message is passed on');
      assert.match(String(msg.takenAt), ISO);
      assert.ok(Date.parse(String(msg.takenAt)) >= t0 - 15_000);
      assert.ok(['go2rtc', 'ffmpeg', 'cache'].includes(String((msg.snapshot as { source: string }).source)));
      assert.equal(st.at(-1)?.fill, 'green');
      const asked = cs.proxy.seen(`/api/cameras/${CAMERA}/snapshot.jpg`);
      assert.ok(asked.length >= 1 && asked.every((r) => r.authorization === `Bearer ${TOKEN}`));
      assert.match(asked.at(-1)?.path ?? '', /width=160/);
    });

    it('saves into Camstack media folder or a folder here; msg.camera and msg.width override', async () => {
      const inMedia = await loadNode(
        { type: 'camstack-snapshot', camera: 'someone_else', save: 'media' },
        cs.proxy.url,
      );
      inMedia.n1.receive({ camera: CAMERA, width: 64 });
      const saved = await inMedia.output(45_000);
      assert.equal(saved.camera, CAMERA);
      assert.deepEqual(jpegSize(saved.payload as Buffer).width, 64);
      const path = (saved.saved as { path: string }).path;
      assert.match(path, new RegExp(`^${CAMERA}/snapshots/${CAMERA}_\\d{8}-\\d{6}-\\d{3}\\.jpg$`));
      const file = await readFile(join(media, path));
      assert.equal(file.readUInt16BE(0), 0xffd8, 'a JPEG in the media folder');
      await helper.unload();

      const dir = await mkdtemp(join(tmpdir(), 'camstack-nr-snap-'));
      try {
        const here = await loadNode(
          { type: 'camstack-snapshot', camera: CAMERA, save: 'file', directory: join(dir, 'sub') },
          cs.proxy.url,
        );
        here.n1.receive({});
        const msg = await here.output(45_000);
        const written = await readFile(String(msg.filename));
        assert.ok(String(msg.filename).startsWith(join(dir, 'sub', `${CAMERA}_`)));
        assert.ok(written.equals(msg.payload as Buffer), 'the file holds the JPEG sent on');
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  });

  describe('camstack-record', () => {
    it('clip: sends the saved clip (id, path, URL, times); the file is on disk and in /api/recordings', async () => {
      const {
        n1,
        output,
        status: st,
      } = await loadNode({ type: 'camstack-record', camera: CAMERA, action: 'clip', duration: '5' }, cs.proxy.url);
      n1.receive({ payload: 'clip', topic: 'motion' });
      const msg = await output(120_000);
      const clip = msg.payload as ClipInfo;
      assert.match(clip.id, /^clip_\d+$/);
      assert.equal(clip.camera, CAMERA);
      assert.equal(msg.camera, CAMERA);
      assert.equal(msg.action, 'clip');
      assert.equal(msg.topic, 'motion');
      assert.match(clip.start, ISO);
      assert.match(clip.end, ISO);
      assert.ok(Date.parse(clip.end) > Date.parse(clip.start));
      assert.ok(clip.durationSeconds > 0 && clip.durationSeconds <= 10, `about 5 s, got ${clip.durationSeconds}`);
      assert.equal(clip.url, `${cs.proxy.url}/api/recordings/${clip.id}/video`);
      assert.equal(clip.trigger, 'node-red', 'labelled as made by Node-RED');
      assert.match(String(clip.path), /_node-red\.mp4$/);
      assert.ok(clip.path, 'a path');
      const onDisk = await stat(join(media, clip.path));
      assert.equal(onDisk.size, clip.size);
      const listed = await cs.api<{ items: { id: string; path: string; durationSeconds: number; start: string }[] }>(
        'GET',
        `/api/recordings?camera=${CAMERA}&type=clip`,
      );
      const entry = listed.body.items.find((r) => r.id === clip.id);
      assert.ok(entry, 'listed in /api/recordings');
      assert.deepEqual(
        { path: entry.path, durationSeconds: entry.durationSeconds, start: entry.start },
        { path: clip.path, durationSeconds: clip.durationSeconds, start: clip.start },
        'what the node sent is what Camstack lists',
      );
      const video = await fetch(clip.url, { headers: { authorization: `Bearer ${TOKEN}` } });
      assert.equal(video.status, 200);
      assert.equal((await video.arrayBuffer()).byteLength, clip.size);
      assert.ok(
        st.some((s) => s.fill === 'blue' && /recording clip_/.test(s.text ?? '')),
        'showed the recording',
      );
      assert.equal(st.at(-1)?.fill, 'green');
      assert.match(st.at(-1)?.text ?? '', /saved clip_/);
    });

    it('start … stop: one message for the clip, the one that started it', async () => {
      const {
        n1,
        out,
        output,
        status: st,
      } = await loadNode({ type: 'camstack-record', camera: CAMERA, action: 'start' }, cs.proxy.url);
      n1.receive({ topic: 'first' });
      await waitUntil(() => st.some((s) => s.fill === 'blue'), 30_000, 'recording');
      n1.receive({ payload: 'clip', topic: 'again' }); // extends the open clip: no second message
      await new Promise((r) => setTimeout(r, 6000)); // an idle camera first wakes up: give it video to record
      n1.receive({ payload: 'stop', topic: 'stop' });
      const msg = await output(120_000);
      assert.equal(msg.topic, 'first');
      assert.equal(msg.action, 'start');
      const clip = msg.payload as ClipInfo;
      assert.ok(clip.durationSeconds >= 1 && clip.durationSeconds < 30, `got ${clip.durationSeconds}`);
      await stat(join(media, String(clip.path)));
      await out.none(2000);
    });

    it('stop sends the clip another client started; stop without an open clip is an error', async () => {
      const started = await cs.api<{ clip: { id: string } }>('POST', `/api/cameras/${CAMERA}/clips`, { duration: 60 });
      assert.equal(started.status, 201, JSON.stringify(started.body));
      const { n1, output, caught } = await loadNode(
        { type: 'camstack-record', camera: CAMERA, action: 'stop' },
        cs.proxy.url,
      );
      await new Promise((r) => setTimeout(r, 6000));
      n1.receive({ topic: 'enough' });
      const msg = await output(120_000);
      assert.equal(msg.topic, 'enough');
      assert.equal((msg.payload as ClipInfo).id, started.body.clip.id);
      n1.receive({ topic: 'again' });
      const err = await caught.next(30_000);
      assert.match(caughtMessage(err), /has no clip being recorded/);
      assert.equal(err.topic, 'again');
    });
  });

  describe('camstack-stream', () => {
    it('keeps the camera streaming from start to stop, and says so', async () => {
      const { n1, out, output, status: st } = await loadNode({ type: 'camstack-stream', camera: CAMERA }, cs.proxy.url);
      n1.receive({ payload: 'start' });
      const warm = await output(45_000);
      assert.equal((warm.payload as StreamInfo).state, 'warm');
      assert.equal(warm.camera, CAMERA);
      await waitUntil(
        async () => (await status()).state === 'streaming' && (await status()).viewers >= 1,
        15_000,
        'the camera streams with a viewer',
      );
      await waitUntil(() => st.some((s) => s.fill === 'green' && /warm/.test(s.text ?? '')), 10_000, 'a green status');
      n1.receive({ payload: 'status' });
      const info = (await out.next(5000)).payload as StreamInfo;
      assert.equal(info.state, 'warm');
      assert.ok(info.bytes > 0 && info.warmSince !== null);
      n1.receive({ action: 'stop' });
      assert.equal(((await out.next(5000)).payload as StreamInfo).state, 'stopped');
      await waitUntil(async () => (await status()).viewers === 0, 10_000, 'the viewer gone');
      assert.equal(cs.proxy.openRequests, 0);
    });

    it('reopens a stream that dropped, and reports it', async () => {
      const { out, status: st } = await loadNode(
        { type: 'camstack-stream', camera: CAMERA, autoStart: true },
        cs.proxy.url,
      );
      await waitUntil(() => st.some((s) => s.fill === 'green'), 45_000, 'warm from deploy on, without a message');
      assert.equal(out.list.length, 0, 'autoStart sends nothing until something changes');
      assert.equal(cs.proxy.openRequests, 1);
      cs.proxy.dropConnections();
      const retrying = await out.next(15_000);
      assert.equal((retrying.payload as StreamInfo).state, 'retrying');
      const back = await out.next(30_000);
      assert.equal((back.payload as StreamInfo).state, 'warm');
      await waitUntil(async () => (await status()).viewers >= 1, 15_000, 'a viewer again');
    });
  });

  describe('camstack-events', () => {
    it('sends the events of the camera and types chosen, and shows the connection', async () => {
      const {
        n1,
        out,
        status: st,
      } = await loadNode(
        { type: 'camstack-events', camera: CAMERA, types: ['camera.status', 'snapshot.saved'] },
        cs.proxy.url,
      );
      const first = await out.next(15_000);
      assert.equal(first.topic, 'camera.status');
      assert.equal(first.camera, CAMERA);
      assert.equal((first.payload as { id: string }).id, CAMERA);
      await waitUntil(() => st.some((s) => s.fill === 'green' && /connected/.test(s.text ?? '')), 5000, 'connected');
      const sub = cs.proxy.seen('/api/events').at(-1);
      assert.match(sub?.path ?? '', /camera=porch/);
      assert.match(decodeURIComponent(sub?.path ?? ''), /types=camera\.status,snapshot\.saved/);
      const saved = await cs.api('POST', `/api/cameras/${CAMERA}/snapshot`, {});
      assert.equal(saved.status, 201);
      const ev = await out.next(30_000, (m) => m.topic === 'snapshot.saved');
      assert.equal((ev.payload as { camera: string }).camera, CAMERA);
      // A message changes the filter; stop closes the subscription.
      n1.receive({ types: ['snapshot.saved'] });
      await waitUntil(
        () => /types=snapshot\.saved$/.test(decodeURIComponent(cs.proxy.seen('/api/events').at(-1)?.path ?? '')),
        5000,
        'resubscribed',
      );
      n1.receive({ payload: 'stop' });
      await waitUntil(() => cs.proxy.openRequests === 0, 5000, 'the subscription closed');
      assert.equal(st.at(-1)?.text, 'stopped');
    });

    it('reconnects with backoff after an outage, reporting it once to Catch', async () => {
      const {
        out,
        caught,
        status: st,
      } = await loadNode({ type: 'camstack-events', camera: CAMERA, types: ['camera.status'] }, cs.proxy.url);
      await out.next(15_000);
      const port = cs.proxy.port;
      await cs.proxy.down();
      await waitUntil(() => st.some((s) => s.fill === 'red' && /retry in/.test(s.text ?? '')), 10_000, 'a retry shown');
      const outage = await caught.next(5000);
      assert.match(caughtMessage(outage), /Camstack/);
      await new Promise((r) => setTimeout(r, 2500)); // a few retries fail
      await cs.proxy.start(port);
      // A camera.status queued before the outage may be read first: what proves the reconnection is
      // the node's own status turning back to connected, then events flowing again.
      await waitUntil(() => /connected/.test(st.at(-1)?.text ?? ''), 40_000, 'connected again');
      await out.next(40_000, (m) => m.topic === 'camera.status');
      assert.equal(caught.list.length, 1, 'one error for the whole outage');
    });
  });

  describe('errors go to Catch nodes', () => {
    it('an unknown camera', async () => {
      for (const type of ['camstack-record', 'camstack-snapshot', 'camstack-stream']) {
        const { n1, caught, status: st } = await loadNode({ type, camera: CAMERA }, cs.proxy.url);
        n1.receive({ camera: 'nope', topic: type });
        const err = await caught.next(30_000);
        assert.match(caughtMessage(err), /no camera (with id )?"nope"/, type);
        assert.equal(err.topic, type);
        assert.equal(st.at(-1)?.fill, 'red');
        await helper.unload();
      }
    });

    it('Camstack not running', async () => {
      const nowhere = `http://127.0.0.1:${await freePort()}`;
      for (const type of ['camstack-record', 'camstack-snapshot', 'camstack-stream']) {
        const { n1, caught } = await loadNode({ type, camera: CAMERA }, nowhere);
        n1.receive({});
        assert.match(caughtMessage(await caught.next(30_000)), /refused the connection: is the add-on running/, type);
        await helper.unload();
      }
      const events = await loadNode({ type: 'camstack-events' }, nowhere);
      assert.match(caughtMessage(await events.caught.next(10_000)), /refused the connection/);
      await waitUntil(() => events.status.some((s) => /retry in/.test(s.text ?? '')), 5000, 'retrying');
    });

    it('a wrong token', async () => {
      for (const type of ['camstack-record', 'camstack-snapshot', 'camstack-stream']) {
        const { n1, caught } = await loadNode({ type, camera: CAMERA }, cs.proxy.url, 'not-the-token-0000');
        n1.receive({});
        assert.match(caughtMessage(await caught.next(30_000)), /refused the token \(401\)/, type);
        await helper.unload();
      }
      const events = await loadNode({ type: 'camstack-events' }, cs.proxy.url, 'not-the-token-0000');
      assert.match(caughtMessage(await events.caught.next(10_000)), /refused the token \(401\)/);
      await waitUntil(() => events.status.some((s) => /retry in .*token/.test(s.text ?? '')), 5000, 'the reason shown');
    });

    it('bad message fields: a clear error, and nothing sent to Camstack', async () => {
      const cases: [Record<string, unknown>, Msg, RegExp][] = [
        [
          { type: 'camstack-record', camera: CAMERA },
          { duration: -5 },
          /msg\.duration must be a whole number of seconds from 1 to 3600, got -5/,
        ],
        [{ type: 'camstack-record', camera: CAMERA }, { duration: 86_400 }, /from 1 to 3600, got 86400/],
        [{ type: 'camstack-record', camera: CAMERA }, { preRoll: 'lots' }, /msg\.preRoll must be a number of seconds/],
        [
          { type: 'camstack-record', camera: CAMERA },
          { action: 'pause' },
          /msg\.action must be one of "clip", "start", "stop"/,
        ],
        [{ type: 'camstack-record', camera: CAMERA }, { payload: 'record now' }, /msg\.payload must be one of/],
        [{ type: 'camstack-record' }, { payload: 'clip' }, /no camera: choose one in the node or set msg\.camera/],
        [{ type: 'camstack-snapshot', camera: CAMERA }, { camera: 'Front Door' }, /msg\.camera must be a camera id/],
        [
          { type: 'camstack-snapshot', camera: CAMERA },
          { width: 100_000 },
          /msg\.width must be a whole number of pixels from 16 to 3840/,
        ],
        [{ type: 'camstack-snapshot', camera: CAMERA, save: 'file', directory: 'relative/dir' }, {}, /absolute folder/],
        [
          { type: 'camstack-stream', camera: CAMERA },
          { payload: 'go' },
          /msg\.payload must be one of "start", "stop", "status"/,
        ],
        [{ type: 'camstack-events' }, { types: ['motion'] }, /unknown event type "motion"/],
        [{ type: 'camstack-events' }, { camera: 42 }, /msg\.camera must be a string or an array of strings/],
      ];
      for (const [node, msg, pattern] of cases) {
        const { n1, caught } = await loadNode(node, cs.proxy.url);
        await new Promise((r) => setTimeout(r, 300)); // an events node subscribes on deploy: let it
        const before = cs.proxy.requests.length;
        n1.receive(msg);
        const err = await caught.next(10_000);
        assert.match(caughtMessage(err), pattern, JSON.stringify(msg));
        await new Promise((r) => setTimeout(r, 200));
        assert.equal(cs.proxy.requests.length, before, `nothing sent for ${JSON.stringify(msg)}`);
        await helper.unload();
      }
    });
  });
});
