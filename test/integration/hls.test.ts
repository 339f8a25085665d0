/**
 * Live HLS through our API with the real engines: the playlist MediaMTX makes, followed to a
 * media playlist, its init section and a segment and an LL-HLS part (fMP4 with a video track),
 * the viewer it counts, the names and parameters we refuse, and Safari's redirect from
 * stream.mp4.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SyntheticCameraServer } from '../../scripts/synthetic-cameras.js';
import type { CameraStatus } from '../../server/src/cameras/status.js';
import { playlistUris } from '../../server/src/live/hls-names.js';
import { freePorts } from '../helpers/ports.js';
import { waitUntil } from '../helpers/processes.js';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.js';

const SAFARI_IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.5 Mobile/15E148 Safari/604.1';

async function post(sp: ServerProcess, path: string, body: unknown): Promise<Response> {
  return fetch(`${sp.baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

/** Top-level boxes of an MP4 buffer: [type, size]. */
function boxes(buf: Buffer): [string, number][] {
  const out: [string, number][] = [];
  for (let at = 0; at + 8 <= buf.length; ) {
    const size = buf.readUInt32BE(at);
    out.push([buf.toString('latin1', at + 4, at + 8), size]);
    if (size < 8) break;
    at += size;
  }
  return out;
}

describe('live HLS through our server', { timeout: 300_000 }, () => {
  let sim: SyntheticCameraServer;
  let sp: ServerProcess;
  const base = () => `${sp.baseUrl}/api/cameras/cam/hls`;

  before(async () => {
    const [rtspPort, apiPort] = (await freePorts(2)) as [number, number];
    sim = new SyntheticCameraServer({ rtspPort, apiPort });
    await sim.start();
    await sim.addCamera({ name: 'cam', width: 320, height: 240, fps: 10, gopSeconds: 1 });
    sp = await startServerProcess({
      env: { CAMSTACK_STATUS_POLL_MS: '300', CAMSTACK_SEGMENT_SECONDS: '3', CAMSTACK_RECORDING_SCAN_MS: '500' },
    });
    await waitUntil(
      async () => (await sp.json<{ status: string }>('/api/health')).status === 'ok',
      30_000,
      'both engines running',
    );
    assert.equal((await post(sp, '/api/cameras', { id: 'cam', name: 'Cam', source: sim.url('cam') })).status, 201);
    assert.equal(
      (
        await post(sp, '/api/cameras', {
          id: 'rec',
          name: 'Rec',
          source: sim.url('cam'),
          recording: { continuous: true },
        })
      ).status,
      201,
    );
    assert.equal(
      (await post(sp, '/api/cameras', { id: 'off', name: 'Off', source: sim.url('cam'), enabled: false })).status,
      201,
    );
  });

  after(async () => {
    await sp?.cleanup();
    await sim?.stop();
  });

  it('serves the LL-HLS playlist, its media playlist, init section, a segment and a part (fMP4 video)', async (t) => {
    let index: Response | null = null;
    await waitUntil(
      async () => {
        index = await fetch(`${base()}/index.m3u8`);
        if (index.status !== 200) await index.body?.cancel();
        return index.status === 200;
      },
      40_000,
      'index.m3u8 answered 200',
    );
    const res = index as unknown as Response;
    assert.equal(res.headers.get('content-type'), 'application/vnd.apple.mpegurl');
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const multivariant = await res.text();
    t.diagnostic(multivariant);
    assert.match(multivariant, /^#EXTM3U/);
    assert.match(multivariant, /CODECS="avc1\./);
    const uris = playlistUris(multivariant);
    assert.ok(uris.length >= 1);
    for (const uri of uris) assert.match(uri, /^[a-z0-9]+_stream\.m3u8\?session=[0-9a-f-]{36}$/, 'relative');
    const mediaUri = uris.find((u) => u.startsWith('video')) as string;
    assert.ok(mediaUri, 'a video media playlist');
    assert.match(multivariant, /#EXT-X-MEDIA:TYPE=AUDIO,.*URI="audio\d_stream\.m3u8\?session=/, 'the Opus track');

    let mediaText = '';
    await waitUntil(
      async () => {
        const media = await fetch(`${base()}/${mediaUri}`);
        assert.equal(media.status, 200, media.status === 200 ? '' : await media.text());
        assert.equal(media.headers.get('cache-control'), 'no-cache');
        mediaText = await media.text();
        return /_seg\d+\.mp4/.test(mediaText) && /_part\d+\.mp4/.test(mediaText);
      },
      20_000,
      'a segment and parts in the media playlist',
    );
    t.diagnostic(mediaText);
    assert.match(mediaText, /#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES/);
    assert.match(mediaText, /#EXT-X-PART-INF:PART-TARGET=/);
    const files = playlistUris(mediaText);
    for (const f of files) assert.doesNotMatch(f, /^\/|:\/\//, `${f} is relative`);
    const init = files.find((f) => /_init\.mp4/.test(f));
    const segment = files.find((f) => /_seg\d+\.mp4/.test(f));
    const part = files.find((f) => /_part\d+\.mp4/.test(f));
    assert.ok(init && segment && part, 'init, segment and part referenced');

    const initRes = await fetch(`${base()}/${init}`);
    assert.equal(initRes.status, 200);
    assert.equal(initRes.headers.get('content-type'), 'video/mp4');
    const initBuf = Buffer.from(await initRes.arrayBuffer());
    assert.deepEqual(
      boxes(initBuf).map(([type]) => type),
      ['ftyp', 'moov'],
    );
    assert.ok(initBuf.includes(Buffer.from('vide')), 'a video track');
    assert.ok(initBuf.includes(Buffer.from('avcC')), 'H.264');

    for (const file of [segment, part]) {
      const r = await fetch(`${base()}/${file}`);
      assert.equal(r.status, 200, file);
      const buf = Buffer.from(await r.arrayBuffer());
      const types = boxes(buf).map(([type]) => type);
      assert.ok(types.includes('moof') && types.includes('mdat'), `${file}: ${types.join(',')}`);
    }

    // A blocking reload for the next part is passed on and answers once it exists.
    const msn = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(mediaText)?.[1]);
    const segs = (mediaText.match(/#EXTINF/g) ?? []).length;
    const session = /session=([0-9a-f-]{36})/.exec(mediaUri)?.[1] as string;
    const name = mediaUri.split('?')[0] as string;
    const blocking = await fetch(`${base()}/${name}?session=${session}&_HLS_msn=${msn + segs}&_HLS_part=0`);
    assert.equal(blocking.status, 200);
    assert.match(await blocking.text(), /#EXT-X-PART:/);
  });

  it('counts an HLS client as a viewer while it requests, and no longer ~10 s after', async () => {
    await waitUntil(
      async () => (await sp.json<CameraStatus>('/api/cameras/cam/status')).viewers === 0,
      20_000,
      'no viewer left from the last test',
    );
    const index = await fetch(`${base()}/index.m3u8`);
    assert.equal(index.status, 200);
    const uri = playlistUris(await index.text())[0] as string;
    const stop = Date.now() + 6000;
    let counted = 0;
    while (Date.now() < stop) {
      await (await fetch(`${base()}/${uri}`)).text();
      counted = Math.max(counted, (await sp.json<CameraStatus>('/api/cameras/cam/status')).viewers);
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.equal(counted, 1, 'one viewer: one HLS client (MediaMTX’s own session reader is not counted twice)');
    await waitUntil(
      async () => (await sp.json<CameraStatus>('/api/cameras/cam/status')).viewers === 0,
      20_000,
      'the viewer released after the client went quiet',
    );
  });

  it('refuses bad names, bad parameters, unknown and disabled cameras, expired sessions', async () => {
    const session = '0b8f2a4e-1c3d-4e5f-8a9b-0c1d2e3f4a5b';
    const bad = [
      `${base()}/../../health`,
      `${base()}/index.m3u8x`,
      `${base()}/video1_stream.m3u8`, // no session
      `${base()}/evil.mp4?session=${session}`,
      `${base()}/0123456789ab_video1_seg1.mp4?session=nope`,
      `${base()}/video1_stream.m3u8?session=${session}&_HLS_part=1`, // part without msn
      `${base()}/0123456789ab_video1_seg1.mp4?session=${session}&_HLS_msn=3`,
      `${base()}/video1_stream.m3u8?session=${session}&_HLS_skip=maybe`,
      `${base()}/video1_stream.m3u8?session=${session}&other=1`,
      `${base()}/index.m3u8?session=${session}`,
    ];
    for (const url of bad) {
      const r = await fetch(url);
      await r.body?.cancel();
      assert.equal(r.status, url.includes('../') ? 404 : 400, url);
    }
    const unknown = await fetch(`${sp.baseUrl}/api/cameras/nope/hls/index.m3u8`);
    assert.equal(unknown.status, 404);
    assert.equal(((await unknown.json()) as { code: string }).code, 'not_found');
    const disabled = await fetch(`${sp.baseUrl}/api/cameras/off/hls/index.m3u8`);
    assert.equal(disabled.status, 409);
    await disabled.body?.cancel();
    const expired = await fetch(`${base()}/video1_stream.m3u8?session=${session}`);
    assert.equal(expired.status, 410);
    assert.equal(((await expired.json()) as { code: string }).code, 'hls_session_expired');
  });

  it('stream.mp4 sends Safari to the HLS playlist (relative, ingress-safe); Chrome still gets MP4', async () => {
    const safari = await fetch(`${sp.baseUrl}/api/cameras/cam/stream.mp4`, {
      headers: { 'user-agent': SAFARI_IPHONE },
      redirect: 'manual',
    });
    assert.equal(safari.status, 302);
    assert.equal(safari.headers.get('location'), 'hls/index.m3u8');
    await safari.body?.cancel();
    const followed = await fetch(new URL('hls/index.m3u8', `${sp.baseUrl}/api/cameras/cam/stream.mp4`));
    assert.equal(followed.status, 200);
    assert.match(await followed.text(), /^#EXTM3U/);

    const ctrl = new AbortController();
    const chrome = await fetch(`${sp.baseUrl}/api/cameras/cam/stream.mp4`, {
      headers: {
        'user-agent':
          'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36',
      },
      signal: ctrl.signal,
    });
    assert.equal(chrome.status, 200);
    assert.match(chrome.headers.get('content-type') ?? '', /^video\/mp4/);
    ctrl.abort();
  });

  it('a recorded span as an HLS VOD playlist over the segment files, by byte range', async (t) => {
    type List = { items: { id: string; start: string; end: string; inProgress: boolean }[] };
    let list: List = { items: [] };
    await waitUntil(
      async () => {
        list = await sp.json<List>('/api/recordings?camera=rec&type=segment&order=asc');
        return list.items.filter((r) => !r.inProgress).length >= 2;
      },
      60_000,
      'two complete segments of the recorded camera',
    );
    const from = new Date(Date.parse((list.items[0] as List['items'][0]).start) + 500).toISOString();
    const to = new Date().toISOString();
    const url = `${sp.baseUrl}/api/cameras/rec/recording.m3u8?from=${from}&to=${to}`;
    const res = await fetch(url);
    assert.equal(res.status, 200, res.status === 200 ? '' : await res.text());
    assert.equal(res.headers.get('content-type'), 'application/vnd.apple.mpegurl');
    const text = await res.text();
    t.diagnostic(text.split('\n').slice(0, 12).join('\n'));
    assert.match(text, /#EXT-X-VERSION:7/);
    assert.match(text, /#EXT-X-ENDLIST\n$/);
    assert.ok((text.match(/#EXT-X-DISCONTINUITY/g) ?? []).length >= 1);
    const map = /#EXT-X-MAP:URI="([^"]+)",BYTERANGE="(\d+)@(\d+)"/.exec(text);
    assert.ok(map);
    assert.match(map[1] as string, /^\.\.\/\.\.\/recordings\/seg_\d+\/video$/, 'relative: ingress-safe');
    const file = new URL(map[1] as string, url);
    const init = await fetch(file, { headers: { range: `bytes=0-${Number(map[2]) - 1}` } });
    assert.equal(init.status, 206);
    const initBuf = Buffer.from(await init.arrayBuffer());
    assert.deepEqual(
      boxes(initBuf).map(([type]) => type),
      ['ftyp', 'moov'],
    );
    const range = /#EXT-X-BYTERANGE:(\d+)@(\d+)\n(.+)/.exec(text);
    assert.ok(range);
    const media = await fetch(new URL(range[3] as string, url), {
      headers: { range: `bytes=${range[2]}-${Number(range[2]) + Number(range[1]) - 1}` },
    });
    assert.equal(media.status, 206);
    const mediaBuf = Buffer.from(await media.arrayBuffer());
    assert.equal(mediaBuf.length, Number(range[1]));
    assert.deepEqual([...new Set(boxes(mediaBuf).map(([type]) => type))], ['moof', 'mdat']);

    const inverted = await fetch(`${sp.baseUrl}/api/cameras/rec/recording.m3u8?from=${to}&to=${from}`);
    assert.equal(inverted.status, 400);
    const before = await fetch(
      `${sp.baseUrl}/api/cameras/rec/recording.m3u8?from=2020-01-01T00:00:00Z&to=2020-01-01T01:00:00Z`,
    );
    assert.equal(before.status, 404);
    const unknown = await fetch(`${sp.baseUrl}/api/cameras/nope/recording.m3u8?from=${from}&to=${to}`);
    assert.equal(unknown.status, 404);
    const bad = await fetch(`${sp.baseUrl}/api/cameras/rec/recording.m3u8?from=yesterday&to=${to}`);
    assert.equal(bad.status, 400);
  });
});
