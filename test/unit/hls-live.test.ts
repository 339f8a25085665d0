import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HlsViewers } from '../../server/src/live/hls.js';
import {
  forChromium,
  foreignUris,
  hlsCacheControl,
  isChromiumUserAgent,
  isHlsFileName,
  isSafariUserAgent,
  playlistUris,
  sessionOf,
  upstreamQuery,
} from '../../server/src/live/hls-names.js';

const S = '66d11617-2f8f-4bcd-95fd-9151be1e4a56';

const MULTIVARIANT = `#EXTM3U
#EXT-X-VERSION:10
#EXT-X-INDEPENDENT-SEGMENTS

#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="audio2",AUTOSELECT=YES,DEFAULT=YES,URI="audio2_stream.m3u8?session=${S}"

#EXT-X-STREAM-INF:BANDWIDTH=477088,CODECS="avc1.42c00b,opus",RESOLUTION=320x240,AUDIO="audio"
video1_stream.m3u8?session=${S}
`;

const MEDIA = `#EXTM3U
#EXT-X-VERSION:10
#EXT-X-TARGETDURATION:1
#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=0.50000,CAN-SKIP-UNTIL=6.00000
#EXT-X-PART-INF:PART-TARGET=0.20000
#EXT-X-MEDIA-SEQUENCE:1
#EXT-X-MAP:URI="bf3126795b71_video1_init.mp4?session=${S}"
#EXT-X-GAP
#EXTINF:1.00000,
gap.mp4
#EXT-X-PART:DURATION=0.20000,URI="bf3126795b71_video1_part0.mp4?session=${S}",INDEPENDENT=YES
#EXTINF:1.00000,
bf3126795b71_video1_seg7.mp4?session=${S}
#EXT-X-PRELOAD-HINT:TYPE=PART,URI="bf3126795b71_video1_part5.mp4?session=${S}"
`;

describe('HLS file names we forward to MediaMTX', () => {
  it('accepts the names MediaMTX writes', () => {
    for (const name of [
      'video1_stream.m3u8',
      'audio2_stream.m3u8',
      'main_stream.m3u8',
      'bf3126795b71_video1_init.mp4',
      'bf3126795b71_video1_seg7.mp4',
      'bf3126795b71_audio2_part123.mp4',
      'gap.mp4',
    ]) {
      assert.ok(isHlsFileName(name), name);
    }
  });

  it('refuses anything else: paths, other extensions, other prefixes', () => {
    for (const name of [
      'index.m3u8',
      '../index.m3u8',
      'video1_stream.m3u8/x',
      'BF3126795B71_video1_seg7.mp4',
      'bf3126795b7_video1_seg7.mp4',
      'bf3126795b71_video1_seg7.ts',
      'bf3126795b71_subs1_seg7.mp4',
      'bf3126795b71_video1_seg.mp4',
      'hls.min.js',
      '',
      'video1_stream.m3u8%00',
    ]) {
      assert.ok(!isHlsFileName(name), name);
    }
  });
});

describe('HLS playlists from MediaMTX', () => {
  it('lists every URI: URI lines and URI="…" attributes', () => {
    assert.deepEqual(playlistUris(MULTIVARIANT), [
      `audio2_stream.m3u8?session=${S}`,
      `video1_stream.m3u8?session=${S}`,
    ]);
    assert.equal(playlistUris(MEDIA).length, 5);
  });

  it('forwards playlists whose URIs are bare file names (relative: ingress-safe)', () => {
    assert.deepEqual(foreignUris(MULTIVARIANT), []);
    assert.deepEqual(foreignUris(MEDIA), []);
  });

  it('refuses absolute, rooted or unknown URIs', () => {
    for (const uri of [
      `http://127.0.0.1:9995/cam/video1_stream.m3u8?session=${S}`,
      `/cam/video1_stream.m3u8?session=${S}`,
      `../video1_stream.m3u8`,
      `video1_stream.m3u8?next=/x`,
      'hls.min.js',
    ]) {
      assert.deepEqual(foreignUris(`#EXTM3U\n#EXT-X-MAP:URI="${uri}"\n`), [uri], uri);
      assert.deepEqual(foreignUris(`#EXTM3U\n#EXTINF:1,\n${uri}\n`), [uri], uri);
    }
  });

  it("finds the client's HLS session in the multivariant playlist", () => {
    assert.equal(sessionOf(MULTIVARIANT), S);
    assert.equal(sessionOf('#EXTM3U\nvideo1_stream.m3u8\n'), null);
    assert.equal(sessionOf('#EXTM3U\nvideo1_stream.m3u8?session=not-a-uuid\n'), null);
  });

  it('passes the session and the LL-HLS directives on, nothing else', () => {
    assert.equal(upstreamQuery({ session: S }), `session=${S}`);
    assert.equal(
      upstreamQuery({ session: S, _HLS_msn: '12', _HLS_part: '3', _HLS_skip: 'YES' }),
      `session=${S}&_HLS_msn=12&_HLS_part=3&_HLS_skip=YES`,
    );
  });

  it('playlists are revalidated, media files are immutable for a while', () => {
    assert.equal(hlsCacheControl('video1_stream.m3u8'), 'no-cache');
    assert.match(hlsCacheControl('bf3126795b71_video1_seg7.mp4'), /max-age=\d+/);
  });
});

