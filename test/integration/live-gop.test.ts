/**
 * The MSE relay's GOP cache with the real go2rtc, MediaMTX and FFmpeg: a synthetic camera with a
 * long GOP (8 s) makes the difference unmistakable. Everything is judged by media timestamps, not
 * by how long things took: all viewers of one shared upstream see the same decode timeline, so a
 * viewer whose first keyframe decodes *before* the media another viewer had already received when
 * it connected got a cached keyframe; waiting for the camera's next one could not give that.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { SyntheticCameraServer } from '../../scripts/synthetic-cameras.js';
import type { CameraStatus } from '../../server/src/cameras/status.js';
import { Fmp4Splitter, type FragmentInfo } from '../../server/src/live/fmp4.js';
import { freePorts } from '../helpers/ports.js';
import { waitUntil } from '../helpers/processes.js';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.js';

const OFFER = 'avc1.640029,avc1.64002A,mp4a.40.2,flac,opus';

/** One viewer of our /ws: the answer, then the stream cut into init and fragments. */
class Viewer {
  readonly ws: WebSocket;
  mime: string | null = null;
  error: string | null = null;
  initSeen = false;
  readonly fragments: FragmentInfo[] = [];
  readonly #splitter = new Fmp4Splitter();
  readonly opened: Promise<void>;
  readonly closed: Promise<number>;

  constructor(sp: ServerProcess, camera: string, offer = OFFER) {
    this.ws = new WebSocket(`ws://127.0.0.1:${sp.port}/api/cameras/${camera}/ws`);
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => {
        this.ws.send(JSON.stringify({ type: 'mse', value: offer }));
        resolve();
      });
      this.ws.once('error', reject);
    });
    this.closed = new Promise((resolve) => this.ws.once('close', (code) => resolve(code)));
    this.ws.on('message', (data, binary) => {
      if (!binary) {
        const msg = JSON.parse(String(data)) as { type: string; value: string };
        if (msg.type === 'mse') this.mime = msg.value;
        if (msg.type === 'error') this.error = msg.value;
        return;
      }
      for (const p of this.#splitter.push(data as Buffer)) {
        if (p.kind === 'init') this.initSeen = true;
        else this.fragments.push(p.info);
      }
    });
  }

  get video(): FragmentInfo[] {
    return this.fragments.filter((f) => f.video);
  }

  /** Decode time of the latest video fragment received. */
  get lastTime(): number {
    return this.video.at(-1)?.decodeTime ?? -1;
  }

  /** Decode time of the latest keyframe received. */
  get lastKeyframeTime(): number {
    return this.video.filter((f) => f.keyframe).at(-1)?.decodeTime ?? -1;
  }

  close(): Promise<number> {
    this.ws.close();
    return this.closed;
  }
}

interface Go2rtcStream {
  consumers?: { user_agent?: string; format_name?: string }[] | null;
}

