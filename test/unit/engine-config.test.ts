import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildGo2rtcConfig } from '../../server/src/engines/go2rtc-config.js';
import { buildMediamtxConfig } from '../../server/src/engines/mediamtx-config.js';
import {
  assertDistinctPorts,
  DEFAULT_ENGINE_PORTS,
  type EnginePorts,
  HA_CORE_GO2RTC_PORTS,
} from '../../server/src/engines/ports.js';

const ports: EnginePorts = { ...DEFAULT_ENGINE_PORTS };

function hostOf(listen: unknown): string {
  const s = String(listen);
  return s.slice(0, s.lastIndexOf(':'));
}

describe('engine ports', () => {
  it('defaults never collide (both engines default RTSP to 8554 upstream)', () => {
    assert.doesNotThrow(() => assertDistinctPorts(DEFAULT_ENGINE_PORTS));
    // Nor with Home Assistant Core's own go2rtc, nor MediaMTX's own HLS default (8888).
    const ours = Object.values(DEFAULT_ENGINE_PORTS);
    for (const port of [...Object.values(HA_CORE_GO2RTC_PORTS), 8123, 8888]) assert.ok(!ours.includes(port), `${port}`);
    assert.notEqual(DEFAULT_ENGINE_PORTS.go2rtcRtsp, DEFAULT_ENGINE_PORTS.mediamtxRtsp);
  });
  it('rejects a collision, naming both ports', () => {
    assert.throws(
      () => assertDistinctPorts({ ...ports, go2rtcRtsp: ports.mediamtxRtsp }),
      /go2rtcRtsp.*mediamtxRtsp|mediamtxRtsp.*go2rtcRtsp/,
    );
  });
  it('rejects a value that is not a port', () => {
    assert.throws(() => assertDistinctPorts({ ...ports, webrtc: 70000 }), /webrtc=70000/);
  });
});

describe('buildGo2rtcConfig', () => {
  const base = { ports, ffmpegBin: '/usr/bin/ffmpeg', webrtcBind: '', logLevel: 'info' as const };

  it('keeps the API and RTSP on loopback, RTMP and HomeKit off, no streams in the file', () => {
    const c = buildGo2rtcConfig({ ...base, webrtcCandidates: ['192.168.1.20'] });
    assert.equal(c.api.listen, `127.0.0.1:${ports.go2rtcApi}`);
    assert.equal(c.rtsp.listen, `127.0.0.1:${ports.go2rtcRtsp}`);
    assert.equal(c.rtmp.listen, '');
    assert.equal(c.srtp.listen, '');
    assert.equal('streams' in c, false);
    assert.equal(c.api.origin, '', 'no CORS: the panel reaches go2rtc only through our server');
  });

  it('never contacts a public STUN server and advertises exactly the configured candidates', () => {
    const c = buildGo2rtcConfig({ ...base, webrtcCandidates: ['192.168.1.20', '10.0.0.5:9000'] });
    assert.deepEqual(c.webrtc.ice_servers, []);
    assert.deepEqual(c.webrtc.candidates, [`192.168.1.20:${ports.webrtc}`, '10.0.0.5:9000']);
    assert.equal(c.webrtc.listen, `:${ports.webrtc}`);
    assert.deepEqual(c.webrtc.filters, {});
  });

  it('in tests advertises only 127.0.0.1 and lets loopback candidates through', () => {
    const c = buildGo2rtcConfig({ ...base, webrtcBind: '127.0.0.1', webrtcCandidates: ['127.0.0.1'] });
    assert.equal(c.webrtc.listen, `127.0.0.1:${ports.webrtc}`);
    assert.deepEqual(c.webrtc.candidates, [`127.0.0.1:${ports.webrtc}`]);
    assert.deepEqual(c.webrtc.filters, { loopback: true, candidates: ['127.0.0.1'] });
  });

  it('logs JSON to stdout so the supervisor can tag the lines', () => {
    const c = buildGo2rtcConfig({ ...base, webrtcCandidates: [] });
    assert.deepEqual(c.log, { level: 'info', format: 'json', output: 'stdout' });
    assert.equal(c.ffmpeg.bin, '/usr/bin/ffmpeg');
  });
});