describe("Chromium's built-in HLS player", () => {
  it('gets the leading gap segments left out, the media sequence moved on by as many', () => {
    const out = forChromium(MEDIA);
    assert.ok(!out.includes('gap.mp4') && !out.includes('#EXT-X-GAP'));
    assert.match(out, /^#EXT-X-MEDIA-SEQUENCE:2$/m);
    assert.deepEqual(foreignUris(out), []);
    assert.equal(playlistUris(out).length, playlistUris(MEDIA).length - 1);
    assert.equal(forChromium(out), out, 'nothing else changes');
  });

  it('gets the video alone in the multivariant playlist (it refuses a separate audio rendition)', () => {
    const out = forChromium(MULTIVARIANT);
    assert.ok(!out.includes('#EXT-X-MEDIA:TYPE=AUDIO'));
    assert.ok(!out.includes('AUDIO="audio"'));
    assert.match(out, /CODECS="avc1\.42c00b",RESOLUTION=320x240/);
    assert.deepEqual(playlistUris(out), [`video1_stream.m3u8?session=${S}`]);
    assert.equal(sessionOf(out), S);
  });

  it('is told apart by its user agent', () => {
    assert.equal(
      isChromiumUserAgent(
        'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36',
      ),
      true,
    );
    assert.equal(
      isChromiumUserAgent(
        'Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/138.0.7204.156 Mobile/15E148 Safari/604.1',
      ),
      false,
      'Chrome on iOS is WebKit',
    );
    assert.equal(isChromiumUserAgent('VLC/3.0.21 LibVLC/3.0.21'), false);
    assert.equal(isChromiumUserAgent(undefined), false);
  });
});

describe('Safari detection (stream.mp4 → HLS)', () => {
  it('Safari on macOS, iPhone and iPad, and the other iOS browsers (WebKit) are Safari', () => {
    for (const ua of [
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.5 Safari/605.1.15',
      'Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.5 Mobile/15E148 Safari/604.1',
      'Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1',
      'Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/138.0.7204.156 Mobile/15E148 Safari/604.1',
      'Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/141.0 Mobile/15E148 Safari/605.1.15',
    ]) {
      assert.equal(isSafariUserAgent(ua), true, ua);
    }
  });

  it('Chrome, Chromium, headless Chrome, Edge, Firefox, Android and plain clients are not', () => {
    for (const ua of [
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36',
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36',
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chromium/120.0 Chrome/120.0 Safari/537.36',
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/138.0.0.0 Safari/537.36 Edg/138.0.0.0',
      'Mozilla/5.0 (X11; Linux x86_64; rv:141.0) Gecko/20100101 Firefox/141.0',
      'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/138.0.0.0 Mobile Safari/537.36',
      'VLC/3.0.21 LibVLC/3.0.21',
      'Lavf/61.7.100',
      '',
      undefined,
    ]) {
      assert.equal(isSafariUserAgent(ua), false, String(ua));
    }
  });
});

describe('HlsViewers', () => {
  it('counts one viewer per session while its requests come, releases it after the idle time', async () => {
    const held = new Map<string, number>();
    const viewers = new HlsViewers((id) => {
      held.set(id, (held.get(id) ?? 0) + 1);
      return () => held.set(id, (held.get(id) ?? 0) - 1);
    }, 150);
    viewers.touch('cam', 'a');
    viewers.touch('cam', 'a');
    viewers.touch('cam', 'b');
    viewers.touch('other', 'a');
    assert.equal(held.get('cam'), 2);
    assert.equal(viewers.count('cam'), 2);
    assert.equal(held.get('other'), 1);
    // Requests keep "a" alive past its first idle time; "b" goes quiet.
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setTimeout(r, 60));
      viewers.touch('cam', 'a');
    }
    assert.equal(held.get('cam'), 1);
    await new Promise((r) => setTimeout(r, 250));
    assert.equal(held.get('cam'), 0);
    assert.equal(held.get('other'), 0);
    viewers.touch('cam', 'c');
    viewers.stop();
    assert.equal(held.get('cam'), 0, 'stop releases every session');
  });
});
