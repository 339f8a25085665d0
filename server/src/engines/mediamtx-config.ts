import { createHash } from 'node:crypto';
import type { EnginePorts } from './ports.js';

export interface MediamtxConfigInput {
  ports: EnginePorts;
  /** Where continuous recordings go: `<media>/camstack` (MediaMTX adds `<camera>/…`). */
  recordDir: string;
  /** Address the RTSP restream binds to: 127.0.0.1, or "" when Home Assistant must read it. */
  rtspBind: string;
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error';
  /** Length of a recorded segment in seconds (default 600; tests use a few seconds). */
  segmentSeconds?: number;
  /**
   * Credentials readers from other hosts (Home Assistant's live cameras) must give to read the
   * RTSP restream. Without them only this box may read it.
   */
  rtspReader?: { user: string; pass: string } | null;
}

type Permission = { action: string; path?: string };

export interface MediamtxConfig {
  [key: string]: unknown;
  pathDefaults: Record<string, unknown>;
  paths: Record<string, never>;
}

const MTX_LOG_LEVELS = { trace: 'debug', debug: 'debug', info: 'info', warn: 'warn', error: 'error' } as const;

/**
 * Low-Latency HLS as MediaMTX 1.20.1 makes it (gohlslib): fMP4 segments of at least 1 s (cut at
 * keyframes, so a segment is as long as the camera's GOP), parts of at least 200 ms, and 7
 * segments kept — the least LL-HLS accepts. A muxer starts with the first request of a camera and
 * closes once no request came for `muxerCloseAfter`; each client's session lasts 30 s after its
 * last request (fixed in MediaMTX).
 */
export const HLS_SETTINGS = Object.freeze({
  variant: 'lowLatency',
  segmentCount: 7,
  segmentDuration: '1s',
  partDuration: '200ms',
  segmentMaxSize: '50M',
  muxerCloseAfter: '15s',
});

/**
 * MediaMTX's boot configuration: RTSP (TCP), the control API, the playback server and HLS, all
 * on loopback unless the restream must reach Home Assistant (HLS reaches browsers only through
 * our API: no CORS origin is allowed). Every other protocol is off. Paths (one per camera) are
 * added through the API at runtime.
 */
export function buildMediamtxConfig(input: MediamtxConfigInput): MediamtxConfig {
  const { ports } = input;
  const local: Permission[] = [{ action: 'publish' }, { action: 'read' }, { action: 'playback' }];
  return {
    logLevel: MTX_LOG_LEVELS[input.logLevel],
    logDestinations: ['stdout'],
    logStructured: true,
    readTimeout: '10s',
    writeTimeout: '10s',
    authMethod: 'internal',
    authInternalUsers: [
      // Everything on this box (our server, go2rtc, FFmpeg) may publish, read (RTSP and HLS) and play back.
      { user: 'any', pass: '', ips: ['127.0.0.1', '::1'], permissions: [...local, { action: 'api' }] },
      // Anyone else may only read, and only with the RTSP credentials (stored hashed).
      ...(input.rtspReader
        ? [
            {
              user: input.rtspReader.user,
              pass: `sha256:${createHash('sha256').update(input.rtspReader.pass).digest('base64')}`,
              ips: [],
              permissions: [{ action: 'read' }],
            },
          ]
        : []),
    ],
    api: true,
    apiAddress: `127.0.0.1:${ports.mediamtxApi}`,
    metrics: false,
    pprof: false,
    playback: true,
    playbackAddress: `127.0.0.1:${ports.mediamtxPlayback}`,
    rtsp: true,
    rtspTransports: ['tcp'],
    rtspEncryption: 'no',
    rtspAddress: `${input.rtspBind}:${ports.mediamtxRtsp}`,
    rtmp: false,
    hls: true,
    hlsAddress: `127.0.0.1:${ports.mediamtxHls}`,
    hlsEncryption: false,
    hlsAllowOrigins: [],
    hlsTrustedProxies: [],
    hlsAlwaysRemux: false,
    hlsVariant: HLS_SETTINGS.variant,
    hlsSegmentCount: HLS_SETTINGS.segmentCount,
    hlsSegmentDuration: HLS_SETTINGS.segmentDuration,
    hlsPartDuration: HLS_SETTINGS.partDuration,
    hlsSegmentMaxSize: HLS_SETTINGS.segmentMaxSize,
    hlsDirectory: '',
    hlsMuxerCloseAfter: HLS_SETTINGS.muxerCloseAfter,
    webrtc: false,
    srt: false,
    moq: false,
    pathDefaults: {
      recordFormat: 'fmp4',
      recordPath: `${input.recordDir.replace(/\/+$/, '')}/%path/%Y-%m-%d_%H-%M-%S-%f`,
      recordPartDuration: '1s',
      recordSegmentDuration: `${input.segmentSeconds ?? 600}s`,
      // Retention is ours (protected clips must survive it), not MediaMTX's.
      recordDeleteAfter: '0s',
    },
    paths: {},
  };
}