describe('buildMediamtxConfig', () => {
  const c = buildMediamtxConfig({ ports, recordDir: '/media/camstack/', rtspBind: '127.0.0.1', logLevel: 'warn' });

  it('binds API, playback, HLS and RTSP to loopback', () => {
    assert.equal(hostOf(c.apiAddress), '127.0.0.1');
    assert.equal(hostOf(c.playbackAddress), '127.0.0.1');
    assert.equal(c.hlsAddress, `127.0.0.1:${ports.mediamtxHls}`);
    assert.equal(c.rtspAddress, `127.0.0.1:${ports.mediamtxRtsp}`);
  });

  it('turns every unused protocol off and keeps RTSP on TCP only', () => {
    for (const key of ['rtmp', 'webrtc', 'srt', 'moq', 'metrics', 'pprof']) assert.equal(c[key], false, key);
    assert.deepEqual(c.rtspTransports, ['tcp']);
  });

  it('serves Low-Latency HLS on loopback only, without CORS, muxers closing soon after the last request', () => {
    assert.equal(c.hls, true);
    assert.equal(c.hlsVariant, 'lowLatency');
    // LL-HLS in MediaMTX needs at least 7 segments; parts of 200 ms, segments cut at keyframes.
    assert.ok((c.hlsSegmentCount as number) >= 7);
    assert.equal(c.hlsPartDuration, '200ms');
    assert.equal(c.hlsSegmentDuration, '1s');
    assert.deepEqual(c.hlsAllowOrigins, [], 'no CORS: browsers reach HLS only through our API');
    assert.deepEqual(c.hlsTrustedProxies, []);
    assert.equal(c.hlsEncryption, false);
    assert.equal(c.hlsAlwaysRemux, false, 'a muxer only while someone watches');
    assert.equal(c.hlsDirectory, '');
    const closeAfter = Number.parseInt(String(c.hlsMuxerCloseAfter), 10);
    assert.ok(closeAfter >= 10 && closeAfter <= 60, `hlsMuxerCloseAfter ${c.hlsMuxerCloseAfter}`);
  });

  it('records fragmented MP4 under the media folder and leaves retention to Camstack', () => {
    assert.equal(c.pathDefaults.recordFormat, 'fmp4');
    assert.equal(c.pathDefaults.recordPath, '/media/camstack/%path/%Y-%m-%d_%H-%M-%S-%f');
    assert.equal(c.pathDefaults.recordDeleteAfter, '0s');
    assert.deepEqual(c.paths, {});
  });

  it('cuts 10-minute segments of 1-second parts by default; the segment length is configurable', () => {
    assert.equal(c.pathDefaults.recordSegmentDuration, '600s');
    assert.equal(c.pathDefaults.recordPartDuration, '1s');
    const short = buildMediamtxConfig({ ports, recordDir: '/m', rtspBind: '', logLevel: 'info', segmentSeconds: 4 });
    assert.equal(short.pathDefaults.recordSegmentDuration, '4s');
  });

  it('lets only local clients publish, read, play back and use the API', () => {
    const users = c.authInternalUsers as { ips: string[]; permissions: { action: string }[] }[];
    assert.equal(users.length, 1);
    assert.deepEqual(users[0]?.ips, ['127.0.0.1', '::1']);
    assert.deepEqual(users[0]?.permissions.map((p) => p.action).sort(), ['api', 'playback', 'publish', 'read']);
  });

  it('maps our log levels onto MediaMTX ones and logs structured lines', () => {
    assert.equal(c.logLevel, 'warn');
    assert.equal(c.logStructured, true);
    assert.equal(buildMediamtxConfig({ ports, recordDir: '/m', rtspBind: '', logLevel: 'trace' }).logLevel, 'debug');
  });
});