describe('MSE relay: GOP cache on a long-GOP camera', () => {
  let sim: SyntheticCameraServer;
  let sp: ServerProcess;
  const go2rtcConsumers = async (id: string) => {
    const res = await fetch(`http://127.0.0.1:${sp.enginePorts.go2rtcApi}/api/streams?src=${id}`);
    const body = (await res.json()) as Go2rtcStream;
    return body.consumers ?? [];
  };
  const relayConsumers = async (id: string) =>
    (await go2rtcConsumers(id)).filter((c) => c.user_agent === 'camstack/mse-relay').length;
  const status = (id: string) => sp.json<CameraStatus>(`/api/cameras/${id}/status`);

  before(async () => {
    const [rtspPort, apiPort] = (await freePorts(2)) as [number, number];
    sim = new SyntheticCameraServer({ rtspPort, apiPort });
    await sim.start();
    await sim.addCamera({ name: 'longgop', width: 320, height: 240, fps: 10, gopSeconds: 8 });
    sp = await startServerProcess({
      env: { CAMSTACK_STATUS_POLL_MS: '300', CAMSTACK_MSE_WARM_MS: '1500', CAMSTACK_RECONCILE_MS: '1000' },
    });
    await waitUntil(
      async () => (await sp.json<{ status: string }>('/api/health')).status === 'ok',
      30_000,
      'both engines running',
    );
    const add = async (body: unknown) =>
      fetch(`${sp.baseUrl}/api/cameras`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const warm = await add({
      id: 'warm',
      name: 'Warm',
      source: sim.url('longgop'),
      recording: { continuous: true },
    });
    assert.equal(warm.status, 201, await warm.text());
    assert.equal((await add({ id: 'idle', name: 'Idle', source: sim.url('longgop') })).status, 201);
  });

  after(async () => {
    await sp?.cleanup();
    await sim?.stop();
  });

  it('a recorded camera is pulled by one relay consumer before anyone watches; an idle on-demand one is not', async () => {
    await waitUntil(async () => (await relayConsumers('warm')) === 1, 30_000, 'the relay holds the recorded camera');
    assert.equal((await status('warm')).viewers, 0, 'our own consumer is no viewer');
    assert.equal((await go2rtcConsumers('idle')).length, 0, 'nothing pulls the idle on-demand camera');
  });

  it("a recorded camera's snapshot is decoded from the held keyframe, dated when it arrived, not the next one", async () => {
    await waitUntil(async () => (await relayConsumers('warm')) === 1, 30_000, 'the relay holds the recorded camera');
    // An older cached picture must not win over the held keyframe (the player's poster asks like
    // this). Until the relay has seen a keyframe (8 s GOP), go2rtc takes it, as before.
    const got = { res: null as Response | null, jpeg: Buffer.alloc(0) };
    await waitUntil(
      async () => {
        got.res = await fetch(`${sp.baseUrl}/api/cameras/warm/snapshot.jpg?width=160&maxAge=600000`);
        got.jpeg = Buffer.from(await got.res.arrayBuffer());
        return got.res.headers.get('x-snapshot-source') === 'keyframe';
      },
      30_000,
      'a snapshot decoded from the keyframe the relay holds',
    );
    const { res, jpeg } = got;
    if (!res) throw new Error('no answer');
    assert.equal(res.status, 200);
    assert.deepEqual([...jpeg.subarray(0, 2)], [0xff, 0xd8], 'a JPEG');
    const takenAt = Date.parse(res.headers.get('x-snapshot-taken-at') ?? '');
    // Dated when the keyframe reached the relay: no later than now, within the 8 s GOP (+ slack).
    assert.ok(takenAt <= Date.now(), 'not dated in the future');
    assert.ok(
      Date.now() - takenAt < 8000 + 5000,
      `dated when the held keyframe arrived (${Date.now() - takenAt} ms ago)`,
    );
    // The same keyframe again: the cache answers, no second decode.
    const again = await fetch(`${sp.baseUrl}/api/cameras/warm/snapshot.jpg?width=160&maxAge=600000`);
    await again.arrayBuffer();
    if (Date.parse(again.headers.get('x-snapshot-taken-at') ?? '') === takenAt) {
      assert.equal(again.headers.get('x-snapshot-source'), 'cache');
    }
  });

  it('a viewer joining gets init and a cached keyframe that decodes before what others already had', async (t) => {
    const a = new Viewer(sp, 'warm');
    await a.opened;
    // Let A receive at least a second of pictures past its latest keyframe (the GOP is 8 s long).
    await waitUntil(
      async () => a.lastKeyframeTime >= 0 && a.lastTime - a.lastKeyframeTime >= 1,
      30_000,
      'viewer A a second into a GOP',
    );
    const keyframeBefore = a.lastKeyframeTime;
    const seenByA = a.lastTime;
    const b = new Viewer(sp, 'warm');
    const c = new Viewer(sp, 'warm');
    await Promise.all([b.opened, c.opened]);
    await waitUntil(async () => b.video.length > 0 && c.video.length > 0, 30_000, 'B and C got pictures');
    for (const v of [b, c]) {
      assert.match(v.mime ?? '', /^video\/mp4; codecs="avc1\./);
      assert.ok(v.initSeen, 'init segment first');
      const first = v.video[0];
      assert.ok(first?.keyframe, 'the first picture is a keyframe');
      t.diagnostic(
        `A had media up to ${seenByA.toFixed(2)} s when B joined; B's first keyframe decodes at ` +
          `${first.decodeTime?.toFixed(2)} s (A's latest keyframe: ${keyframeBefore.toFixed(2)} s)`,
      );
      assert.equal(first.decodeTime, keyframeBefore, "the keyframe A already had: the relay's cached one");
      assert.ok((first.decodeTime ?? Number.POSITIVE_INFINITY) < seenByA, 'earlier than the media A had at the time');
    }
    // One upstream at go2rtc for three viewers; each of them counted as a viewer.
    assert.equal(await relayConsumers('warm'), 1);
    assert.equal((await go2rtcConsumers('warm')).length, 1, 'no other consumer at go2rtc');
    await waitUntil(async () => (await status('warm')).viewers === 3, 5000, 'three viewers counted');
    await Promise.all([a.close(), b.close(), c.close()]);
    await waitUntil(async () => (await status('warm')).viewers === 0, 5000, 'viewers gone');
    assert.equal(await relayConsumers('warm'), 1, 'the recorded camera stays held for the next viewer');
  });

  it('a viewer whose codecs the shared answer does not fit gets go2rtc answer of its own', async () => {
    // H.265 only: go2rtc refuses (the camera is H.264), and says why, as it always did.
    const v = new Viewer(sp, 'warm', 'hvc1.1.6.L153.B0');
    await v.opened;
    await waitUntil(async () => v.error !== null, 15_000, 'go2rtc refused the H.265-only offer');
    assert.match(v.error ?? '', /codec/i);
    assert.equal(v.mime, null);
    await v.close();
    assert.equal(await relayConsumers('warm'), 1, 'the shared upstream is untouched');
  });

  it('an idle on-demand camera: the first viewer wakes it, the upstream goes after the warm period', async () => {
    const v = new Viewer(sp, 'idle');
    await v.opened;
    await waitUntil(async () => v.video.length > 0, 30_000, 'the on-demand camera plays');
    assert.ok(v.initSeen && v.video[0]?.keyframe, 'init, then a keyframe first');
    assert.equal(await relayConsumers('idle'), 1);
    const again = new Viewer(sp, 'idle');
    await again.opened;
    await waitUntil(async () => again.video.length > 0, 30_000, 'a second viewer plays');
    assert.ok(again.video[0]?.keyframe);
    assert.ok((again.video[0]?.decodeTime ?? Number.POSITIVE_INFINITY) <= v.lastTime, 'from the cache');
    assert.equal(await relayConsumers('idle'), 1, 'still one upstream');
    await Promise.all([v.close(), again.close()]);
    await waitUntil(
      async () => (await go2rtcConsumers('idle')).length === 0,
      15_000,
      'the upstream leaves after its warm period',
    );
  });
});
